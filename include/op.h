/*
 * op.h — one client operation in flight through the proxy.
 *
 * An op is created when a request must go to the directory, with the
 * handler of the module that made it (struct op_handler), and is owned
 * by its client (c_link in client->ops) until op_finish() frees it.  While
 * forwarded it is also linked into its upstream (u_link in up->ops, FIFO
 * by start time, which the timeout scan relies on) and mapped by the
 * upstream's msgid table.  If the client goes away first the op is
 * abandoned upstream and freed at once, except a bind, which becomes an
 * orphan (client NULL) until the directory answers.
 * Ops are recycled through a free list: no malloc on the hot path.
 */
#ifndef ALDPROXY_OP_H
#define ALDPROXY_OP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "profile.h"
#include "pdu.h"

struct client;
struct share;
struct upstream;
struct evbuffer;

enum op_flags {
	OP_SCRUB = 1 << 0,      /* check each entry's attributes against the profile */
	OP_PAGED = 1 << 1,      /* paged-results search on a leased connection */
	OP_INTERNAL = 1 << 2,   /* aldproxy's own lookup (a bind's group check): never forwarded */
	OP_BULK = 1 << 3,       /* a search that may return much: counted in backend.bulk (fairness) */
};

struct want;
struct op;
struct pdu_head;

/*
 * What an op does with its answers, set by the module that created it:
 * bind.c (client binds, their group checks), search_result.c (entries
 * scrubbed or rewritten, paged cookies), visible.c (visibility lookups, and
 * Compare, Modify, Password Modify forwarded as they are), schema.c and
 * visread.c (aldproxy's own reads).  op.c itself knows no operation.
 */
struct op_handler {
	/* A response for op arrived on its upstream; consumes exactly h->total bytes of in. */
	void (*response)(struct op *op, struct evbuffer *in, const struct pdu_head *h);
	/* op ends without an answer from the directory (unavailable, timeout, not visible). */
	void (*fail)(struct op *op, int code, const char *diag);
};

struct op {
	struct client *client;          /* owner; NULL for an orphaned bind */
	const struct op_handler *handler;
	struct upstream *up;            /* where it is in flight, or NULL */
	uint64_t conn_id;               /* for log lines */
	int client_msgid;
	int up_msgid;
	unsigned tag;                   /* request protocolOp tag */
	unsigned flags;
	uint64_t start_us;              /* sent (the timeout scan relies on its order in up->ops) */
	uint64_t arrived_us;            /* the client's request arrived: the access line's etime */
	uint32_t nentries;
	const struct profile *profile;  /* the client's profile when the op began */
	struct want *want;              /* owned: the client's view of a rewritten search */
	struct op *parent, *child;      /* a bind and its group-check lookup (weak links both ways) */
	int retried;                    /* sent again after its controller failed */
	int group_ok;                   /* internal lookup: the user is in an allowed group / the entry is visible */
	struct upstream *dest;          /* held until visible: the connection it must go to (a paged lease), or NULL */
	struct share *shares[2];        /* client ops: counted in its address's and identity's shares (held) */
	struct op_list *waitq;          /* internal lookups: the backend queue it waits in for a free slot, or NULL */
	TAILQ_ENTRY(op) c_link;
	TAILQ_ENTRY(op) u_link;         /* in up->ops, or in backend->bind_wait */
	char *target;                   /* writes: the entry (the client's DN), for the audit trail */
	char *attrs;                    /* writes: the attributes changed, comma-separated */
	const char *deny_reason;        /* binds: why aldproxy turned a directory success into a failure */
	/* binds only */
	struct evbuffer *held;          /* request body waiting for a bind connection; wiped */
	char *bind_dn;                 /* the name as the client sent it */
	char *bind_real;               /* the directory DN it stands for */
	const struct profile *bind_profile;
	enum bind_role bind_role;
};

TAILQ_HEAD(op_list, op);

struct op *op_new(struct client *c, int msgid, unsigned tag, const struct op_handler *handler);
/* An internal lookup on behalf of parent (not linked to any client). */
struct op *op_new_internal(struct op *parent, unsigned tag, const struct op_handler *handler);
/*
 * aldproxy's own read, for no client (the schema, a profile's visible
 * users, a user's groups): the SearchRequest protocolOp req sent on the
 * reserved slots (waiting for one if all are taken), p (may be NULL) held.
 * The op, or NULL when it could not be sent.
 */
struct backend;
struct op *op_send_own(struct backend *be, const struct profile *p, const struct op_handler *handler, const void *req,
    size_t len);
/* Frees the op: unlinks it from its client and upstream, releases its msgid. */
void op_free(struct op *op);
/* Frees the recycled ops at exit. */
void op_cache_clear(void);

/* The response tag answering a request tag (SearchResultDone for Search ...), and back. */
unsigned op_response_tag(unsigned request_tag);
unsigned op_request_tag(unsigned response_tag);

/*
 * A response for op arrived on its upstream (in holds it at its start):
 * its handler consumes exactly h->total bytes.
 */
void op_response(struct op *op, struct evbuffer *in, const struct pdu_head *h);
/* Ends op with a locally made result (directory unavailable, timeout): its handler's fail. */
void op_fail(struct op *op, int code, const char *diag);

/* Steps for handlers. */
/* The resultCode of an LDAPResult-shaped response; -1 if unreadable. */
int  op_result_code(struct evbuffer *in, const struct pdu_head *h);
/* Forwards the response to op's client re-addressed, with the controls policy allows; drops it if the client left. */
void op_forward(struct op *op, struct evbuffer *in, const struct pdu_head *h);
/* The final answer was handled: access line (and write audit), free, resume the client. */
void op_finish(struct op *op, int code);
/* A generic fail: access line, free, a locally made result to the client. */
void op_reply_fail(struct op *op, int code, const char *diag);
/* An internal lookup's fail: the operation it serves fails. */
void op_internal_fail(struct op *op, int code, const char *diag);


#endif
