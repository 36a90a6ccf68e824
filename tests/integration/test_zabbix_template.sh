#!/usr/bin/env bash
# test_zabbix_template.sh: the Zabbix integration in packaging/zabbix against
# the daemon's real JSON.  First the structure of aldproxy_template.yaml, which
# must be a Zabbix 6.0 export: schema keys and enums, unique 32-hex uuids,
# dependent items' masters, item keys in trigger expressions, macros, value
# maps.  Then, with slapd and aldproxyd running (read-only control socket; a
# second controller that never answers keeps it degraded), it makes known
# traffic and runs every UserParameter of
# userparameter_aldproxy.conf as the agent would, with the build's aldproxyctl
# and the rig's socket.  Every preprocessing step of every dependent item,
# discovery rule and item prototype is then run on that output, with LLD
# macros taken from the rule's own output: each JSONPath must find a value,
# numeric items must get numbers, and the numbers must match the traffic;
# rates come from two samples.  Last, with the directory down and then the
# daemon gone: the items keep a value (health code 2) instead of turning
# unsupported.
set -euo pipefail
. "$(dirname "$0")/../rig/rig.sh"
. "$(dirname "$0")/lib/common.sh"
need py:yaml zabbix_agentd zabbix_agent2
test_begin test_zabbix_template

ZBX="$REPO/packaging/zabbix"
TEMPLATE="$ZBX/aldproxy_template.yaml"
CONF="$ZBX/userparameter_aldproxy.conf"
for f in "$TEMPLATE" "$CONF" "$ZBX/README.md"; do
	[ -f "$f" ] || fail "$f missing"
done

zt() { py zabbix_template.py "$@"; }

zt check "$TEMPLATE" "$CONF"

rig_init
rig_certs
rig_slapd_start
# two controllers: the rig's slapd, and one that never answers, with a
# bracketed IPv6 URL when the host has ::1.  That one makes aldproxy degraded
# (health code 1, "aldproxyctl health" exits 1) and its URL, with its [ ] and
# :, goes into item keys and JSONPath filters through {#URL}.
URL="ldap://localhost:$SLAPD_PORT"
if [ "$RIG_IPV6" = 1 ]; then DOWN_URL="ldap://[::1]:$PROXY_PORT2"; else DOWN_URL="ldap://127.0.0.1:$PROXY_PORT2"; fi
export RIG_BACKEND_SERVERS="$URL $DOWN_URL"
export RIG_CONTROL_EXTRA="  readonly_socket: $RIG_DIR/status.sock
  readonly_mode: \"0666\""
rig_proxy_config
rig_proxy_start
CTL="${ALDPROXYCTL:-$REPO/build/src/aldproxyctl}"
RO="$RIG_DIR/status.sock"
[ -x "$CTL" ] || fail "$CTL not built"
S="$RIG_DIR/zbx"
mkdir -p "$S"

# traffic of known shape: 4 searches, 1 good user bind, 1 failed bind, 1 compare
for i in 1 2 3 4; do
	proxy_search -b "$USERS_DN" "(uid=alice)" uid >/dev/null
done
ldapwhoami -x -H "$PROXY_URL" -D "uid=alice,$USERS_DN" -w Secret123 >/dev/null
ldapwhoami -x -H "$PROXY_URL" -D "$SVC_DN" -w wrong-password >/dev/null 2>&1 && fail "a wrong password bound"
ldapcompare -x -H "$PROXY_URL" -D "$SVC_DN" -w "$SVC_PW" "uid=alice,$USERS_DN" uid:alice >/dev/null || true

rc=0; "$CTL" -s "$RO" health --json >/dev/null || rc=$?
assert_eq 1 "$rc" "aldproxyctl health with one controller down"
zt collect "$CONF" "$CTL" "$RO" "$S/1.json"
zt evaluate "$TEMPLATE" "$S/1.json" '{
  "aldproxy.health.code": {"raw": 1, "value": 1},
  "aldproxy.binds.failed.rate": {"raw": 1},
  "aldproxy.binds.ok.rate": {"raw_min": 6},
  "aldproxy.binds.waiting": {"value": 0},
  "aldproxy.operations.type.rate[search]": {"raw": 4},
  "aldproxy.operations.type.rate[compare]": {"raw": 1},
  "aldproxy.operations.type.rate[modify]": {"raw": 0},
  "aldproxy.operations.type.rate[bind]": {"raw_min": 7},
  "aldproxy.operations.rate": {"raw_min": 12},
  "aldproxy.operations.errors.rate": {"raw_min": 1},
  "aldproxy.operations.in_flight": {"value": 0},
  "aldproxy.connections.accepted.rate": {"raw_min": 7},
  "aldproxy.connections.refused.rate": {"raw": 0},
  "aldproxy.connections.open": {"value": 0},
  "aldproxy.search.latency.p50": {"min": 0.001, "max": 5000},
  "aldproxy.search.latency.p99": {"min": 0.001, "max": 5000},
  "aldproxy.reloads.failed": {"value": 0},
  "aldproxy.reloads.last_error": {"value": ""},
  "aldproxy.uptime": {"min": 0, "max": 600},
  "aldproxy.server.status[\"'"$URL"'\"]": {"raw": "up", "value": 1},
  "aldproxy.server.ready[\"'"$URL"'\"]": {"min": 1},
  "aldproxy.server.connections[\"'"$URL"'\"]": {"min": 1},
  "aldproxy.server.in_flight[\"'"$URL"'\"]": {"value": 0},
  "aldproxy.server.status[\"'"$DOWN_URL"'\"]": {"raw": "down", "value": 0},
  "aldproxy.server.ready[\"'"$DOWN_URL"'\"]": {"value": 0},
  "aldproxy.server.connections[\"'"$DOWN_URL"'\"]": {"min": 1},
  "aldproxy.profile.binds_failed.rate[\"demo\"]": {"raw": 1},
  "aldproxy.profile.operations.rate[\"demo\"]": {"raw_min": 12},
  "aldproxy.profile.errors.rate[\"demo\"]": {"raw_min": 1}
}'
ok "every JSONPath of the template finds its value in the daemon's JSON (controllers $URL and $DOWN_URL, profile demo), and the values match the traffic"
out=$("$RIG_PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["aldproxy.status"]["output"])' "$S/1.json")
"$RIG_PYTHON" -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["code"]==1 and d["last_reload_error"] is None, d' "$out" ||
	fail "aldproxy.status: $out"
zt idle "$TEMPLATE" "$S/1.json"

# The real agents (Debian 12: zabbix-agent, zabbix-agent2 6.0) read the conf
# and return the same JSON: the agent's test mode (-t KEY).
AGENTS=()
for a in zabbix_agentd zabbix_agent2; do
	AGENTS+=("$(PATH="$PATH:/usr/sbin:/sbin" command -v "$a")")
done
agents_check() {   # TAG EXPECT_JSON
	local a
	for a in "${AGENTS[@]}"; do
		zt collect "$CONF" "$CTL" "$RO" "$S/$1-${a##*/}.json" "$a"
		zt evaluate "$TEMPLATE" "$S/$1-${a##*/}.json" "$2"
	done
}
agents_check up '{"aldproxy.health.code": {"value": 1}, "aldproxy.binds.failed.rate": {"raw": 1},
  "aldproxy.operations.type.rate[search]": {"raw": 4}}'

# a second sample a little later: the change-per-second items
sleep 1
proxy_search -b "$USERS_DN" "(uid=bob)" uid >/dev/null
ldapwhoami -x -H "$PROXY_URL" -D "$SVC_DN" -w wrong-password >/dev/null 2>&1 && fail "a wrong password bound"
zt collect "$CONF" "$CTL" "$RO" "$S/2.json"
zt evaluate "$TEMPLATE" "$S/2.json" "$S/1.json" '{
  "aldproxy.binds.failed.rate": {"raw": 2, "min": 0.01, "max": 2},
  "aldproxy.operations.type.rate[search]": {"raw": 5, "min": 0.01},
  "aldproxy.operations.type.rate[modify]": {"value": 0},
  "aldproxy.health.code": {"value": 1},
  "aldproxy.connections.accepted.rate": {"min": 0.01},
  "aldproxy.operations.rate": {"min": 0.01},
  "aldproxy.profile.binds_failed.rate[\"demo\"]": {"raw": 2, "min": 0.01}
}'
ok "change per second: failed binds, searches and connections as rates between two samples"

# a failed reload: its error reaches the last_error item
echo "bogus_key: 1" >>"$RIG_DIR/profiles/demo.yaml"
"$CTL" -s "$RIG_DIR/control.sock" reload >/dev/null 2>&1 && fail "a broken profile reloaded"
zt collect "$CONF" "$CTL" "$RO" "$S/3.json"
zt evaluate "$TEMPLATE" "$S/3.json" '{
  "aldproxy.reloads.failed": {"value": 1},
  "aldproxy.reloads.last_error": {"contains": "bogus_key"}
}'
ok "a failed reload: reloads.failed 1 and last_error names the key"

# the directory down: health exits 2, the item still gets the JSON
rig_slapd_stop
sleep 1
rc=0; "$CTL" -s "$RO" health --json >/dev/null || rc=$?
assert_eq 2 "$rc" "aldproxyctl health with the directory stopped"
zt collect "$CONF" "$CTL" "$RO" "$S/4.json"
zt evaluate "$TEMPLATE" "$S/4.json" '{
  "aldproxy.health.code": {"raw": 2, "value": 2},
  "aldproxy.server.status[\"'"$URL"'\"]": {"raw": "down", "value": 0},
  "aldproxy.server.ready[\"'"$URL"'\"]": {"value": 0}
}'
agents_check down '{"aldproxy.health.code": {"raw": 2, "value": 2}}'
ok "directory down: aldproxyctl exits 2, the UserParameter still returns the JSON, health code 2, controllers' status 0"

# the daemon gone: no JSON at all; health code falls back to 2 (down)
rig_proxy_stop
zt collect "$CONF" "$CTL" "$RO" "$S/5.json"
zt evaluate "$TEMPLATE" "$S/5.json" '{
  "@strict": false,
  "aldproxy.health": {"contains": "cannot reach aldproxyd"},
  "aldproxy.health.code": {"fails": true, "value": 2},
  "aldproxy.uptime": {"fails": true}
}'
agents_check gone '{"@strict": false, "aldproxy.health": {"contains": "cannot reach aldproxyd"},
  "aldproxy.health.code": {"fails": true, "value": 2}}'
ok "daemon unreachable: the error text is the item value, health code 2 through the error handler"

test_pass
