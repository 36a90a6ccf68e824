/*
 * access.c — the access log line and the metrics of every finished client
 * operation.  See access.h.
 */
#include "access.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "log.h"

static const char *const kind_upper[OPK_N] = { "BIND", "SEARCH", "COMPARE", "MODIFY", "EXTENDED", "ADD", "DELETE",
	"MODRDN", "OTHER" };

/* " key=\"value\"" with '"' and '\\' escaped, at most 256 bytes of the value (log.c defangs the rest) */
static void
quoted(char *dst, size_t dstlen, const char *key, const char *v)
{
	size_t o = (size_t)snprintf(dst, dstlen, " %s=\"", key);
	for (size_t i = 0; v[i] != '\0' && i < 256 && o + 4 < dstlen; i++) {
		if (v[i] == '"' || v[i] == '\\')
			dst[o++] = '\\';
		dst[o++] = v[i];
	}
	dst[o++] = '"';
	dst[o] = '\0';
}

void
access_op_done(struct metrics *m, uint64_t conn_id, const struct op_done *d)
{
	uint64_t now = now_us(), etime = now - d->start_us;
	metrics_record(m, d->kind, d->profile, d->code, etime, now);
	if (!log_enabled(LOG_LVL_INFO))
		return;
	char entries[32] = "", dn[600] = "", diag[600] = "";
	if (d->kind == OPK_SEARCH)
		snprintf(entries, sizeof(entries), " entries=%u", d->entries);
	if (d->dn != NULL)
		quoted(dn, sizeof(dn), "dn", d->dn);
	if (d->diag != NULL && d->diag[0] != '\0')
		quoted(diag, sizeof(diag), "diag", d->diag);
	log_info("conn=%llu op=%d %s profile=%s%s result=%d%s etime=%.6f%s", (unsigned long long)conn_id, d->msgid,
	    kind_upper[d->kind], d->profile ? d->profile : "-", dn, d->code, entries, (double)etime / 1e6, diag);
}
