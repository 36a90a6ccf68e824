/*
 * notify.h — the systemd service notification protocol (sd_notify(3)),
 * spoken directly: one datagram to $NOTIFY_SOCKET per state change.
 *
 * Type=notify units get READY=1 once the listeners are open, RELOADING=1
 * and READY=1 around a reload, STOPPING=1 when the drain starts, and
 * WATCHDOG=1 every half WatchdogSec from the event loop itself, so a
 * stuck loop is restarted by systemd.  Without $NOTIFY_SOCKET every call
 * does nothing.
 */
#ifndef ALDPROXY_NOTIFY_H
#define ALDPROXY_NOTIFY_H

#include <stdint.h>

/* Reads the environment; returns the watchdog interval in µs (0: none). */
uint64_t notify_init(void);
void notify_send(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void notify_close(void);

#endif
