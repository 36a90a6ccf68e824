#!/usr/bin/env bash
# test_control.sh — the control socket and aldproxyctl: status, health with
# its exit codes (0 healthy, 2 down), stats (operations by type and profile,
# latency percentiles, controllers), metrics in Prometheus format on the
# socket and on the loopback HTTP listener, the read-only socket (no reload,
# no connection list), reload with a good and a bad configuration, and clear
# errors for a bad command or an unreachable daemon.
set -euo pipefail
. "$(dirname "$0")/../rig/rig.sh"
. "$(dirname "$0")/lib/common.sh"
need curl
rig_init
rig_certs
rig_slapd_start
export RIG_CONTROL_EXTRA="  readonly_socket: $RIG_DIR/status.sock
  readonly_mode: \"0666\"
  readonly_group: nogroup"
rig_proxy_config "metrics:" "  listen: 127.0.0.1:$PROXY_PORT2"
rig_proxy_start
CTL="${ALDPROXYCTL:-$REPO/build/src/aldproxyctl}"
SOCK="$RIG_DIR/control.sock"
RO="$RIG_DIR/status.sock"
pyjson() { "$RIG_PYTHON" -c "import json,sys; d=json.loads(sys.argv[1]); $1" "$2"; }

[ "$(stat -c %a "$SOCK")" = 600 ] || fail "control socket mode $(stat -c %a "$SOCK"), expected 600"
[ "$(stat -c %a "$RO")" = 666 ] || fail "read-only socket mode $(stat -c %a "$RO"), expected 666"
[ "$(stat -c %G "$RO")" = nogroup ] || fail "read-only socket group $(stat -c %G "$RO"), expected nogroup"
out=$("$CTL" -c "$PROXY_CONFIG" health) || fail "health exit $?: $out"
assert_contains "$out" "aldproxyd: healthy"
json=$("$CTL" -s "$SOCK" health --json)
pyjson 'assert d["status"]=="healthy" and d["code"]==0 and d["servers"][0]["ready"]>0, d' "$json"
out=$("$CTL" -s "$SOCK" status) || fail "status exit $?: $out"
assert_contains "$out" "healthy"
assert_contains "$out" "$PROXY_CONFIG"
json=$("$CTL" -s "$SOCK" status --json)
pyjson 'assert d["code"]==0 and d["profiles"]==1 and d["version"] and d["pid"]>0 and d["last_reload_error"] is None and len(d["listeners"])>=2, d' "$json"
ok "status and health: healthy, exit 0, JSON"

# traffic of known shape: 5 searches (one denied), 1 failed bind, 1 compare
for i in 1 2 3 4; do
	ldapsearch -x -LLL -H "$PROXY_URL" -D "$SVC_DN" -w "$SVC_PW" -b "$USERS_DN" "(uid=alice)" uid >/dev/null
done
ldapsearch -x -LLL -H "$PROXY_URL" -D "$SVC_DN" -w "$SVC_PW" -b "dc=elsewhere" "(uid=alice)" uid >/dev/null 2>&1 || true
ldapwhoami -x -H "$PROXY_URL" -D "$SVC_DN" -w wrong-password >/dev/null 2>&1 && fail "a wrong password bound"
ldapcompare -x -H "$PROXY_URL" -D "$SVC_DN" -w "$SVC_PW" "uid=alice,$USERS_DN" uid:alice >/dev/null || true

stats=$("$CTL" -s "$SOCK" stats)
pyjson '
t = d["operations"]["by_type"]
assert t["search"]["count"] == 5 and t["search"]["errors"] == 1, t["search"]
assert t["search"]["results"] == {"0": 4, "32": 1}, t["search"]["results"]
assert t["bind"]["count"] >= 7 and t["bind"]["errors"] == 1 and t["bind"]["results"]["49"] == 1, t["bind"]
assert t["compare"]["count"] == 1 and t["compare"]["results"]["6"] == 1, t["compare"]
lat = t["search"]["latency_ms"]
assert 0 < lat["last_minute"]["p50"] <= lat["last_minute"]["p99"] < 5000, lat
assert lat["since_start"]["p50"] is not None, lat
assert d["latency_ms"]["last_minute"]["p90"] > 0, d["latency_ms"]
p = {x["name"]: x for x in d["profiles"]}
assert p["demo"]["searches"] == 5 and p["demo"]["binds"] >= 6, p
assert d["binds"]["failed"] == 1 and d["entries"] >= 4 and d["connections"]["accepted"] >= 8, d
s = d["servers"][0]
assert s["status"] == "up" and s["ready"] > 0 and s["connections"] >= s["ready"], s
assert d["health"]["code"] == 0 and d["uptime_seconds"] >= 0, d
' "$stats"
backends=$("$CTL" -s "$SOCK" backends)
pyjson 'assert any(u["state"]=="ready" for u in d) and len(d)>=3, d' "$backends"
conns=$("$CTL" -s "$SOCK" connections)
pyjson 'assert isinstance(d, list)' "$conns"
ok "stats: operations by type, result and profile, latency percentiles, controllers"

# Prometheus text: the same numbers, on the socket and over HTTP
prom=$("$CTL" -s "$SOCK" metrics)
http=$(curl -sS --max-time 5 "http://127.0.0.1:$PROXY_PORT2/metrics")
for m in "$prom" "$http"; do
	"$RIG_PYTHON" - "$m" <<'PY'
import re, sys
text = sys.argv[1]
samples = {}
for line in text.splitlines():
    if not line or line.startswith("#"):
        continue
    m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (-?[0-9.e+-]+|\+Inf|NaN)$', line)
    assert m, "not a Prometheus sample line: %r" % line
    samples[m.group(1) + (m.group(2) or "")] = float(m.group(3))
assert samples['aldproxy_operations_total{type="search",result="0"}'] == 4, samples
assert samples['aldproxy_operations_total{type="search",result="32"}'] == 1
assert samples['aldproxy_operations_total{type="bind",result="49"}'] == 1
assert samples['aldproxy_operation_duration_seconds_count{type="search"}'] == 5
assert samples['aldproxy_operation_duration_seconds_bucket{type="search",le="+Inf"}'] == 5
b = [v for k, v in samples.items() if k.startswith('aldproxy_operation_duration_seconds_bucket{type="search"')]
assert b == sorted(b), "histogram buckets must be cumulative"
assert samples['aldproxy_profile_operations_total{profile="demo",type="search"}'] == 5
assert samples["aldproxy_health"] == 0 and samples["aldproxy_connections_accepted_total"] >= 8
assert any(k.startswith("aldproxy_backend_up{") and v == 1 for k, v in samples.items())
for t in ("counter", "gauge", "histogram"):
    assert "# TYPE" in text
PY
done
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PROXY_PORT2/other")
assert_eq 404 "$code" "HTTP path other than /metrics"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$PROXY_PORT2/metrics")
assert_eq 405 "$code" "HTTP POST"
# a slow or idle scraper cannot hold the listener: 5 s per connection, 16 at a time
"$RIG_PYTHON" - "$PROXY_PORT2" <<'PY' || fail "HTTP listener limits"
import socket, sys, time
port = int(sys.argv[1])
t0 = time.time()
s = socket.create_connection(("127.0.0.1", port))
s.settimeout(1)
closed = None
while time.time() - t0 < 12:
    try:
        s.send(b"G")
        if s.recv(1) == b"":
            closed = time.time() - t0
            break
    except socket.timeout:
        continue
    except OSError:
        closed = time.time() - t0
        break
assert closed is not None and closed < 7, "a byte-at-a-time client held the connection %r s" % closed
idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(20)]
time.sleep(0.3)
refused = 0
for c in idle:
    c.settimeout(0.2)
    try:
        if c.recv(1) == b"":
            refused += 1
    except socket.timeout:
        pass
    except OSError:
        refused += 1
assert refused >= 4, "only %d of 20 idle connections beyond the cap of 16 were closed" % refused
for c in idle:
    c.close()
print("ok - HTTP: a trickling client closed after %.1f s; %d connections beyond the cap closed at once" % (closed, refused))
PY
ok "metrics: Prometheus text on the socket and on http://127.0.0.1:$PROXY_PORT2/metrics agree with the traffic"

# the read-only socket: monitoring yes, reload and the connection list no
out=$("$CTL" -s "$RO" health) || fail "health on the read-only socket: $out"
"$CTL" -s "$RO" stats >/dev/null || fail "stats on the read-only socket"
out=$("$CTL" -s "$RO" metrics)
grep -q '^aldproxy_health 0' <<<"$out" || fail "metrics on the read-only socket"
rc=0; out=$("$CTL" -s "$RO" reload 2>&1) || rc=$?
assert_eq 1 "$rc" "reload on the read-only socket: $out"
assert_contains "$out" "needs the admin socket"
rc=0; out=$("$CTL" -s "$RO" connections 2>&1) || rc=$?
assert_eq 1 "$rc" "connections on the read-only socket: $out"
assert_not_contains "$PROXY_LOG" "reload: reading" "the read-only socket must not reload"
ok "read-only socket: status/health/stats/metrics, but no reload or connection list"

rc=0; out=$("$RIG_PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"bogus\n"); print(s.recv(4096).decode())' "$SOCK") || rc=$?
assert_contains "$out" "unknown command 'bogus'"
rc=0; out=$("$CTL" -s "$SOCK" bogus 2>&1) || rc=$?
assert_eq 2 "$rc" "aldproxyctl with an unknown command: $out"
out=$("$CTL" -s "$SOCK" reload) || fail "reload via aldproxyctl: $out"
assert_contains "$out" '"reload":"done"'
assert_contains "$PROXY_LOG" "reload done"
# a change a reload cannot apply in place is named; a limit applies at once
sed -i "s/listen: 127.0.0.1:$PROXY_PORT2/listen: 127.0.0.1:1/; s/max_pdu_size: .*/max_pdu_size: 2k/" "$PROXY_CONFIG"
out=$("$CTL" -s "$SOCK" reload) || fail "reload with a changed metrics listener: $out"
assert_contains "$(cat "$PROXY_LOG")" "changes to metrics take effect at the next restart"
rc=0; ldapsearch -x -LLL -o nettimeout=5 -H "$PROXY_URL" -D "$SVC_DN" -w "$SVC_PW" -b "$USERS_DN" \
	"(description=$(head -c 3000 /dev/zero | tr '\0' x))" uid >/dev/null 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "a 3 KB request passed after limits.max_pdu_size became 2k on reload"
sed -i "s/listen: 127.0.0.1:1\$/listen: 127.0.0.1:$PROXY_PORT2/; s/max_pdu_size: 2k/max_pdu_size: 1m/" "$PROXY_CONFIG"
"$CTL" -s "$SOCK" reload >/dev/null || fail "reload back"
# a broken profile: reload fails with the file, line and key; the old set stays
echo "bogus_key: 1" >>"$RIG_DIR/profiles/demo.yaml"
rc=0; out=$("$CTL" -s "$SOCK" reload 2>&1) || rc=$?
assert_eq 1 "$rc" "reload of a broken profile: $out"
assert_contains "$out" "demo.yaml:"
assert_contains "$out" "key 'bogus_key': unknown key"
json=$("$CTL" -s "$SOCK" status --json)
pyjson 'assert "bogus_key" in d["last_reload_error"], d' "$json"
out=$(ldapsearch -x -LLL -H "$PROXY_URL" -D "$SVC_DN" -w "$SVC_PW" -b "$USERS_DN" "(uid=bob)" uid)
assert_contains "$out" "uid: bob" "search after the failed reload"
out=$("$CTL" -s "$SOCK" metrics)
grep -q 'aldproxy_reloads_total{outcome="failure"} 1' <<<"$out" || fail "failed reload not counted"
ok "unknown commands get a clear error; reload works, and a bad one exits 1 naming file and key"

rig_slapd_stop
sleep 1
rc=0; out=$("$CTL" -s "$SOCK" health) || rc=$?
assert_eq 2 "$rc" "health with the directory stopped: $out"
assert_contains "$out" "aldproxyd: down"
out=$("$CTL" -s "$SOCK" metrics)
grep -q '^aldproxy_health 2' <<<"$out" || fail "metrics: health 2 with the directory stopped"
ok "health reports down (exit 2) when no directory connection is ready"

rig_proxy_stop
rc=0; out=$("$CTL" -s "$SOCK" health 2>&1) || rc=$?
assert_eq 2 "$rc" "health with no daemon"
assert_contains "$out" "cannot reach aldproxyd"
ok "an unreachable daemon: exit 2 with a clear message"
echo "PASS test_control"
