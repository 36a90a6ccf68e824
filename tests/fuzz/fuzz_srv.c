/*
 * fuzz_srv.c — DNS answers for backend.srv_domain (srv_parse()): what a
 * resolver returns is parsed with libresolv's ns_* functions and
 * dn_expand(), then sorted.
 *
 * Invariants: at most max targets, each with a non-empty host name, a
 * port and priority in 16 bits, sorted by priority then weight
 * descending; an error says why.
 */
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "srv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65535)
		return 0;
	unsigned char *ans = fz_dup(data, size);
	struct srv_target t[8];
	char err[200] = "";
	memset(t, 0x55, sizeof(t));
	int max = size > 0 ? 1 + data[0] % 8 : 8;
	int n = srv_parse(ans, (int)size, t, max, err, sizeof(err));
	if (n < 0) {
		FZ_CHECK(n == -1 && err[0] != '\0');
	} else {
		FZ_CHECK(n >= 1 && n <= max);
		for (int i = 0; i < n; i++) {
			FZ_CHECK(memchr(t[i].host, '\0', sizeof(t[i].host)) != NULL);
			FZ_CHECK(t[i].host[0] != '\0' && strcmp(t[i].host, ".") != 0);
			FZ_CHECK(t[i].port >= 0 && t[i].port <= 65535);
			FZ_CHECK(t[i].priority >= 0 && t[i].priority <= 65535 && t[i].weight >= 0 && t[i].weight <= 65535);
			if (i > 0)
				FZ_CHECK(t[i - 1].priority < t[i].priority ||
				    (t[i - 1].priority == t[i].priority && t[i - 1].weight >= t[i].weight));
		}
	}
	fz_free(ans);
	return 0;
}
