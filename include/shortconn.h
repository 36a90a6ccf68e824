/*
 * shortconn.h — short-lived local connections: one request in, one answer
 * out, then closed.  The control sockets and the HTTP metrics listener use
 * them.
 *
 * A pool owns its open connections.  Each connection has a total deadline
 * counted from accept, so a client sending a byte now and then cannot hold
 * it, and the pool caps how many are open at once.  shortconn_pool_close()
 * frees every open connection (at exit, so none leaks).
 */
#ifndef ALDPROXY_SHORTCONN_H
#define ALDPROXY_SHORTCONN_H

#include <stddef.h>
#include <sys/queue.h>
#include <event2/util.h>

struct event_base;
struct evbuffer;
struct shortconn;

/*
 * Called whenever input arrives: 1 when the answer is complete in out (the
 * connection closes once it is flushed), 0 to wait for more input, -1 to
 * drop the connection.
 */
typedef int (*shortconn_fn)(void *arg, struct evbuffer *in, struct evbuffer *out);

struct shortconn_pool {
	struct event_base *base;
	shortconn_fn handle;
	void *arg;
	unsigned max;               /* open connections at most; more are refused */
	int deadline_ms;            /* from accept to close */
	LIST_HEAD(, shortconn) conns;
	unsigned n;
};

void shortconn_pool_init(struct shortconn_pool *p, struct event_base *base, shortconn_fn handle, void *arg,
    unsigned max, int deadline_ms);
void shortconn_accept(struct shortconn_pool *p, evutil_socket_t fd);
void shortconn_pool_close(struct shortconn_pool *p);

#endif
