/*
 * json.h — the one JSON string writer (control socket answers, audit records).
 */
#ifndef ALDPROXY_JSON_H
#define ALDPROXY_JSON_H

struct evbuffer;

/* s as a JSON string, quotes included; NULL is written as null. */
void json_str(struct evbuffer *o, const char *s);

#endif
