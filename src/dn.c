/*
 * dn.c — DN normalization (RFC 4514 string form).  See dn.h.
 */
#include "dn.h"

#include <ctype.h>
#include <string.h>

int
dn_normalize(const char *in, size_t len, char *out, size_t outlen)
{
	size_t o = 0;
	size_t i = 0;
	size_t keep = 0;        /* out[0..keep) ends with an escape: spaces there are data */
	/* leading spaces */
	while (i < len && in[i] == ' ')
		i++;
	while (i < len) {
		char ch = in[i];
		if (ch == '\\') {
			/* keep an escape pair as is, hex folded to lower case */
			if (i + 1 >= len || in[i + 1] == '\0')
				return -1;      /* a NUL is never part of a DN, escaped or not */
			if (o + 2 >= outlen)
				return -1;
			out[o++] = '\\';
			out[o++] = (char)tolower((unsigned char)in[i + 1]);
			i += 2;
			keep = o;
			continue;
		}
		if (ch == '\0')
			return -1;
		if (ch == ',' || ch == '+' || ch == '=' || ch == ';') {
			/* drop spaces before the separator, not escaped ones */
			while (o > keep && out[o - 1] == ' ')
				o--;
			if (o + 1 >= outlen)
				return -1;
			out[o++] = ch == ';' ? ',' : ch;
			i++;
			while (i < len && in[i] == ' ')
				i++;
			continue;
		}
		if (o + 1 >= outlen)
			return -1;
		out[o++] = (char)tolower((unsigned char)ch);
		i++;
	}
	while (o > keep && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
	return (int)o;
}

int
dn_is_under(const char *ndn, size_t len, const char *nbase, size_t blen)
{
	if (blen == 0)
		return 1;
	if (len < blen || memcmp(ndn + len - blen, nbase, blen) != 0)
		return 0;
	if (len == blen)
		return 1;
	/* must meet at an RDN boundary: an unescaped comma just before */
	if (ndn[len - blen - 1] != ',')
		return 0;
	size_t bs = 0;
	for (size_t k = len - blen - 1; k > 0 && ndn[k - 1] == '\\'; k--)
		bs++;
	return bs % 2 == 0;
}
