#!/usr/bin/env bash
# test_reload_load.sh — reloads under load.  8 client connections, each bound
# once before the first reload, and one thread binding a new connection per
# search, keep searching (uid, mail) through the proxy while:
#  1. SIGHUP applies a valid change (the demo profile's attribute allowlist
#     drops mail): new connections see the new allowlist at once, the
#     connections bound before keep working under the profile they bound with;
#  2. SIGHUP applies a profile with a YAML syntax error, then one with an
#     unknown key: "reload failed, the running configuration stays" names
#     the file and line, and the running set keeps serving;
#  3. aldproxyctl -c CONFIG reload: an invalid profile exits 1 with the config
#     error; a valid one (mail allowed again) exits 0 with {"reload":"done",...};
#  4. 20 rapid reloads (valid and invalid, SIGHUP and aldproxyctl): VmRSS of
#     aldproxyd grows by less than 20 MB (not checked in an ASan build, whose
#     quarantine holds freed memory; LeakSanitizer checks at exit there).
# No client operation may fail throughout, and hundreds must succeed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../rig/rig.sh"
. "$here/lib/common.sh"

test_begin test_reload_load
rig_init
rig_certs
rig_slapd_start
rig_proxy_config
CTL="${ALDPROXYCTL:-$REPO/build/src/aldproxyctl}"
PROFILE="$RIG_DIR/profiles/demo.yaml"
W="$RIG_DIR/load"
mkdir -p "$W"

# write_profile all|narrow|syntax|unknown — the demo profile; line 10 is the
# broken one in the invalid variants
write_profile() {
	local attrs='["*"]' extra=
	case "$1" in
	all) ;;
	narrow) attrs='[uid, cn, objectClass]' ;;
	syntax) attrs='[uid, cn, objectClass]' extra='note: broken: value' ;;
	unknown) attrs='[uid, cn, objectClass]' extra='bogus_key: 1' ;;
	*) fail "write_profile $1" ;;
	esac
	cat >"$PROFILE.tmp" <<EOF
# demo — written by test_reload_load.sh ($1)
name: demo
description: Rig demo profile, reloaded under load
service_accounts:
  - $SVC_DN
user_bases:
  - $USERS_DN
search_base: $BASE_DN
attributes: $attrs
$extra
EOF
	mv "$PROFILE.tmp" "$PROFILE"
}
write_profile all
rig_proxy_start

now() { date +%s.%N; }
count_log() { grep -cF -- "$1" "$PROXY_LOG" || true; }

# wait_log_count NEEDLE N — until the log holds N lines with NEEDLE (10 s)
wait_log_count() {
	local i
	for ((i = 0; i < 500; i++)); do
		[ "$(count_log "$1")" -ge "$2" ] && return 0
		sleep 0.02
	done
	fail "the log never had $2 lines with '$1' (has $(count_log "$1"))"
}

# hup — SIGHUP and wait until the reload is logged done or failed; RELOAD_OK=1|0
hup() {
	local d f i
	d=$(count_log "reload done")
	f=$(count_log "reload failed")
	kill -HUP "$PROXY_PID"
	for ((i = 0; i < 500; i++)); do
		if [ "$(count_log "reload done")" -gt "$d" ]; then RELOAD_OK=1; return 0; fi
		if [ "$(count_log "reload failed")" -gt "$f" ]; then RELOAD_OK=0; return 0; fi
		sleep 0.02
	done
	fail "SIGHUP: no reload logged within 10 s"
}

# ctl_reload — aldproxyctl -c CONFIG reload: CTL_RC, CTL_OUT (stdout), CTL_ERR (stderr)
ctl_reload() {
	CTL_RC=0
	"$CTL" -c "$PROXY_CONFIG" reload >"$W/ctl.out" 2>"$W/ctl.err" || CTL_RC=$?
	CTL_OUT=$(cat "$W/ctl.out")
	CTL_ERR=$(cat "$W/ctl.err")
}

# new_conn_attrs — a new connection's view of alice: "uid" or "uid mail"
new_conn_attrs() {
	local out
	out=$(proxy_search -b "$USERS_DN" '(uid=alice)' uid mail) || fail "search on a new connection: $out"
	assert_contains "$out" "uid: alice"
	case "$out" in *"mail: "*) echo "uid mail" ;; *) echo "uid" ;; esac
}

# last_failure_line — the last "reload failed" line of the log
last_failure_line() { grep -F "reload failed, the running configuration stays" "$PROXY_LOG" | tail -n 1; }

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$PROXY_PID/status"; }

# ---------------------------------------------------------------- the load
cat >"$W/load.py" <<'PY'
import json, os, sys, threading, time
from ldap3 import Server, Connection
url, dn, pw, base, d = sys.argv[1:6]
server = Server(url, connect_timeout=5)
stop = os.path.join(d, "stop")
lock = threading.Lock()
failures = []            # (thread, time, what)
workers = {}             # n -> [(t, mail)]
fresh = []               # (t_bind, t_done, mail)

def failed(who, what):
    with lock:
        failures.append((who, time.time(), what))

def check(c, who, user):
    r = c.result["result"]
    es = c.entries
    if r != 0 or len(es) != 1 or str(es[0].uid) != user:
        failed(who, "result %r, %d entries: %r" % (r, len(es), c.result.get("message")))
        return None
    return "mail" in es[0].entry_attributes

def worker(n):
    rec = workers[n] = []
    c = None
    i = 0
    while not os.path.exists(stop):
        i += 1
        user = "user%04d" % (1 + (n * 97 + i) % 500)
        try:
            if c is None:
                c = Connection(server, dn, pw, auto_bind=True, receive_timeout=10, return_empty_attributes=False)
            c.search(base, "(uid=%s)" % user, attributes=["uid", "mail"])
        except Exception as e:
            failed("worker%d" % n, "%s: %s" % (type(e).__name__, e))
            c = None
            time.sleep(0.1)
            continue
        m = check(c, "worker%d" % n, user)
        if m is not None:
            rec.append((time.time(), m))
        if i == 1:
            open(os.path.join(d, "ready.%d" % n), "w").close()

def binder():
    while not os.path.exists(stop):
        try:
            c = Connection(server, dn, pw, receive_timeout=10, return_empty_attributes=False)
            c.open()
            tb = time.time()     # the bind request (which picks the profile) goes after this
            if not c.bind():
                failed("binder", "bind: %r" % c.result)
                continue
            c.search(base, "(uid=alice)", attributes=["uid", "mail"])
            m = check(c, "binder", "alice")
            if m is not None:
                fresh.append((tb, time.time(), m))
            c.unbind()
        except Exception as e:
            failed("binder", "%s: %s" % (type(e).__name__, e))
            time.sleep(0.1)

ts = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
ts.append(threading.Thread(target=binder))
for t in ts:
    t.start()
for t in ts:
    t.join()
json.dump({"failures": failures, "workers": workers, "fresh": fresh}, open(os.path.join(d, "result.json"), "w"))
PY
"$RIG_PYTHON" "$W/load.py" "$PROXY_URL" "$SVC_DN" "$SVC_PW" "$USERS_DN" "$W" >"$W/load.out" 2>&1 &
load_pid=$!
rig_track_pid "$load_pid"
for ((i = 0; i < 200; i++)); do
	[ "$(find "$W" -name 'ready.*' | wc -l)" -ge 8 ] && break
	_rig_alive "$load_pid" || { cat "$W/load.out" >&2; fail "the load generator died"; }
	sleep 0.05
done
[ "$(find "$W" -name 'ready.*' | wc -l)" -ge 8 ] || fail "the 8 client connections did not start searching"
sleep 1.5
assert_eq "uid mail" "$(new_conn_attrs)" "a new connection before any reload"

# ---------------------------------------------------------------- 1. a valid change by SIGHUP
t_narrow_sent=$(now)
write_profile narrow
hup
[ "$RELOAD_OK" = 1 ] || fail "SIGHUP with a valid profile: $(last_failure_line)"
t_narrow=$(now)
assert_eq "uid" "$(new_conn_attrs)" "a new connection after the allowlist dropped mail"
sleep 1.5
ok "valid change by SIGHUP: new connections lose mail at once"

# ---------------------------------------------------------------- 2. invalid profiles by SIGHUP
write_profile syntax
hup
[ "$RELOAD_OK" = 0 ] || fail "SIGHUP with a YAML syntax error was accepted"
line=$(last_failure_line)
assert_contains "$line" "$PROFILE:10:" "the syntax error is not located at $PROFILE line 10"
assert_contains "$line" "YAML syntax error"
assert_eq "uid" "$(new_conn_attrs)" "the running (narrow) set after a failed reload"
sleep 1
write_profile unknown
hup
[ "$RELOAD_OK" = 0 ] || fail "SIGHUP with an unknown key was accepted"
line=$(last_failure_line)
assert_contains "$line" "$PROFILE:10: key 'bogus_key': unknown key"
assert_eq "uid" "$(new_conn_attrs)" "the running (narrow) set after a failed reload"
sleep 1
ok "invalid profiles by SIGHUP: '$line'; the running set keeps serving"

# ---------------------------------------------------------------- 3. aldproxyctl reload
f=$(count_log "reload failed")
ctl_reload
[ "$(count_log "reload failed")" -gt "$f" ] || fail "aldproxyctl reload of an invalid profile: no failure logged"
assert_eq 1 "$CTL_RC" "aldproxyctl reload of an invalid profile: exit status (stdout: $CTL_OUT; stderr: $CTL_ERR)"
assert_contains "$CTL_OUT$CTL_ERR" "$PROFILE:10: key 'bogus_key': unknown key" \
	"aldproxyctl reload of an invalid profile does not report the config error"
assert_not_contains "$CTL_OUT" '"reload":"done"'
assert_eq "uid" "$(new_conn_attrs)" "the running (narrow) set after a failed aldproxyctl reload"
sleep 1
t_all_sent=$(now)
write_profile all
ctl_reload
[ "$CTL_RC" = 0 ] || fail "aldproxyctl reload of a valid profile: exit $CTL_RC (stdout: $CTL_OUT; stderr: $CTL_ERR)"
"$RIG_PYTHON" -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["reload"]=="done" and d["profiles"]==1, d' \
	"$CTL_OUT" || fail "aldproxyctl reload of a valid profile answered: $CTL_OUT"
t_all=$(now)
assert_eq "uid mail" "$(new_conn_attrs)" "a new connection after mail was allowed again"
sleep 1.5
t_rapid=$(now)
ok "aldproxyctl reload: exit 1 with the error for an invalid profile, exit 0 and $CTL_OUT for a valid one"

# ---------------------------------------------------------------- 4. 20 rapid reloads, RSS
rss0=$(rss_kb)
done0=$(count_log "reload done")
failed0=$(count_log "reload failed")
want_ok=0 want_failed=0
for ((i = 1; i <= 20; i++)); do
	case $((i % 5)) in
	1) v=narrow ;; 2) v=syntax ;; 3) v=all ;; 4) v=unknown ;; 0) v=all ;;
	esac
	write_profile "$v"
	case $v in narrow | all) want_ok=$((want_ok + 1)) ;; *) want_failed=$((want_failed + 1)) ;; esac
	if [ $((i % 4)) = 0 ]; then
		ctl_reload
		case $v in
		narrow | all) [ "$CTL_RC" = 0 ] || fail "rapid reload $i ($v) by aldproxyctl: exit $CTL_RC: $CTL_OUT $CTL_ERR" ;;
		*) [ "$CTL_RC" = 1 ] || fail "rapid reload $i ($v) by aldproxyctl: exit $CTL_RC: $CTL_OUT $CTL_ERR" ;;
		esac
	else
		hup
		case $v in
		narrow | all) [ "$RELOAD_OK" = 1 ] || fail "rapid reload $i ($v) failed: $(last_failure_line)" ;;
		*) [ "$RELOAD_OK" = 0 ] || fail "rapid reload $i ($v) was accepted" ;;
		esac
	fi
done
wait_log_count "reload done" $((done0 + want_ok))
wait_log_count "reload failed" $((failed0 + want_failed))
sleep 1
rss1=$(rss_kb)
growth=$(((rss1 - rss0) / 1024))
assert_eq "uid mail" "$(new_conn_attrs)" "the set after the rapid reloads (all)"
if grep -q libasan "/proc/$PROXY_PID/maps" 2>/dev/null; then
	# AddressSanitizer's quarantine (up to 256 MB of freed memory) makes RSS
	# meaningless; LeakSanitizer checks for leaks when rig_proxy_stop stops it
	ok "20 rapid reloads ($want_ok valid, $want_failed invalid); ASan build: VmRSS $rss0 kB -> $rss1 kB not checked"
else
	[ "$((rss1 - rss0))" -lt $((20 * 1024)) ] || fail "aldproxyd VmRSS grew from $rss0 kB to $rss1 kB over 20 reloads"
	ok "20 rapid reloads ($want_ok valid, $want_failed invalid): VmRSS $rss0 kB -> $rss1 kB (${growth} MB growth)"
fi

# ---------------------------------------------------------------- the clients' account
sleep 1
touch "$W/stop"
wait "$load_pid" || { cat "$W/load.out" >&2; fail "the load generator failed"; }
"$RIG_PYTHON" - "$W/result.json" "$t_narrow_sent" "$t_narrow" "$t_all_sent" "$t_all" "$t_rapid" <<'PY' ||
import json, sys
r = json.load(open(sys.argv[1]))
narrow_sent, narrow, all_sent, all_, rapid = map(float, sys.argv[2:7])
bad = []
if r["failures"]:
    bad.append("%d failed operations, first: %r" % (len(r["failures"]), r["failures"][:5]))
w = r["workers"]
nw = sum(len(v) for v in w.values())
nf = len(r["fresh"])
if len(w) != 8 or min(len(v) for v in w.values()) < 50:
    bad.append("a client connection ran too few searches: %r" % {k: len(v) for k, v in w.items()})
if nw + nf < 1000:
    bad.append("only %d searches succeeded (%d on the 8 connections, %d on new ones)" % (nw + nf, nw, nf))
# the connections bound before the reloads keep the profile they bound with
lost = [(k, t) for k, v in w.items() for t, m in v if not m]
if lost:
    bad.append("%d searches on connections bound before the reloads lost mail, first %r" % (len(lost), lost[:3]))
# new connections: mail before the first reload, none after it, mail again after the aldproxyctl reload
def phase(lo, hi):
    return [m for tb, te, m in r["fresh"] if tb > lo and te < hi]
before, mid, after = phase(0, narrow_sent), phase(narrow, all_sent), phase(all_, rapid)
for name, xs, want in (("before the first reload", before, True), ("while mail was not allowed", mid, False),
                       ("after mail was allowed again", after, True)):
    if len(xs) < 5:
        bad.append("only %d new connections %s" % (len(xs), name))
    elif any(m != want for m in xs):
        bad.append("new connections %s: %d of %d had mail" % (name, sum(xs), len(xs)))
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
print("ok - %d searches, none failed: %d on the 8 connections bound before the reloads (mail kept), %d on new "
      "connections (mail %d/%d before, %d/%d during the narrow allowlist, %d/%d after)"
      % (nw + nf, nw, nf, sum(before), len(before), sum(mid), len(mid), sum(after), len(after)))
PY
	fail "the clients' account"

rig_proxy_stop || fail "aldproxyd did not stop cleanly"
test_pass
