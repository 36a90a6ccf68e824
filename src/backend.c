/*
 * backend.c — the pools of upstream connections: creation, picking,
 * paged-results leases, the client-bind queue and the periodic tick that
 * times out operations.  See backend.h.
 */
#include "backend.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <ldap.h>

#include "client.h"
#include "log.h"
#include "state.h"
#include "upstream.h"
#include "peers.h"
#include "share.h"

#define TICK_US 250000
#define LEASE_IDLE_US (300ULL * 1000000)
#define BIND_QUEUE_MAX 100000

static void tick_cb(evutil_socket_t fd, short what, void *arg);

static int
make_pool(struct backend *be, enum up_kind kind, long per_server, struct upstream ***out, size_t *n)
{
	size_t total = (size_t)per_server * be->nservers;
	*n = 0;
	*out = calloc(total ? total : 1, sizeof(**out));
	if (*out == NULL)
		return -1;
	for (long i = 0; i < per_server; i++)
		for (size_t s = 0; s < be->nservers; s++) {
			/* the index is the position in the pool: unique across servers (paged cookies name it) */
			struct upstream *u = upstream_new(be, &be->servers[s], kind, (int)*n);
			if (u == NULL)
				return -1;
			(*out)[(*n)++] = u;
		}
	return 0;
}

int
backend_new(struct server *srv, struct backend **out, char *err, size_t errlen)
{
	struct config *cfg = srv->cfg;
	struct backend *be = calloc(1, sizeof(*be));
	if (be == NULL)
		goto oom;
	be->srv = srv;
	TAILQ_INIT(&be->bind_wait);
	TAILQ_INIT(&be->cap_wait);
	TAILQ_INIT(&be->bulk_wait);
	TAILQ_INIT(&be->internal_wait);
	be->nservers = cfg->nservers;
	be->servers = calloc(cfg->nservers, sizeof(*be->servers));
	if (be->servers == NULL)
		goto oom;
	for (size_t i = 0; i < cfg->nservers; i++) {
		be->servers[i].url = cfg->server_urls[i];
		be->servers[i].urlstr = cfg->servers[i];
		be->servers[i].priority = cfg->server_priority ? cfg->server_priority[i] : 0;
	}
	if (make_pool(be, UP_SHARED, cfg->pool_size, &be->shared, &be->nshared) < 0 ||
	    make_pool(be, UP_BIND, cfg->bind_pool_size, &be->binders, &be->nbinders) < 0 ||
	    make_pool(be, UP_PAGED, cfg->paged_pool_size, &be->paged, &be->npaged) < 0)
		goto oom;
	be->tick = event_new(srv->base, -1, EV_PERSIST, tick_cb, be);
	if (be->tick == NULL)
		goto oom;
	*out = be;
	return 0;
oom:
	snprintf(err, errlen, "out of memory creating the backend pools");
	backend_free(be);
	return -1;
}

void
backend_free(struct backend *be)
{
	if (be == NULL)
		return;
	while (!TAILQ_EMPTY(&be->bind_wait)) {
		struct op *op = TAILQ_FIRST(&be->bind_wait);
		backend_bind_unqueue(be, op);
		op_fail(op, LDAP_UNAVAILABLE, "aldproxy is shutting down");
	}
	while (!TAILQ_EMPTY(&be->internal_wait))
		op_fail(TAILQ_FIRST(&be->internal_wait), LDAP_UNAVAILABLE, "aldproxy is shutting down");
	struct upstream **pools[] = { be->shared, be->binders, be->paged };
	size_t counts[] = { be->nshared, be->nbinders, be->npaged };
	for (int p = 0; p < 3; p++) {
		for (size_t i = 0; pools[p] != NULL && i < counts[p]; i++)
			upstream_free(pools[p][i]);
		free(pools[p]);
	}
	if (be->tick != NULL)
		event_free(be->tick);
	free(be->servers);
	free(be);
}

void
backend_start(struct backend *be)
{
	struct timeval tv = { 0, TICK_US };
	event_add(be->tick, &tv);
	for (size_t i = 0; i < be->nbinders; i++)
		upstream_connect(be->binders[i]);
	for (size_t i = 0; i < be->nshared; i++)
		upstream_connect(be->shared[i]);
	for (size_t i = 0; i < be->npaged; i++)
		upstream_connect(be->paged[i]);
}

/* Slots of u that only aldproxy's own lookups may take. */
static uint32_t
reserved(const struct upstream *u)
{
	return u->ids.cap >= 16 ? u->ids.cap / 16 : u->ids.cap >= 2 ? 1 : 0;
}

enum pick_for { FOR_CLIENT, FOR_INTERNAL, FOR_BULK };

/* Whether u is a better choice than best for a request of kind `f`. */
static int
better(const struct upstream *u, const struct upstream *best, enum pick_for f)
{
	if (best == NULL || u->server->priority != best->server->priority)
		return best == NULL || u->server->priority < best->server->priority;
	/*
	 * A directory answers one connection's results in order, so a small
	 * result queued behind a bulk stream waits for all of it: bulk searches
	 * are packed onto the connections that already carry bulk ones, and
	 * everything else goes to connections that carry none when it can.
	 */
	if (f == FOR_BULK && (u->nbulk > 0) != (best->nbulk > 0))
		return u->nbulk > 0;
	if (f != FOR_BULK && (u->nbulk > 0) != (best->nbulk > 0))
		return u->nbulk == 0;
	return u->nops < best->nops;
}

static struct upstream *
pick(struct backend *be, enum pick_for f)
{
	/* the best priority that has a ready connection with room, then the least busy */
	struct upstream *best = NULL;
	size_t n = be->nshared;
	for (size_t k = 0; k < n; k++) {
		struct upstream *u = be->shared[(be->rr + k) % n];
		if (u->state != UP_READY || u->ids.nfree <= (f == FOR_INTERNAL ? 0 : reserved(u)))
			continue;
		if (better(u, best, f))
			best = u;
	}
	be->rr++;
	return best;
}

struct upstream *
backend_pick(struct backend *be)
{
	return pick(be, FOR_CLIENT);
}

struct upstream *
backend_pick_bulk(struct backend *be)
{
	return pick(be, FOR_BULK);
}

struct upstream *
backend_pick_internal(struct backend *be)
{
	return pick(be, FOR_INTERNAL);
}

int
backend_send_internal(struct backend *be, struct op *op, struct upstream *dest, const struct evbuffer_iovec *parts,
    int nparts)
{
	struct upstream *u = dest != NULL ? dest : backend_pick_internal(be);
	if (u != NULL && TAILQ_EMPTY(&be->internal_wait) && upstream_send(u, op, parts, nparts) == 0)
		return 0;
	if (dest != NULL || !backend_saturated(be))
		return -1;
	if (op->held == NULL) {
		if ((op->held = evbuffer_new()) == NULL)
			return -1;
		for (int i = 0; i < nparts; i++)
			if (evbuffer_add(op->held, parts[i].iov_base, parts[i].iov_len) < 0)
				return -1;
	}
	op->start_us = now_us();
	op->waitq = &be->internal_wait;
	TAILQ_INSERT_TAIL(&be->internal_wait, op, u_link);
	return 0;
}

/* Sends waiting lookups while slots are free; 1 if any still waits. */
static int
internal_dispatch(struct backend *be)
{
	struct op *op;
	struct upstream *u;
	while ((op = TAILQ_FIRST(&be->internal_wait)) != NULL && (u = backend_pick_internal(be)) != NULL) {
		TAILQ_REMOVE(&be->internal_wait, op, u_link);
		op->waitq = NULL;
		struct evbuffer_iovec part = { evbuffer_pullup(op->held, -1), evbuffer_get_length(op->held) };
		int rc = upstream_send(u, op, &part, 1);
		explicit_bzero(part.iov_base, part.iov_len);
		evbuffer_free(op->held);
		op->held = NULL;
		if (rc < 0)
			op_fail(op, LDAP_UNAVAILABLE, "aldproxy: no directory connection for aldproxy's own lookup");
	}
	return !TAILQ_EMPTY(&be->internal_wait);
}


struct upstream *
backend_pick_other(struct backend *be, const struct backend_server *not)
{
	struct upstream *best = NULL;
	for (size_t k = 0; k < be->nshared; k++) {
		struct upstream *u = be->shared[k];
		if (u->server == not || u->state != UP_READY || u->ids.nfree == 0)
			continue;
		if (best == NULL || u->nops < best->nops)
			best = u;
	}
	return best;
}

/*
 * Paged-results leases.  Products often read one page and drop the cookie
 * (Keycloak's console, Nextcloud's limited searches), so an idle lease may
 * be taken back (RFC 2696 lets a server drop a cookie; its next page
 * answers "unknown cookie").  One identity holds at most half of the pool:
 * at its share, its next search takes back its own least recently used
 * idle lease (it is the same product); another identity's lease is taken
 * back only after LEASE_RECLAIM_US idle, so one product cannot break
 * another's listing.
 */
#define LEASE_RECLAIM_US (120ULL * 1000000)

static int
same_identity(const struct client *a, const struct client *b)
{
	return a == b || (a->id_share != NULL && a->id_share == b->id_share);
}

struct upstream *
backend_lease(struct backend *be, struct client *c, int *capped)
{
	struct upstream *pick = NULL, *own_idle = NULL, *stale = NULL;
	size_t own = 0, cap = be->npaged / 2 ? be->npaged / 2 : 1;
	uint64_t now = now_us();
	*capped = 0;
	for (size_t i = 0; i < be->npaged; i++) {
		struct upstream *u = be->paged[i];
		int idle = u->state == UP_READY && u->nops == 0;
		if (u->lessee == NULL) {
			if (idle && pick == NULL)
				pick = u;
		} else if (same_identity(u->lessee, c)) {
			own++;
			if (idle && (own_idle == NULL || u->lease_used_us < own_idle->lease_used_us))
				own_idle = u;
		} else if (idle && now - u->lease_used_us >= LEASE_RECLAIM_US &&
		    (stale == NULL || u->lease_used_us < stale->lease_used_us)) {
			stale = u;
		}
	}
	if (own >= cap || pick == NULL)
		pick = own_idle;
	if (pick == NULL && own < cap)
		pick = stale;
	if (pick == NULL) {
		*capped = own >= cap;
		return NULL;
	}
	if (pick->lessee != NULL) {
		if (pick->lessee != c)
			log_info("paged results: lease on %s taken back from conn=%llu (idle %.1f s)", pick->name,
			    (unsigned long long)pick->lessee->id, (double)(now - pick->lease_used_us) / 1e6);
		upstream_lease_release(pick);
	}
	pick->lessee = c;
	pick->lease_gen++;
	pick->lease_used_us = now;
	return pick;
}

struct upstream *
backend_leased(struct backend *be, struct client *c, const void *cookie, size_t len)
{
	/* aldproxy's cookie: "ALDP", the connection's index, the lease generation */
	const unsigned char *k = cookie;
	if (len != 12 || memcmp(k, "ALDP", 4) != 0)
		return NULL;
	uint32_t idx = ((uint32_t)k[4] << 24) | ((uint32_t)k[5] << 16) | ((uint32_t)k[6] << 8) | k[7];
	uint32_t gen = ((uint32_t)k[8] << 24) | ((uint32_t)k[9] << 16) | ((uint32_t)k[10] << 8) | k[11];
	for (size_t i = 0; i < be->npaged; i++) {
		struct upstream *u = be->paged[i];
		if ((uint32_t)u->index == idx && u->lease_gen == gen && u->lessee == c && u->state == UP_READY &&
		    u->cookie_len > 0)
			return u;
	}
	return NULL;
}

void
backend_release_leases(struct backend *be, struct client *c)
{
	for (size_t i = 0; i < be->npaged; i++)
		if (be->paged[i]->lessee == c)
			upstream_lease_release(be->paged[i]);
}

static struct upstream *
free_binder(struct backend *be)
{
	/* an idle bind connection on the best-priority controller that has one */
	struct upstream *best = NULL;
	for (size_t k = 0; k < be->nbinders; k++) {
		struct upstream *u = be->binders[(be->rr + k) % be->nbinders];
		if (u->state == UP_READY && u->nops == 0 && u->probe_msgid == 0 &&
		    (best == NULL || u->server->priority < best->server->priority))
			best = u;
	}
	return best;
}

void
backend_server_up(struct backend *be, struct backend_server *s)
{
	struct upstream **pools[] = { be->shared, be->binders, be->paged };
	size_t counts[] = { be->nshared, be->nbinders, be->npaged };
	for (int k = 0; k < 3; k++)
		for (size_t i = 0; i < counts[k]; i++) {
			struct upstream *u = pools[k][i];
			if (u->server == s && u->state == UP_DOWN && evtimer_pending(u->retry_ev, NULL)) {
				evtimer_del(u->retry_ev);
				upstream_connect(u);
			}
		}
}

void
backend_server_down(struct backend *be, struct backend_server *s, const char *why)
{
	struct upstream **pools[] = { be->shared, be->binders, be->paged };
	size_t counts[] = { be->nshared, be->nbinders, be->npaged };
	log_warn("directory %s: marked down: %s", s->urlstr, why);
	for (int k = 0; k < 3; k++)
		for (size_t i = 0; i < counts[k]; i++)
			if (pools[k][i]->server == s && pools[k][i]->state != UP_DOWN)
				upstream_fail(pools[k][i], why);
}

static int
send_bind(struct upstream *u, struct op *op)
{
	size_t n = evbuffer_get_length(op->held);
	struct evbuffer_iovec part = { evbuffer_pullup(op->held, -1), n };
	if (upstream_send(u, op, &part, 1) < 0)
		return -1;
	if (u->be->nservers == 1) {     /* no other controller to retry on: wipe now */
		explicit_bzero(part.iov_base, n);
		evbuffer_free(op->held);
		op->held = NULL;
	}
	return 0;
}

int
backend_bind_submit(struct backend *be, struct op *op, const struct evbuffer_iovec *parts, int nparts)
{
	struct upstream *u = free_binder(be);
	if (u != NULL && upstream_send(u, op, parts, nparts) == 0) {
		/* with several controllers keep a copy (wiped in op_free) to retry
		 * on another one if this one cannot answer */
		if (be->nservers > 1 && op->held == NULL && (op->held = evbuffer_new()) != NULL)
			for (int i = 0; i < nparts; i++)
				if (evbuffer_add(op->held, parts[i].iov_base, parts[i].iov_len) < 0) {
					evbuffer_free(op->held);        /* no copy: no retry elsewhere */
					op->held = NULL;
					break;
				}
		return 0;
	}
	unsigned alive = 0;
	for (size_t i = 0; i < be->nbinders; i++)
		alive += be->binders[i]->state != UP_DOWN;
	if (alive == 0 || be->nbind_wait >= BIND_QUEUE_MAX)
		return -1;
	/* every bind connection is busy: keep a copy (wiped when sent) and wait */
	if ((op->held = evbuffer_new()) == NULL)
		return -1;
	for (int i = 0; i < nparts; i++)
		if (evbuffer_add(op->held, parts[i].iov_base, parts[i].iov_len) < 0)
			return -1;          /* op_free() wipes and frees what was copied */
	TAILQ_INSERT_TAIL(&be->bind_wait, op, u_link);
	be->nbind_wait++;
	return 0;
}

void
backend_bind_unqueue(struct backend *be, struct op *op)
{
	struct op *q;
	TAILQ_FOREACH(q, &be->bind_wait, u_link)
		if (q == op) {
			TAILQ_REMOVE(&be->bind_wait, op, u_link);
			be->nbind_wait--;
			return;
		}
}

void
backend_bind_dispatch(struct backend *be)
{
	struct upstream *u;
	while (!TAILQ_EMPTY(&be->bind_wait) && (u = free_binder(be)) != NULL) {
		struct op *op = TAILQ_FIRST(&be->bind_wait);
		TAILQ_REMOVE(&be->bind_wait, op, u_link);
		be->nbind_wait--;
		if (send_bind(u, op) < 0)
			op_fail(op, LDAP_UNAVAILABLE, "aldproxy: cannot forward the bind to the directory");
	}
}

int
backend_saturated(const struct backend *be)
{
	/* ready but full, or making its first attempt to reconnect since it
	 * was lost: waiting makes sense.  Once an attempt has failed the
	 * directory is really down: answer unavailable at once, never hang. */
	for (size_t i = 0; i < be->nshared; i++) {
		const struct upstream *u = be->shared[i];
		if (u->state == UP_READY ||
		    (u->state != UP_DOWN && (u->failed_attempts == 0 || u->server->ready > 0)))
			return 1;
	}
	return 0;
}

void
backend_wake_all(struct backend *be)
{
	struct client *c;
	if (internal_dispatch(be))
		return;
	while ((c = TAILQ_FIRST(&be->cap_wait)) != NULL || (c = TAILQ_FIRST(&be->bulk_wait)) != NULL) {
		backend_unwait(be, c);
		client_resume(c);       /* deferred; the request is tried again */
	}
}

void
backend_wait_capacity(struct backend *be, struct client *c, int bulk)
{
	if (c->waiting)
		return;
	c->waiting = bulk ? 2 : 1;
	TAILQ_INSERT_TAIL(bulk ? &be->bulk_wait : &be->cap_wait, c, wait_link);
}

void
backend_unwait(struct backend *be, struct client *c)
{
	if (!c->waiting)
		return;
	TAILQ_REMOVE(c->waiting == 2 ? &be->bulk_wait : &be->cap_wait, c, wait_link);
	c->waiting = 0;
}

void
backend_capacity_freed(struct backend *be)
{
	/* aldproxy's own lookups first: a login waits on them */
	if (!TAILQ_EMPTY(&be->internal_wait) && internal_dispatch(be))
		return;
	struct client *c = TAILQ_FIRST(&be->cap_wait);
	if (c == NULL)
		return;
	backend_unwait(be, c);
	client_resume(c);       /* deferred: runs from the client's resume event */
}

unsigned
backend_ready_count(const struct backend *be, int kind)
{
	struct upstream *const *pool = kind == UP_SHARED ? be->shared : kind == UP_BIND ? be->binders : be->paged;
	size_t n = kind == UP_SHARED ? be->nshared : kind == UP_BIND ? be->nbinders : be->npaged;
	unsigned r = 0;
	for (size_t i = 0; i < n; i++)
		r += pool[i]->state == UP_READY;
	return r;
}

/* Fails the operations of u older than the timeout. */
static void
expire(struct upstream *u, uint64_t now, uint64_t limit_us, double limit_s)
{
	char diag[160];
	struct op *op;
	while ((op = TAILQ_FIRST(&u->ops)) != NULL && now - op->start_us > limit_us) {
		snprintf(diag, sizeof(diag), "aldproxy: the directory did not answer within %g s", limit_s);
		if (u->kind == UP_BIND) {
			/* a bind cannot be abandoned: the connection's state is unknown */
			upstream_fail(u, "a client bind timed out");
			return;
		}
		log_warn("conn=%llu msgid=%d: no answer from %s within %g s; abandoned",
		    (unsigned long long)op->conn_id, op->client_msgid, u->name, limit_s);
		upstream_abandon(u, op);
		if (op->flags & OP_PAGED)
			upstream_lease_release(u);
		op_fail(op, LDAP_UNAVAILABLE, diag);
	}
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct backend *be = arg;
	struct config *cfg = be->srv->cfg;
	uint64_t now = now_us();
	(void)fd;
	(void)what;
	uint64_t op_limit = (uint64_t)(cfg->operation_timeout * 1e6);
	uint64_t bind_limit = (uint64_t)(cfg->bind_timeout * 1e6);
	for (size_t i = 0; i < be->nshared; i++) {
		expire(be->shared[i], now, op_limit, cfg->operation_timeout);
		if (cfg->probe_interval > 0)
			upstream_probe(be->shared[i], now, (uint64_t)(cfg->probe_interval * 1e6),
			    (uint64_t)(cfg->connect_timeout * 1e6));
	}
	for (size_t i = 0; i < be->npaged; i++) {
		struct upstream *u = be->paged[i];
		expire(u, now, op_limit, cfg->operation_timeout);
		if (u->lessee != NULL && u->nops == 0 && now - u->lease_used_us > LEASE_IDLE_US)
			upstream_lease_release(u);
	}
	for (size_t i = 0; i < be->nbinders; i++) {
		expire(be->binders[i], now, bind_limit, cfg->bind_timeout);
		if (cfg->probe_interval > 0)
			upstream_probe(be->binders[i], now, (uint64_t)(cfg->probe_interval * 1e6),
			    (uint64_t)(cfg->connect_timeout * 1e6));
	}
	if (be->own_reads != NULL)
		be->own_reads(be, now);
	peers_sweep(now);
	if (!TAILQ_EMPTY(&be->cap_wait) && !backend_saturated(be))
		backend_wake_all(be);
	struct op *op;
	while ((op = TAILQ_FIRST(&be->internal_wait)) != NULL && (now - op->start_us > op_limit || !backend_saturated(be)))
		op_fail(op, LDAP_UNAVAILABLE, backend_saturated(be) ?
		    "aldproxy: no directory connection was free for its own lookup in time" :
		    "aldproxy: no directory server is available");
	share_kick();
	while ((op = TAILQ_FIRST(&be->bind_wait)) != NULL && now - op->start_us > bind_limit) {
		TAILQ_REMOVE(&be->bind_wait, op, u_link);
		be->nbind_wait--;
		op_fail(op, LDAP_UNAVAILABLE, "aldproxy: no directory connection free to verify the bind in time");
	}
}
