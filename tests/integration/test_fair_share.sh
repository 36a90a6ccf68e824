#!/usr/bin/env bash
# test_fair_share.sh — no identity and no source address holds more than
# its share of the shared directory connections (limits.max_ops_per_identity,
# limits.max_ops_per_address), and aldproxy's own lookups keep reserved slots:
# a login's group check waits for one instead of failing when clients fill
# every connection.  The directory holds its answers (lib/faultrelay.py in
# mode hold) so that operations stay in flight; lib/fairshare.py counts them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../rig/rig.sh"
. "$here/lib/common.sh"

test_begin test_fair_share
rig_init
rig_certs
rig_slapd_start
RELAY_PORT=$PROXY_PORT2
export RELAY_MODE="$RIG_DIR/relay.mode"
echo pass >"$RELAY_MODE"
"$RIG_PYTHON" "$here/lib/faultrelay.py" "$RELAY_PORT" 127.0.0.1 "$SLAPD_PORT" "$RELAY_MODE" >"$RIG_DIR/relay.log" 2>&1 &
rig_track_pid $!
for ((i = 0; i < 50; i++)); do
	grep -q listening "$RIG_DIR/relay.log" && break
	sleep 0.1
done
export ALDPROXYCTL=${ALDPROXYCTL:-$REPO/build/src/aldproxyctl}
export RIG_BACKEND_SERVERS="ldap://127.0.0.1:$RELAY_PORT" RIG_BACKEND_STARTTLS=false RIG_POOL_SIZE=1

# 1. caps per identity and per address
export RIG_MAX_OPS_PER_IDENTITY=8 RIG_MAX_OPS_PER_ADDRESS=12
rig_proxy_config
rig_proxy_start
py fairshare.py caps || fail "lib/fairshare.py caps failed"
rig_proxy_stop || fail "aldproxyd did not stop cleanly"

# 2. reserved slots for a login's group check
export RIG_MAX_OPS_PER_IDENTITY=512 RIG_MAX_OPS_PER_ADDRESS=1024 RIG_MAX_OPS_PER_CONNECTION=32
: >"$PROXY_LOG"
rig_proxy_config
printf 'groups:\n  login: [engineering]\n' >>"$RIG_DIR/profiles/demo.yaml"
rig_proxy_start
py fairshare.py reserve || fail "lib/fairshare.py reserve failed"
assert_not_contains "$PROXY_LOG" "no directory connection for the group check"
rig_proxy_stop || fail "aldproxyd did not stop cleanly"
test_pass
