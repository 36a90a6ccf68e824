/*
 * json.c — JSON string escaping.  See json.h.
 */
#include "json.h"

#include <event2/buffer.h>

void
json_str(struct evbuffer *o, const char *s)
{
	if (s == NULL) {
		evbuffer_add(o, "null", 4);
		return;
	}
	evbuffer_add(o, "\"", 1);
	const char *run = s;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c != '"' && c != '\\' && c >= 0x20 && c != 0x7f)
			continue;
		evbuffer_add(o, run, (size_t)(s - run));
		if (c == '"' || c == '\\')
			evbuffer_add_printf(o, "\\%c", c);
		else
			evbuffer_add_printf(o, "\\u%04x", c);
		run = s + 1;
	}
	evbuffer_add(o, run, (size_t)(s - run));
	evbuffer_add(o, "\"", 1);
}
