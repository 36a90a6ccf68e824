/*
 * peers.c — connections per address, failed binds per address and per
 * account, the directory bind budget.  See peers.h.
 */
#include "peers.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"

#define NBUCKETS 4096
#define MAX_ENTRIES 65536           /* per table: past it, new keys are not tracked (counted as one) */
#define KEY_MAX 256
#define HALF_LIFE_US 60000000.0     /* failures halve every minute */
#define DELAY_MIN_US 100000.0
#define DELAY_MAX_US 10000000.0

struct entry {
	struct entry *next;
	unsigned conns;
	double fails;               /* decayed count */
	uint64_t fail_us;           /* when fails was last decayed */
	uint64_t last_fail_us;      /* the last failure: the delay counts from it */
	uint64_t blocked_until;
	char key[];
};

struct table {
	struct entry *b[NBUCKETS];
	size_t n;
	struct entry overflow;      /* every key past MAX_ENTRIES */
};

static struct table addrs, accounts;
static double budget_tokens;
static uint64_t budget_us;

static size_t
hash(const char *s, size_t n)
{
	size_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)tolower((unsigned char)s[i])) * 16777619u;
	return h % NBUCKETS;
}

static struct entry *
find(struct table *t, const char *key, size_t n, int create)
{
	if (n > KEY_MAX)
		n = KEY_MAX;
	size_t h = hash(key, n);
	for (struct entry *e = t->b[h]; e != NULL; e = e->next)
		if (strlen(e->key) == n && strncasecmp(e->key, key, n) == 0)
			return e;
	if (!create)
		return NULL;
	if (t->n >= MAX_ENTRIES)
		return &t->overflow;
	struct entry *e = calloc(1, sizeof(*e) + n + 1);
	if (e == NULL)
		return &t->overflow;
	memcpy(e->key, key, n);
	e->next = t->b[h];
	t->b[h] = e;
	t->n++;
	return e;
}

static double
decayed(struct entry *e, uint64_t now)
{
	if (e->fails > 0 && now > e->fail_us) {
		e->fails *= pow(0.5, (double)(now - e->fail_us) / HALF_LIFE_US);
		e->fail_us = now;
	}
	return e->fails;
}

int
peers_connect(const struct config *cfg, const char *ip)
{
	struct entry *e = find(&addrs, ip, strlen(ip), 1);
	if (e != &addrs.overflow && (long)e->conns >= cfg->max_connections_per_address)
		return -1;
	e->conns++;
	return 0;
}

void
peers_disconnect(const char *ip)
{
	struct entry *e = find(&addrs, ip, strlen(ip), 0);
	if (e == NULL)
		e = &addrs.overflow;
	if (e->conns > 0)
		e->conns--;
}

/* When the next bind may go after `fails` failures (`threshold` free), the last at `last`. */
static uint64_t
not_before(long threshold, double fails, uint64_t last)
{
	double over = fails - (double)threshold;
	if (over < 0)
		return 0;
	double d = DELAY_MIN_US * pow(2.0, over);
	return last + (uint64_t)(d > DELAY_MAX_US ? DELAY_MAX_US : d);
}

uint64_t
peers_bind_wait(const struct config *cfg, const char *ip, const char *account, size_t alen, uint64_t now, int *blocked,
    double *until)
{
	*blocked = 0;
	struct entry *a = find(&addrs, ip, strlen(ip), 0), *u = find(&accounts, account, alen, 0);
	uint64_t t = 0;
	if (a != NULL) {
		if (a->blocked_until > now) {
			*blocked = 1;
			*until = (double)(a->blocked_until - now) / 1e6;
			return 0;
		}
		uint64_t nb = not_before(cfg->address_failures_delay, decayed(a, now), a->last_fail_us);
		t = nb > t ? nb : t;
	}
	if (u != NULL) {
		uint64_t nb = not_before(cfg->account_failures_delay, decayed(u, now), u->last_fail_us);
		t = nb > t ? nb : t;
	}
	return t > now ? t - now : 0;
}

int
peers_bind_failed(const struct config *cfg, const char *ip, const char *account, size_t alen, uint64_t now)
{
	struct entry *a = find(&addrs, ip, strlen(ip), 1), *u = find(&accounts, account, alen, 1);
	decayed(u, now);
	u->fails += 1;
	u->fail_us = u->last_fail_us = now;
	decayed(a, now);
	a->fails += 1;
	a->fail_us = a->last_fail_us = now;
	if (a != &addrs.overflow && a->blocked_until <= now && a->fails + 0.5 >= (double)cfg->address_failures_block &&
	    cfg->address_block_time > 0) {
		a->blocked_until = now + (uint64_t)(cfg->address_block_time * 1e6);
		a->fails = 0;
		return 1;
	}
	return 0;
}

void
peers_bind_ok(const char *account, size_t alen)
{
	struct entry *u = find(&accounts, account, alen, 0);
	if (u != NULL && u != &accounts.overflow)
		u->fails = 0;       /* the owner knows the password; the address keeps its count */
}

uint64_t
peers_bind_budget(const struct config *cfg, uint64_t now)
{
	double rate = (double)cfg->max_binds_per_second;
	if (rate <= 0)
		return 0;
	if (budget_us == 0) {
		budget_us = now;
		budget_tokens = rate;
	}
	budget_tokens += rate * (double)(now - budget_us) / 1e6;
	if (budget_tokens > rate)
		budget_tokens = rate;       /* a burst of one second at most */
	budget_us = now;
	if (budget_tokens >= 1) {
		budget_tokens -= 1;
		return 0;
	}
	return (uint64_t)((1 - budget_tokens) / rate * 1e6) + 1;
}

static void
sweep(struct table *t, uint64_t now)
{
	for (size_t h = 0; h < NBUCKETS; h++)
		for (struct entry **pe = &t->b[h]; *pe != NULL;) {
			struct entry *e = *pe;
			if (e->conns == 0 && e->blocked_until <= now && decayed(e, now) < 0.5) {
				*pe = e->next;
				free(e);
				t->n--;
			} else {
				pe = &e->next;
			}
		}
}

void
peers_sweep(uint64_t now)
{
	static uint64_t last;
	if (now - last < 10000000)
		return;     /* every 10 s is enough */
	last = now;
	sweep(&addrs, now);
	sweep(&accounts, now);
}

static void
clear(struct table *t)
{
	for (size_t h = 0; h < NBUCKETS; h++)
		while (t->b[h] != NULL) {
			struct entry *e = t->b[h];
			t->b[h] = e->next;
			free(e);
		}
	t->n = 0;
}

void
peers_free(void)
{
	clear(&addrs);
	clear(&accounts);
}
