#!/usr/bin/env bash
# test_failover.sh — two controllers; one is killed (SIGKILL) under a load
# of concurrent searches and binds: the load keeps going on the other, the
# failed operations are bounded by those in flight at the kill (searches
# and binds the dead controller had not answered are sent again to the
# other), and the killed controller, restarted, is used again.
set -euo pipefail
. "$(dirname "$0")/../rig/rig.sh"
rig_init
rig_certs
rig_slapd_start

# controller B: a second slapd on the same configuration and database (LMDB is multi-process)
B_PORT=$PROXY_PORT2
start_b() {
	slapd -h "ldap://127.0.0.1:$B_PORT/" -F "$RIG_DIR/slapd/slapd.d" -d stats </dev/null >>"$RIG_DIR/slapd-b.log" 2>&1 &
	B_PID=$!
	rig_track_pid "$B_PID"
	for ((i = 0; i < 100; i++)); do
		ldapsearch -x -H "ldap://127.0.0.1:$B_PORT" -D "$SVC_DN" -w "$SVC_PW" -b '' -s base >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	fail "controller B did not start"
}
start_b
export RIG_BACKEND_SERVERS="ldap://localhost:$SLAPD_PORT ldap://localhost:$B_PORT" RIG_RECONNECT_MAX=0.5
rig_proxy_config
rig_proxy_start

"$RIG_PYTHON" - "$PROXY_URL" "$SVC_DN" "$SVC_PW" "$USERS_DN" "$RIG_DIR/ops" <<'PY' &
import sys, threading, time
from ldap3 import Server, Connection
url, dn, pw, users, out = sys.argv[1:6]
end = time.time() + 7
lock = threading.Lock()
rows = []
def searcher(k):
    c = Connection(Server(url, connect_timeout=5), dn, pw, auto_bind=True, receive_timeout=15)
    i = 0
    while time.time() < end:
        t = time.time()
        u = "user%04d" % (1 + (k * 37 + i) % 1000)
        c.search(users, "(uid=%s)" % u, attributes=["uid"])
        ok = c.result["result"] == 0 and len(c.entries) == 1
        with lock:
            rows.append((t, "search", c.result["result"] if not ok else 0))
        i += 1
def binder(k):
    i = 0
    while time.time() < end:
        t = time.time()
        u = "uid=user%04d,%s" % (1 + (k * 53 + i) % 1000, users)
        c = Connection(Server(url, connect_timeout=5), u, "Secret123", receive_timeout=15)
        try:
            c.open(); c.bind()
            rc = c.result["result"]
        except Exception:
            rc = -1
        with lock:
            rows.append((t, "bind", rc))
        try: c.unbind()
        except Exception: pass
        i += 1
ts = [threading.Thread(target=searcher, args=(k,)) for k in range(12)] + \
     [threading.Thread(target=binder, args=(k,)) for k in range(6)]
for t in ts: t.start()
for t in ts: t.join()
with open(out, "w") as f:
    for r in rows:
        f.write("%.3f %s %s\n" % r)
PY
load=$!
rig_track_pid "$load"
sleep 2
t_kill=$(date +%s.%N)
kill -KILL "$B_PID"
sleep 2
t_back=$(date +%s.%N)
start_b
wait "$load" || fail "the load generator failed"

total=$(wc -l <"$RIG_DIR/ops")
failed=$(awk '$3 != 0' "$RIG_DIR/ops" | wc -l)
during_ok=$(awk -v a="$t_kill" -v b="$t_back" '$1 > a + 0.3 && $1 < b && $3 == 0' "$RIG_DIR/ops" | wc -l)
after_ok=$(awk -v b="$t_back" '$1 > b + 1 && $3 == 0' "$RIG_DIR/ops" | wc -l)
echo "operations: $total, failed: $failed, succeeded while B was down: $during_ok, after B came back: $after_ok"
[ "$total" -gt 300 ] || fail "only $total operations ran"
# at most what was in flight at the kill: 18 workers, one operation each
[ "$failed" -le 18 ] || { awk '$3 != 0' "$RIG_DIR/ops" | head >&2; fail "$failed operations failed (more than the 18 in flight)"; }
[ "$during_ok" -gt 50 ] || fail "the load did not keep going on controller A ($during_ok operations)"
grep -q "localhost:$B_PORT shared#.*connection lost: .*operation(s) in flight: [0-9]* sent again to another controller, [0-9]* failed" "$PROXY_LOG" || fail "the proxy did not report the failover"
echo "ok - controller B killed under load: $failed of $total operations failed (bounded by those in flight)"

# B is used again once it is back
b_ready=$(grep -c "localhost:$B_PORT shared#.*connection ready" "$PROXY_LOG" || true)
[ "$b_ready" -ge 2 ] || fail "controller B's connections did not come back ($b_ready ready lines)"
n_before=$(grep -c "SRCH base=" "$RIG_DIR/slapd-b.log" || true)
for ((i = 0; i < 40; i++)); do
	ldapsearch -x -LLL -H "$PROXY_URL" -D "$SVC_DN" -w "$SVC_PW" -b "$USERS_DN" "(uid=user00$((10 + i)))" uid >/dev/null
done
n_after=$(grep -c "SRCH base=" "$RIG_DIR/slapd-b.log" || true)
[ "$n_after" -gt "$n_before" ] || fail "no search reached the restarted controller B"
grep "in flight:" "$PROXY_LOG" | grep -v " 0 operation(s) in flight" | head -3 || true
echo "ok - the restarted controller rejoined and serves searches again ($((n_after - n_before)) of 40)"
rig_proxy_stop
echo "PASS test_failover"
