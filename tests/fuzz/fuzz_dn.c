/*
 * fuzz_dn.c — DNs from clients (bind names, search bases, compare and
 * write targets, DN assertions): dn_normalize(), dn_is_under(), the
 * profile's virtual tree both ways (rewrite_dn_in/out), bind names
 * (profile_select) and visibility.
 *
 * Invariants:
 *   - normalizing is idempotent, and a DN is under itself;
 *   - ad maps DC=example,DC=com onto dc=ald,dc=test: a DN the product
 *     sees under its search base maps into the directory's tree, and a
 *     directory DN under dc=ald,dc=test maps into the product's view;
 *   - a bind name the set accepts maps to a DN.
 */
#include <stdint.h>
#include <string.h>

#include "dn.h"
#include "fuzz_common.h"
#include "policy.h"
#include "rewrite.h"
#include "select.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_profiles();
	return 0;
}

static int
norm_under(const char *dn, size_t len, const char *base)
{
	char nd[DN_MAX], nb[DN_MAX];
	int l = dn_normalize(dn, len, nd, sizeof(nd));
	int bl = dn_normalize(base, strlen(base), nb, sizeof(nb));
	FZ_CHECK(bl >= 0);
	return l >= 0 && dn_is_under(nd, (size_t)l, nb, (size_t)bl);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct fz_profiles *pr = fz_profiles();
	char *in = (char *)fz_dup(data, size);
	char n1[DN_MAX], n2[DN_MAX], out[DN_MAX], back[DN_MAX];
	int l1 = dn_normalize(in, size, n1, sizeof(n1));
	if (l1 >= 0) {
		FZ_CHECK((size_t)l1 < sizeof(n1) && n1[l1] == '\0');
		int l2 = dn_normalize(n1, (size_t)l1, n2, sizeof(n2));
		FZ_CHECK(l2 == l1 && memcmp(n1, n2, (size_t)l1) == 0);
		FZ_CHECK(dn_is_under(n1, (size_t)l1, n1, (size_t)l1));
		FZ_CHECK(dn_is_under(n1, (size_t)l1, "", 0));
		/* the product's view → the directory's */
		int o = rewrite_dn_in(pr->ad, in, size, out, sizeof(out));
		if (o >= 0) {
			FZ_CHECK((size_t)o < sizeof(out) && out[o] == '\0');
			if (dn_is_under(n1, (size_t)l1, pr->ad->search_base_norm, pr->ad->search_base_len))
				FZ_CHECK(norm_under(out, (size_t)o, "dc=ald,dc=test"));
			/* and back */
			int b = rewrite_dn_out(pr->ad, out, (size_t)o, back, sizeof(back));
			if (b >= 0 && norm_under(out, (size_t)o, "dc=ald,dc=test"))
				FZ_CHECK(norm_under(back, (size_t)b, "DC=example,DC=com"));
		}
		/* the directory's view → the product's */
		o = rewrite_dn_out(pr->ad, in, size, out, sizeof(out));
		if (o >= 0) {
			FZ_CHECK((size_t)o < sizeof(out) && out[o] == '\0');
			if (norm_under(in, size, "dc=ald,dc=test"))
				FZ_CHECK(norm_under(out, (size_t)o, "DC=example,DC=com"));
		}
		(void)policy_visibility(pr->vis, n1, (size_t)l1);
		(void)policy_dn_value_visible(pr->vis, in, size);
	}
	/* a bind name, on a listener of any profile or of ad alone */
	char real[DN_MAX];
	struct bind_choice ch;
	const struct profile *sel[] = { NULL, pr->ad };
	for (size_t i = 0; i < 2; i++) {
		const struct profile *p = profile_select(pr->set, sel[i], NULL, NULL, in, size, real, sizeof(real), &ch);
		if (p != NULL) {
			FZ_CHECK(ch.role == ROLE_SERVICE || ch.role == ROLE_USER);
			FZ_CHECK(memchr(real, '\0', sizeof(real)) != NULL);
			if (sel[i] != NULL)
				FZ_CHECK(p == sel[i]);
		}
	}
	(void)policy_uid_visible(pr->vis, in, size);
	fz_free((unsigned char *)in);
	return 0;
}
