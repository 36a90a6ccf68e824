/*
 * shortconn.c — one request, one answer, bounded in time.  See shortconn.h.
 */
#include "shortconn.h"

#include <stdlib.h>
#include <unistd.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

struct shortconn {
	struct shortconn_pool *pool;
	struct bufferevent *bev;
	struct event *deadline;
	LIST_ENTRY(shortconn) link;
};

static void
conn_free(struct shortconn *sc)
{
	LIST_REMOVE(sc, link);
	sc->pool->n--;
	bufferevent_free(sc->bev);
	event_free(sc->deadline);
	free(sc);
}

static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	conn_free(arg);
}

static void
flushed_cb(struct bufferevent *bev, void *arg)
{
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		conn_free(arg);
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what;
	conn_free(arg);
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
	struct shortconn *sc = arg;
	struct evbuffer *out = bufferevent_get_output(bev);
	int rc = sc->pool->handle(sc->pool->arg, bufferevent_get_input(bev), out);
	if (rc < 0) {
		conn_free(sc);
		return;
	}
	if (rc == 0)
		return;
	bufferevent_disable(bev, EV_READ);
	bufferevent_setcb(bev, NULL, flushed_cb, event_cb, sc);
	if (evbuffer_get_length(out) == 0)
		conn_free(sc);
}

void
shortconn_pool_init(struct shortconn_pool *p, struct event_base *base, shortconn_fn handle, void *arg,
    unsigned max, int deadline_ms)
{
	p->base = base;
	p->handle = handle;
	p->arg = arg;
	p->max = max;
	p->deadline_ms = deadline_ms;
	LIST_INIT(&p->conns);
	p->n = 0;
}

void
shortconn_accept(struct shortconn_pool *p, evutil_socket_t fd)
{
	struct shortconn *sc = p->n < p->max ? calloc(1, sizeof(*sc)) : NULL;
	if (sc == NULL) {
		close(fd);      /* busy: the client retries */
		return;
	}
	sc->pool = p;
	sc->bev = bufferevent_socket_new(p->base, fd, BEV_OPT_CLOSE_ON_FREE);
	sc->deadline = evtimer_new(p->base, deadline_cb, sc);
	if (sc->bev == NULL || sc->deadline == NULL) {
		if (sc->bev != NULL)
			bufferevent_free(sc->bev);
		else
			close(fd);
		if (sc->deadline != NULL)
			event_free(sc->deadline);
		free(sc);
		return;
	}
	LIST_INSERT_HEAD(&p->conns, sc, link);
	p->n++;
	struct timeval tv = { p->deadline_ms / 1000, (p->deadline_ms % 1000) * 1000 };
	evtimer_add(sc->deadline, &tv);
	bufferevent_setcb(sc->bev, read_cb, NULL, event_cb, sc);
	bufferevent_enable(sc->bev, EV_READ | EV_WRITE);
}

void
shortconn_pool_close(struct shortconn_pool *p)
{
	while (!LIST_EMPTY(&p->conns))
		conn_free(LIST_FIRST(&p->conns));
}
