/*
 * fuzz_filter.c — search filters, both forms.
 *
 * An input whose first byte is a BER filter tag (0x80 and above) is a
 * client's filter: filter_decode() → policy_filter_check() against the
 * profiles ad ("*", a virtual tree), vis (visible groups) and crm (an
 * allowlist) → rewrite_filter() → filter_encode(), what search.c does.
 * Any other input is a string: filter_parse() → filter_print()
 * (aldproxyctl explain).
 *
 * Invariants:
 *   - a decoded filter encodes; the encoding decodes again and re-encodes
 *     to the same bytes; printing it and parsing the text gives the same text;
 *   - what policy_filter_check() accepts tests only valid, allowed,
 *     non-secret attributes (checked here independently), and once
 *     rewritten it still tests no secret, and encodes and decodes;
 *   - a parsed string prints; the printed text parses and prints the same;
 *     its encoding decodes.
 */
#include <stdint.h>
#include <string.h>
#include <ldap.h>

#include "arena.h"
#include "filter.h"
#include "fuzz_common.h"
#include "policy.h"
#include "rewrite.h"

#define ENC_CAP (1 << 18)
#define TXT_CAP (1 << 18)

static struct arena arena;
static unsigned char *enc1, *enc2;
static char *txt1, *txt2;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_profiles();
	enc1 = malloc(ENC_CAP);
	enc2 = malloc(ENC_CAP);
	txt1 = malloc(TXT_CAP);
	txt2 = malloc(TXT_CAP);
	FZ_CHECK(enc1 && enc2 && txt1 && txt2 && arena_init(&arena, 8 << 20) == 0);
	return 0;
}

/* Every leaf of an accepted filter, checked without policy_filter_check(). */
static void
check_accepted(const struct profile *p, const struct fnode *f)
{
	switch (f->kind) {
	case F_AND:
	case F_OR:
	case F_NOT:
		for (const struct fnode *c = f->child; c != NULL; c = c->next)
			check_accepted(p, c);
		return;
	case F_TRUE:
	case F_FALSE:
		return;
	default:
		break;
	}
	FZ_CHECK(f->attr.bv_len > 0);
	FZ_CHECK(policy_attrdesc_valid(f->attr.bv_val, f->attr.bv_len, NULL));
	FZ_CHECK(!policy_attr_secret(f->attr.bv_val, f->attr.bv_len));
	FZ_CHECK(!policy_attr_is_oid(f->attr.bv_val, f->attr.bv_len));
	FZ_CHECK(policy_attr_allowed(p, f->attr.bv_val, f->attr.bv_len));
	if (f->kind == F_EXT && f->dnattrs)
		FZ_CHECK(p->all_attributes);
}

/* What goes to the directory after the rewrite: no secret is tested, no type-less extensible match. */
static void
check_rewritten(const struct fnode *f)
{
	switch (f->kind) {
	case F_AND:
	case F_OR:
	case F_NOT:
		for (const struct fnode *c = f->child; c != NULL; c = c->next)
			check_rewritten(c);
		if (f->kind == F_NOT)
			FZ_CHECK(f->child != NULL && f->child->next == NULL);
		return;
	case F_TRUE:
	case F_FALSE:
		return;
	default:
		break;
	}
	FZ_CHECK(f->attr.bv_len > 0);
	FZ_CHECK(!policy_attr_secret(f->attr.bv_val, f->attr.bv_len));
}

/* decode(enc) must succeed and re-encode to the same bytes. */
static void
check_roundtrip(const unsigned char *enc, size_t n)
{
	struct fnode *g = NULL;
	struct berval bv = { n, (char *)enc };
	FZ_CHECK(filter_decode(&arena, &bv, &g) == 0);
	size_t m = filter_encode(g, enc2, ENC_CAP);
	FZ_CHECK(m == n && memcmp(enc2, enc, n) == 0);
}

/* printed text parses and prints the same */
static void
check_print_parse(const char *txt)
{
	struct fnode *g = NULL;
	const char *err = NULL;
	if (strlen(txt) + 3 >= 4096 && txt[0] != '(')
		return;             /* filter_parse wraps bare items up to 4 KB only */
	FZ_CHECK(filter_parse(&arena, txt, &g, &err) == 0);
	FZ_CHECK(filter_print(g, txt2, TXT_CAP) >= 0);
	FZ_CHECK(strcmp(txt, txt2) == 0);
}

/* Whether a matching rule prints and parses back (a descr or numericoid, no options). */
static int
rules_printable(const struct fnode *f)
{
	if (f->kind == F_AND || f->kind == F_OR || f->kind == F_NOT) {
		for (const struct fnode *c = f->child; c != NULL; c = c->next)
			if (!rules_printable(c))
				return 0;
		return 1;
	}
	if (f->kind != F_EXT || f->rule.bv_len == 0)
		return 1;
	return memchr(f->rule.bv_val, ';', f->rule.bv_len) == NULL &&
	    policy_attrdesc_valid(f->rule.bv_val, f->rule.bv_len, NULL) &&
	    !(f->rule.bv_len == 2 && strncasecmp(f->rule.bv_val, "dn", 2) == 0);
}

static void
ber_input(const uint8_t *data, size_t size)
{
	const struct fz_profiles *pr = fz_profiles();
	unsigned char *buf = fz_dup(data, size);
	struct berval bv = { size, (char *)buf };
	struct fnode *f = NULL;
	arena_reset(&arena);
	if (filter_decode(&arena, &bv, &f) != 0) {
		fz_free(buf);
		return;
	}
	size_t n = filter_encode(f, enc1, ENC_CAP);
	FZ_CHECK(n > 0);
	check_roundtrip(enc1, n);
	const struct profile *ps[] = { pr->ad, pr->vis, pr->crm };
	int any_ok = 0;
	for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++) {
		const struct profile *p = ps[i];
		arena_reset(&arena);
		struct berval again = { size, (char *)buf };
		FZ_CHECK(filter_decode(&arena, &again, &f) == 0);
		char diag[512] = "";
		int code = policy_filter_check(p, f, diag, sizeof(diag));
		if (code != LDAP_SUCCESS) {
			FZ_CHECK(code == LDAP_PROTOCOL_ERROR || code == LDAP_INSUFFICIENT_ACCESS);
			FZ_CHECK(strncmp(diag, "aldproxy: ", 10) == 0);
			continue;
		}
		any_ok = 1;
		check_accepted(p, f);
		/* the text aldproxyctl explain shows parses back to itself */
		if (rules_printable(f) && filter_print(f, txt1, TXT_CAP) >= 0)
			check_print_parse(txt1);
		struct fnode *r = rewrite_filter(p, &arena, f, 1, NULL);
		if (r == NULL)
			continue;       /* arena exhausted: adminLimitExceeded */
		check_rewritten(r);
		size_t m = filter_encode(r, enc1, ENC_CAP);
		FZ_CHECK(m > 0);
		check_roundtrip(enc1, m);
	}
	(void)any_ok;
	fz_free(buf);
}

static void
string_input(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	FZ_CHECK(s != NULL);
	memcpy(s, data, size);
	s[size] = '\0';
	struct fnode *f = NULL;
	const char *err = NULL;
	arena_reset(&arena);
	if (filter_parse(&arena, s, &f, &err) != 0) {
		FZ_CHECK(err != NULL && *err != '\0');
		free(s);
		return;
	}
	int n = filter_print(f, txt1, TXT_CAP);
	FZ_CHECK(n >= 0 && (size_t)n == strlen(txt1));
	check_print_parse(txt1);
	size_t m = filter_encode(f, enc1, ENC_CAP);
	FZ_CHECK(m > 0);
	struct fnode *g = NULL;
	struct berval bv = { m, (char *)enc1 };
	FZ_CHECK(filter_decode(&arena, &bv, &g) == 0);
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 0 && data[0] >= 0x80)
		ber_input(data, size);
	else
		string_input(data, size);
	return 0;
}
