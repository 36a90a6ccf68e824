/*
 * upstream.c — one connection to a directory server: connect, StartTLS
 * or ldaps, aldproxy's own bind, then responses routed to their ops by
 * messageID.  See upstream.h for the states and ownership.
 */
#include "upstream.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <ldap.h>
#include <openssl/err.h>

#include "backend.h"
#include "client.h"
#include "config.h"
#include "audit.h"
#include "log.h"
#include "request.h"
#include "pdu.h"
#include "state.h"
#include "sasl.h"
#include "tls.h"

#define INTERNAL_MSGID 1                /* StartTLS and aldproxy's bind, before READY */
#define UPSTREAM_MAX_PDU ((size_t)256 << 20)

static const char *const kind_names[] = { "shared", "bind", "paged" };

static void upstream_read_cb(struct bufferevent *bev, void *arg);
static void upstream_event_cb(struct bufferevent *bev, short what, void *arg);

static void
retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	upstream_connect(arg);
}

struct upstream *
upstream_new(struct backend *be, struct backend_server *srv, enum up_kind kind, int index)
{
	struct upstream *u = calloc(1, sizeof(*u));
	if (u == NULL)
		return NULL;
	u->be = be;
	u->server = srv;
	u->kind = kind;
	u->index = index;
	u->state = UP_DOWN;
	TAILQ_INIT(&u->ops);
	snprintf(u->name, sizeof(u->name), "%s %s#%d", srv->urlstr, kind_names[kind], index);
	uint32_t cap = kind == UP_SHARED ? (uint32_t)be->srv->cfg->max_ops_per_connection : 64;
	u->backoff = be->srv->cfg->reconnect_min;
	u->ber = ber_alloc_t(LBER_USE_DER);
	u->retry_ev = evtimer_new(be->srv->base, retry_cb, u);
	if (msgid_table_init(&u->ids, cap) < 0 || u->ber == NULL || u->retry_ev == NULL) {
		upstream_free(u);
		return NULL;
	}
	return u;
}

void
upstream_free(struct upstream *u)
{
	if (u == NULL)
		return;
	while (!TAILQ_EMPTY(&u->ops)) {
		struct op *op = TAILQ_FIRST(&u->ops);
		upstream_detach(u, op);
		op_fail(op, LDAP_UNAVAILABLE, "aldproxy is shutting down");
	}
	if (u->bev != NULL)
		bufferevent_free(u->bev);
	if (u->retry_ev != NULL)
		event_free(u->retry_ev);
	if (u->ber != NULL)
		ber_free(u->ber, 0);
	sasl_bind_free(u->sasl);
	free(u->cookie);
	msgid_table_free(&u->ids);
	free(u);
}

/* A controller with no ready connection left is down; its first ready connection brings it up. */
static void
audit_controller(const struct backend_server *s, int up)
{
	struct audit_rec r;
	audit_begin(&r, up ? "controller_up" : "controller_down", up ? AUDIT_INFO : AUDIT_FAILURE);
	audit_str(&r, AK_CONTROLLER, s->urlstr);
	if (!up)
		audit_str(&r, AK_MESSAGE, s->last_error);
	audit_emit(&r);
}

static void
set_state(struct upstream *u, enum up_state st)
{
	if (u->state == UP_READY && st != UP_READY && --u->server->ready == 0 && !u->be->srv->stopping)
		audit_controller(u->server, 0);
	if (st == UP_READY && u->state != UP_READY && u->server->ready++ == 0)
		audit_controller(u->server, 1);
	u->state = st;
	u->state_since_us = now_us();
}

static void
setup_timeouts(struct upstream *u, int on)
{
	double t = u->be->srv->cfg->connect_timeout;
	struct timeval tv = { (time_t)t, (suseconds_t)((t - floor(t)) * 1e6) };
	bufferevent_set_timeouts(u->bev, on ? &tv : NULL, on ? &tv : NULL);
}

void
upstream_connect(struct upstream *u)
{
	struct server *srv = u->be->srv;
	if (u->state != UP_DOWN || srv->stopping)
		return;
	set_state(u, UP_CONNECTING);
	if (u->server->url.tls) {
		SSL *ssl = tls_client_new(srv->tls_client, u->server->url.host, srv->cfg->tls_verify);
		if (ssl != NULL)
			u->bev = bufferevent_openssl_socket_new(srv->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
			    BEV_OPT_CLOSE_ON_FREE);
	} else {
		u->bev = bufferevent_socket_new(srv->base, -1, BEV_OPT_CLOSE_ON_FREE);
	}
	if (u->bev == NULL) {
		upstream_fail(u, "cannot create a connection object");
		return;
	}
	bufferevent_setcb(u->bev, upstream_read_cb, NULL, upstream_event_cb, u);
	setup_timeouts(u, 1);
	bufferevent_enable(u->bev, EV_READ | EV_WRITE);
	log_debug("directory %s: connecting", u->name);
	if (bufferevent_socket_connect_hostname(u->bev, srv->dns, AF_UNSPEC, u->server->url.host,
	    u->server->url.port) < 0) {
		upstream_fail(u, "connect failed");
		return;
	}
}

static void
ready(struct upstream *u)
{
	set_state(u, UP_READY);
	setup_timeouts(u, 0);
	u->backoff = u->be->srv->cfg->reconnect_min;
	u->failed_attempts = 0;
	u->last_rx_us = now_us();
	u->probe_msgid = 0;
	if (!u->was_ready)
		log_notice("directory %s: connection ready", u->name);
	u->was_ready = 1;
	/* the controller answers again: its other connections need not wait out their backoff */
	backend_server_up(u->be, u->server);
	if (u->kind == UP_BIND)
		backend_bind_dispatch(u->be);
	else if (u->kind == UP_SHARED)
		backend_wake_all(u->be);
	if (u->kind == UP_SHARED && u->be->own_reads != NULL)
		u->be->own_reads(u->be, now_us());
}

/* TLS is up (or not wanted): bind as aldproxy, or become ready. */
static void
after_tls(struct upstream *u)
{
	struct config *cfg = u->be->srv->cfg;
	if (u->kind == UP_BIND) {
		ready(u);
		return;
	}
	set_state(u, UP_BINDING);
	if (cfg->auth_gssapi) {
		char err[512];
		u->sasl = sasl_bind_start(u->server->url.host, INTERNAL_MSGID, bufferevent_get_output(u->bev), err,
		    sizeof(err));
		if (u->sasl == NULL) {
			char b[800];
			snprintf(b, sizeof(b), "aldproxy's GSSAPI bind as %.200s failed: %.500s", cfg->principal, err);
			upstream_fail(u, b);
		}
		return;
	}
	if (pdu_simple_bind(bufferevent_get_output(u->bev), INTERNAL_MSGID, cfg->bind_dn, cfg->bind_password,
	    strlen(cfg->bind_password)) < 0)
		upstream_fail(u, "cannot encode aldproxy's bind request");
}

static void
upstream_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct upstream *u = arg;
	(void)bev;
	char buf[600];
	if (what & BEV_EVENT_CONNECTED) {
		if (u->state == UP_HANDSHAKE || u->server->url.tls) {
			after_tls(u);
		} else if (u->be->srv->cfg->starttls) {
			set_state(u, UP_STARTTLS);
			if (pdu_starttls(bufferevent_get_output(u->bev), INTERNAL_MSGID) < 0)
				upstream_fail(u, "out of memory sending StartTLS");
		} else {
			after_tls(u);
		}
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		snprintf(buf, sizeof(buf), "timed out %s",
		    u->state == UP_CONNECTING ? "connecting" : u->state == UP_BINDING ? "binding" : "setting up TLS");
		upstream_fail(u, buf);
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		int err = EVUTIL_SOCKET_ERROR();
		int dnserr = bufferevent_socket_get_dns_error(u->bev);
		SSL *ssl = bufferevent_openssl_get_ssl(u->bev);
		if (dnserr)
			snprintf(buf, sizeof(buf), "cannot resolve %s: %s", u->server->url.host, evutil_gai_strerror(dnserr));
		else if (ssl != NULL && (u->state == UP_HANDSHAKE || u->state == UP_CONNECTING) &&
		    (bufferevent_get_openssl_error(u->bev) != 0 || SSL_get_verify_result(ssl) != X509_V_OK)) {
			unsigned long e;
			char tmp[256];
			const char *why = tls_failure(ssl, tmp, sizeof(tmp));
			if (SSL_get_verify_result(ssl) == X509_V_OK && (e = bufferevent_get_openssl_error(u->bev)) != 0) {
				ERR_error_string_n(e, tmp, sizeof(tmp));
				why = tmp;
			}
			while (bufferevent_get_openssl_error(u->bev) != 0)
				;
			snprintf(buf, sizeof(buf), "TLS: %s", why);
		} else
			snprintf(buf, sizeof(buf), "%s", err ? evutil_socket_error_to_string(err) : "connection error");
		upstream_fail(u, buf);
		return;
	}
	if (what & BEV_EVENT_EOF)
		upstream_fail(u, "the directory closed the connection");
}

/* A response to StartTLS or to aldproxy's bind, before READY. */
static void
setup_response(struct upstream *u, struct evbuffer *in, const struct pdu_head *h)
{
	struct server *srv = u->be->srv;
	unsigned char *msg = evbuffer_pullup(in, (ev_ssize_t)h->total);
	struct berval bv = { h->total, (char *)msg }, matched, diag;
	ber_int_t msgid, code;
	char why[512];
	ber_init2(u->ber, &bv, LBER_USE_DER);
	if (h->msgid != INTERNAL_MSGID || bscan(u->ber, "{i{emm", &msgid, &code, &matched, &diag) < 0) {
		evbuffer_drain(in, h->total);
		upstream_fail(u, "unexpected message from the directory during set-up");
		return;
	}
	snprintf(why, sizeof(why), "%s (%d)%s%.*s", ldap_err2string(code), code, diag.bv_len ? ": " : "",
	    (int)(diag.bv_len > 300 ? 300 : diag.bv_len), diag.bv_val);
	if (u->state == UP_BINDING && u->sasl != NULL && h->op_tag == PDU_BIND_RES) {
		/* GSSAPI: BindResponse may carry serverSaslCreds [7] after the referral-less result */
		struct berval creds = { 0, NULL };
		ber_len_t blen;
		if (ber_peek_tag(u->ber, &blen) == 0x87 && bscan(u->ber, "m", &creds) < 0)
			creds.bv_len = 0;
		char err[600];
		int rc = sasl_bind_step(u->sasl, code, creds.bv_val ? &creds : NULL, INTERNAL_MSGID,
		    bufferevent_get_output(u->bev), err, sizeof(err));
		evbuffer_drain(in, h->total);
		if (rc < 0) {
			char b[900];
			snprintf(b, sizeof(b), "aldproxy's GSSAPI bind as %.200s failed: %.400s%s%.200s", srv->cfg->principal, err,
			    code ? ": " : "", code ? why : "");
			upstream_fail(u, b);
		} else if (rc == 1) {
			sasl_bind_free(u->sasl);
			u->sasl = NULL;
			ready(u);
		}
		return;
	}
	evbuffer_drain(in, h->total);
	if (u->state == UP_STARTTLS) {
		if (h->op_tag != PDU_EXT_RES || code != LDAP_SUCCESS) {
			char b[600];
			snprintf(b, sizeof(b), "StartTLS refused: %s", why);
			upstream_fail(u, b);
			return;
		}
		SSL *ssl = tls_client_new(srv->tls_client, u->server->url.host, srv->cfg->tls_verify);
		/* timeouts now belong to the TLS layer; the socket's own would fire later */
		bufferevent_set_timeouts(u->bev, NULL, NULL);
		struct bufferevent *tls = ssl ? bufferevent_openssl_filter_new(srv->base, u->bev, ssl,
		    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE) : NULL;
		if (tls == NULL) {
			if (ssl)
				SSL_free(ssl);
			upstream_fail(u, "cannot start TLS");
			return;
		}
		u->bev = tls;
		bufferevent_setcb(u->bev, upstream_read_cb, NULL, upstream_event_cb, u);
		setup_timeouts(u, 1);
		bufferevent_enable(u->bev, EV_READ | EV_WRITE);
		set_state(u, UP_HANDSHAKE);
		return;
	}
	if (h->op_tag != PDU_BIND_RES || code != LDAP_SUCCESS) {
		char b[700];
		snprintf(b, sizeof(b), "aldproxy's bind as %s failed: %s", srv->cfg->bind_dn, why);
		upstream_fail(u, b);
		return;
	}
	ready(u);
}

/* The health probe: sent outside any op, marked by its messageID (u->probe_msgid). */
static int
send_probe(struct upstream *u, const void *op, size_t oplen)
{
	if (oplen == 0 || u->bev == NULL)
		return -1;
	int id = msgid_alloc(&u->ids, u);      /* the value marks it: not an op */
	if (id < 0)
		return -1;
	unsigned char env[PDU_HEAD_MAX];
	size_t n = pdu_envelope(env, id, oplen);
	struct evbuffer *out = bufferevent_get_output(u->bev);
	if (evbuffer_add(out, env, n) < 0 || evbuffer_add(out, op, oplen) < 0) {
		msgid_release(&u->ids, id);
		return -1;
	}
	return id;
}

void
upstream_probe(struct upstream *u, uint64_t now, uint64_t interval, uint64_t timeout)
{
	if (u->state != UP_READY)
		return;
	if (u->probe_msgid != 0) {
		if (now - u->probe_sent_us > timeout) {
			/* the controller hangs: every connection to it is taken out, not just this one */
			char why[128];
			snprintf(why, sizeof(why), "health probe: no answer within %.1f s", (double)timeout / 1e6);
			backend_server_down(u->be, u->server, why);
		}
		return;
	}
	if (u->nops > 0 || now - u->last_rx_us < interval)
		return;
	unsigned char rootdse[64];
	size_t rl = pdu_base_search(rootdse, sizeof(rootdse), "", 0, NULL, 0, "1.1");
	int id = send_probe(u, rootdse, rl);
	if (id < 0)
		return;
	u->probe_msgid = id;
	u->probe_sent_us = now;
}

static void
upstream_read_cb(struct bufferevent *bev, void *arg)
{
	struct upstream *u = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	u->last_rx_us = now_us();
	while (u->state != UP_DOWN && bev == u->bev) {
		unsigned char head[PDU_HEAD_MAX];
		size_t avail = evbuffer_get_length(in);
		if (avail == 0)
			return;
		ev_ssize_t n = evbuffer_copyout(in, head, avail < sizeof(head) ? avail : sizeof(head));
		struct pdu_head h;
		int rc = pdu_frame(head, (size_t)n, UPSTREAM_MAX_PDU, &h);
		if (rc == PDU_NEED_MORE)
			return;
		if (rc != PDU_OK) {
			upstream_fail(u, "malformed LDAP message from the directory");
			return;
		}
		if (avail < h.total)
			return;
		if (u->state != UP_READY) {
			setup_response(u, in, &h);
			continue;
		}
		if (h.msgid == 0) {
			/* unsolicited notification: the directory is disconnecting us */
			evbuffer_drain(in, h.total);
			upstream_fail(u, "the directory sent a Notice of Disconnection");
			return;
		}
		if (u->probe_msgid != 0 && h.msgid == u->probe_msgid) {
			/* the health probe's answer: the controller is alive */
			evbuffer_drain(in, h.total);
			if (h.op_tag != PDU_SEARCH_ENTRY) {
				msgid_release(&u->ids, u->probe_msgid);
				u->probe_msgid = 0;
			}
			continue;
		}
		struct op *op = msgid_lookup(&u->ids, h.msgid);
		if (op == NULL) {
			/* a late answer to an abandoned or timed-out operation */
			evbuffer_drain(in, h.total);
			continue;
		}
		op_response(op, in, &h);
	}
}

void
upstream_fail(struct upstream *u, const char *why)
{
	struct server *srv = u->be->srv;
	if (u->state == UP_DOWN)
		return;
	unsigned inflight = u->nops;
	int was_ready = u->state == UP_READY, report = u->was_ready || log_enabled(LOG_LVL_DEBUG);
	u->failed_attempts = was_ready ? 0 : u->failed_attempts + 1;
	u->was_ready = 0;
	snprintf(u->server->last_error, sizeof(u->server->last_error), "%s", why);
	set_state(u, UP_DOWN);
	if (u->bev != NULL) {
		bufferevent_free(u->bev);
		u->bev = NULL;
	}
	sasl_bind_free(u->sasl);
	u->sasl = NULL;
	char diag[400];
	snprintf(diag, sizeof(diag), "aldproxy: directory server connection lost (%s)", why);
	unsigned retried = 0;
	while (!TAILQ_EMPTY(&u->ops)) {
		struct op *op = TAILQ_FIRST(&u->ops);
		upstream_detach(u, op);
		/*
		 * Failover: a search or compare that has returned nothing yet and
		 * holds no paging state is sent once more, to another controller;
		 * anything else fails with unavailable.
		 */
		if (u->kind == UP_SHARED && op->held != NULL && !op->retried && op->nentries == 0 &&
		    (op->tag == PDU_SEARCH_REQ || op->tag == PDU_COMPARE_REQ) && !(op->flags & (OP_PAGED | OP_INTERNAL))) {
			struct upstream *other = backend_pick_other(u->be, u->server);
			size_t n = evbuffer_get_length(op->held);
			struct evbuffer_iovec part = { evbuffer_pullup(op->held, -1), n };
			op->retried = 1;
			if (other != NULL && upstream_send(other, op, &part, 1) == 0) {
				retried++;
				continue;
			}
		}
		/* a bind the controller could not answer goes to another one (an
		 * answer, even invalidCredentials, is final and never retried) */
		if (u->kind == UP_BIND && op->tag == PDU_BIND_REQ && op->held != NULL && !op->retried && op->client != NULL) {
			size_t n = evbuffer_get_length(op->held);
			struct evbuffer_iovec part = { evbuffer_pullup(op->held, -1), n };
			struct evbuffer *copy = op->held;
			op->held = NULL;
			op->retried = 1;
			int rc = backend_bind_submit(u->be, op, &part, 1);
			explicit_bzero(part.iov_base, n);
			evbuffer_free(copy);
			if (rc == 0) {
				retried++;
				continue;
			}
		}
		op_fail(op, LDAP_UNAVAILABLE, diag);
	}
	if (report)
		log_warn("directory %s: %s%s; %u operation(s) in flight: %u sent again to another controller, %u failed",
		    u->name, was_ready ? "connection lost: " : "", why, inflight, retried, inflight - retried);
	else
		log_warn("directory %s: cannot connect: %s", u->name, why);
	upstream_lease_release(u);
	if (u->probe_msgid != 0) {
		msgid_release(&u->ids, u->probe_msgid);
		u->probe_msgid = 0;
	}
	if (u->kind == UP_SHARED)
		backend_wake_all(u->be);      /* waiters fail fast if nothing is left connecting */
	if (srv->stopping)
		return;
	/* exponential backoff with +-20% jitter */
	double d = u->backoff * (0.8 + 0.4 * ((double)(random() % 1000) / 1000.0));
	struct timeval tv = { (time_t)d, (suseconds_t)((d - floor(d)) * 1e6) };
	evtimer_add(u->retry_ev, &tv);
	u->backoff *= 2;
	if (u->backoff > srv->cfg->reconnect_max)
		u->backoff = srv->cfg->reconnect_max;
}

int
upstream_send(struct upstream *u, struct op *op, const struct evbuffer_iovec *parts, int nparts)
{
	if (u->state != UP_READY)
		return -1;
	int msgid = msgid_alloc(&u->ids, op);
	if (msgid < 0)
		return -1;
	size_t rest = 0;
	for (int i = 0; i < nparts; i++)
		rest += parts[i].iov_len;
	unsigned char env[PDU_HEAD_MAX];
	size_t n = pdu_envelope(env, msgid, rest);
	struct evbuffer *out = bufferevent_get_output(u->bev);
	/* room for the whole message first: the adds below cannot fail half-way */
	if (evbuffer_expand(out, n + rest) < 0) {
		msgid_release(&u->ids, msgid);
		return -1;
	}
	evbuffer_add(out, env, n);
	for (int i = 0; i < nparts; i++)
		evbuffer_add(out, parts[i].iov_base, parts[i].iov_len);
	op->up = u;
	op->up_msgid = msgid;
	TAILQ_INSERT_TAIL(&u->ops, op, u_link);
	u->nops++;
	u->nbulk += (op->flags & OP_BULK) != 0;
	return 0;
}

void
upstream_detach(struct upstream *u, struct op *op)
{
	if (op->up != u)
		return;
	msgid_release(&u->ids, op->up_msgid);
	TAILQ_REMOVE(&u->ops, op, u_link);
	u->nops--;
	u->nbulk -= (op->flags & OP_BULK) != 0;
	op->up = NULL;
	if (u->kind == UP_SHARED)
		backend_capacity_freed(u->be);
}

void
upstream_abandon(struct upstream *u, struct op *op)
{
	/*
	 * The op's messageID is released first, so the Abandon always finds one
	 * free even on a saturated connection; the table's generations make the
	 * new ID differ from the abandoned one, and late results of the
	 * abandoned operation match nothing.  Abandon has no response: its ID
	 * is dropped at once.
	 */
	int target = op->up_msgid, ready = u->state == UP_READY && u->bev != NULL && op->up == u;
	upstream_detach(u, op);
	if (!ready)
		return;
	int id = msgid_alloc(&u->ids, u);
	if (id <= 0 || pdu_abandon(bufferevent_get_output(u->bev), id, target) < 0)
		log_warn("directory %s: could not send the Abandon of messageID %d", u->name, target);
	if (id > 0)
		msgid_release(&u->ids, id);
}

void
upstream_lease_release(struct upstream *u)
{
	u->lessee = NULL;
	free(u->cookie);
	u->cookie = NULL;
	u->cookie_len = 0;
}
