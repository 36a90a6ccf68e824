/*
 * backend.h — the directory servers and the connection pools to them.
 *
 * The server owns one backend.  For each configured directory server it
 * keeps pool_size shared upstreams (searches of many clients multiplexed,
 * bound as aldproxy), bind_pool_size bind upstreams (one client bind at a
 * time each, so a bind never changes a shared connection's identity) and
 * paged_pool_size paged upstreams (leased to one paged-results sequence
 * at a time, because a directory keeps paging state per connection).
 */
#ifndef ALDPROXY_BACKEND_H
#define ALDPROXY_BACKEND_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include <event2/buffer.h>

#include "config.h"
#include "op.h"

struct server;
struct upstream;
struct client;
struct event;

struct backend_server {
	struct url url;
	const char *urlstr;         /* borrowed from the config */
	unsigned ready;             /* upstreams READY on it */
	int priority;               /* lower is preferred */
	char last_error[200];       /* why its last connection went down, for the audit trail */
};

TAILQ_HEAD(client_waitq, client);

struct backend {
	struct server *srv;
	struct backend_server *servers;
	size_t nservers;
	struct upstream **shared, **binders, **paged;
	size_t nshared, nbinders, npaged;
	struct op_list bind_wait;   /* binds waiting for a free bind upstream */
	struct op_list internal_wait;   /* aldproxy's own lookups waiting for a reserved slot (op->waitq) */
	struct client_waitq cap_wait;   /* clients whose next request waits for room */
	struct client_waitq bulk_wait;  /* ... for a bulk-search slot (woken when a bulk search ends) */
	unsigned nbind_wait;
	struct event *tick;
	unsigned rr;                /* round-robin start for picking */
	unsigned bulk;              /* bulk searches in flight on shared connections (OP_BULK) */
	/*
	 * aldproxy's own reads of the directory (the schema, the visible
	 * users), set by the server: called when a shared connection becomes
	 * ready and on every tick; NULL: none.
	 */
	void (*own_reads)(struct backend *be, uint64_t now);
};

int  backend_new(struct server *srv, struct backend **out, char *err, size_t errlen);
void backend_free(struct backend *be);
void backend_start(struct backend *be);

/*
 * The ready shared upstream with the fewest operations in flight, or NULL.
 * A client request leaves each connection's reserved slots (1/16 of
 * backend.max_ops_per_connection) to aldproxy's own lookups: a bind's
 * group check, a visibility check, the operation it let through.
 */
struct upstream *backend_pick(struct backend *be);
struct upstream *backend_pick_internal(struct backend *be);
/* For a bulk search (OP_BULK): packed onto connections that carry bulk ones, small requests avoid them. */
struct upstream *backend_pick_bulk(struct backend *be);
/*
 * Sends aldproxy's own lookup op (parts) to dest, or to the least busy
 * shared connection using the reserved slots; when every slot is taken it
 * waits (a copy in op->held) and goes when one frees, before any client
 * request.  Returns 0, or -1 if no directory is reachable.
 */
int  backend_send_internal(struct backend *be, struct op *op, struct upstream *dest,
    const struct evbuffer_iovec *parts, int nparts);
/* The least busy ready shared upstream of another server than `not`, or NULL (failover). */
struct upstream *backend_pick_other(struct backend *be, const struct backend_server *not);
/* A free paged upstream leased to c, or NULL; *capped when c's identity holds its share of leases. */
struct upstream *backend_lease(struct backend *be, struct client *c, int *capped);
/* The paged upstream c leased whose last cookie equals cookie, or NULL. */
struct upstream *backend_leased(struct backend *be, struct client *c, const void *cookie, size_t len);
/* Ends every lease held by c (client closing). */
void backend_release_leases(struct backend *be, struct client *c);

/*
 * Sends a client bind (parts: BindRequest and controls as received) to a
 * free bind upstream, or queues a copy of it in op->held.  Returns 0, or
 * -1 if no directory is reachable.
 */
int  backend_bind_submit(struct backend *be, struct op *op, const struct evbuffer_iovec *parts, int nparts);
/* A bind upstream became free (READY with no op): give it a waiting bind. */
void backend_bind_dispatch(struct backend *be);
/* Drops op from the bind wait queue if it is there. */
void backend_bind_unqueue(struct backend *be, struct op *op);

/*
 * Flow control: every ready shared connection is full (max_ops_per_connection),
 * so c's request waits; it is resumed when an operation finishes.
 */
int  backend_saturated(const struct backend *be);
/* bulk: c waits for a bulk-search slot, not for room (a freed slot does not wake it). */
void backend_wait_capacity(struct backend *be, struct client *c, int bulk);
void backend_unwait(struct backend *be, struct client *c);
void backend_capacity_freed(struct backend *be);
/* A shared connection became ready or failed: every waiting client tries again. */
void backend_wake_all(struct backend *be);

/* A connection to s became ready: reconnect its other connections now, not after their backoff. */
void backend_server_up(struct backend *be, struct backend_server *s);
/* A controller is unhealthy (a probe went unanswered): fail every connection to it. */
void backend_server_down(struct backend *be, struct backend_server *s, const char *why);

/* Counts for health and logs */
unsigned backend_ready_count(const struct backend *be, int kind);

#endif
