/*
 * clock.h — the monotonic clock every timer, etime and deadline reads.
 */
#ifndef ALDPROXY_CLOCK_H
#define ALDPROXY_CLOCK_H

#include <stdint.h>

/* Microseconds of CLOCK_MONOTONIC. */
uint64_t now_us(void);

#endif
