/*
 * metrics_http.c — metrics.listen: the Prometheus metrics over HTTP.
 *
 * A deliberately small HTTP/1.0 responder for a scraper on the same host:
 * GET (or HEAD) /metrics answers 200 with control_prometheus(); anything
 * else gets 404 or 405; every answer closes the connection.  The config
 * loader allows loopback addresses only, since there is no authentication.
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
#include "control.h"
#include "log.h"
#include "server.h"

#define HTTP_MAX_HEADER 8192

static struct evconnlistener *http_lev;

static void
http_done_cb(struct bufferevent *bev, void *arg)
{
	(void)arg;
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		bufferevent_free(bev);
}

static void
http_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)what;
	(void)arg;
	bufferevent_free(bev);
}

static void
http_answer(struct bufferevent *bev, int status, const char *reason, const char *type, struct evbuffer *body, int head)
{
	struct evbuffer *o = bufferevent_get_output(bev);
	size_t len = body ? evbuffer_get_length(body) : 0;
	evbuffer_add_printf(o, "HTTP/1.0 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n",
	    status, reason, type, len, status == 405 ? "Allow: GET, HEAD\r\n" : "");
	if (body != NULL && !head)
		evbuffer_add_buffer(o, body);
	bufferevent_disable(bev, EV_READ);
	bufferevent_setcb(bev, NULL, http_done_cb, http_event_cb, NULL);
}

static void
http_read_cb(struct bufferevent *bev, void *arg)
{
	struct server *srv = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	if (end.pos < 0)
		end = evbuffer_search(in, "\n\n", 2, NULL);
	if (end.pos < 0) {
		if (evbuffer_get_length(in) > HTTP_MAX_HEADER)
			bufferevent_free(bev);
		return;
	}
	size_t n;
	char *line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF);
	char method[16] = "", path[256] = "";
	if (line == NULL || sscanf(line, "%15s %255s", method, path) != 2) {
		free(line);
		http_answer(bev, 400, "Bad Request", "text/plain", NULL, 0);
		return;
	}
	free(line);
	int head = strcmp(method, "HEAD") == 0;
	struct evbuffer *body = evbuffer_new();
	if (body == NULL) {
		bufferevent_free(bev);
		return;
	}
	if (strcmp(method, "GET") != 0 && !head) {
		evbuffer_add_printf(body, "only GET and HEAD\n");
		http_answer(bev, 405, "Method Not Allowed", "text/plain", body, 0);
	} else if (strcmp(path, "/metrics") != 0) {
		evbuffer_add_printf(body, "aldproxy: the metrics are at /metrics\n");
		http_answer(bev, 404, "Not Found", "text/plain", body, head);
	} else {
		control_prometheus(srv, body);
		http_answer(bev, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", body, head);
	}
	evbuffer_free(body);
}

static void
http_accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa, int len, void *arg)
{
	struct server *srv = arg;
	(void)lev;
	(void)sa;
	(void)len;
	struct bufferevent *bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		close(fd);
		return;
	}
	struct timeval tv = { 5, 0 };
	bufferevent_set_timeouts(bev, &tv, &tv);
	bufferevent_setcb(bev, http_read_cb, NULL, http_event_cb, srv);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
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
		snprintf(err, errlen, "%s: key 'metrics.listen': cannot parse '%s'", cfg->path, cfg->metrics_listen);
		return -1;
	}
	http_lev = evconnlistener_new_bind(srv->base, http_accept_cb, srv,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, 16, (struct sockaddr *)&ss, sl);
	if (http_lev == NULL) {
		snprintf(err, errlen, "%s: key 'metrics.listen': cannot listen on %s: %s", cfg->path, cfg->metrics_listen,
		    strerror(errno));
		return -1;
	}
	log_notice("metrics at http://%s/metrics", spec);
	return 0;
}

void
metrics_http_close(void)
{
	if (http_lev != NULL)
		evconnlistener_free(http_lev);
	http_lev = NULL;
}
