/*
 * ldapbench - small, cheap, event-driven LDAP load generator.
 *
 * Single-threaded, libevent 2.1 event_base + raw non-blocking sockets.
 * All buffers are allocated once at start-up; requests are BER-encoded
 * by hand into the per-connection write buffer; responses are only framed
 * (outer SEQUENCE length) and inspected for messageID, protocolOp tag and,
 * where needed, resultCode.
 *
 * Modes:
 *   search  CONNS connections, each (optionally) binds once and then keeps
 *           DEPTH searches pipelined.
 *   bind    CONNS connections, each loops simple binds (one at a time).
 *   conn    CONNS concurrent sequences of connect, bind, search, unbind,
 *           close; one such sequence is one operation.
 *
 * Build: cc -std=c11 -O2 -Wall -Wextra -Werror ldapbench.c \
 *            $(pkg-config --cflags --libs libevent) -o ldapbench
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

/* ------------------------------------------------------------------ */
/* Constants                                                          */

#define MAX_DEPTH 1024
#define MAX_CONNS 10000
#define RBUF_SIZE (32 * 1024)
#define STALL_NS (10ULL * 1000000000ULL)
#define RETRY_MS 100
#define SAFETY_SECONDS_N 600 /* hard deadline when only -n is given */
#define SETUP_BIND_MSGID 0x7fffffff

/* LDAP protocolOp tags (APPLICATION, constructed where applicable) */
#define OP_BIND_REQ 0x60
#define OP_BIND_RESP 0x61
#define OP_UNBIND_REQ 0x42
#define OP_SEARCH_REQ 0x63
#define OP_SEARCH_ENTRY 0x64
#define OP_SEARCH_DONE 0x65
#define OP_SEARCH_REF 0x73
#define OP_EXTENDED_RESP 0x78

enum mode { M_SEARCH, M_BIND, M_CONN };
enum cstate { CS_IDLE, CS_CONNECTING, CS_BINDING, CS_RUNNING };

/* ------------------------------------------------------------------ */
/* Time and randomness                                                */

static inline uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static inline uint64_t rng_next(void)
{
    /* xorshift64* */
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* uniform in 1..n */
static inline unsigned rng_user(unsigned n)
{
    return (unsigned)(((rng_next() >> 32) * (uint64_t)n) >> 32) + 1;
}

/* ------------------------------------------------------------------ */
/* Histogram: log-linear, values in ns, 256 sub-buckets per octave    */
/* (relative bucket width <= 1/128, i.e. < 0.8 %), up to 2^34 ns.     */

#define H_SUB_BITS 8
#define H_SUB (1u << H_SUB_BITS)
#define H_HALF (H_SUB / 2)
#define H_MAX_BITS 34
#define H_N (H_SUB + (H_MAX_BITS - H_SUB_BITS) * H_HALF)

static uint64_t hist[H_N];
static uint64_t hist_count;
static uint64_t hist_max;

static inline unsigned h_index(uint64_t v)
{
    if (v < H_SUB)
        return (unsigned)v;
    if (v >= (1ULL << H_MAX_BITS))
        v = (1ULL << H_MAX_BITS) - 1;
    unsigned msb = 63u - (unsigned)__builtin_clzll(v);
    unsigned shift = msb - (H_SUB_BITS - 1);
    return H_SUB + (shift - 1) * H_HALF + (unsigned)((v >> shift) - H_HALF);
}

static double h_value(unsigned i)
{
    if (i < H_SUB)
        return (double)i;
    unsigned k = i - H_SUB;
    unsigned shift = k / H_HALF + 1;
    uint64_t sub = (uint64_t)(k % H_HALF) + H_HALF;
    uint64_t lo = sub << shift;
    uint64_t hi = ((sub + 1) << shift) - 1;
    return ((double)lo + (double)hi) / 2.0;
}

static inline void h_record(uint64_t v)
{
    hist[h_index(v)]++;
    hist_count++;
    if (v > hist_max)
        hist_max = v;
}

/* percentile in microseconds */
static double h_pct_us(double q)
{
    if (hist_count == 0)
        return 0.0;
    uint64_t target = (uint64_t)(q * (double)hist_count + 0.999999);
    if (target < 1)
        target = 1;
    if (target > hist_count)
        target = hist_count;
    uint64_t cum = 0;
    for (unsigned i = 0; i < H_N; i++) {
        cum += hist[i];
        if (cum >= target) {
            double v = h_value(i);
            if (v > (double)hist_max)
                v = (double)hist_max;
            return v / 1000.0;
        }
    }
    return (double)hist_max / 1000.0;
}

/* ------------------------------------------------------------------ */
/* Templates: literal text with at most one %d / %0Nd / %Nd; %% = '%' */

struct tmpl {
    char *pre;
    size_t prelen;
    char *suf;
    size_t suflen;
    int width;
    bool zero;
    bool has;
};

static bool tmpl_parse(struct tmpl *t, const char *s)
{
    size_t n = strlen(s);
    char *pre = malloc(n + 1), *suf = malloc(n + 1);
    if (!pre || !suf) {
        free(pre);
        free(suf);
        return false;
    }
    memset(t, 0, sizeof(*t));
    size_t pl = 0, sl = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '%') {
            if (s[i + 1] == '%') {
                if (t->has)
                    suf[sl++] = '%';
                else
                    pre[pl++] = '%';
                i++;
                continue;
            }
            if (t->has)
                goto bad; /* more than one conversion */
            size_t j = i + 1;
            if (s[j] == '0') {
                t->zero = true;
                j++;
            }
            int w = 0;
            while (s[j] >= '0' && s[j] <= '9') {
                w = w * 10 + (s[j] - '0');
                if (w > 20)
                    goto bad;
                j++;
            }
            if (s[j] != 'd' && s[j] != 'u')
                goto bad;
            t->width = w;
            t->has = true;
            i = j;
            continue;
        }
        if (t->has)
            suf[sl++] = ch;
        else
            pre[pl++] = ch;
    }
    pre[pl] = 0;
    suf[sl] = 0;
    t->pre = pre;
    t->prelen = pl;
    t->suf = suf;
    t->suflen = sl;
    return true;
bad:
    free(pre);
    free(suf);
    return false;
}

/* returns length; out must have room for prelen + suflen + 24 */
static inline size_t tmpl_fmt(const struct tmpl *t, unsigned v, char *out)
{
    size_t o = 0;
    memcpy(out, t->pre, t->prelen);
    o = t->prelen;
    if (t->has) {
        char tmp[24];
        int k = 0;
        do {
            tmp[k++] = (char)('0' + v % 10);
            v /= 10;
        } while (v);
        for (int pad = t->width - k; pad > 0; pad--)
            out[o++] = t->zero ? '0' : ' ';
        while (k)
            out[o++] = tmp[--k];
    }
    memcpy(out + o, t->suf, t->suflen);
    return o + t->suflen;
}

static inline size_t tmpl_maxlen(const struct tmpl *t)
{
    return t->prelen + t->suflen + 24;
}

/* ------------------------------------------------------------------ */
/* Minimal forward BER writer with length fix-up                      */

struct ber {
    uint8_t *buf;
    size_t len;
    size_t cap;
    size_t stack[16];
    int sp;
    bool err;
};

static inline void ber_init(struct ber *b, uint8_t *buf, size_t cap)
{
    b->buf = buf;
    b->len = 0;
    b->cap = cap;
    b->sp = 0;
    b->err = false;
}

static inline void ber_raw(struct ber *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        b->err = true;
        return;
    }
    memcpy(b->buf + b->len, p, n);
    b->len += n;
}

static inline void ber_byte(struct ber *b, uint8_t c)
{
    if (b->len + 1 > b->cap) {
        b->err = true;
        return;
    }
    b->buf[b->len++] = c;
}

static inline void ber_begin(struct ber *b, uint8_t tag)
{
    if (b->sp >= 16 || b->len + 2 > b->cap) {
        b->err = true;
        return;
    }
    b->buf[b->len++] = tag;
    b->stack[b->sp++] = b->len;
    b->buf[b->len++] = 0;
}

static inline void ber_end(struct ber *b)
{
    if (b->err || b->sp <= 0) {
        b->err = true;
        return;
    }
    size_t pos = b->stack[--b->sp];
    size_t clen = b->len - pos - 1;
    if (clen < 0x80) {
        b->buf[pos] = (uint8_t)clen;
        return;
    }
    unsigned nb = clen <= 0xff ? 1 : clen <= 0xffff ? 2 : clen <= 0xffffff ? 3 : 4;
    if (b->len + nb > b->cap) {
        b->err = true;
        return;
    }
    memmove(b->buf + pos + 1 + nb, b->buf + pos + 1, clen);
    b->buf[pos] = (uint8_t)(0x80 | nb);
    for (unsigned i = 0; i < nb; i++)
        b->buf[pos + 1 + i] = (uint8_t)(clen >> (8 * (nb - 1 - i)));
    b->len += nb;
}

static inline void ber_str(struct ber *b, uint8_t tag, const void *p, size_t n)
{
    ber_begin(b, tag);
    ber_raw(b, p, n);
    ber_end(b);
}

static inline void ber_int(struct ber *b, uint8_t tag, int64_t v)
{
    uint8_t tmp[9];
    int n = 0;
    /* minimal two's complement, big-endian */
    for (;;) {
        tmp[8 - n] = (uint8_t)(v & 0xff);
        n++;
        int64_t rest = v >> 8;
        if ((rest == 0 && !(tmp[9 - n] & 0x80)) || (rest == -1 && (tmp[9 - n] & 0x80)))
            break;
        v = rest;
        if (n == 8)
            break;
    }
    ber_byte(b, tag);
    ber_byte(b, (uint8_t)n);
    ber_raw(b, tmp + 9 - n, (size_t)n);
}

/* ---- RFC 4515 string filter -> BER ------------------------------- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* write unescaped value bytes of [s,e) */
static bool put_unescaped(struct ber *b, const char *s, const char *e)
{
    while (s < e) {
        if (*s == '\\') {
            if (e - s < 3)
                return false;
            int h = hexval(s[1]), l = hexval(s[2]);
            if (h < 0 || l < 0)
                return false;
            ber_byte(b, (uint8_t)(h * 16 + l));
            s += 3;
        } else {
            ber_byte(b, (uint8_t)*s++);
        }
    }
    return true;
}

static bool enc_filter(struct ber *b, const char **pp, const char *end, int depth);

static bool enc_filter_list(struct ber *b, uint8_t tag, const char **pp, const char *end, int depth)
{
    ber_begin(b, tag);
    while (*pp < end && **pp == '(') {
        if (!enc_filter(b, pp, end, depth + 1))
            return false;
    }
    ber_end(b);
    return true;
}

static bool enc_item(struct ber *b, const char *s, const char *e)
{
    /* attr op value */
    const char *eq = memchr(s, '=', (size_t)(e - s));
    if (!eq || eq == s)
        return false;
    const char *aend = eq;
    uint8_t tag = 0xa3; /* equalityMatch */
    if (eq[-1] == '~') {
        tag = 0xa8;
        aend--;
    } else if (eq[-1] == '>') {
        tag = 0xa5;
        aend--;
    } else if (eq[-1] == '<') {
        tag = 0xa6;
        aend--;
    } else if (eq[-1] == ':') {
        return false; /* extensible match: unsupported */
    }
    if (aend <= s)
        return false;
    const char *v = eq + 1;
    if (tag == 0xa3 && e - v == 1 && *v == '*') {
        ber_str(b, 0x87, s, (size_t)(aend - s)); /* present */
        return true;
    }
    bool star = memchr(v, '*', (size_t)(e - v)) != NULL;
    if (!star) {
        ber_begin(b, tag);
        ber_str(b, 0x04, s, (size_t)(aend - s));
        ber_begin(b, 0x04);
        if (!put_unescaped(b, v, e))
            return false;
        ber_end(b);
        ber_end(b);
        return true;
    }
    if (tag != 0xa3)
        return false;
    ber_begin(b, 0xa4); /* substrings */
    ber_str(b, 0x04, s, (size_t)(aend - s));
    ber_begin(b, 0x30);
    const char *p = v;
    bool first = true;
    for (;;) {
        const char *st = memchr(p, '*', (size_t)(e - p));
        const char *pe = st ? st : e;
        if (pe > p) {
            ber_begin(b, first ? 0x80 : (st ? 0x81 : 0x82));
            if (!put_unescaped(b, p, pe))
                return false;
            ber_end(b);
        }
        first = false;
        if (!st)
            break;
        p = st + 1;
    }
    ber_end(b);
    ber_end(b);
    return true;
}

static bool enc_filter(struct ber *b, const char **pp, const char *end, int depth)
{
    const char *p = *pp;
    if (depth > 8 || p >= end || *p != '(')
        return false;
    p++;
    if (p >= end)
        return false;
    bool ok;
    if (*p == '&' || *p == '|') {
        uint8_t tag = *p == '&' ? 0xa0 : 0xa1;
        p++;
        ok = enc_filter_list(b, tag, &p, end, depth);
    } else if (*p == '!') {
        p++;
        ber_begin(b, 0xa2);
        ok = enc_filter(b, &p, end, depth + 1);
        ber_end(b);
    } else {
        const char *q = p;
        while (q < end && *q != ')' && *q != '(')
            q++;
        if (q >= end || *q != ')')
            return false;
        ok = enc_item(b, p, q);
        p = q;
    }
    if (!ok || p >= end || *p != ')')
        return false;
    *pp = p + 1;
    return !b->err;
}

/* ------------------------------------------------------------------ */
/* Configuration and global state                                     */

static struct {
    enum mode mode;
    const char *mode_name;
    int conns;
    int depth;
    uint64_t total_ops; /* 0 = unlimited */
    double seconds;
    bool seconds_given;
    const char *binddn;
    const char *bindpw;
    const char *base;
    const char *filter;
    const char *attrs;
    unsigned nusers;
    const char *usertmpl;
    const char *userpw;
    bool json;
    struct sockaddr_storage addr;
    socklen_t addrlen;
} cfg;

static struct tmpl filter_t, user_t;
static uint8_t *search_mid;  /* pre-encoded baseObject .. typesOnly */
static size_t search_midlen;
static uint8_t *search_attrs; /* pre-encoded AttributeSelection */
static size_t search_attrslen;
static size_t reqmax;

static struct event_base *base;
static struct event *ev_deadline, *ev_watchdog, *ev_sigint, *ev_sigterm;

static struct {
    uint64_t ops;      /* successful operations */
    uint64_t errors;   /* failed operations (+ setup/connection failures) */
    uint64_t inflight; /* operations currently issued */
    uint64_t entries;  /* search entries received */
    uint64_t t_start, t_end, last_progress;
    bool stopping;
    bool stalled;
    uint64_t err_connect, err_result, err_noentry, err_proto, err_closed, err_setup;
} G;

struct slot {
    uint64_t t0;
    int32_t msgid;
    uint32_t entries;
    bool busy;
};

struct conn {
    int idx;
    int fd;
    enum cstate st;
    struct event *rev, *wev, *tev;
    bool rev_on, wev_on;
    uint8_t *rbuf;
    size_t rpos, rend;
    uint64_t skip;
    uint8_t *wbuf;
    size_t wpos, wend, wcap;
    uint32_t seq;
    int inflight;
    struct slot *slots;
    int *freelist;
    int nfree;
    int32_t next_msgid; /* bind / conn modes */
    bool op_active;     /* conn mode: an operation is in progress */
    uint64_t op_t0;     /* conn mode */
};

static struct conn *conns;

static void on_read(evutil_socket_t fd, short what, void *arg);
static void on_write(evutil_socket_t fd, short what, void *arg);
static void conn_start(struct conn *c);

/* ------------------------------------------------------------------ */

static void stop_run(uint64_t t)
{
    if (G.stopping)
        return;
    G.stopping = true;
    G.t_end = t;
    event_base_loopbreak(base);
}

static inline bool can_issue(void)
{
    if (G.stopping)
        return false;
    if (cfg.total_ops && G.ops + G.errors + G.inflight >= cfg.total_ops)
        return false;
    return true;
}

static inline void check_total(uint64_t t)
{
    if (cfg.total_ops && G.ops + G.errors >= cfg.total_ops)
        stop_run(t);
}

/* an operation finished with a server response (success or failure) */
static void op_done(uint64_t t0, bool ok)
{
    uint64_t t = now_ns();
    if (G.inflight)
        G.inflight--;
    if (ok) {
        G.ops++;
        h_record(t - t0);
    } else {
        G.errors++;
    }
    G.last_progress = t;
    check_total(t);
}

/* an error not tied to a completed operation (connect failure, etc.) */
static void count_error(void)
{
    G.errors++;
    check_total(now_ns());
}

static void conn_close(struct conn *c)
{
    if (c->rev_on) {
        event_del(c->rev);
        c->rev_on = false;
    }
    if (c->wev_on) {
        event_del(c->wev);
        c->wev_on = false;
    }
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
    c->st = CS_IDLE;
    c->rpos = c->rend = 0;
    c->skip = 0;
    c->wpos = c->wend = 0;
}

static void schedule_start(struct conn *c, int ms)
{
    if (G.stopping)
        return;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(c->tev, &tv);
}

/*
 * Connection-level failure: abandon all in-flight operations of this
 * connection (each counts as an error), close, retry in RETRY_MS.
 */
static void conn_fail(struct conn *c, uint64_t *counter)
{
    if (!G.stopping) {
        if (counter)
            (*counter)++;
        if (cfg.mode == M_CONN) {
            if (c->op_active) {
                c->op_active = false;
                if (G.inflight)
                    G.inflight--;
                count_error();
            } else {
                count_error();
            }
        } else {
            bool any = false;
            for (int i = 0; i < cfg.depth; i++) {
                if (c->slots[i].busy) {
                    c->slots[i].busy = false;
                    c->freelist[c->nfree++] = i;
                    c->inflight--;
                    if (G.inflight)
                        G.inflight--;
                    count_error();
                    any = true;
                }
            }
            if (!any)
                count_error();
        }
    }
    conn_close(c);
    schedule_start(c, RETRY_MS);
}

static bool wspace(struct conn *c)
{
    if (c->wcap - c->wend >= reqmax)
        return true;
    if (c->wpos > 0) {
        memmove(c->wbuf, c->wbuf + c->wpos, c->wend - c->wpos);
        c->wend -= c->wpos;
        c->wpos = 0;
    }
    return c->wcap - c->wend >= reqmax;
}

/* returns false on fatal socket error (caller must conn_fail) */
static bool flush_out(struct conn *c)
{
    while (c->wpos < c->wend) {
        ssize_t n = send(c->fd, c->wbuf + c->wpos, c->wend - c->wpos, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            c->wpos += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!c->wev_on) {
                event_add(c->wev, NULL);
                c->wev_on = true;
            }
            return true;
        }
        return false;
    }
    c->wpos = c->wend = 0;
    if (c->wev_on) {
        event_del(c->wev);
        c->wev_on = false;
    }
    return true;
}

static void fatal_encode(void)
{
    fprintf(stderr, "ldapbench: internal error: request does not fit buffer\n");
    exit(2);
}

static void put_bind(struct conn *c, int32_t msgid, const char *dn, size_t dnlen, const char *pw, size_t pwlen)
{
    if (!wspace(c))
        fatal_encode();
    struct ber b;
    ber_init(&b, c->wbuf + c->wend, c->wcap - c->wend);
    ber_begin(&b, 0x30);
    ber_int(&b, 0x02, msgid);
    ber_begin(&b, OP_BIND_REQ);
    ber_int(&b, 0x02, 3);
    ber_str(&b, 0x04, dn, dnlen);
    ber_str(&b, 0x80, pw, pwlen);
    ber_end(&b);
    ber_end(&b);
    if (b.err)
        fatal_encode();
    c->wend += b.len;
}

static size_t encode_search(uint8_t *buf, size_t cap, int32_t msgid, unsigned user)
{
    char fbuf[2048];
    size_t flen = tmpl_fmt(&filter_t, user, fbuf);
    struct ber b;
    ber_init(&b, buf, cap);
    ber_begin(&b, 0x30);
    ber_int(&b, 0x02, msgid);
    ber_begin(&b, OP_SEARCH_REQ);
    ber_raw(&b, search_mid, search_midlen);
    const char *p = fbuf;
    if (!enc_filter(&b, &p, fbuf + flen, 0) || p != fbuf + flen)
        return 0;
    ber_raw(&b, search_attrs, search_attrslen);
    ber_end(&b);
    ber_end(&b);
    return b.err ? 0 : b.len;
}

static void put_search(struct conn *c, int32_t msgid)
{
    if (!wspace(c))
        fatal_encode();
    size_t n = encode_search(c->wbuf + c->wend, c->wcap - c->wend, msgid, rng_user(cfg.nusers));
    if (!n)
        fatal_encode();
    c->wend += n;
}

static void put_setup_bind(struct conn *c, int32_t msgid)
{
    put_bind(c, msgid, cfg.binddn, strlen(cfg.binddn), cfg.bindpw ? cfg.bindpw : "",
             cfg.bindpw ? strlen(cfg.bindpw) : 0);
}

static inline int32_t next_msgid(struct conn *c)
{
    int32_t m = c->next_msgid;
    c->next_msgid = (m >= 0x7ffffff0) ? 1 : m + 1;
    return m;
}

/* search mode: keep the pipeline full */
static void fill_pipeline(struct conn *c)
{
    while (c->nfree > 0 && can_issue()) {
        int s = c->freelist[--c->nfree];
        uint64_t base_id = (uint64_t)c->seq * (uint64_t)cfg.depth;
        if (base_id + (uint64_t)cfg.depth >= 0x7ffffff0ULL) {
            c->seq = 0;
            base_id = 0;
        }
        c->seq++;
        int32_t msgid = (int32_t)(base_id + (uint64_t)s + 1);
        struct slot *sl = &c->slots[s];
        sl->busy = true;
        sl->msgid = msgid;
        sl->entries = 0;
        sl->t0 = now_ns();
        put_search(c, msgid);
        c->inflight++;
        G.inflight++;
    }
}

/* bind mode: issue one bind as a random user */
static void issue_user_bind(struct conn *c)
{
    if (!can_issue())
        return;
    char dn[4096];
    size_t dnlen = tmpl_fmt(&user_t, rng_user(cfg.nusers), dn);
    int32_t msgid = next_msgid(c);
    struct slot *sl = &c->slots[0];
    sl->busy = true;
    sl->msgid = msgid;
    sl->entries = 0;
    sl->t0 = now_ns();
    put_bind(c, msgid, dn, dnlen, cfg.userpw, strlen(cfg.userpw));
    c->inflight = 1;
    G.inflight++;
}

static void on_connected(struct conn *c)
{
    event_assign(c->rev, base, c->fd, EV_READ | EV_PERSIST, on_read, c);
    event_add(c->rev, NULL);
    c->rev_on = true;
    switch (cfg.mode) {
    case M_SEARCH:
        if (cfg.binddn) {
            c->st = CS_BINDING;
            put_setup_bind(c, SETUP_BIND_MSGID);
        } else {
            c->st = CS_RUNNING;
            fill_pipeline(c);
        }
        break;
    case M_BIND:
        c->st = CS_RUNNING;
        issue_user_bind(c);
        break;
    case M_CONN:
        if (cfg.binddn) {
            c->st = CS_BINDING;
            put_setup_bind(c, next_msgid(c));
        } else {
            c->st = CS_RUNNING;
            put_search(c, next_msgid(c));
            c->slots[0].entries = 0;
        }
        break;
    }
    if (!flush_out(c))
        conn_fail(c, &G.err_closed);
}

static void conn_start(struct conn *c)
{
    if (G.stopping || c->fd >= 0)
        return;
    if (cfg.mode == M_CONN) {
        if (!can_issue())
            return;
        c->op_active = true;
        c->op_t0 = now_ns();
        G.inflight++;
    }
    c->next_msgid = 1;
    c->seq = 0;
    int fd = socket(cfg.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        fprintf(stderr, "ldapbench: socket: %s\n", strerror(errno));
        conn_fail(c, &G.err_connect);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->fd = fd;
    event_assign(c->wev, base, fd, EV_WRITE | EV_PERSIST, on_write, c);
    int r = connect(fd, (struct sockaddr *)&cfg.addr, cfg.addrlen);
    if (r == 0) {
        on_connected(c);
        return;
    }
    if (errno == EINPROGRESS) {
        c->st = CS_CONNECTING;
        event_add(c->wev, NULL);
        c->wev_on = true;
        return;
    }
    conn_fail(c, &G.err_connect);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    conn_start((struct conn *)arg);
}

static void on_write(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct conn *c = arg;
    if (c->st == CS_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof(err);
        if (getsockopt((int)fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
            err = errno;
        event_del(c->wev);
        c->wev_on = false;
        if (err) {
            static bool warned;
            if (!warned) {
                fprintf(stderr, "ldapbench: connect: %s\n", strerror(err));
                warned = true;
            }
            conn_fail(c, &G.err_connect);
            return;
        }
        on_connected(c);
        return;
    }
    if (!flush_out(c))
        conn_fail(c, &G.err_closed);
}

/* conn mode: finish the current sequence (unbind, close) and start the next */
static void conn_seq_finish(struct conn *c, bool ok)
{
    c->op_active = false;
    op_done(c->op_t0, ok);
    if (c->fd >= 0 && c->wpos == c->wend) {
        uint8_t ub[16];
        struct ber b;
        ber_init(&b, ub, sizeof(ub));
        ber_begin(&b, 0x30);
        ber_int(&b, 0x02, next_msgid(c));
        ber_byte(&b, OP_UNBIND_REQ);
        ber_byte(&b, 0);
        ber_end(&b);
        if (send(c->fd, ub, b.len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
            /* ignore: we close anyway */
        }
    }
    conn_close(c);
    schedule_start(c, 0);
}

static void proto_error(struct conn *c, const char *what)
{
    static int warned;
    if (warned < 5) {
        fprintf(stderr, "ldapbench: protocol error on conn %d: %s\n", c->idx, what);
        warned++;
    }
    conn_fail(c, &G.err_proto);
}

/*
 * Handle one (possibly truncated, if it was too large for the buffer)
 * LDAPMessage body.  Returns false if the connection was closed/reset and
 * the caller must stop touching the buffers.
 */
static bool handle_msg(struct conn *c, const uint8_t *p, size_t n)
{
    /* messageID INTEGER */
    if (n < 3 || p[0] != 0x02 || p[1] < 1 || p[1] > 4 || (size_t)p[1] + 3 > n) {
        proto_error(c, "bad messageID");
        return false;
    }
    uint32_t id = 0;
    for (unsigned i = 0; i < p[1]; i++)
        id = (id << 8) | p[2 + i];
    int32_t msgid = (int32_t)id;
    size_t o = 2 + p[1];
    uint8_t op = p[o++];
    /* skip protocolOp length */
    if (o >= n) {
        proto_error(c, "truncated");
        return false;
    }
    if (p[o] & 0x80)
        o += 1 + (p[o] & 0x7f);
    else
        o += 1;
    int rc = -1;
    if ((op == OP_BIND_RESP || op == OP_SEARCH_DONE || op == OP_EXTENDED_RESP) && o + 3 <= n &&
        p[o] == 0x0a && p[o + 1] >= 1 && p[o + 1] <= 4 && o + 2 + p[o + 1] <= n) {
        rc = 0;
        for (unsigned i = 0; i < p[o + 1]; i++)
            rc = (rc << 8) | p[o + 2 + i];
    }
    if (msgid == 0) {
        /* unsolicited notification (e.g. notice of disconnection) */
        static bool warned;
        if (!warned) {
            fprintf(stderr, "ldapbench: unsolicited notification from server (rc=%d)\n", rc);
            warned = true;
        }
        conn_fail(c, &G.err_closed);
        return false;
    }

    switch (cfg.mode) {
    case M_SEARCH:
        if (c->st == CS_BINDING) {
            if (msgid != SETUP_BIND_MSGID || op != OP_BIND_RESP) {
                proto_error(c, "unexpected message during bind");
                return false;
            }
            if (rc != 0) {
                static bool warned;
                if (!warned) {
                    fprintf(stderr, "ldapbench: bind as '%s' failed: resultCode %d\n", cfg.binddn, rc);
                    warned = true;
                }
                conn_fail(c, &G.err_setup);
                return false;
            }
            c->st = CS_RUNNING;
            fill_pipeline(c);
            return true;
        } else {
            if (msgid < 1) {
                proto_error(c, "bad msgid");
                return false;
            }
            int s = (int)((msgid - 1) % cfg.depth);
            struct slot *sl = &c->slots[s];
            if (!sl->busy || sl->msgid != msgid) {
                proto_error(c, "response for unknown msgid");
                return false;
            }
            if (op == OP_SEARCH_ENTRY) {
                sl->entries++;
                G.entries++;
            } else if (op == OP_SEARCH_REF) {
                /* ignore */
            } else if (op == OP_SEARCH_DONE) {
                bool ok = rc == 0 && sl->entries > 0;
                if (rc != 0)
                    G.err_result++;
                else if (!sl->entries)
                    G.err_noentry++;
                sl->busy = false;
                c->freelist[c->nfree++] = s;
                c->inflight--;
                op_done(sl->t0, ok);
                fill_pipeline(c);
            } else {
                proto_error(c, "unexpected protocolOp");
                return false;
            }
        }
        return true;

    case M_BIND: {
        struct slot *sl = &c->slots[0];
        if (!sl->busy || msgid != sl->msgid || op != OP_BIND_RESP) {
            proto_error(c, "unexpected bind response");
            return false;
        }
        sl->busy = false;
        c->inflight = 0;
        if (rc != 0)
            G.err_result++;
        op_done(sl->t0, rc == 0);
        issue_user_bind(c);
        return true;
    }

    case M_CONN:
        if (c->st == CS_BINDING) {
            if (op != OP_BIND_RESP) {
                proto_error(c, "unexpected message during bind");
                return false;
            }
            if (rc != 0) {
                G.err_result++;
                conn_seq_finish(c, false);
                return false;
            }
            c->st = CS_RUNNING;
            c->slots[0].entries = 0;
            put_search(c, next_msgid(c));
            return true;
        }
        if (op == OP_SEARCH_ENTRY) {
            c->slots[0].entries++;
            G.entries++;
            return true;
        }
        if (op == OP_SEARCH_REF)
            return true;
        if (op == OP_SEARCH_DONE) {
            bool ok = rc == 0 && c->slots[0].entries > 0;
            if (rc != 0)
                G.err_result++;
            else if (!c->slots[0].entries)
                G.err_noentry++;
            conn_seq_finish(c, ok);
            return false;
        }
        proto_error(c, "unexpected protocolOp");
        return false;
    }
    return true;
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct conn *c = arg;
    if (c->rend == RBUF_SIZE) {
        /* should not happen: parse loop always makes room */
        proto_error(c, "read buffer full");
        return;
    }
    ssize_t n = recv((int)fd, c->rbuf + c->rend, RBUF_SIZE - c->rend, MSG_DONTWAIT);
    if (n == 0) {
        static bool warned;
        if (!warned && !G.stopping) {
            fprintf(stderr, "ldapbench: server closed connection\n");
            warned = true;
        }
        conn_fail(c, &G.err_closed);
        return;
    }
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return;
        conn_fail(c, &G.err_closed);
        return;
    }
    c->rend += (size_t)n;

    for (;;) {
        size_t avail = c->rend - c->rpos;
        if (c->skip) {
            size_t k = avail < c->skip ? avail : (size_t)c->skip;
            c->rpos += k;
            c->skip -= k;
            if (c->skip)
                break;
            continue;
        }
        if (avail < 2)
            break;
        const uint8_t *p = c->rbuf + c->rpos;
        if (p[0] != 0x30) {
            proto_error(c, "message is not a SEQUENCE");
            return;
        }
        size_t hl, len;
        if (p[1] < 0x80) {
            len = p[1];
            hl = 2;
        } else {
            unsigned nb = p[1] & 0x7f;
            if (nb == 0 || nb > 4) {
                proto_error(c, "bad length");
                return;
            }
            if (avail < 2 + nb)
                break;
            len = 0;
            for (unsigned i = 0; i < nb; i++)
                len = (len << 8) | p[2 + i];
            hl = 2 + nb;
        }
        size_t total = hl + len;
        if (avail >= total) {
            c->rpos += total;
            if (!handle_msg(c, p + hl, len))
                return;
            continue;
        }
        if (total > RBUF_SIZE) {
            /* too big to ever buffer: inspect the head, skip the rest */
            size_t want = len < 64 ? len : 64;
            if (avail < hl + want)
                break;
            c->rpos = c->rend;
            c->skip = total - avail;
            if (!handle_msg(c, p + hl, avail - hl))
                return;
            continue;
        }
        break;
    }
    if (c->rpos == c->rend) {
        c->rpos = c->rend = 0;
    } else if (c->rpos > 0 && (RBUF_SIZE - c->rend) < 4096) {
        memmove(c->rbuf, c->rbuf + c->rpos, c->rend - c->rpos);
        c->rend -= c->rpos;
        c->rpos = 0;
    }
    if (c->fd >= 0 && c->wend > c->wpos && !flush_out(c))
        conn_fail(c, &G.err_closed);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    stop_run(now_ns());
}

static void on_signal(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    stop_run(now_ns());
}

static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    uint64_t t = now_ns();
    if (t - G.last_progress > STALL_NS) {
        fprintf(stderr, "ldapbench: ERROR: no progress for %.0f s, giving up\n",
                (double)(t - G.last_progress) / 1e9);
        G.stalled = true;
        G.errors += G.inflight; /* abandoned operations count as errors */
        G.inflight = 0;
        stop_run(t);
    }
}

/* ------------------------------------------------------------------ */
/* Setup                                                              */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: ldapbench -H ldap://HOST[:PORT] -m search|bind|conn [-c CONNS] [-d DEPTH]\n"
            "                 [-n TOTAL_OPS | -t SECONDS] [-D binddn -w password] [-b base]\n"
            "                 [-f filter_template] [-a attrs] [-u NUSERS] [-U user_dn_template]\n"
            "                 [-W userpw] [-o json|text] [-s seed]\n"
            "  -c CONNS   concurrent connections (default 16)\n"
            "  -d DEPTH   searches in flight per connection, search mode only (default 8)\n"
            "  -n OPS     stop after OPS operations (successes + errors)\n"
            "  -t SECS    stop after SECS seconds (default 10; with -n only: safety limit %d s)\n"
            "  -f TMPL    filter template, %%d/%%0Nd = random user 1..NUSERS (default (uid=user%%04d))\n"
            "  -b BASE    search base (default cn=users,cn=accounts,dc=ald,dc=test)\n"
            "  -a ATTRS   comma-separated attribute list (default uid,cn,mail; \"\" = all)\n"
            "  -u N       number of users (default 1000)\n"
            "  -U TMPL    bind-mode user DN template (default uid=user%%04d,cn=users,cn=accounts,dc=ald,dc=test)\n"
            "  -W PW      bind-mode user password (default Secret123)\n"
            "exit: 0 ok, 1 errors > 0, 2 usage/fatal error or stall (no progress for 10 s)\n",
            SAFETY_SECONDS_N);
}

static bool parse_url(const char *url)
{
    const char *p;
    if (strncasecmp(url, "ldap://", 7) == 0) {
        p = url + 7;
    } else if (strncasecmp(url, "ldaps://", 8) == 0 || strncasecmp(url, "ldapi://", 8) == 0) {
        fprintf(stderr, "ldapbench: only ldap:// URLs are supported\n");
        return false;
    } else {
        fprintf(stderr, "ldapbench: bad URL '%s'\n", url);
        return false;
    }
    char host[256], port[16] = "389";
    const char *hs, *he, *ps = NULL;
    if (*p == '[') {
        hs = p + 1;
        he = strchr(hs, ']');
        if (!he)
            return false;
        if (he[1] == ':')
            ps = he + 2;
    } else {
        hs = p;
        he = hs;
        while (*he && *he != ':' && *he != '/')
            he++;
        if (*he == ':')
            ps = he + 1;
    }
    size_t hl = (size_t)(he - hs);
    if (hl == 0) {
        hs = "127.0.0.1";
        hl = strlen(hs);
    }
    if (hl >= sizeof(host))
        return false;
    memcpy(host, hs, hl);
    host[hl] = 0;
    if (ps) {
        size_t pl = strcspn(ps, "/");
        if (pl == 0 || pl >= sizeof(port))
            return false;
        memcpy(port, ps, pl);
        port[pl] = 0;
    }
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    int r = getaddrinfo(host, port, &hints, &res);
    if (r != 0 || !res) {
        fprintf(stderr, "ldapbench: cannot resolve %s:%s: %s\n", host, port, gai_strerror(r));
        return false;
    }
    memcpy(&cfg.addr, res->ai_addr, res->ai_addrlen);
    cfg.addrlen = res->ai_addrlen;
    freeaddrinfo(res);
    return true;
}

static bool parse_u64(const char *s, uint64_t *out)
{
    char *e;
    errno = 0;
    unsigned long long v = strtoull(s, &e, 10);
    if (errno || e == s || *e || s[0] == '-')
        return false;
    *out = v;
    return true;
}

static bool prepare_templates(void)
{
    /* fixed part of SearchRequest: baseObject .. typesOnly */
    size_t cap = strlen(cfg.base) + 64;
    search_mid = malloc(cap);
    struct ber b;
    ber_init(&b, search_mid, cap);
    ber_str(&b, 0x04, cfg.base, strlen(cfg.base));
    ber_int(&b, 0x0a, 2); /* wholeSubtree */
    ber_int(&b, 0x0a, 0); /* neverDerefAliases */
    ber_int(&b, 0x02, 0); /* sizeLimit */
    ber_int(&b, 0x02, 0); /* timeLimit */
    ber_byte(&b, 0x01);   /* typesOnly FALSE */
    ber_byte(&b, 0x01);
    ber_byte(&b, 0x00);
    if (b.err)
        return false;
    search_midlen = b.len;

    cap = strlen(cfg.attrs) * 2 + 64;
    search_attrs = malloc(cap);
    ber_init(&b, search_attrs, cap);
    ber_begin(&b, 0x30);
    const char *a = cfg.attrs;
    while (*a) {
        const char *e = strchr(a, ',');
        size_t l = e ? (size_t)(e - a) : strlen(a);
        while (l && *a == ' ') {
            a++;
            l--;
        }
        while (l && a[l - 1] == ' ')
            l--;
        if (l)
            ber_str(&b, 0x04, a, l);
        if (!e)
            break;
        a = e + 1;
    }
    ber_end(&b);
    if (b.err)
        return false;
    search_attrslen = b.len;

    if (!tmpl_parse(&filter_t, cfg.filter)) {
        fprintf(stderr, "ldapbench: bad filter template (at most one %%d/%%0Nd allowed)\n");
        return false;
    }
    if (tmpl_maxlen(&filter_t) > 2000) {
        fprintf(stderr, "ldapbench: filter template too long\n");
        return false;
    }
    if (!tmpl_parse(&user_t, cfg.usertmpl)) {
        fprintf(stderr, "ldapbench: bad user DN template\n");
        return false;
    }
    if (tmpl_maxlen(&user_t) > 4000) {
        fprintf(stderr, "ldapbench: user DN template too long\n");
        return false;
    }
    /* validate filter and size the per-request maximum */
    size_t tcap = 65536;
    uint8_t *tmp = malloc(tcap);
    size_t sl = encode_search(tmp, tcap, 0x7fffffff, UINT_MAX);
    if (!sl) {
        fprintf(stderr, "ldapbench: cannot encode filter '%s' (supported: & | ! = ~= >= <= =* substrings)\n",
                cfg.filter);
        free(tmp);
        return false;
    }
    free(tmp);
    size_t bl = tmpl_maxlen(&user_t) + strlen(cfg.userpw) + (cfg.binddn ? strlen(cfg.binddn) : 0) +
                (cfg.bindpw ? strlen(cfg.bindpw) : 0) + 64;
    reqmax = (sl > bl ? sl : bl) + 64;
    return true;
}

int main(int argc, char **argv)
{
    const char *url = "ldap://127.0.0.1:389";
    const char *mode = NULL;
    const char *out = "text";
    uint64_t seed = 0;
    bool seed_given = false;
    cfg.conns = 16;
    cfg.depth = 8;
    cfg.seconds = 10;
    cfg.base = "cn=users,cn=accounts,dc=ald,dc=test";
    cfg.filter = "(uid=user%04d)";
    cfg.attrs = "uid,cn,mail";
    cfg.nusers = 1000;
    cfg.usertmpl = "uid=user%04d,cn=users,cn=accounts,dc=ald,dc=test";
    cfg.userpw = "Secret123";

    int opt;
    uint64_t v;
    while ((opt = getopt(argc, argv, "H:m:c:d:n:t:D:w:b:f:a:u:U:W:o:s:h")) != -1) {
        switch (opt) {
        case 'H':
            url = optarg;
            break;
        case 'm':
            mode = optarg;
            break;
        case 'c':
            if (!parse_u64(optarg, &v) || v < 1 || v > MAX_CONNS) {
                fprintf(stderr, "ldapbench: -c must be 1..%d\n", MAX_CONNS);
                return 2;
            }
            cfg.conns = (int)v;
            break;
        case 'd':
            if (!parse_u64(optarg, &v) || v < 1 || v > MAX_DEPTH) {
                fprintf(stderr, "ldapbench: -d must be 1..%d\n", MAX_DEPTH);
                return 2;
            }
            cfg.depth = (int)v;
            break;
        case 'n':
            if (!parse_u64(optarg, &v) || v < 1) {
                fprintf(stderr, "ldapbench: bad -n\n");
                return 2;
            }
            cfg.total_ops = v;
            break;
        case 't': {
            char *e;
            double d = strtod(optarg, &e);
            if (e == optarg || *e || !(d > 0) || d > 86400) {
                fprintf(stderr, "ldapbench: bad -t\n");
                return 2;
            }
            cfg.seconds = d;
            cfg.seconds_given = true;
            break;
        }
        case 'D':
            cfg.binddn = optarg;
            break;
        case 'w':
            cfg.bindpw = optarg;
            break;
        case 'b':
            cfg.base = optarg;
            break;
        case 'f':
            cfg.filter = optarg;
            break;
        case 'a':
            cfg.attrs = optarg;
            break;
        case 'u':
            if (!parse_u64(optarg, &v) || v < 1 || v > 1000000000) {
                fprintf(stderr, "ldapbench: bad -u\n");
                return 2;
            }
            cfg.nusers = (unsigned)v;
            break;
        case 'U':
            cfg.usertmpl = optarg;
            break;
        case 'W':
            cfg.userpw = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case 's':
            if (!parse_u64(optarg, &seed)) {
                fprintf(stderr, "ldapbench: bad -s\n");
                return 2;
            }
            seed_given = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc || !mode) {
        usage(stderr);
        return 2;
    }
    if (strcmp(mode, "search") == 0)
        cfg.mode = M_SEARCH;
    else if (strcmp(mode, "bind") == 0)
        cfg.mode = M_BIND;
    else if (strcmp(mode, "conn") == 0)
        cfg.mode = M_CONN;
    else {
        fprintf(stderr, "ldapbench: unknown mode '%s'\n", mode);
        return 2;
    }
    cfg.mode_name = mode;
    if (strcmp(out, "json") == 0)
        cfg.json = true;
    else if (strcmp(out, "text") != 0) {
        fprintf(stderr, "ldapbench: -o must be json or text\n");
        return 2;
    }
    if (cfg.mode != M_SEARCH)
        cfg.depth = 1; /* binds cannot be pipelined; conn mode is sequential */
    if (cfg.total_ops && !cfg.seconds_given)
        cfg.seconds = SAFETY_SECONDS_N;
    if (cfg.bindpw && !cfg.binddn) {
        fprintf(stderr, "ldapbench: -w given without -D\n");
        return 2;
    }
    if (!parse_url(url))
        return 2;
    if (!prepare_templates())
        return 2;

    if (!seed_given)
        seed = now_ns() ^ ((uint64_t)getpid() << 32);
    rng_state = seed ? seed : 1;
    for (int i = 0; i < 4; i++)
        rng_next();

    signal(SIGPIPE, SIG_IGN);
    struct event_config *ecfg = event_config_new();
    event_config_set_flag(ecfg, EVENT_BASE_FLAG_NOLOCK);
    base = event_base_new_with_config(ecfg);
    event_config_free(ecfg);
    if (!base) {
        fprintf(stderr, "ldapbench: event_base_new failed\n");
        return 2;
    }

    conns = calloc((size_t)cfg.conns, sizeof(*conns));
    if (!conns)
        return 2;
    size_t esz = event_get_struct_event_size();
    for (int i = 0; i < cfg.conns; i++) {
        struct conn *c = &conns[i];
        c->idx = i;
        c->fd = -1;
        c->rbuf = malloc(RBUF_SIZE);
        c->wcap = (size_t)(cfg.depth + 2) * reqmax;
        c->wbuf = malloc(c->wcap);
        c->slots = calloc((size_t)cfg.depth, sizeof(struct slot));
        c->freelist = malloc(sizeof(int) * (size_t)cfg.depth);
        c->rev = malloc(esz);
        c->wev = malloc(esz);
        c->tev = malloc(esz);
        if (!c->rbuf || !c->wbuf || !c->slots || !c->freelist || !c->rev || !c->wev || !c->tev) {
            fprintf(stderr, "ldapbench: out of memory\n");
            return 2;
        }
        for (int s = cfg.depth - 1; s >= 0; s--)
            c->freelist[c->nfree++] = s;
        /* placeholders; re-assigned with the real fd on each connect */
        event_assign(c->rev, base, -1, EV_READ | EV_PERSIST, on_read, c);
        event_assign(c->wev, base, -1, EV_WRITE | EV_PERSIST, on_write, c);
        evtimer_assign(c->tev, base, on_timer, c);
    }

    ev_deadline = evtimer_new(base, on_deadline, NULL);
    ev_watchdog = event_new(base, -1, EV_PERSIST, on_watchdog, NULL);
    ev_sigint = evsignal_new(base, SIGINT, on_signal, NULL);
    ev_sigterm = evsignal_new(base, SIGTERM, on_signal, NULL);
    struct timeval tv;
    tv.tv_sec = (time_t)cfg.seconds;
    tv.tv_usec = (suseconds_t)((cfg.seconds - (double)tv.tv_sec) * 1e6);
    evtimer_add(ev_deadline, &tv);
    struct timeval one = {0, 250000};
    event_add(ev_watchdog, &one);
    event_add(ev_sigint, NULL);
    event_add(ev_sigterm, NULL);

    G.t_start = now_ns();
    G.last_progress = G.t_start;
    for (int i = 0; i < cfg.conns; i++)
        conn_start(&conns[i]);

    if (!G.stopping)
        event_base_dispatch(base);
    if (!G.stopping)
        stop_run(now_ns()); /* loop ran out of events (should not happen) */

    for (int i = 0; i < cfg.conns; i++) {
        evtimer_del(conns[i].tev);
        conn_close(&conns[i]);
    }

    double secs = (double)(G.t_end - G.t_start) / 1e9;
    double ops_s = secs > 0 ? (double)G.ops / secs : 0.0;
    double p50 = h_pct_us(0.50), p90 = h_pct_us(0.90), p99 = h_pct_us(0.99), p999 = h_pct_us(0.999);
    double maxus = (double)hist_max / 1000.0;

    if (cfg.json) {
        printf("{\"mode\":\"%s\",\"conns\":%d,\"depth\":%d,\"ops\":%" PRIu64 ",\"errors\":%" PRIu64
               ",\"seconds\":%.3f,\"ops_per_sec\":%.1f,\"p50_us\":%.1f,\"p90_us\":%.1f,\"p99_us\":%.1f,"
               "\"p999_us\":%.1f,\"max_us\":%.1f}\n",
               cfg.mode_name, cfg.conns, cfg.depth, G.ops, G.errors, secs, ops_s, p50, p90, p99, p999, maxus);
    } else {
        printf("mode        %s\n", cfg.mode_name);
        printf("conns       %d\n", cfg.conns);
        printf("depth       %d\n", cfg.depth);
        printf("ops         %" PRIu64 "\n", G.ops);
        printf("errors      %" PRIu64, G.errors);
        if (G.errors)
            printf("  (connect %" PRIu64 ", closed %" PRIu64 ", protocol %" PRIu64 ", setup-bind %" PRIu64
                   ", result!=0 %" PRIu64 ", no-entries %" PRIu64 ")",
                   G.err_connect, G.err_closed, G.err_proto, G.err_setup, G.err_result, G.err_noentry);
        printf("\n");
        if (cfg.mode != M_BIND)
            printf("entries     %" PRIu64 "\n", G.entries);
        printf("seconds     %.3f\n", secs);
        printf("ops/s       %.1f\n", ops_s);
        printf("latency us  p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f\n", p50, p90, p99, p999, maxus);
    }
    fflush(stdout);
    if (G.stalled)
        return 2;
    return G.errors == 0 ? 0 : 1;
}
