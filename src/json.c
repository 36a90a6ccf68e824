/*
 * json.c — JSON string escaping.  See json.h.
 */
#include "json.h"

#include <event2/buffer.h>

int
utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];
	int n;
	unsigned min;
	unsigned cp;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;       /* also stops at the terminating NUL */
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

void
json_str(struct evbuffer *o, const char *s)
{
	if (s == NULL) {
		evbuffer_add(o, "null", 4);
		return;
	}
	evbuffer_add(o, "\"", 1);
	const char *run = s;
	while (*s) {
		unsigned char c = (unsigned char)*s;
		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x7f) {
			s++;
			continue;
		}
		if (c >= 0x80) {
			int n = utf8_len((const unsigned char *)s);
			if (n > 0) {
				s += n;
				continue;
			}
		}
		evbuffer_add(o, run, (size_t)(s - run));
		if (c == '"' || c == '\\')
			evbuffer_add_printf(o, "\\%c", c);
		else if (c >= 0x80)
			evbuffer_add(o, "\\ufffd", 6);     /* not UTF-8: the record must stay valid JSON */
		else
			evbuffer_add_printf(o, "\\u%04x", c);
		s++;
		run = s;
	}
	evbuffer_add(o, run, (size_t)(s - run));
	evbuffer_add(o, "\"", 1);
}
