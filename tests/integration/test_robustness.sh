#!/usr/bin/env bash
# test_robustness.sh — malformed and unusual client input (lib/robust.py):
# garbage, over-limit PDUs (limits.max_pdu_size 64k), truncated BER, bad
# controls, write operations, unknown extended operations.  Each malformed
# PDU ends its connection with a Notice of Disconnection; the proxy keeps
# serving and stops cleanly (no crash, no sanitizer report).
# directories: slapd 389ds
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../rig/rig.sh"
. "$here/lib/common.sh"

export RIG_MAX_PDU=64k
test_begin test_robustness
rig_init
rig_certs
rig_slapd_start
rig_proxy_config
rig_proxy_start

timeout 90 bash -c '. "$1/lib/common.sh"; py robust.py' _ "$here" || fail "lib/robust.py failed"

assert_contains "$PROXY_LOG" "protocol error: request exceeds limits.max_pdu_size" "over-limit PDU not logged"
assert_contains "$PROXY_LOG" "protocol error: malformed LDAPMessage envelope" "garbage not logged"
# a normal client is unaffected
out=$(proxy_search -b "$USERS_DN" '(uid=alice)' uid) || fail "ldapsearch after the robustness checks: $out"
assert_contains "$out" "dn: uid=alice,$USERS_DN"
kill -0 "$PROXY_PID" 2>/dev/null || fail "aldproxyd died"
ok "proxy alive and serving"

rig_proxy_stop || fail "aldproxyd did not stop cleanly"
test_pass
