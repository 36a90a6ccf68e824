/*
 * client.h — one front-end connection from a product's LDAP connector.
 *
 * Owned by the server (linked in srv->clients) from accept until
 * client_free() runs from the deferred close event, never from inside one
 * of its own callbacks: client_close() only marks the client closing,
 * abandons its operations and schedules the free (Redis' freeClientAsync).
 * The client owns its bufferevent, its decoder, its ops and its bound DN.
 */
#ifndef ALDPROXY_CLIENT_H
#define ALDPROXY_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <lber.h>

#include "op.h"
#include "profile.h"
#include "request.h"
#include "share.h"

struct server;
struct audit_rec;
struct op_done;
struct bufferevent;
struct event;
struct evbuffer;
struct pdu_head;

/*
 * What a client keeps of the listener that accepted it: a listener embeds
 * one and outlives its clients (listeners are freed after every client).
 */
struct client_origin {
	struct server *srv;
	const char *url;
	char *profile_name;             /* the profile its clients use, or NULL (resolved at accept) */
	int tls;                        /* ldaps:// */
};

enum client_state {
	C_ACTIVE,       /* reading requests */
	C_BINDING,      /* a bind is in flight: reading paused (RFC 4511 4.2.1) */
	C_CLOSING,      /* flushing a last message, then freed */
};

struct client {
	uint64_t id;
	struct server *srv;
	const struct client_origin *from;   /* its listener */
	struct bufferevent *bev;
	enum client_state state;
	int tls;
	int read_paused;
	char peer[64];                  /* "ip:port" or "[ip6]:port", for log lines */
	char peer_ip[48];
	int peer_port;
	uint64_t started_us;            /* accepted (monotonic) */
	uint64_t req_start_us;          /* the request being handled arrived */
	int req_waited;                 /* it waited for directory capacity: handled again, same arrival */
	uint64_t nerrors;               /* operations that ended with an error result */
	char *bound_dn;                 /* the product's view of the identity; NULL while anonymous */
	char *bound_real;               /* its directory DN; NULL for profile-only service accounts */
	const struct profile *profile;  /* chosen at bind, or fixed by listener (held) */
	const struct profile *fixed;    /* the listener's profile, resolved at accept (held) */
	enum bind_role role;
	struct op_list ops;
	unsigned nops;
	unsigned nbulk;                 /* its bulk searches in flight (OP_BULK) */
	uint64_t nrequests;
	BerElement *ber;                /* request decoder, reused */
	struct event *resume_ev;        /* deferred re-read of buffered input */
	struct event *close_ev;         /* deferred free */
	struct event *flush_timer;      /* bounds the final flush when closing */
	struct event *unbound_timer;    /* limits.unbound_timeout: no successful bind yet */
	struct event *delay_timer;      /* a bind held back (failed binds, the bind budget): resumes reading */
	int counted;                    /* counted in peers.c's connections of its address */
	struct evbuffer_cb_entry *out_cb, *under_cb;    /* count its output in server.output_total */
	int over_budget;                /* chosen to be cut off: limits.max_total_output */
	int output_failed;              /* a result could not be queued whole (out of memory): to be disconnected */
	unsigned denied_audited;        /* access_denied records written for this connection */
	unsigned long denied_quiet;     /* ... and those counted only, for one summary at close */
	int starttls_pending;
	char sni[SERVER_NAME_MAX];      /* the TLS server name it sent (lower case), "" without; tls.c fills it */
	int waiting;                    /* 1: for room on a directory connection (backend.cap_wait); 2: for a bulk slot */
	int wait_bulk;                  /* the handler's HANDLER_WAIT is for a bulk-search slot (search.c) */
	TAILQ_ENTRY(client) wait_link;
	struct share *addr_share;       /* ops in flight of its source address (held; share.h) */
	struct share *id_share;         /* ... of its bound identity (held), NULL while unbound */
	struct share_waiter sw;          /* waiting for a slot of a full share (share.c) */
	char close_reason[200];
	TAILQ_ENTRY(client) link;
};

void client_accept(const struct client_origin *from, int fd, struct sockaddr *sa, int socklen);
/*
 * Starts closing c: abandons its ops, and when code >= 0 sends a Notice
 * of Disconnection with that code first.  Safe to call repeatedly.
 */
void client_close(struct client *c, int code, const char *why);
/* Replaces c->profile, holding the new one and releasing the old. */
void client_set_profile(struct client *c, const struct profile *p);
/* Frees at once; only from the close event or at server exit. */
void client_free(struct client *c);

/*
 * Sends a locally made result for the request being handled and accounts
 * for it (access log, metrics).  tag is the response tag.
 */
void client_result(struct client *c, int msgid, unsigned tag, int code, const char *diag);
/* client_result() for a refusal by the profile's policy: also an access_denied audit record. */
void client_deny(struct client *c, int msgid, unsigned tag, int code, const char *diag);
void client_audit_denied(struct client *c, int msgid, unsigned request_tag, int code, const char *diag);
/* The client's fields of an audit record: connection, source, listener, TLS, profile. */
void client_audit(struct audit_rec *r, const struct client *c);
/* An operation of c ended: its access line and metrics (access.c), its error count. */
void client_op_account(struct client *c, const struct op_done *d);
/* Only the accounting of client_result(), for results sent otherwise (rootDSE, extended results). */
/* name: a bind's name as sent (NULL: the bound identity). */
void client_account(struct client *c, int msgid, unsigned request_tag, int code, uint32_t entries, const char *name,
    const char *diag);
/* Only the sending: for an op whose accounting op.c does. */
void client_reply(struct client *c, int msgid, unsigned tag, int code, const char *diag);
/* Bytes written for c and not yet handed to the kernel (both layers under StartTLS). */
size_t client_output_pending(struct client *c);
/* A result could not be queued whole (out of memory): c is disconnected, outside the caller's callback. */
void client_output_failed(struct client *c);
/* After adding to c's output: cuts c off if past limits.max_client_output. */
void client_check_output(struct client *c);
/* An op of c finished: maybe resume reading. */
void client_op_done(struct client *c);
/* Pauses or resumes reading when the conditions change. */
void client_update_read(struct client *c);
/* Handles requests already buffered, once (after a bind or a wait for capacity). */
void client_resume(struct client *c);
/* The largest request c may send now: limits.max_unbound_pdu_size until a bind succeeds. */
size_t client_max_pdu(const struct client *c);
/* A bind succeeded: the pre-bind limits no longer apply; its identity's share is taken. */
void client_bound(struct client *c);
/* A bind begins (RFC 4511 4.2.1): the old identity and its share are dropped. */
void client_forget_identity(struct client *c);
/* Handle the buffered request again after usec (the handler returned HANDLER_WAIT). */
void client_delay(struct client *c, uint64_t usec);

/*
 * Request handlers (bind.c, search.c, extop.c): 0 when handled, -1 if c is
 * closing, HANDLER_WAIT when every directory connection is full: the
 * request stays buffered and is handled again when room frees.
 */
#define HANDLER_WAIT 1
int bind_handle(struct client *c, struct request *r, unsigned char *buf, size_t len);
int search_handle(struct client *c, struct request *r, unsigned char *buf, size_t len);
int compare_handle(struct client *c, struct request *r, unsigned char *buf, size_t len);
int extop_handle(struct client *c, struct request *r, unsigned char *buf, size_t len);
int modify_handle(struct client *c, struct request *r, unsigned char *buf, size_t len);
/* write.c: Add, Delete and ModifyDN as a profile's writes.add / writes.delete / writes.modrdn allow. */
int add_handle(struct client *c, struct request *r, unsigned char *buf, size_t len);
int delete_handle(struct client *c, struct request *r, unsigned char *buf, size_t len);
int moddn_handle(struct client *c, struct request *r, unsigned char *buf, size_t len);
int passwd_handle(struct client *c, struct request *r);

#endif
