/*
 * search_result.h — the handler of forwarded searches (search_result.c):
 * entries scrubbed or rewritten into the profile's view, paged cookies.
 */
#ifndef ALDPROXY_SEARCH_RESULT_H
#define ALDPROXY_SEARCH_RESULT_H

#include "op.h"

extern const struct op_handler search_handler;

#endif
