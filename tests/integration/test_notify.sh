#!/usr/bin/env bash
# test_notify.sh — systemd Type=notify: aldproxyd speaks sd_notify(3) to
# $NOTIFY_SOCKET (READY, RELOADING + MONOTONIC_USEC, STOPPING, STATUS,
# WATCHDOG at half of WATCHDOG_USEC).  lib/notify.py plays systemd's part.
set -euo pipefail
. "$(dirname "$0")/../rig/rig.sh"
. "$(dirname "$0")/lib/common.sh"
rig_init
rig_certs
rig_slapd_start
rig_proxy_config
test_begin test_notify
py notify.py "${ALDPROXYD:-$REPO/build/src/aldproxyd}" "$PROXY_CONFIG" "$RIG_DIR/notify.sock" "$PROXY_URL" \
	"$SVC_DN" "$SVC_PW" "$RIG_DIR/profiles/demo.yaml" || {
	tail -n 40 "$PROXY_CONFIG.notify.log" >&2
	fail "sd_notify protocol"
}
grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$PROXY_CONFIG.notify.log" &&
	fail "sanitizer report in $PROXY_CONFIG.notify.log"
test_pass
