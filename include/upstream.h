/*
 * upstream.h — one pooled connection to a directory server.
 *
 * Owned by the backend, which creates every upstream at start and frees
 * them at exit.  An upstream cycles DOWN -> CONNECTING -> (STARTTLS ->)
 * (BINDING ->) READY, and back to DOWN on any failure, when every op in
 * flight on it fails with unavailable (52) and a reconnect is scheduled
 * with exponential backoff.  Shared and paged upstreams bind as aldproxy's
 * own identity; bind upstreams only verify client passwords.
 */
#ifndef ALDPROXY_UPSTREAM_H
#define ALDPROXY_UPSTREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <lber.h>
#include <event2/buffer.h>

#include "msgid.h"
#include "op.h"

struct backend;
struct backend_server;
struct bufferevent;

struct event;
struct client;
struct sasl_bind;

enum up_kind { UP_SHARED, UP_BIND, UP_PAGED };
enum up_state { UP_DOWN, UP_CONNECTING, UP_STARTTLS, UP_HANDSHAKE, UP_BINDING, UP_READY };

struct upstream {
	struct backend *be;
	struct backend_server *server;
	enum up_kind kind;
	enum up_state state;
	int index;
	char name[96];                  /* "ldap://host:port shared#2" for logs */
	struct bufferevent *bev;
	struct msgid_table ids;
	struct op_list ops;             /* in flight, oldest first */
	unsigned nops;
	unsigned nbulk;                 /* bulk searches (OP_BULK) among them */
	BerElement *ber;                /* response decoder, reused */
	struct sasl_bind *sasl;         /* aldproxy's GSSAPI bind in progress (backend.auth: gssapi) */
	struct event *retry_ev;
	double backoff;
	uint64_t state_since_us;
	int was_ready;                  /* for up/down log lines */
	unsigned failed_attempts;       /* connection attempts failed since it was last ready */
	uint64_t last_rx_us;            /* when the directory last sent anything */
	int probe_msgid;                /* active health probe in flight, or 0 */
	uint64_t probe_sent_us;
	/* paged-results lease (kind UP_PAGED) */
	struct client *lessee;
	unsigned char *cookie;
	size_t cookie_len;
	uint64_t lease_used_us;
	uint32_t lease_gen;             /* bumped at every lease: stale client cookies never match */
};

struct upstream *upstream_new(struct backend *be, struct backend_server *srv, enum up_kind kind, int index);

void upstream_free(struct upstream *u);
void upstream_connect(struct upstream *u);
/* Drops the connection: fails its ops, schedules a reconnect unless stopping. */
void upstream_fail(struct upstream *u, const char *why);

/*
 * Forwards op: assigns an upstream msgid, writes the envelope then the
 * body bytes (protocolOp + controls) and links op in.  Returns 0 or -1
 * (table full or write failure: the op is untouched).
 */
int upstream_send(struct upstream *u, struct op *op, const struct evbuffer_iovec *parts, int nparts);
/* Sends Abandon for op's msgid and unlinks op (op is not freed). */
void upstream_abandon(struct upstream *u, struct op *op);
/* Unlinks op from u and releases its msgid. */
void upstream_detach(struct upstream *u, struct op *op);

/*
 * Active health check (backend.probe_interval): an idle ready connection
 * that has heard nothing for `interval` reads the rootDSE; no answer within
 * `timeout` marks the controller down like any other failure.
 */
void upstream_probe(struct upstream *u, uint64_t now, uint64_t interval, uint64_t timeout);

/* Leases (paged upstreams) */
void upstream_lease_release(struct upstream *u);

#endif
