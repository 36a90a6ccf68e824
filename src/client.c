/*
 * client.c — a front-end connection: accept, frame requests, dispatch,
 * send results, back-pressure, close.  See client.h for ownership.
 *
 * Reading pauses while a bind is in flight, while the client has
 * limits.max_ops_per_client operations outstanding, and while its unread
 * output is over half of limits.max_client_output; past the full cap the
 * client is cut off (its operations abandoned upstream) so one slow reader
 * never holds up a shared directory connection.
 */
#include "client.h"

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <ldap.h>
#include <openssl/err.h>

#include "backend.h"
#include "config.h"
#include "dn.h"
#include "access.h"
#include "log.h"
#include "pdu.h"
#include "peers.h"
#include "state.h"
#include "share.h"
#include "tls.h"
#include "upstream.h"

#define CLOSE_FLUSH_SECONDS 2

static void client_read_cb(struct bufferevent *bev, void *arg);
static void client_write_cb(struct bufferevent *bev, void *arg);
static void client_event_cb(struct bufferevent *bev, short what, void *arg);
static void client_process(struct client *c);

/* After StartTLS: the most the TLS layer may queue in the socket bufferevent below it. */
#define TLS_UNDER_MAX (256 * 1024)


/* Keeps server.output_total, the bytes waiting in every client's output. */
static void
output_cb(struct evbuffer *b, const struct evbuffer_cb_info *info, void *arg)
{
	struct server *srv = arg;
	(void)b;
	srv->output_total += info->n_added;
	srv->output_total -= info->n_deleted < srv->output_total ? info->n_deleted : srv->output_total;
}

/* Stops counting c's output (it is being freed): what is left leaves the total. */
static void
output_uncount(struct client *c)
{
	struct server *srv = c->srv;
	struct bufferevent *under = c->bev ? bufferevent_get_underlying(c->bev) : NULL;
	if (c->out_cb != NULL) {
		size_t n = evbuffer_get_length(bufferevent_get_output(c->bev));
		srv->output_total -= n < srv->output_total ? n : srv->output_total;
		evbuffer_remove_cb_entry(bufferevent_get_output(c->bev), c->out_cb);
		c->out_cb = NULL;
	}
	if (c->under_cb != NULL && under != NULL) {
		size_t n = evbuffer_get_length(bufferevent_get_output(under));
		srv->output_total -= n < srv->output_total ? n : srv->output_total;
		evbuffer_remove_cb_entry(bufferevent_get_output(under), c->under_cb);
		c->under_cb = NULL;
	}
}

/*
 * All clients' unread results are over limits.max_total_output: the client
 * holding the most is cut off (whatever its own cap), so memory stays bounded
 * however many clients stop reading at once.
 */
static void
output_over_budget(struct server *srv)
{
	struct client *c, *big = NULL;
	size_t most = 0;
	if (srv->output_cut_pending)
		return;
	TAILQ_FOREACH(c, &srv->clients, link) {
		size_t n = c->bev ? evbuffer_get_length(bufferevent_get_output(c->bev)) : 0;
		if (n > most && !c->over_budget) {
			most = n;
			big = c;
		}
	}
	if (big != NULL) {
		big->over_budget = 1;
		srv->output_cut_pending = 1;
		event_active(big->resume_ev, 0, 0);    /* resume_cb cuts it off, outside any op callback */
	}
}

static void
resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = arg;
	(void)fd;
	(void)what;
	if (c->over_budget && c->srv->output_cut_pending) {
		c->srv->output_cut_pending = 0;
		c->over_budget = 0;             /* done: its output is dropped below */
		if (c->state == C_CLOSING) {
			/* closing already, its results still unsent: they go now */
			evbuffer_drain(bufferevent_get_output(c->bev), evbuffer_get_length(bufferevent_get_output(c->bev)));
			event_active(c->close_ev, 0, 0);
			return;
		}
		c->srv->stats.slow_clients_cut++;
		log_notice("conn=%llu peer=%s: cut off: its %zu unread result bytes are the most while all clients' "
		    "exceed limits.max_total_output", (unsigned long long)c->id, c->peer,
		    evbuffer_get_length(bufferevent_get_output(c->bev)));
		evbuffer_drain(bufferevent_get_output(c->bev), evbuffer_get_length(bufferevent_get_output(c->bev)));
		client_close(c, LDAP_BUSY, "aldproxy: too many unread results on this proxy; disconnected");
		return;
	}
	if (c->state == C_CLOSING)
		return;
	if (c->output_failed) {
		/* what is queued may end in a message cut short: none of it goes */
		log_err("conn=%llu peer=%s: out of memory writing its results; disconnected", (unsigned long long)c->id,
		    c->peer);
		evbuffer_drain(bufferevent_get_output(c->bev), evbuffer_get_length(bufferevent_get_output(c->bev)));
		client_close(c, LDAP_UNAVAILABLE, "aldproxy: out of memory; disconnected");
		return;
	}
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) > c->srv->cfg->max_client_output) {
		c->srv->stats.slow_clients_cut++;
		log_notice("conn=%llu peer=%s: cut off: %zu unread result bytes exceed limits.max_client_output",
		    (unsigned long long)c->id, c->peer, evbuffer_get_length(bufferevent_get_output(c->bev)));
		evbuffer_drain(bufferevent_get_output(c->bev), evbuffer_get_length(bufferevent_get_output(c->bev)));
		client_close(c, LDAP_BUSY, "aldproxy: client does not read its results; disconnected");
		return;
	}
	client_process(c);
}

static void
close_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	client_free(arg);
}

#define AUDIT_DENIED_UNBOUND 5      /* access_denied records per connection before a bind */
#define AUDIT_DENIED_PER_CONN 50    /* ... in all */

static void audit_denied_summary(struct client *c);

size_t
client_max_pdu(const struct client *c)
{
	const struct config *cfg = c->srv->cfg;
	if (c->bound_dn != NULL || cfg->max_unbound_pdu_size >= cfg->max_pdu_size)
		return cfg->max_pdu_size;
	return cfg->max_unbound_pdu_size;
}

void
client_bound(struct client *c)
{
	evtimer_del(c->unbound_timer);
	bufferevent_setwatermark(c->bev, EV_READ, 0, client_max_pdu(c) + 64 * 1024);
	/* the identity: its directory DN, or a profile's own service account by profile and name */
	char key[DN_MAX + 128];
	int n = -1;
	if (c->bound_real != NULL)
		n = dn_normalize(c->bound_real, strlen(c->bound_real), key, sizeof(key));
	if (n < 0)
		snprintf(key, sizeof(key), "%s/%s", c->profile ? c->profile->name : "-", c->bound_dn ? c->bound_dn : "");
	share_put(c->id_share);
	c->id_share = share_get(SHARE_IDENTITY, key);
}

void
client_forget_identity(struct client *c)
{
	free(c->bound_dn);
	c->bound_dn = NULL;
	free(c->bound_real);
	c->bound_real = NULL;
	c->role = ROLE_NONE;
	if (c->sw.on == c->id_share)
		share_unwait(&c->sw);
	share_put(c->id_share);
	c->id_share = NULL;
}

static void
unbound_cb(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = arg;
	(void)fd;
	(void)what;
	if (c->bound_dn != NULL || c->state != C_ACTIVE)
		return;
	if (c->nops > 0) {
		/* a bind in flight: look again in a second */
		struct timeval tv = { 1, 0 };
		evtimer_add(c->unbound_timer, &tv);
		return;
	}
	client_close(c, LDAP_UNAVAILABLE, "no successful bind within limits.unbound_timeout");
}

static void
delay_cb(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = arg;
	(void)fd;
	(void)what;
	backend_unwait(c->srv->backend, c);
	client_resume(c);
}

void
client_delay(struct client *c, uint64_t usec)
{
	struct timeval tv = { (time_t)(usec / 1000000), (suseconds_t)(usec % 1000000) };
	evtimer_add(c->delay_timer, &tv);
}

static void
set_idle_timeout(struct client *c)
{
	double t = c->srv->cfg->idle_timeout;
	if (t <= 0) {
		bufferevent_set_timeouts(c->bev, NULL, NULL);
		return;
	}
	struct timeval tv = { (time_t)t, (suseconds_t)((t - floor(t)) * 1e6) };
	/* reading: nothing sent; writing: results waiting and none taken (a client paused
	 * for its unread output reads no requests, so only the write side sees it stall) */
	bufferevent_set_timeouts(c->bev, &tv, &tv);
}

/* A slot of the full share it waited on is free: read again (deferred, from the resume event). */
static void
share_wake(struct share_waiter *w)
{
	client_resume((struct client *)((char *)w - offsetof(struct client, sw)));
}

void
client_accept(const struct client_origin *from, int fd, struct sockaddr *sa, int socklen)
{
	struct server *srv = from->srv;
	char host[INET6_ADDRSTRLEN] = "?";
	int port = 0;
	(void)socklen;
	if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr, host, sizeof(host));
		port = ntohs(((struct sockaddr_in *)sa)->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)sa)->sin6_addr, host, sizeof(host));
		port = ntohs(((struct sockaddr_in6 *)sa)->sin6_port);
	}
	if (srv->stopping || srv->nclients >= (size_t)srv->cfg->max_connections) {
		srv->stats.conns_rejected++;
		log_warn("connection from %s:%d refused: limits.max_connections (%ld) reached", host, port,
		    srv->cfg->max_connections);
		close(fd);
		return;
	}
	if (peers_connect(srv->cfg, host) < 0) {
		srv->stats.conns_rejected++;
		log_warn("connection from %s:%d refused: limits.max_connections_per_address (%ld) reached", host, port,
		    srv->cfg->max_connections_per_address);
		close(fd);
		return;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	evutil_make_socket_nonblocking(fd);

	struct client *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		peers_disconnect(host);
		close(fd);
		return;
	}
	c->counted = 1;
	c->sw.wake = share_wake;
	c->addr_share = share_get(SHARE_ADDRESS, host);    /* NULL (out of memory): not capped */
	c->srv = srv;
	c->from = from;
	c->id = ++srv->next_conn_id;
	TAILQ_INIT(&c->ops);
	snprintf(c->peer, sizeof(c->peer), sa->sa_family == AF_INET6 ? "[%s]:%d" : "%s:%d", host, port);
	snprintf(c->peer_ip, sizeof(c->peer_ip), "%s", host);
	c->peer_port = port;
	c->started_us = now_us();
	if (from->tls) {
		SSL *ssl = SSL_new(srv->tls_server);
		if (ssl != NULL && tls_capture_sni(ssl, c->sni, sizeof(c->sni)) < 0) {
			SSL_free(ssl);
			ssl = NULL;
		}
		if (ssl != NULL)
			c->bev = bufferevent_openssl_socket_new(srv->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
			    BEV_OPT_CLOSE_ON_FREE);
		c->tls = 1;
	} else {
		c->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
	}
	c->ber = ber_alloc_t(LBER_USE_DER);
	c->resume_ev = event_new(srv->base, -1, 0, resume_cb, c);
	c->close_ev = event_new(srv->base, -1, 0, close_cb, c);
	c->flush_timer = evtimer_new(srv->base, close_cb, c);
	c->unbound_timer = evtimer_new(srv->base, unbound_cb, c);
	c->delay_timer = evtimer_new(srv->base, delay_cb, c);
	TAILQ_INSERT_TAIL(&srv->clients, c, link);
	srv->nclients++;
	srv->stats.conns_accepted++;
	if (from->profile_name != NULL) {
		/* looked up now: a reload may have replaced the profile since the listener opened */
		c->fixed = profile_hold(profile_find(srv->profiles, from->profile_name));
		if (c->fixed == NULL) {
			log_warn("conn=%llu: listener %s belongs to profile %s, which the configuration no longer has",
			    (unsigned long long)c->id, from->url, from->profile_name);
			if (c->bev == NULL)
				close(fd);
			client_free(c);
			return;
		}
		client_set_profile(c, c->fixed);
	}
	if (c->bev == NULL || c->ber == NULL || c->resume_ev == NULL || c->close_ev == NULL || c->flush_timer == NULL ||
	    c->unbound_timer == NULL || c->delay_timer == NULL) {
		if (c->bev == NULL)
			close(fd);
		log_err("conn=%llu: out of memory at accept", (unsigned long long)c->id);
		client_free(c);
		return;
	}
	bufferevent_setcb(c->bev, client_read_cb, client_write_cb, client_event_cb, c);
	c->out_cb = evbuffer_add_cb(bufferevent_get_output(c->bev), output_cb, srv);
	/* bounds what a client can queue while it waits (one whole request fits) */
	bufferevent_setwatermark(c->bev, EV_READ, 0, client_max_pdu(c) + 64 * 1024);
	set_idle_timeout(c);
	if (srv->cfg->unbound_timeout > 0) {
		/* from accept: trickling bytes does not extend it */
		double t = srv->cfg->unbound_timeout;
		struct timeval tv = { (time_t)t, (suseconds_t)((t - floor(t)) * 1e6) };
		evtimer_add(c->unbound_timer, &tv);
	}
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	log_info("conn=%llu accepted from %s on %s", (unsigned long long)c->id, c->peer, from->url);
}

void
client_free(struct client *c)
{
	struct server *srv = c->srv;
	share_unwait(&c->sw);
	/* client_close() normally emptied the list; at exit it may not have run */
	while (!TAILQ_EMPTY(&c->ops)) {
		struct op *op = TAILQ_FIRST(&c->ops);
		if (op->up != NULL && op->tag != PDU_BIND_REQ)
			upstream_abandon(op->up, op);
		else if (op->up == NULL)
			backend_bind_unqueue(srv->backend, op);
		if (op->up != NULL) {      /* an in-flight bind becomes an orphan */
			TAILQ_REMOVE(&c->ops, op, c_link);
			c->nops--;
			op->client = NULL;
			continue;
		}
		op_free(op);
	}
	if (srv->backend != NULL) {
		backend_release_leases(srv->backend, c);
		backend_unwait(srv->backend, c);
	}
	audit_denied_summary(c);
	log_info("conn=%llu closed: %s; peer=%s profile=%s requests=%llu errors=%llu duration=%.3f",
	    (unsigned long long)c->id, c->close_reason[0] ? c->close_reason : "server shutdown", c->peer,
	    c->profile ? c->profile->name : "-", (unsigned long long)c->nrequests, (unsigned long long)c->nerrors,
	    (double)(now_us() - c->started_us) / 1e6);
	TAILQ_REMOVE(&srv->clients, c, link);
	srv->nclients--;
	if (c->over_budget)
		srv->output_cut_pending = 0;
	output_uncount(c);
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	if (c->ber != NULL)
		ber_free(c->ber, 0);
	if (c->resume_ev != NULL)
		event_free(c->resume_ev);
	if (c->close_ev != NULL)
		event_free(c->close_ev);
	if (c->flush_timer != NULL)
		event_free(c->flush_timer);
	if (c->unbound_timer != NULL)
		event_free(c->unbound_timer);
	if (c->delay_timer != NULL)
		event_free(c->delay_timer);
	if (c->counted)
		peers_disconnect(c->peer_ip);
	share_put(c->addr_share);
	share_put(c->id_share);
	free(c->bound_dn);
	free(c->bound_real);
	profile_drop(c->profile);
	profile_drop(c->fixed);
	free(c);
}

void
client_set_profile(struct client *c, const struct profile *p)
{
	const struct profile *old = c->profile;
	c->profile = profile_hold(p);
	profile_drop(old);
}

void
client_close(struct client *c, int code, const char *why)
{
	if (c->state == C_CLOSING)
		return;
	c->state = C_CLOSING;
	share_unwait(&c->sw);
	snprintf(c->close_reason, sizeof(c->close_reason), "%s", why);
	/* abandon what is in flight: the answers have nowhere to go */
	while (!TAILQ_EMPTY(&c->ops)) {
		struct op *op = TAILQ_FIRST(&c->ops);
		if (op->tag == PDU_BIND_REQ && op->up != NULL) {
			TAILQ_REMOVE(&c->ops, op, c_link);
			c->nops--;
			op->client = NULL;      /* orphan: freed when the directory answers */
			continue;
		}
		if (op->up != NULL)
			upstream_abandon(op->up, op);
		else
			backend_bind_unqueue(c->srv->backend, op);
		op_free(op);
	}
	backend_release_leases(c->srv->backend, c);
	backend_unwait(c->srv->backend, c);
	bufferevent_disable(c->bev, EV_READ);
	if (code >= 0) {
		struct evbuffer *out = bufferevent_get_output(c->bev);
		if (pdu_notice_of_disconnection(out, code, why) < 0)
			log_warn("conn=%llu: out of memory: closed without a Notice of Disconnection", (unsigned long long)c->id);
		struct timeval tv = { CLOSE_FLUSH_SECONDS, 0 };
		evtimer_add(c->flush_timer, &tv);   /* a client that never reads is freed anyway */
		bufferevent_enable(c->bev, EV_WRITE);
		return;
	}
	event_active(c->close_ev, 0, 0);
}

void
client_reply(struct client *c, int msgid, unsigned tag, int code, const char *diag)
{
	if (pdu_result(bufferevent_get_output(c->bev), msgid, tag, code, "", diag) < 0) {
		client_close(c, LDAP_OTHER, "out of memory for a response");
		return;
	}
	client_check_output(c);
}

static const char *
operation_name(unsigned tag)
{
	switch (tag) {
	case PDU_BIND_REQ: return "bind";
	case PDU_SEARCH_REQ: return "search";
	case PDU_COMPARE_REQ: return "compare";
	case PDU_MODIFY_REQ: return "modify";
	case PDU_ADD_REQ: return "add";
	case PDU_DEL_REQ: return "delete";
	case PDU_MODDN_REQ: return "modrdn";
	default: return "extended";
	}
}

void
client_op_account(struct client *c, const struct op_done *d)
{
	c->nerrors += result_is_error(d->code);
	access_op_done(&c->srv->metrics, c->id, d);
}

void
client_audit(struct audit_rec *r, const struct client *c)
{
	audit_num(r, AK_CONN, (long long)c->id);
	audit_str(r, AK_SRC_IP, c->peer_ip);
	audit_num(r, AK_SRC_PORT, c->peer_port);
	audit_str(r, AK_LISTENER, c->from ? c->from->url : NULL);
	audit_bool(r, AK_TLS, c->tls);
	audit_str(r, AK_PROFILE, c->profile ? c->profile->name : NULL);
}

void
client_account(struct client *c, int msgid, unsigned request_tag, int code, uint32_t entries, const char *name,
    const char *diag)
{
	struct op_done d = { msgid, op_kind_of(request_tag), code, c->req_start_us, entries,
		c->profile ? c->profile->name : NULL,
		request_tag == PDU_BIND_REQ ? (name ? name : c->bound_dn) : NULL, diag };
	client_op_account(c, &d);
}

void
client_audit_denied(struct client *c, int msgid, unsigned request_tag, int code, const char *diag)
{
	if (!audit_enabled())
		return;
	/* a flood of refused requests must not flood the SIEM: a few records, then one summary at close */
	if (c->denied_audited >= (c->bound_dn ? AUDIT_DENIED_PER_CONN : AUDIT_DENIED_UNBOUND)) {
		c->denied_quiet++;
		return;
	}
	c->denied_audited++;
	struct audit_rec r;
	audit_begin(&r, "access_denied", AUDIT_DENIED);
	client_audit(&r, c);
	audit_num(&r, AK_OP, msgid);
	audit_str(&r, AK_USER, c->bound_dn);
	audit_str(&r, AK_OPERATION, operation_name(request_tag));
	audit_num(&r, AK_RESULT, code);
	audit_str(&r, AK_REASON, "policy");
	audit_str(&r, AK_MESSAGE, diag);
	audit_emit(&r);
}

/* The summary of the refusals not written one by one (client_audit_denied()). */
static void
audit_denied_summary(struct client *c)
{
	if (c->denied_quiet == 0 || !audit_enabled())
		return;
	char msg[160];
	snprintf(msg, sizeof(msg), "%lu more requests on this connection were refused and not recorded one by one",
	    c->denied_quiet);
	struct audit_rec r;
	audit_begin(&r, "access_denied", AUDIT_DENIED);
	client_audit(&r, c);
	audit_str(&r, AK_USER, c->bound_dn);
	audit_str(&r, AK_REASON, "repeated");
	audit_str(&r, AK_MESSAGE, msg);
	audit_emit(&r);
	c->denied_quiet = 0;
}

void
client_deny(struct client *c, int msgid, unsigned tag, int code, const char *diag)
{
	client_result(c, msgid, tag, code, diag);
	client_audit_denied(c, msgid, op_request_tag(tag), code, diag);
}

void
client_result(struct client *c, int msgid, unsigned tag, int code, const char *diag)
{
	client_reply(c, msgid, tag, code, diag);
	client_account(c, msgid, op_request_tag(tag), code, 0, NULL, diag);
}

size_t
client_output_pending(struct client *c)
{
	struct bufferevent *under = bufferevent_get_underlying(c->bev);
	return evbuffer_get_length(bufferevent_get_output(c->bev)) +
	    (under != NULL ? evbuffer_get_length(bufferevent_get_output(under)) : 0);
}

void
client_output_failed(struct client *c)
{
	c->output_failed = 1;
	event_active(c->resume_ev, 0, 0);      /* resume_cb disconnects it, outside any op callback */
}

void
client_check_output(struct client *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	size_t len = evbuffer_get_length(out);
	if (c->srv->output_total > c->srv->cfg->max_total_output)
		output_over_budget(c->srv);
	if (len > c->srv->cfg->max_client_output && c->state != C_CLOSING)
		event_active(c->resume_ev, 0, 0);  /* resume_cb cuts it off, outside any op callback */
	else if (len > c->srv->cfg->max_client_output / 2 && !c->read_paused)
		client_update_read(c);
}

/*
 * Whether the socket should be read.  A bind in flight does not stop the
 * socket (the high watermark bounds what piles up meanwhile); it stops
 * client_process() from handling the next request, which saves two
 * epoll_ctl calls per bind.
 */
static int
want_read(const struct client *c)
{
	return c->state != C_CLOSING && !c->waiting && c->nops < (unsigned)c->srv->cfg->max_ops_per_client &&
	    !share_full(c->addr_share) && !share_full(c->id_share) &&
	    evbuffer_get_length(bufferevent_get_output(c->bev)) <= c->srv->cfg->max_client_output / 2;
}

void
client_update_read(struct client *c)
{
	if (c->state == C_CLOSING)
		return;
	if (want_read(c)) {
		share_unwait(&c->sw);
		if (c->read_paused) {
			c->read_paused = 0;
			bufferevent_enable(c->bev, EV_READ);
			/* requests may wait in the input buffer: no read event will come for them */
			if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
				event_active(c->resume_ev, 0, 0);
		}
	} else {
		/* its address or identity holds its share of operations: wait for one of them to end */
		if (share_full(c->addr_share))
			share_wait(c->addr_share, &c->sw);
		else if (share_full(c->id_share))
			share_wait(c->id_share, &c->sw);
		if (!c->read_paused) {
			c->read_paused = 1;
			bufferevent_disable(c->bev, EV_READ);
		}
	}
}

void
client_resume(struct client *c)
{
	if (c->state == C_CLOSING)
		return;
	client_update_read(c);
	if (!c->read_paused && evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
		event_active(c->resume_ev, 0, 0);
}

void
client_op_done(struct client *c)
{
	if (c->read_paused)
		client_update_read(c);
}

static int
abandon_handle(struct client *c, struct request *r, unsigned char *buf, size_t len)
{
	(void)buf;
	(void)len;
	struct op *op;
	TAILQ_FOREACH(op, &c->ops, c_link)
		if (op->client_msgid == r->u.abandon_msgid && op->tag != PDU_BIND_REQ)
			break;
	if (op == NULL)
		return 0;       /* RFC 4511 4.11: nothing to abandon, no response */
	log_debug("conn=%llu msgid=%d abandoned by the client", (unsigned long long)c->id, op->client_msgid);
	if (op->up != NULL) {
		struct upstream *u = op->up;
		upstream_abandon(u, op);
		if (op->flags & OP_PAGED)
			upstream_lease_release(u);
	}
	op_free(op);
	client_op_done(c);
	return 0;
}

static int
unbind_handle(struct client *c, struct request *r, unsigned char *buf, size_t len)
{
	(void)r;
	(void)buf;
	(void)len;
	client_close(c, -1, "unbind");
	return -1;
}

typedef int (*handler_fn)(struct client *, struct request *, unsigned char *, size_t);

/* The handler of every request REQUEST_OPS (request.h) lists: the decoder accepted no other tag. */
static const struct {
	unsigned tag;
	handler_fn fn;
} handlers[] = {
#define HANDLER(tag, decode, handle) { tag, handle },
	REQUEST_OPS(HANDLER)
#undef HANDLER
};

static void
protocol_error(struct client *c, const char *why)
{
	c->srv->stats.protocol_errors++;
	log_notice("conn=%llu peer=%s: protocol error: %s; disconnecting", (unsigned long long)c->id, c->peer, why);
	client_close(c, LDAP_PROTOCOL_ERROR, why);
}

/* Puts TLS under the connection after a successful StartTLS response. */
static void
start_tls(struct client *c)
{
	SSL *ssl = SSL_new(c->srv->tls_server);
	if (ssl != NULL && tls_capture_sni(ssl, c->sni, sizeof(c->sni)) < 0) {
		SSL_free(ssl);
		ssl = NULL;
	}
	/* the idle timeout moves to the TLS layer */
	bufferevent_set_timeouts(c->bev, NULL, NULL);
	struct bufferevent *tls = ssl ? bufferevent_openssl_filter_new(c->srv->base, c->bev, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE) : NULL;
	if (tls == NULL) {
		if (ssl != NULL)
			SSL_free(ssl);
		client_close(c, -1, "StartTLS: cannot create the TLS layer");
		return;
	}
	/* bound what the TLS layer may push into the socket's buffer: the rest
	 * stays in the TLS bufferevent's output, where limits.max_client_output
	 * and the drain see it */
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, TLS_UNDER_MAX);
	/* the socket's output (at most TLS_UNDER_MAX) keeps its count; the TLS layer's is counted too */
	c->under_cb = c->out_cb;
	c->out_cb = evbuffer_add_cb(bufferevent_get_output(tls), output_cb, c->srv);
	c->bev = tls;
	c->tls = 1;
	bufferevent_setcb(c->bev, client_read_cb, client_write_cb, client_event_cb, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, client_max_pdu(c) + 64 * 1024);
	set_idle_timeout(c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	c->read_paused = 0;
}

static void
client_process(struct client *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	while (c->state == C_ACTIVE && want_read(c)) {
		size_t avail = evbuffer_get_length(in);
		if (avail == 0)
			break;
		unsigned char head[PDU_HEAD_MAX];
		ev_ssize_t n = evbuffer_copyout(in, head, avail < sizeof(head) ? avail : sizeof(head));
		struct pdu_head h;
		int rc = pdu_frame(head, (size_t)n, client_max_pdu(c), &h);
		if (rc == PDU_NEED_MORE)
			break;
		if (rc == PDU_TOO_BIG) {
			protocol_error(c, c->bound_dn ? "request exceeds limits.max_pdu_size" :
			    "request before a bind exceeds limits.max_unbound_pdu_size");
			return;
		}
		if (rc != PDU_OK) {
			protocol_error(c, "malformed LDAPMessage envelope");
			return;
		}
		if (avail < h.total)
			break;
		unsigned char *buf = evbuffer_pullup(in, (ev_ssize_t)h.total);
		const char *why;
		if (request_decode(c->ber, buf, h.total, &c->srv->req, &why) < 0) {
			if (c->srv->req.tag == PDU_BIND_REQ)
				explicit_bzero(buf, h.total);
			protocol_error(c, why);
			return;
		}
		if (c->srv->req.msgid == 0) {
			protocol_error(c, "messageID 0 is reserved for unsolicited notifications");
			return;
		}
		handler_fn fn = NULL;
		for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
			if (handlers[i].tag == c->srv->req.tag)
				fn = handlers[i].fn;
		if (!c->req_waited)
			c->req_start_us = now_us();     /* a request handled again after a wait keeps its arrival */
		c->wait_bulk = 0;
		rc = fn(c, &c->srv->req, buf, h.total);
		c->req_waited = rc == HANDLER_WAIT;
		if (rc == HANDLER_WAIT) {
			/* the request stays buffered: until its delay timer fires (a
			 * held-back bind), or a directory connection has room */
			if (!evtimer_pending(c->delay_timer, NULL))
				backend_wait_capacity(c->srv->backend, c, c->wait_bulk);
			break;
		}
		c->nrequests++;
		c->srv->stats.ops_total++;
		evbuffer_drain(in, h.total);
		if (rc < 0)
			return;
		if (c->starttls_pending) {
			/* the response is queued in clear; TLS starts after it */
			c->starttls_pending = 0;
			start_tls(c);
			return;
		}
	}
	client_update_read(c);
}

static void
client_read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	client_process(arg);
}

static void
client_write_cb(struct bufferevent *bev, void *arg)
{
	struct client *c = arg;
	(void)bev;
	if (c->state == C_CLOSING) {
		/* the Notice of Disconnection is out */
		evtimer_del(c->flush_timer);
		event_active(c->close_ev, 0, 0);
		return;
	}
	if (c->read_paused)
		client_update_read(c);
}

static void
client_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct client *c = arg;
	(void)bev;
	if (what & BEV_EVENT_CONNECTED)
		return;
	if (c->state == C_CLOSING) {
		/* the peer went away while we flushed: free now */
		event_active(c->close_ev, 0, 0);
		return;
	}
	if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_WRITING)) {
		c->srv->stats.slow_clients_cut++;
		client_close(c, -1, "its unread results made no progress within limits.idle_timeout");
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		if (c->nops > 0 && c->state != C_CLOSING) {
			/* waiting for results is not idleness */
			bufferevent_enable(c->bev, EV_READ);
			return;
		}
		client_close(c, -1, "idle timeout");
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
		unsigned long e = ssl ? bufferevent_get_openssl_error(c->bev) : 0;
		if (e != 0) {
			char tmp[160], reason[200];
			ERR_error_string_n(e, tmp, sizeof(tmp));
			snprintf(reason, sizeof(reason), "TLS error: %s", tmp);
			while (bufferevent_get_openssl_error(c->bev) != 0)
				;
			client_close(c, -1, reason);
			return;
		}
		client_close(c, -1, "connection error");
		return;
	}
	if (what & BEV_EVENT_EOF)
		client_close(c, -1, "client closed the connection");
}
