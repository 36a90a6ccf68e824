/*
 * json.h — the one JSON string writer (control socket answers, audit records)
 * and the UTF-8 check it shares with the log.
 */
#ifndef ALDPROXY_JSON_H
#define ALDPROXY_JSON_H

struct evbuffer;

/* s as a JSON string, quotes included; NULL is written as null.  Bytes that
 * are not UTF-8 become U+FFFD, so the output is always valid JSON. */
void json_str(struct evbuffer *o, const char *s);

/* Length (2..4) of the valid multi-byte UTF-8 sequence at s (NUL-terminated
 * or not cut short), or 0 if s[0] does not start one (RFC 3629). */
int utf8_len(const unsigned char *s);

#endif
