/*
 * test_engine.c — unit tests of the engine itself: clients, ops, the
 * backend's pools and the upstream connections on one event loop, with no
 * real directory.
 *
 * Each test builds its own struct server the way server_start() does,
 * minus the listeners, control sockets, metrics and signals: the
 * configuration and a profile are written to a temporary directory and
 * loaded with load_all(), the backend is made with backend_new() and
 * started with backend_start().  Its upstreams connect, by the real
 * connect path, to fake directories run in-process on loopback listeners
 * (port 0) on the same event loop: a fake answers aldproxy's own bind and
 * the rootDSE reads (schema) by itself and records every other request,
 * which the test answers, holds or drops.  Clients are one end of a
 * socketpair() handed to client_accept(); the test writes raw LDAP PDUs on
 * the other end and reads what comes back.
 *
 * Run under the ASan + UBSan build: a use-after-free or a leak fails it.
 * ENGINE_LOG=debug (or info, notice, warning) shows aldproxy's log.
 * 5b and 5c found a bug: a freed slot's wake-up was lost on a waiter that
 * could not use it.  Held-back binds now wait on their timer, and a bulk
 * search over its limit in a queue of its own (backend.bulk_wait), woken
 * when a bulk search ends.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <ldap.h>

#include "audit.h"
#include "backend.h"
#include "client.h"
#include "config.h"
#include "load.h"
#include "log.h"
#include "metrics.h"
#include "op.h"
#include "pdu.h"
#include "profile.h"
#include "server.h"
#include "share.h"
#include "upstream.h"

#define BASE_DN "dc=ald,dc=test"
#define OWN_DN "uid=aldproxy,cn=sysaccounts,cn=etc,dc=ald,dc=test"
#define SVC_DN "uid=svc,cn=sysaccounts,cn=etc,dc=ald,dc=test"      /* password hash in the profile */
#define SVC2_DN "uid=svc2,cn=sysaccounts,cn=etc,dc=ald,dc=test"    /* verified by the directory */
#define SVC_PW "svc-secret"
#define ALICE "uid=alice,cn=users,cn=accounts,dc=ald,dc=test"
#define BOB "uid=bob,cn=users,cn=accounts,dc=ald,dc=test"
#define CAROL "uid=carol,cn=users,cn=accounts,dc=ald,dc=test"
#define GROUP_G "cn=g,cn=groups,cn=accounts,dc=ald,dc=test"
#define GROUP_H "cn=h,cn=groups,cn=accounts,dc=ald,dc=test"

#define MAX_REQS 2048
#define MAX_CONNS 64
#define MAX_CLIS 16
#define MAX_MSGS 1024

/* ---- the fake directory ------------------------------------------------ */

struct fdir;

struct fconn {
	struct fdir *dir;
	struct bufferevent *bev;    /* NULL once closed */
	int peer_port;              /* aldproxy's end: matches an upstream's local port */
};

struct fdir {
	int index;
	int port;
	struct evconnlistener *lev;
	struct fconn *conns[MAX_CONNS];
	int nconns;
};

/* One request the fake directory received. */
struct freq {
	struct fconn *conn;
	int msgid;
	unsigned tag;
	char dn[512];               /* a bind's name, a search's base */
	int target;                 /* an Abandon's messageID */
	int paged;                  /* carries the paged-results control */
	int automatic;              /* answered by the fake itself (aldproxy's bind, rootDSE reads) */
};

/* ---- the test's clients ------------------------------------------------ */

struct tmsg {
	int msgid;
	unsigned tag;
	int code;                   /* results; -1 otherwise */
	char dn[256];               /* entries */
	int has_mail;               /* entries: an attribute "mail" */
	int aldp_cookie;            /* a result carrying aldproxy's paged cookie */
};

struct tcli {
	int fd;                     /* the test's end of the socketpair */
	uint64_t id;                /* the struct client's id */
	struct evbuffer *in;
	int reading;                /* 0: a slow reader, the test does not read */
	int eof;
	struct tmsg msgs[MAX_MSGS];
	int nmsgs;                  /* all received (only the first MAX_MSGS kept) */
};

struct opts {
	int ndirs;
	long max_ops_per_connection;
	size_t max_client_output;
	long max_binds_per_second;  /* 0: the default (300) */
};

static struct {
	int started;
	char dir[64];
	char conf[128], profdir[128];
	char svc_hash[256];
	struct server srv;
	struct client_origin li;     /* what a listener hands its clients */
	struct event *pulse;
	struct fdir dirs[2];
	int ndirs;
	struct freq reqs[MAX_REQS];
	int nreqs;
	struct tcli *clis[MAX_CLIS];
	int nclis;
	int next_port;
} E;

static uint64_t
mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- BER reading ---- */

/* The TLV at off in b (n bytes): its header length and contents length; the end, or 0. */
static size_t
tlv(const unsigned char *b, size_t n, size_t off, size_t *hl, size_t *len)
{
	size_t end = pdu_tlv_end(b, n, off);
	if (end == 0)
		return 0;
	*hl = b[off + 1] < 0x80 ? 2 : 2 + (size_t)(b[off + 1] & 0x7f);
	*len = end - off - *hl;
	return end;
}

/* The contents of the first TLV inside the protocolOp of msg (an LDAPMessage of h). */
static int
first_inner(const unsigned char *msg, const struct pdu_head *h, const unsigned char **v, size_t *vlen,
    unsigned *vtag)
{
	size_t hl, len, ihl, ilen;
	if (tlv(msg, h->total, h->prefix, &hl, &len) == 0 || len == 0)
		return -1;
	size_t in = h->prefix + hl;
	if (tlv(msg, h->total, in, &ihl, &ilen) == 0)
		return -1;
	*vtag = msg[in];
	*v = msg + in + ihl;
	*vlen = ilen;
	return 0;
}

static long
int_value(const unsigned char *v, size_t len)
{
	long x = 0;
	for (size_t i = 0; i < len; i++)
		x = (x << 8) | v[i];
	return x;
}

/* ---- the fake directory ---- */

static void fconn_read_cb(struct bufferevent *bev, void *arg);

static void
fconn_close(struct fconn *fc)
{
	if (fc->bev != NULL) {
		bufferevent_free(fc->bev);
		fc->bev = NULL;
	}
}

static void
fconn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		fconn_close(arg);
}

static void
fdir_accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa, int socklen, void *arg)
{
	struct fdir *d = arg;
	(void)lev;
	(void)socklen;
	if (d->nconns >= MAX_CONNS) {
		close(fd);
		return;
	}
	struct fconn *fc = calloc(1, sizeof(*fc));
	assert_non_null(fc);
	fc->dir = d;
	fc->peer_port = ntohs(((struct sockaddr_in *)sa)->sin_port);
	fc->bev = bufferevent_socket_new(E.srv.base, fd, BEV_OPT_CLOSE_ON_FREE);
	assert_non_null(fc->bev);
	bufferevent_setcb(fc->bev, fconn_read_cb, NULL, fconn_event_cb, fc);
	bufferevent_enable(fc->bev, EV_READ | EV_WRITE);
	d->conns[d->nconns++] = fc;
}

static void
fdir_open(struct fdir *d, int index)
{
	struct sockaddr_in sin;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	d->index = index;
	d->lev = evconnlistener_new_bind(E.srv.base, fdir_accept_cb, d, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, -1,
	    (struct sockaddr *)&sin, sizeof(sin));
	assert_non_null(d->lev);
	socklen_t l = sizeof(sin);
	assert_int_equal(getsockname(evconnlistener_get_fd(d->lev), (struct sockaddr *)&sin, &l), 0);
	d->port = ntohs(sin.sin_port);
}

static void
fdir_free(struct fdir *d)
{
	for (int i = 0; i < d->nconns; i++) {
		fconn_close(d->conns[i]);
		free(d->conns[i]);
	}
	d->nconns = 0;
	if (d->lev != NULL)
		evconnlistener_free(d->lev);
	d->lev = NULL;
}

static void
fconn_read_cb(struct bufferevent *bev, void *arg)
{
	struct fconn *fc = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	for (;;) {
		size_t avail = evbuffer_get_length(in);
		unsigned char head[PDU_HEAD_MAX];
		ev_ssize_t n = evbuffer_copyout(in, head, avail < sizeof(head) ? avail : sizeof(head));
		struct pdu_head h;
		if (n <= 0 || pdu_frame(head, (size_t)n, 1 << 24, &h) != PDU_OK || avail < h.total)
			return;
		const unsigned char *msg = evbuffer_pullup(in, (ev_ssize_t)h.total);
		assert_true(E.nreqs < MAX_REQS);
		struct freq *r = &E.reqs[E.nreqs++];
		memset(r, 0, sizeof(*r));
		r->conn = fc;
		r->msgid = h.msgid;
		r->tag = h.op_tag;
		r->paged = memmem(msg, h.total, OID_PAGED_RESULTS, strlen(OID_PAGED_RESULTS)) != NULL;
		const unsigned char *v;
		size_t vlen;
		unsigned vtag;
		if (h.op_tag == PDU_ABANDON_REQ) {
			size_t hl, len;
			if (tlv(msg, h.total, h.prefix, &hl, &len) != 0)
				r->target = (int)int_value(msg + h.prefix + hl, len);
		} else if (h.op_tag == PDU_SEARCH_REQ && first_inner(msg, &h, &v, &vlen, &vtag) == 0) {
			snprintf(r->dn, sizeof(r->dn), "%.*s", (int)vlen, (const char *)v);
		} else if (h.op_tag == PDU_BIND_REQ) {
			/* BindRequest { version, name, authentication } */
			size_t hl, len, vhl, vl, nhl, nl;
			if (tlv(msg, h.total, h.prefix, &hl, &len) != 0) {
				size_t p = h.prefix + hl, e = tlv(msg, h.total, p, &vhl, &vl);
				if (e != 0 && tlv(msg, h.total, e, &nhl, &nl) != 0)
					snprintf(r->dn, sizeof(r->dn), "%.*s", (int)nl, (const char *)msg + e + nhl);
			}
		}
		struct evbuffer *out = bufferevent_get_output(bev);
		if (h.op_tag == PDU_BIND_REQ && strcmp(r->dn, OWN_DN) == 0) {
			r->automatic = 1;
			pdu_result(out, h.msgid, PDU_BIND_RES, LDAP_SUCCESS, "", NULL);
		} else if (h.op_tag == PDU_SEARCH_REQ && r->dn[0] == '\0') {
			/* the rootDSE (schema.c's read, a health probe): nothing to tell */
			r->automatic = 1;
			pdu_result(out, h.msgid, PDU_SEARCH_DONE, LDAP_SUCCESS, "", NULL);
		} else if (h.op_tag == PDU_UNBIND_REQ) {
			r->automatic = 1;
		}
		evbuffer_drain(in, h.total);
	}
}

/* The nth (from 0) request the test must answer, of tag, on directory dir (-1: any) and dn (NULL: any). */
static struct freq *
req_find(int dir, unsigned tag, const char *dn, int nth)
{
	for (int i = 0; i < E.nreqs; i++) {
		struct freq *r = &E.reqs[i];
		if (r->automatic || r->tag != tag || (dir >= 0 && r->conn->dir->index != dir) ||
		    (dn != NULL && strcasecmp(r->dn, dn) != 0))
			continue;
		if (nth-- == 0)
			return r;
	}
	return NULL;
}

static int
req_count(int dir, unsigned tag, const char *dn)
{
	int n = 0;
	while (req_find(dir, tag, dn, n) != NULL)
		n++;
	return n;
}

/* Requests the test must answer, of any kind. */
static int
req_total(void)
{
	int n = 0;
	for (int i = 0; i < E.nreqs; i++)
		n += !E.reqs[i].automatic;
	return n;
}

static struct evbuffer *
fout(struct freq *r)
{
	assert_non_null(r);
	assert_non_null(r->conn->bev);
	return bufferevent_get_output(r->conn->bev);
}

static void
f_result(struct freq *r, unsigned tag, int code)
{
	assert_int_equal(pdu_result(fout(r), r->msgid, tag, code, "", NULL), 0);
}

/* A SearchResultEntry with up to three attributes (name, value) pairs; NULL ends the list. */
static void
f_entry(struct freq *r, const char *dn, const char *a1, const char *v1, const char *a2, const char *v2)
{
	const char *vals[2] = { v1, v2 };
	struct pdu_attr attrs[2];
	size_t n = 0;
	if (a1 != NULL)
		attrs[n++] = (struct pdu_attr){ a1, &vals[0], 1 };
	if (a2 != NULL)
		attrs[n++] = (struct pdu_attr){ a2, &vals[1], 1 };
	assert_int_equal(pdu_entry(fout(r), r->msgid, dn, attrs, n), 0);
}

/* SearchResultDone (success) with the directory's paged-results control and cookie. */
static void
f_paged_done(struct freq *r, const char *cookie)
{
	unsigned char ctl[256], ctls[300], env[PDU_HEAD_MAX];
	static const unsigned char done[] = { PDU_SEARCH_DONE, 7, 0x0a, 1, 0, 0x04, 0, 0x04, 0 };
	size_t cl = pdu_paged_control(ctl, sizeof(ctl), 0, 0, cookie, strlen(cookie));
	assert_true(cl != (size_t)-1);
	struct berval bv = { cl, (char *)ctl };
	size_t csl = pdu_controls(ctls, sizeof(ctls), &bv, 1);
	size_t n = pdu_envelope(env, r->msgid, sizeof(done) + csl);
	struct evbuffer *out = fout(r);
	evbuffer_add(out, env, n);
	evbuffer_add(out, done, sizeof(done));
	evbuffer_add(out, ctls, csl);
}

/* The upstream whose connection fc is, or NULL. */
static struct upstream *
up_of(const struct fconn *fc)
{
	struct backend *be = E.srv.backend;
	struct upstream **pools[] = { be->shared, be->binders, be->paged };
	size_t counts[] = { be->nshared, be->nbinders, be->npaged };
	for (int k = 0; k < 3; k++)
		for (size_t i = 0; i < counts[k]; i++) {
			struct upstream *u = pools[k][i];
			struct sockaddr_in a;
			socklen_t l = sizeof(a);
			if (u->bev == NULL || getsockname(bufferevent_getfd(u->bev), (struct sockaddr *)&a, &l) < 0)
				continue;
			if (ntohs(a.sin_port) == fc->peer_port && u->server->url.port == fc->dir->port)
				return u;
		}
	return NULL;
}

/* ---- the test's clients ---- */

static void
tcli_parse(struct tcli *t)
{
	for (;;) {
		size_t avail = evbuffer_get_length(t->in);
		unsigned char head[PDU_HEAD_MAX];
		ev_ssize_t n = evbuffer_copyout(t->in, head, avail < sizeof(head) ? avail : sizeof(head));
		struct pdu_head h;
		if (n <= 0)
			return;
		int rc = pdu_frame(head, (size_t)n, 1 << 24, &h);
		if (rc == PDU_NEED_MORE || (rc == PDU_OK && avail < h.total))
			return;
		assert_int_equal(rc, PDU_OK);
		const unsigned char *msg = evbuffer_pullup(t->in, (ev_ssize_t)h.total);
		if (t->nmsgs < MAX_MSGS) {
			struct tmsg *m = &t->msgs[t->nmsgs];
			memset(m, 0, sizeof(*m));
			m->msgid = h.msgid;
			m->tag = h.op_tag;
			m->code = -1;
			const unsigned char *v;
			size_t vlen;
			unsigned vtag;
			if (first_inner(msg, &h, &v, &vlen, &vtag) == 0) {
				if (vtag == 0x0a && h.op_tag != PDU_SEARCH_ENTRY)
					m->code = (int)int_value(v, vlen);
				if (h.op_tag == PDU_SEARCH_ENTRY)
					snprintf(m->dn, sizeof(m->dn), "%.*s", (int)vlen, (const char *)v);
			}
			m->has_mail = h.op_tag == PDU_SEARCH_ENTRY && memmem(msg, h.total, "\x04\x04mail", 6) != NULL;
			m->aldp_cookie = h.op_tag != PDU_SEARCH_ENTRY && memmem(msg, h.total, "ALDP", 4) != NULL;
		}
		t->nmsgs++;
		evbuffer_drain(t->in, h.total);
	}
}

static void
tcli_pump(struct tcli *t)
{
	if (!t->reading || t->eof || t->fd < 0)
		return;
	for (;;) {
		char buf[16384];
		ssize_t n = read(t->fd, buf, sizeof(buf));
		if (n > 0) {
			evbuffer_add(t->in, buf, (size_t)n);
			continue;
		}
		if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
			t->eof = 1;
		break;
	}
	tcli_parse(t);
}

/* A client connection: the engine's end goes to client_accept(); small buffers for a slow reader. */
static struct tcli *
tcli_new(int small_buffers)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	if (small_buffers) {
		int sz = 4096;
		setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
		setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	}
	assert_int_equal(fcntl(sv[1], F_SETFL, fcntl(sv[1], F_GETFL) | O_NONBLOCK), 0);
	struct tcli *t = calloc(1, sizeof(*t));
	assert_non_null(t);
	t->fd = sv[1];
	t->in = evbuffer_new();
	t->reading = 1;
	assert_true(E.nclis < MAX_CLIS);
	E.clis[E.nclis++] = t;
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)(E.next_port++));
	uint64_t before = E.srv.next_conn_id;
	client_accept(&E.li, sv[0], (struct sockaddr *)&sa, sizeof(sa));
	assert_int_equal(E.srv.next_conn_id, before + 1);
	t->id = E.srv.next_conn_id;
	return t;
}

static struct client *
find_client(uint64_t id)
{
	struct client *c;
	TAILQ_FOREACH(c, &E.srv.clients, link)
		if (c->id == id)
			return c;
	return NULL;
}

static void
tcli_write(struct tcli *t, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(t->fd, p, len);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			event_base_loop(E.srv.base, EVLOOP_NONBLOCK);
			continue;
		}
		assert_true(n > 0);
		p += n;
		len -= (size_t)n;
	}
}

static void
tcli_send_evbuffer(struct tcli *t, struct evbuffer *b)
{
	size_t n = evbuffer_get_length(b);
	tcli_write(t, evbuffer_pullup(b, -1), n);
	evbuffer_free(b);
}

static void
send_bind(struct tcli *t, int msgid, const char *dn, const char *pw)
{
	struct evbuffer *b = evbuffer_new();
	assert_int_equal(pdu_simple_bind(b, msgid, dn, pw, strlen(pw)), 0);
	tcli_send_evbuffer(t, b);
}

enum { PLAIN, PAGED, BULK };

/*
 * A subtree search of base, all attributes: for (uid=x), with the
 * paged-results control (size 10) when PAGED; for (objectClass=*) when BULK
 * (search.c counts it as a bulk search, limited per client).
 */
static void
send_search(struct tcli *t, int msgid, const char *base, int kind)
{
	static const unsigned char filter[] = { 0xa3, 8, 0x04, 3, 'u', 'i', 'd', 0x04, 1, 'x' };
	unsigned char op[1024], ctl[256], ctls[300], env[PDU_HEAD_MAX];
	size_t ol = pdu_search(op, sizeof(op), base, strlen(base), LDAP_SCOPE_SUBTREE, 0, kind == BULK ? NULL : filter,
	    kind == BULK ? 0 : sizeof(filter), "*");
	assert_true(ol > 0);
	size_t csl = 0;
	if (kind == PAGED) {
		size_t cl = pdu_paged_control(ctl, sizeof(ctl), 0, 10, "", 0);
		struct berval bv = { cl, (char *)ctl };
		csl = pdu_controls(ctls, sizeof(ctls), &bv, 1);
	}
	size_t n = pdu_envelope(env, msgid, ol + csl);
	struct evbuffer *b = evbuffer_new();
	evbuffer_add(b, env, n);
	evbuffer_add(b, op, ol);
	evbuffer_add(b, ctls, csl);
	tcli_send_evbuffer(t, b);
}

static void
send_abandon(struct tcli *t, int msgid, int target)
{
	struct evbuffer *b = evbuffer_new();
	assert_int_equal(pdu_abandon(b, msgid, target), 0);
	tcli_send_evbuffer(t, b);
}

/* The nth (from 0) message of tag (0: any) and msgid (-1: any) that t received. */
static struct tmsg *
tmsg_find(struct tcli *t, int msgid, unsigned tag, int nth)
{
	int n = t->nmsgs < MAX_MSGS ? t->nmsgs : MAX_MSGS;
	for (int i = 0; i < n; i++) {
		struct tmsg *m = &t->msgs[i];
		if ((msgid < 0 || m->msgid == msgid) && (tag == 0 || m->tag == tag) && nth-- == 0)
			return m;
	}
	return NULL;
}

static int
tmsg_count(struct tcli *t, int msgid, unsigned tag)
{
	int n = 0;
	while (tmsg_find(t, msgid, tag, n) != NULL)
		n++;
	return n;
}

/* ---- the loop ---- */

static void
pulse_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

/* One turn of the loop (at most ~2 ms of waiting), then what the clients received. */
static void
step(void)
{
	event_base_loop(E.srv.base, EVLOOP_ONCE);
	for (int i = 0; i < E.nclis; i++)
		tcli_pump(E.clis[i]);
}

#define WAIT_FOR(cond, ms)                                                                      \
	do {                                                                                    \
		uint64_t wf_deadline_ = mono_ms() + (ms);                                       \
		while (!(cond)) {                                                               \
			if (mono_ms() > wf_deadline_)                                           \
				fail_msg("%s:%d: timed out after %d ms waiting for %s", __FILE__, \
				    __LINE__, (int)(ms), #cond);                                \
			step();                                                                 \
		}                                                                               \
	} while (0)

/* Runs the loop for ms whatever happens. */
static void
settle(int ms)
{
	uint64_t end = mono_ms() + (uint64_t)ms;
	while (mono_ms() < end)
		step();
}

/* ---- the server ---- */

static void
write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	size_t len = strlen(text);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
}

/* The profile "app": who binds, the login group, the attributes it may read. */
static void
write_profile(const char *login_group, const char *attributes)
{
	char path[256], text[2048];
	snprintf(path, sizeof(path), "%s/app.yaml", E.profdir);
	snprintf(text, sizeof(text),
	    "name: app\n"
	    "description: engine tests\n"
	    "service_accounts:\n"
	    "  - dn: " SVC_DN "\n"
	    "    password_hash: \"%s\"\n"
	    "  - " SVC2_DN "\n"
	    "user_bases:\n"
	    "  - cn=users,cn=accounts," BASE_DN "\n"
	    "search_base: " BASE_DN "\n"
	    "groups:\n"
	    "  login: [\"%s\"]\n"
	    "attributes: %s\n",
	    E.svc_hash, login_group, attributes);
	write_file(path, text, 0644);
}

static void
rm_rf(const char *path)
{
	DIR *d = opendir(path);
	if (d == NULL) {
		unlink(path);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		char p[512];
		snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
		rm_rf(p);
	}
	closedir(d);
	rmdir(path);
}

static int
log_level_from_env(void)
{
	const char *s = getenv("ENGINE_LOG");
	int l = s != NULL ? log_level_parse(s) : -1;
	return l >= 0 ? l : LOG_LVL_ERR;
}

/*
 * What server_start() does, without listeners, control sockets, metrics,
 * signals or systemd: the loaded configuration and profiles, the backend,
 * its connections to the fake directories, all of them ready.
 */
static void
engine_start(const struct opts *o)
{
	memset(&E, 0, sizeof(E));
	E.next_port = 40000;
	signal(SIGPIPE, SIG_IGN);
	log_init("stderr", log_level_from_env(), "test_engine", LOG_DAEMON);
	snprintf(E.dir, sizeof(E.dir), "/tmp/aldeng.XXXXXX");
	assert_non_null(mkdtemp(E.dir));
	snprintf(E.profdir, sizeof(E.profdir), "%s/profiles", E.dir);
	assert_int_equal(mkdir(E.profdir, 0755), 0);
	assert_int_equal(password_hash_make("SSHA512", SVC_PW, strlen(SVC_PW), E.svc_hash, sizeof(E.svc_hash)), 0);
	write_profile(GROUP_G, "[\"*\"]");
	char pw[160];
	snprintf(pw, sizeof(pw), "%s/backend.pw", E.dir);
	write_file(pw, "own-secret\n", 0600);

	/* the loop first: the fake directories' ports go into the configuration */
	struct server *srv = &E.srv;
	TAILQ_INIT(&srv->clients);
	srv->base = event_base_new();
	assert_non_null(srv->base);
	E.ndirs = o->ndirs > 0 ? o->ndirs : 1;
	for (int i = 0; i < E.ndirs; i++)
		fdir_open(&E.dirs[i], i);

	char servers[256] = "", conf[4096];
	for (int i = 0; i < E.ndirs; i++) {
		size_t l = strlen(servers);
		snprintf(servers + l, sizeof(servers) - l, "    - ldap://127.0.0.1:%d\n", E.dirs[i].port);
	}
	snprintf(conf, sizeof(conf),
	    "listeners:\n"
	    "  - url: ldap://127.0.0.1:1\n"
	    "backend:\n"
	    "  servers:\n"
	    "%s"
	    "  starttls: false\n"
	    "  tls_verify: false\n"
	    "  bind_dn: " OWN_DN "\n"
	    "  password_file: %s\n"
	    "  pool_size: 1\n"
	    "  bind_pool_size: 1\n"
	    "  paged_pool_size: 1\n"
	    "  max_ops_per_connection: %ld\n"
	    "  connect_timeout: 2\n"
	    "  operation_timeout: 30\n"
	    "  reconnect_min: 0.05\n"
	    "  reconnect_max: 0.2\n"
	    "limits:\n"
	    "  max_client_output: %zu\n"
	    "  max_binds_per_second: %ld\n"
	    "  unbound_timeout: 0\n"
	    "  idle_timeout: 0\n"
	    "profiles_dir: %s\n"
	    "audit:\n"
	    "  target: file\n"
	    "  file: %s/audit.log\n"
	    "log:\n"
	    "  level: error\n",
	    servers, pw, o->max_ops_per_connection > 0 ? o->max_ops_per_connection : 256,
	    o->max_client_output > 0 ? o->max_client_output : (size_t)8 << 20,
	    o->max_binds_per_second > 0 ? o->max_binds_per_second : 300, E.profdir, E.dir);
	snprintf(E.conf, sizeof(E.conf), "%s/aldproxy.yaml", E.dir);
	write_file(E.conf, conf, 0644);

	struct loaded ld;
	char err[1024];
	if (load_all(E.conf, &ld, err, sizeof(err)) < 0)
		fail_msg("load_all: %s", err);
	if (audit_open(ld.cfg, err, sizeof(err)) < 0)
		fail_msg("audit_open: %s", err);
	srv->cfg = ld.cfg;
	srv->profiles = ld.profiles;
	srv->tls_server = ld.tls_server;
	srv->tls_client = ld.tls_client;
	srv->log_fixed = 1;             /* a reload leaves the test's logging alone */
	metrics_init(&srv->metrics, now_us());
	assert_int_equal(arena_init(&srv->arena, 1 << 20), 0);
	assert_int_equal(arena_init(&srv->resp_arena, 4 << 20), 0);
	assert_int_equal(arena_init(&srv->visset_arena, 1 << 18), 0);
	share_configure(srv->cfg->max_ops_per_address, srv->cfg->max_ops_per_identity);
	E.li.srv = srv;
	E.li.url = "ldap://engine-test";
	E.started = 1;
	assert_int_equal(backend_new(srv, &srv->backend, err, sizeof(err)), 0);
	E.pulse = event_new(srv->base, -1, EV_PERSIST, pulse_cb, NULL);
	struct timeval tv = { 0, 2000 };
	event_add(E.pulse, &tv);
	backend_start(srv->backend);
	struct backend *be = srv->backend;
	WAIT_FOR(backend_ready_count(be, UP_SHARED) == be->nshared && backend_ready_count(be, UP_BIND) == be->nbinders &&
	    backend_ready_count(be, UP_PAGED) == be->npaged, 5000);
	settle(20);         /* the schema read (rootDSE), answered by the fakes */
	assert_int_equal(req_total(), 0);
}

static void
engine_stop(void)
{
	if (!E.started)
		return;
	for (int i = 0; i < E.nclis; i++) {
		if (E.clis[i]->fd >= 0)
			close(E.clis[i]->fd);
		evbuffer_free(E.clis[i]->in);
		free(E.clis[i]);
	}
	E.nclis = 0;
	for (int i = 0; i < E.ndirs; i++)
		fdir_free(&E.dirs[i]);
	if (E.pulse != NULL)
		event_free(E.pulse);
	E.pulse = NULL;
	server_free(&E.srv);       /* clients, backend, profiles, config, the loop */
	audit_free();
	rm_rf(E.dir);
	E.started = 0;
}

static int
teardown(void **state)
{
	(void)state;
	engine_stop();
	return 0;
}

/* A client bound as the profile's own service account (verified by aldproxy, no directory). */
static struct tcli *
client_svc(void)
{
	struct tcli *t = tcli_new(0);
	send_bind(t, 1, SVC_DN, SVC_PW);
	WAIT_FOR(tmsg_find(t, 1, PDU_BIND_RES, 0) != NULL, 2000);
	assert_int_equal(tmsg_find(t, 1, PDU_BIND_RES, 0)->code, LDAP_SUCCESS);
	return t;
}

/*
 * A user's bind through its group check: the directory accepts the
 * password; returns the group-check lookup (a base search of the user's
 * DN on a shared connection), not answered.
 */
static struct freq *
bind_to_group_check(struct tcli *t, int msgid, const char *dn)
{
	int nb = req_count(-1, PDU_BIND_REQ, dn), ns = req_count(-1, PDU_SEARCH_REQ, dn);
	send_bind(t, msgid, dn, "user-pw");
	WAIT_FOR(req_find(-1, PDU_BIND_REQ, dn, nb) != NULL, 2000);
	struct freq *b = req_find(-1, PDU_BIND_REQ, dn, nb);
	assert_int_equal(up_of(b->conn)->kind, UP_BIND);
	f_result(b, PDU_BIND_RES, LDAP_SUCCESS);
	WAIT_FOR(req_find(-1, PDU_SEARCH_REQ, dn, ns) != NULL, 2000);
	struct freq *g = req_find(-1, PDU_SEARCH_REQ, dn, ns);
	assert_int_equal(up_of(g->conn)->kind, UP_SHARED);
	return g;
}

static char *
ou(const char *name)
{
	static char buf[8][128];
	static int k;
	char *b = buf[k++ % 8];
	snprintf(b, sizeof(buf[0]), "ou=%s," BASE_DN, name);
	return b;
}

/* ---- 1. a client that closes during its bind's group check ---- */

static void
test_close_during_group_check(void **state)
{
	(void)state;
	struct opts o = { .ndirs = 1 };
	engine_start(&o);
	struct upstream *bu = E.srv.backend->binders[0], *sh = E.srv.backend->shared[0];
	struct tcli *t = tcli_new(0);
	struct freq *g = bind_to_group_check(t, 1, ALICE);
	assert_ptr_equal(up_of(g->conn), sh);
	assert_int_equal(bu->nops, 0);          /* the bind left its connection for the group check */
	assert_int_equal(sh->nops, 1);
	struct client *c = find_client(t->id);
	assert_non_null(c);
	assert_int_equal(c->nops, 1);           /* the bind op, waiting on its lookup */

	/* the client goes away while the directory reads its memberOf */
	shutdown(t->fd, SHUT_WR);
	WAIT_FOR(find_client(t->id) == NULL, 2000);
	int before = req_total();

	/* then the directory answers: the lookup finds no one and is dropped */
	f_entry(g, ALICE, "memberOf", GROUP_G, NULL, NULL);
	f_result(g, PDU_SEARCH_DONE, LDAP_SUCCESS);
	WAIT_FOR(sh->nops == 0, 2000);
	settle(50);
	assert_true(TAILQ_EMPTY(&sh->ops));
	assert_int_equal(sh->ids.used, 0);
	assert_int_equal(sh->state, UP_READY);
	assert_int_equal(req_total(), before);  /* nothing more reached the directory */
	assert_true(t->eof);
	assert_int_equal(t->nmsgs, 0);          /* and nothing reached the client */
	assert_int_equal(E.srv.nclients, 0);
	assert_true(TAILQ_EMPTY(&E.srv.backend->internal_wait));
}

/* 1b. ... while its group check still waits for a slot (every slot taken) */
static void
test_close_while_group_check_waits(void **state)
{
	(void)state;
	struct opts o = { .ndirs = 1, .max_ops_per_connection = 4 };
	engine_start(&o);
	struct upstream *sh = E.srv.backend->shared[0];
	struct tcli *s = client_svc();
	for (int i = 0; i < 3; i++)
		send_search(s, 10 + i, ou(i == 0 ? "s0" : i == 1 ? "s1" : "s2"), PLAIN);
	WAIT_FOR(req_count(0, PDU_SEARCH_REQ, NULL) == 3, 2000);
	struct tcli *b = tcli_new(0);
	struct freq *gb = bind_to_group_check(b, 1, BOB);  /* takes the reserved slot */
	assert_int_equal(sh->ids.nfree, 0);
	struct tcli *a = tcli_new(0);
	send_bind(a, 1, ALICE, "user-pw");
	WAIT_FOR(req_find(-1, PDU_BIND_REQ, ALICE, 0) != NULL, 2000);
	f_result(req_find(-1, PDU_BIND_REQ, ALICE, 0), PDU_BIND_RES, LDAP_SUCCESS);
	WAIT_FOR(!TAILQ_EMPTY(&E.srv.backend->internal_wait), 2000);   /* alice's lookup waits */
	assert_int_equal(req_count(-1, PDU_SEARCH_REQ, ALICE), 0);

	shutdown(a->fd, SHUT_WR);
	WAIT_FOR(find_client(a->id) == NULL, 2000);
	assert_true(TAILQ_EMPTY(&E.srv.backend->internal_wait));     /* the waiting lookup went with it */

	/* slots free: nothing is sent for alice, bob's login goes on */
	f_result(req_find(0, PDU_SEARCH_REQ, ou("s0"), 0), PDU_SEARCH_DONE, LDAP_SUCCESS);
	f_entry(gb, BOB, "memberOf", GROUP_G, NULL, NULL);
	f_result(gb, PDU_SEARCH_DONE, LDAP_SUCCESS);
	WAIT_FOR(tmsg_find(b, 1, PDU_BIND_RES, 0) != NULL, 2000);
	assert_int_equal(tmsg_find(b, 1, PDU_BIND_RES, 0)->code, LDAP_SUCCESS);
	settle(300);
	assert_int_equal(req_count(-1, PDU_SEARCH_REQ, ALICE), 0);
	assert_int_equal(a->nmsgs, 0);
	assert_int_equal(sh->nops, 2);
}

/* ---- 2. orphaned binds ---- */

static void
test_orphaned_bind(void **state)
{
	(void)state;
	struct opts o = { .ndirs = 1 };
	engine_start(&o);
	struct upstream *bu = E.srv.backend->binders[0];
	struct tcli *t1 = tcli_new(0);
	send_bind(t1, 1, SVC2_DN, "pw1");
	WAIT_FOR(req_find(0, PDU_BIND_REQ, SVC2_DN, 0) != NULL, 2000);
	struct freq *r1 = req_find(0, PDU_BIND_REQ, SVC2_DN, 0);
	assert_ptr_equal(up_of(r1->conn), bu);

	/* the client leaves before the answer: its bind is an orphan on the bind connection */
	shutdown(t1->fd, SHUT_WR);
	WAIT_FOR(find_client(t1->id) == NULL, 2000);
	assert_int_equal(bu->nops, 1);
	assert_null(TAILQ_FIRST(&bu->ops)->client);

	/* another client's bind waits: the only bind connection is busy with the orphan */
	struct tcli *t2 = tcli_new(0);
	send_bind(t2, 7, SVC2_DN, "pw2");
	settle(100);
	assert_int_equal(req_count(0, PDU_BIND_REQ, SVC2_DN), 1);
	assert_int_equal(E.srv.backend->nbind_wait, 1);

	/* the directory answers the orphan: it is freed and the connection serves the next bind */
	f_result(r1, PDU_BIND_RES, LDAP_SUCCESS);
	WAIT_FOR(req_find(0, PDU_BIND_REQ, SVC2_DN, 1) != NULL, 2000);
	struct freq *r2 = req_find(0, PDU_BIND_REQ, SVC2_DN, 1);
	assert_ptr_equal(r2->conn, r1->conn);
	assert_int_equal(E.srv.backend->nbind_wait, 0);
	f_result(r2, PDU_BIND_RES, LDAP_SUCCESS);
	WAIT_FOR(tmsg_find(t2, 7, PDU_BIND_RES, 0) != NULL, 2000);
	assert_int_equal(tmsg_find(t2, 7, PDU_BIND_RES, 0)->code, LDAP_SUCCESS);
	settle(50);
	assert_int_equal(t2->nmsgs, 1);
	assert_int_equal(t1->nmsgs, 0);
	assert_true(t1->eof);
	assert_int_equal(bu->nops, 0);
	assert_int_equal(bu->ids.used, 0);
	struct client *c2 = find_client(t2->id);
	assert_non_null(c2);
	assert_string_equal(c2->bound_dn, SVC2_DN);
	assert_int_equal(c2->state, C_ACTIVE);
}

/* ---- 3. failover of pending operations ---- */

static void
test_failover_of_pending_search(void **state)
{
	(void)state;
	struct opts o = { .ndirs = 2 };
	engine_start(&o);
	struct tcli *t = client_svc();
	send_search(t, 2, ou("people"), PLAIN);
	WAIT_FOR(req_find(-1, PDU_SEARCH_REQ, ou("people"), 0) != NULL, 2000);
	struct freq *r1 = req_find(-1, PDU_SEARCH_REQ, ou("people"), 0);
	struct upstream *u1 = up_of(r1->conn);
	assert_int_equal(u1->kind, UP_SHARED);
	int first = r1->conn->dir->index, other = 1 - first;

	/* that controller's connection drops before any entry */
	fconn_close(r1->conn);
	WAIT_FOR(req_find(other, PDU_SEARCH_REQ, ou("people"), 0) != NULL, 2000);
	struct freq *r2 = req_find(other, PDU_SEARCH_REQ, ou("people"), 0);
	assert_int_equal(up_of(r2->conn)->kind, UP_SHARED);
	assert_int_equal(t->nmsgs, 1);          /* the bind's answer only: no error for the failed-over search */

	f_entry(r2, "uid=x,ou=people," BASE_DN, "uid", "x", NULL, NULL);
	f_result(r2, PDU_SEARCH_DONE, LDAP_SUCCESS);
	WAIT_FOR(tmsg_find(t, 2, PDU_SEARCH_DONE, 0) != NULL, 2000);
	/* the first controller comes back meanwhile; nothing is sent twice */
	WAIT_FOR(u1->state == UP_READY, 3000);
	settle(100);
	assert_int_equal(tmsg_find(t, 2, PDU_SEARCH_DONE, 0)->code, LDAP_SUCCESS);
	assert_int_equal(tmsg_count(t, 2, PDU_SEARCH_ENTRY), 1);
	assert_int_equal(tmsg_count(t, 2, PDU_SEARCH_DONE), 1);
	assert_int_equal(t->nmsgs, 3);
	assert_int_equal(req_count(first, PDU_SEARCH_REQ, ou("people")), 1);
	assert_int_equal(req_count(other, PDU_SEARCH_REQ, ou("people")), 1);
	assert_int_equal(req_count(-1, PDU_ABANDON_REQ, NULL), 0);
}

/* ---- 4. Abandon when the msgid table is full ---- */

static void
test_abandon_with_full_msgid_table(void **state)
{
	(void)state;
	struct opts o = { .ndirs = 1, .max_ops_per_connection = 4 };
	engine_start(&o);
	struct upstream *sh = E.srv.backend->shared[0];
	assert_int_equal(sh->ids.cap, 4);
	struct tcli *t = client_svc();
	send_search(t, 10, ou("s10"), PLAIN);
	send_search(t, 11, ou("s11"), PLAIN);
	send_search(t, 12, ou("s12"), PLAIN);
	WAIT_FOR(req_count(0, PDU_SEARCH_REQ, NULL) == 3, 2000);
	assert_int_equal(sh->ids.nfree, 1);     /* the slot kept for aldproxy's own lookups */

	/* a login's group check takes the last one: the table is full */
	struct tcli *a = tcli_new(0);
	struct freq *g = bind_to_group_check(a, 1, ALICE);
	assert_ptr_equal(up_of(g->conn), sh);
	assert_int_equal(sh->ids.nfree, 0);
	assert_int_equal(sh->nops, 4);

	send_abandon(t, 20, 11);
	WAIT_FOR(req_count(0, PDU_ABANDON_REQ, NULL) == 1, 2000);
	struct freq *ab = req_find(0, PDU_ABANDON_REQ, NULL, 0);
	struct freq *s10 = req_find(0, PDU_SEARCH_REQ, ou("s10"), 0), *s11 = req_find(0, PDU_SEARCH_REQ, ou("s11"), 0),
	    *s12 = req_find(0, PDU_SEARCH_REQ, ou("s12"), 0);
	assert_ptr_equal(ab->conn, s11->conn);
	assert_int_equal(ab->target, s11->msgid);
	/* the Abandon's own messageID is none of those still in flight */
	assert_int_not_equal(ab->msgid, s10->msgid);
	assert_int_not_equal(ab->msgid, s12->msgid);
	assert_int_not_equal(ab->msgid, g->msgid);
	assert_int_equal(sh->nops, 3);
	assert_int_equal(sh->ids.nfree, 1);

	/* a late answer to the abandoned search goes nowhere; the others arrive */
	f_entry(s11, "uid=late,ou=s11," BASE_DN, "uid", "late", NULL, NULL);
	f_result(s11, PDU_SEARCH_DONE, LDAP_SUCCESS);
	f_result(s10, PDU_SEARCH_DONE, LDAP_SUCCESS);
	f_result(s12, PDU_SEARCH_DONE, LDAP_SUCCESS);
	f_entry(g, ALICE, "memberOf", GROUP_G, NULL, NULL);
	f_result(g, PDU_SEARCH_DONE, LDAP_SUCCESS);
	WAIT_FOR(tmsg_find(t, 10, PDU_SEARCH_DONE, 0) != NULL && tmsg_find(t, 12, PDU_SEARCH_DONE, 0) != NULL, 2000);
	WAIT_FOR(tmsg_find(a, 1, PDU_BIND_RES, 0) != NULL, 2000);
	settle(50);
	assert_int_equal(tmsg_find(a, 1, PDU_BIND_RES, 0)->code, LDAP_SUCCESS);
	assert_int_equal(tmsg_count(t, 11, 0), 0);
	assert_int_equal(tmsg_count(t, 20, 0), 0);  /* Abandon has no response */
	assert_int_equal(t->nmsgs, 3);
	assert_int_equal(sh->nops, 0);
	assert_int_equal(sh->ids.used, 0);
}

/* ---- 5. HANDLER_WAIT resumed exactly once ---- */

static void
test_wait_resumed_exactly_once(void **state)
{
	(void)state;
	struct opts o = { .ndirs = 1, .max_ops_per_connection = 4 };
	engine_start(&o);
	struct upstream *sh = E.srv.backend->shared[0];
	struct tcli *b = client_svc();
	send_search(b, 2, ou("b1"), PLAIN);
	send_search(b, 3, ou("b2"), PLAIN);
	send_search(b, 4, ou("b3"), PLAIN);
	WAIT_FOR(req_count(0, PDU_SEARCH_REQ, NULL) == 3, 2000);

	/* every slot a client may take is taken: two further searches wait */
	struct tcli *c = client_svc(), *d = client_svc();
	send_search(c, 5, ou("c1"), PLAIN);
	WAIT_FOR(find_client(c->id)->waiting, 2000);
	send_search(d, 5, ou("d1"), PLAIN);
	WAIT_FOR(find_client(d->id)->waiting, 2000);
	settle(300);            /* a backend tick included */
	assert_int_equal(req_count(0, PDU_SEARCH_REQ, ou("c1")), 0);
	assert_int_equal(req_count(0, PDU_SEARCH_REQ, ou("d1")), 0);
	assert_int_equal(sh->nops, 3);

	/* one op ends: the first waiter's request goes, once; the second still waits */
	f_result(req_find(0, PDU_SEARCH_REQ, ou("b1"), 0), PDU_SEARCH_DONE, LDAP_SUCCESS);
	WAIT_FOR(req_count(0, PDU_SEARCH_REQ, ou("c1")) == 1, 2000);
	settle(300);
	assert_int_equal(req_count(0, PDU_SEARCH_REQ, ou("c1")), 1);
	assert_int_equal(req_count(0, PDU_SEARCH_REQ, ou("d1")), 0);
	assert_false(find_client(c->id)->waiting);
	assert_true(find_client(d->id)->waiting);

	/* two end in one read: the second waiter goes, once */
	f_result(req_find(0, PDU_SEARCH_REQ, ou("b2"), 0), PDU_SEARCH_DONE, LDAP_SUCCESS);
	f_result(req_find(0, PDU_SEARCH_REQ, ou("b3"), 0), PDU_SEARCH_DONE, LDAP_SUCCESS);
	WAIT_FOR(req_count(0, PDU_SEARCH_REQ, ou("d1")) == 1, 2000);
	settle(300);
	assert_int_equal(req_count(0, PDU_SEARCH_REQ, ou("c1")), 1);
	assert_int_equal(req_count(0, PDU_SEARCH_REQ, ou("d1")), 1);
	assert_int_equal(req_total(), 5);
	assert_false(find_client(d->id)->waiting);

	f_result(req_find(0, PDU_SEARCH_REQ, ou("c1"), 0), PDU_SEARCH_DONE, LDAP_SUCCESS);
	f_result(req_find(0, PDU_SEARCH_REQ, ou("d1"), 0), PDU_SEARCH_DONE, LDAP_SUCCESS);
	WAIT_FOR(tmsg_find(c, 5, PDU_SEARCH_DONE, 0) != NULL && tmsg_find(d, 5, PDU_SEARCH_DONE, 0) != NULL, 2000);
	settle(50);
	/* exactly one answer each, and the request was counted once */
	assert_int_equal(tmsg_count(c, 5, 0), 1);
	assert_int_equal(tmsg_count(d, 5, 0), 1);
	assert_int_equal(tmsg_find(c, 5, PDU_SEARCH_DONE, 0)->code, LDAP_SUCCESS);
	assert_int_equal(c->nmsgs, 2);
	assert_int_equal(d->nmsgs, 2);
	assert_int_equal(find_client(c->id)->nrequests, 2);
	assert_int_equal(find_client(d->id)->nrequests, 2);
	assert_int_equal(b->nmsgs, 4);
	assert_int_equal(sh->nops, 0);
}

/*
 * 5b. ... and not lost: the freed slot's wake-up goes to the first waiter
 * only (backend_capacity_freed()); when that waiter cannot use it (it waits
 * for a bulk-search slot, not for room) it waits again and the waiter
 * behind it, which could use the slot, is not woken.
 */
static void
test_wait_not_lost_behind_bulk_waiter(void **state)
{
	(void)state;
	struct opts o = { .ndirs = 1, .max_ops_per_connection = 4 };
	engine_start(&o);
	struct upstream *sh = E.srv.backend->shared[0];
	/* y: one bulk search in flight, a second one waits for its bulk slot (one per client) */
	struct tcli *y = client_svc();
	send_search(y, 2, ou("y1"), BULK);
	WAIT_FOR(req_count(0, PDU_SEARCH_REQ, ou("y1")) == 1, 2000);
	send_search(y, 3, ou("y2"), BULK);
	WAIT_FOR(find_client(y->id)->waiting, 2000);
	/* z fills the connection; x waits for room, behind y */
	struct tcli *z = client_svc();
	send_search(z, 2, ou("z1"), PLAIN);
	send_search(z, 3, ou("z2"), PLAIN);
	WAIT_FOR(req_count(0, PDU_SEARCH_REQ, NULL) == 3, 2000);
	struct tcli *x = client_svc();
	send_search(x, 2, ou("x1"), PLAIN);
	WAIT_FOR(find_client(x->id)->waiting, 2000);
	assert_int_equal(sh->nops, 3);

	/* z1 ends: a slot is free, and x's search could take it */
	f_result(req_find(0, PDU_SEARCH_REQ, ou("z1"), 0), PDU_SEARCH_DONE, LDAP_SUCCESS);
	WAIT_FOR(tmsg_find(z, 2, PDU_SEARCH_DONE, 0) != NULL, 2000);
	settle(600);            /* two backend ticks */
	assert_int_equal(req_count(0, PDU_SEARCH_REQ, ou("y2")), 0);    /* y still has its bulk search */
	assert_int_equal(req_count(0, PDU_SEARCH_REQ, ou("x1")), 1);
	assert_int_equal(sh->nops, 3);
}

/*
 * 5c. The same with a bind held back by limits.max_binds_per_second:
 * bind_handle() returns HANDLER_WAIT after client_delay(); the bind waits
 * on its timer, not in the capacity queue, so it cannot take the wake-up
 * of a freed slot from the search behind it.
 */
static void
test_wait_not_lost_behind_delayed_bind(void **state)
{
	(void)state;
	struct opts o = { .ndirs = 1, .max_ops_per_connection = 4, .max_binds_per_second = 1 };
	engine_start(&o);
	struct upstream *sh = E.srv.backend->shared[0];
	struct tcli *z = client_svc();
	settle(1050);           /* a token for x's bind */
	struct tcli *x = client_svc();
	send_search(z, 2, ou("z1"), PLAIN);
	send_search(z, 3, ou("z2"), PLAIN);
	send_search(z, 4, ou("z3"), PLAIN);
	WAIT_FOR(req_count(0, PDU_SEARCH_REQ, NULL) == 3, 2000);
	/* d's bind is held back about a second (no token left); x's search waits for room behind it */
	struct tcli *d = tcli_new(0);
	send_bind(d, 1, SVC_DN, SVC_PW);
	WAIT_FOR(evtimer_pending(find_client(d->id)->delay_timer, NULL), 2000);
	assert_false(find_client(d->id)->waiting);     /* on its timer, not in the capacity queue */
	send_search(x, 2, ou("x1"), PLAIN);
	WAIT_FOR(find_client(x->id)->waiting, 2000);

	f_result(req_find(0, PDU_SEARCH_REQ, ou("z1"), 0), PDU_SEARCH_DONE, LDAP_SUCCESS);
	WAIT_FOR(tmsg_find(z, 2, PDU_SEARCH_DONE, 0) != NULL, 2000);
	settle(300);
	assert_int_equal(req_count(0, PDU_SEARCH_REQ, ou("x1")), 1);
	assert_int_equal(sh->nops, 3);
}

/* ---- 6. a slow reader cut off with operations in flight ---- */

static void
test_slow_reader_cut_off(void **state)
{
	(void)state;
	struct opts o = { .ndirs = 1, .max_client_output = 4096 };
	engine_start(&o);
	struct upstream *sh = E.srv.backend->shared[0];
	int conns = E.dirs[0].nconns;
	struct tcli *s = tcli_new(1);
	send_bind(s, 1, SVC_DN, SVC_PW);
	WAIT_FOR(tmsg_find(s, 1, PDU_BIND_RES, 0) != NULL, 2000);

	/* it stops reading while the directory streams entries */
	s->reading = 0;
	send_search(s, 2, ou("big"), PLAIN);
	WAIT_FOR(req_find(0, PDU_SEARCH_REQ, ou("big"), 0) != NULL, 2000);
	struct freq *r = req_find(0, PDU_SEARCH_REQ, ou("big"), 0);
	assert_ptr_equal(up_of(r->conn), sh);
	char filler[401];
	memset(filler, 'x', 400);
	filler[400] = '\0';
	for (int i = 0; i < 200; i++) {
		char dn[128];
		snprintf(dn, sizeof(dn), "uid=u%d,ou=big," BASE_DN, i);
		f_entry(r, dn, "description", filler, NULL, NULL);
	}

	/* cut off: its search is abandoned upstream and freed */
	WAIT_FOR(req_count(0, PDU_ABANDON_REQ, NULL) == 1, 3000);
	struct freq *ab = req_find(0, PDU_ABANDON_REQ, NULL, 0);
	assert_ptr_equal(ab->conn, r->conn);
	assert_int_equal(ab->target, r->msgid);
	assert_int_equal(E.srv.stats.slow_clients_cut, 1);
	assert_int_equal(sh->nops, 0);
	struct client *c = find_client(s->id);
	if (c != NULL) {
		assert_int_equal(c->state, C_CLOSING);
		assert_int_equal(c->nops, 0);
	}

	/* what it reads then: entries, no result, then the Notice of Disconnection */
	s->reading = 1;
	WAIT_FOR(find_client(s->id) == NULL && s->eof, 4000);
	assert_int_equal(tmsg_count(s, 2, PDU_SEARCH_DONE), 0);
	assert_true(tmsg_count(s, 2, PDU_SEARCH_ENTRY) < 200);
	assert_true(s->nmsgs >= 2 && s->nmsgs <= MAX_MSGS);
	struct tmsg *last = &s->msgs[s->nmsgs - 1];
	assert_int_equal(last->msgid, 0);
	assert_int_equal(last->tag, PDU_EXT_RES);
	assert_int_equal(last->code, LDAP_BUSY);

	/* the rest of the stream and the result come late and go nowhere; the connection serves others */
	f_result(r, PDU_SEARCH_DONE, LDAP_SUCCESS);
	struct tcli *n = client_svc();
	send_search(n, 3, ou("after"), PLAIN);
	WAIT_FOR(req_find(0, PDU_SEARCH_REQ, ou("after"), 0) != NULL, 2000);
	struct freq *r3 = req_find(0, PDU_SEARCH_REQ, ou("after"), 0);
	assert_ptr_equal(r3->conn, r->conn);
	f_entry(r3, "uid=y,ou=after," BASE_DN, "uid", "y", NULL, NULL);
	f_result(r3, PDU_SEARCH_DONE, LDAP_SUCCESS);
	WAIT_FOR(tmsg_find(n, 3, PDU_SEARCH_DONE, 0) != NULL, 2000);
	settle(50);
	assert_int_equal(tmsg_find(n, 3, PDU_SEARCH_DONE, 0)->code, LDAP_SUCCESS);
	assert_int_equal(tmsg_count(n, 3, PDU_SEARCH_ENTRY), 1);
	assert_int_equal(n->nmsgs, 3);
	assert_int_equal(sh->state, UP_READY);
	assert_int_equal(E.dirs[0].nconns, conns);     /* no reconnection */
	assert_int_equal(sh->nops, 0);
	assert_int_equal(E.srv.output_total, 0);
}

/* ---- 7. a reload while every kind of op is pending ---- */

static void
test_reload_with_every_op_pending(void **state)
{
	(void)state;
	struct opts o = { .ndirs = 1 };
	engine_start(&o);
	struct backend *be = E.srv.backend;

	/* a group check in flight (bob), then a bind in flight (alice) */
	struct tcli *b = tcli_new(0);
	struct freq *gb = bind_to_group_check(b, 1, BOB);
	struct tcli *a = tcli_new(0);
	send_bind(a, 1, ALICE, "user-pw");
	WAIT_FOR(req_find(0, PDU_BIND_REQ, ALICE, 0) != NULL, 2000);
	struct freq *ra = req_find(0, PDU_BIND_REQ, ALICE, 0);
	/* a search and a paged search in flight */
	struct tcli *c = client_svc();
	send_search(c, 2, ou("plain"), PLAIN);
	send_search(c, 3, ou("paged"), PAGED);
	WAIT_FOR(req_find(0, PDU_SEARCH_REQ, ou("plain"), 0) != NULL && req_find(0, PDU_SEARCH_REQ, ou("paged"), 0) != NULL,
	    2000);
	struct freq *rs = req_find(0, PDU_SEARCH_REQ, ou("plain"), 0), *rp = req_find(0, PDU_SEARCH_REQ, ou("paged"), 0);
	assert_int_equal(up_of(rs->conn)->kind, UP_SHARED);
	assert_int_equal(up_of(rp->conn)->kind, UP_PAGED);
	assert_true(rp->paged);
	assert_int_equal(be->binders[0]->nops, 1);
	assert_int_equal(be->shared[0]->nops, 2);
	assert_int_equal(be->paged[0]->nops, 1);

	/* the reload: another login group, fewer attributes */
	const struct profile_set *old = E.srv.profiles;
	const struct profile *oldp = profile_find(old, "app");
	write_profile(GROUP_H, "[cn, uid]");
	char restart[256];
	assert_int_equal(server_reload(&E.srv, restart, sizeof(restart)), 0);
	assert_string_equal(restart, "");
	assert_ptr_not_equal(E.srv.profiles, old);
	const struct profile *newp = profile_find(E.srv.profiles, "app");
	assert_ptr_not_equal(newp, oldp);
	assert_int_equal(newp->nattributes, 2);
	/* the old set is freed by the reload; oldp lives on while ops and clients hold it */

	/* the directory answers everything: each op completes under the profile it began with */
	f_result(ra, PDU_BIND_RES, LDAP_SUCCESS);
	WAIT_FOR(req_find(0, PDU_SEARCH_REQ, ALICE, 0) != NULL, 2000);
	struct freq *ga = req_find(0, PDU_SEARCH_REQ, ALICE, 0);
	f_entry(ga, ALICE, "memberOf", GROUP_G, NULL, NULL);
	f_result(ga, PDU_SEARCH_DONE, LDAP_SUCCESS);
	f_entry(gb, BOB, "memberOf", GROUP_G, NULL, NULL);
	f_result(gb, PDU_SEARCH_DONE, LDAP_SUCCESS);
	f_entry(rs, "uid=x,ou=plain," BASE_DN, "cn", "x", "mail", "x@ald.test");
	f_result(rs, PDU_SEARCH_DONE, LDAP_SUCCESS);
	f_entry(rp, "uid=y,ou=paged," BASE_DN, "cn", "y", "mail", "y@ald.test");
	f_paged_done(rp, "directory-cookie");
	WAIT_FOR(tmsg_find(a, 1, PDU_BIND_RES, 0) != NULL && tmsg_find(b, 1, PDU_BIND_RES, 0) != NULL &&
	    tmsg_find(c, 2, PDU_SEARCH_DONE, 0) != NULL && tmsg_find(c, 3, PDU_SEARCH_DONE, 0) != NULL, 2000);
	assert_int_equal(tmsg_find(a, 1, PDU_BIND_RES, 0)->code, LDAP_SUCCESS);     /* group g: the old login group */
	assert_int_equal(tmsg_find(b, 1, PDU_BIND_RES, 0)->code, LDAP_SUCCESS);
	assert_int_equal(tmsg_find(c, 2, PDU_SEARCH_DONE, 0)->code, LDAP_SUCCESS);
	assert_int_equal(tmsg_find(c, 3, PDU_SEARCH_DONE, 0)->code, LDAP_SUCCESS);
	assert_true(tmsg_find(c, 2, PDU_SEARCH_ENTRY, 0)->has_mail);                 /* the old attributes: "*" */
	assert_true(tmsg_find(c, 3, PDU_SEARCH_ENTRY, 0)->has_mail);
	assert_true(tmsg_find(c, 3, PDU_SEARCH_DONE, 0)->aldp_cookie);
	assert_non_null(be->paged[0]->lessee);          /* the lease goes on with the directory's cookie */
	assert_int_equal(be->paged[0]->cookie_len, strlen("directory-cookie"));
	assert_ptr_equal(find_client(a->id)->profile, oldp);
	assert_ptr_equal(find_client(b->id)->profile, oldp);

	/* a bind after the reload gets the new profile: group g no longer logs in */
	struct tcli *d = tcli_new(0);
	struct freq *gd = bind_to_group_check(d, 1, CAROL);
	f_entry(gd, CAROL, "memberOf", GROUP_G, NULL, NULL);
	f_result(gd, PDU_SEARCH_DONE, LDAP_SUCCESS);
	WAIT_FOR(tmsg_find(d, 1, PDU_BIND_RES, 0) != NULL, 2000);
	assert_int_equal(tmsg_find(d, 1, PDU_BIND_RES, 0)->code, LDAP_INVALID_CREDENTIALS);
	/* and its searches the new attributes */
	struct tcli *e = client_svc();
	send_search(e, 2, ou("plain2"), PLAIN);
	WAIT_FOR(req_find(0, PDU_SEARCH_REQ, ou("plain2"), 0) != NULL, 2000);
	struct freq *rs2 = req_find(0, PDU_SEARCH_REQ, ou("plain2"), 0);
	f_entry(rs2, "uid=z,ou=plain2," BASE_DN, "cn", "z", "mail", "z@ald.test");
	f_result(rs2, PDU_SEARCH_DONE, LDAP_SUCCESS);
	WAIT_FOR(tmsg_find(e, 2, PDU_SEARCH_DONE, 0) != NULL, 2000);
	assert_false(tmsg_find(e, 2, PDU_SEARCH_ENTRY, 0)->has_mail);
	settle(50);
	assert_int_equal(be->shared[0]->nops, 0);
	assert_int_equal(be->binders[0]->nops, 0);
	assert_int_equal(be->paged[0]->nops, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_close_during_group_check, teardown),
		cmocka_unit_test_teardown(test_close_while_group_check_waits, teardown),
		cmocka_unit_test_teardown(test_orphaned_bind, teardown),
		cmocka_unit_test_teardown(test_failover_of_pending_search, teardown),
		cmocka_unit_test_teardown(test_abandon_with_full_msgid_table, teardown),
		cmocka_unit_test_teardown(test_wait_resumed_exactly_once, teardown),
		cmocka_unit_test_teardown(test_wait_not_lost_behind_bulk_waiter, teardown),
		cmocka_unit_test_teardown(test_wait_not_lost_behind_delayed_bind, teardown),
		cmocka_unit_test_teardown(test_slow_reader_cut_off, teardown),
		cmocka_unit_test_teardown(test_reload_with_every_op_pending, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
