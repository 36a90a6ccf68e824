/*
 * metrics_http.c — metrics.listen: the Prometheus metrics over HTTP.
 *
 * A deliberately small HTTP/1.0 responder for a scraper on the same host:
 * GET (or HEAD) /metrics answers 200 with report_exposition(); anything
 * else gets 404 or 405; every answer closes the connection, and a
 * connection lives 5 s at most (16 at a time).  The config loader allows
 * loopback addresses only, since there is no authentication.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "config.h"
#include "metrics_http.h"
#include "log.h"
#include "report.h"
#include "state.h"
#include "shortconn.h"

#define HTTP_MAX_HEADER 8192

static struct evconnlistener *http_lev;
static struct shortconn_pool http_conns;      /* 16 open at most, 5 s each from accept */

static void
http_answer(struct evbuffer *o, int status, const char *reason, const char *type, struct evbuffer *body, int head)
{
	size_t len = body ? evbuffer_get_length(body) : 0;
	evbuffer_add_printf(o, "HTTP/1.0 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n",
	    status, reason, type, len, status == 405 ? "Allow: GET, HEAD\r\n" : "");
	if (body != NULL && !head)
		evbuffer_add_buffer(o, body);
}

/* A request's head in, the answer out; the body of a request is never read. */
static int
http_handle(void *arg, struct evbuffer *in, struct evbuffer *o)
{
	struct server *srv = arg;
	struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	if (end.pos < 0)
		end = evbuffer_search(in, "\n\n", 2, NULL);
	if (end.pos < 0)
		return evbuffer_get_length(in) > HTTP_MAX_HEADER ? -1 : 0;
	size_t n;
	char *line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF);
	char method[16] = "", path[256] = "";
	if (line == NULL || sscanf(line, "%15s %255s", method, path) != 2) {
		free(line);
		http_answer(o, 400, "Bad Request", "text/plain", NULL, 0);
		return 1;
	}
	free(line);
	path[strcspn(path, "?")] = '\0';      /* a query string is ignored */
	int head = strcmp(method, "HEAD") == 0;
	struct evbuffer *body = evbuffer_new();
	if (body == NULL)
		return -1;
	if (strcmp(method, "GET") != 0 && !head) {
		evbuffer_add_printf(body, "only GET and HEAD\n");
		http_answer(o, 405, "Method Not Allowed", "text/plain", body, 0);
	} else if (strcmp(path, "/metrics") != 0) {
		evbuffer_add_printf(body, "aldproxy: the metrics are at /metrics\n");
		http_answer(o, 404, "Not Found", "text/plain", body, head);
	} else {
		report_exposition(srv, body);
		http_answer(o, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", body, head);
	}
	evbuffer_free(body);
	return 1;
}

static void
http_accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa, int len, void *arg)
{
	(void)lev;
	(void)sa;
	(void)len;
	(void)arg;
	shortconn_accept(&http_conns, fd);
}

int
metrics_http_open(struct server *srv, char *err, size_t errlen)
{
	const struct config *cfg = srv->cfg;
	if (cfg->metrics_listen == NULL)
		return 0;
	struct sockaddr_storage ss;
	int sl = sizeof(ss);
	char spec[96];
	snprintf(spec, sizeof(spec), strchr(cfg->metrics_host, ':') ? "[%s]:%d" : "%s:%d", cfg->metrics_host,
	    cfg->metrics_port);
	if (evutil_parse_sockaddr_port(spec, (struct sockaddr *)&ss, &sl) < 0) {
		snprintf(err, errlen, "%s:%d: key 'metrics.listen': cannot parse '%s'", cfg->path, cfg->metrics_line,
		    cfg->metrics_listen);
		return -1;
	}
	shortconn_pool_init(&http_conns, srv->base, http_handle, srv, 16, 5000);
	http_lev = evconnlistener_new_bind(srv->base, http_accept_cb, srv,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, 16, (struct sockaddr *)&ss, sl);
	if (http_lev == NULL) {
		snprintf(err, errlen, "%s:%d: key 'metrics.listen': cannot listen on %s: %s", cfg->path, cfg->metrics_line,
		    cfg->metrics_listen,
		    strerror(errno));
		return -1;
	}
	log_notice("metrics at http://%s/metrics", spec);
	return 0;
}

void
metrics_http_close(void)
{
	if (http_lev != NULL) {
		evconnlistener_free(http_lev);
		shortconn_pool_close(&http_conns);
	}
	http_lev = NULL;
}
