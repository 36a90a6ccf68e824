#!/usr/bin/env bash
# test_drain.sh — SIGTERM stops accepting and drains what is in flight for
# a bounded time (DRAIN_SECONDS = 5 in src/main.c), then aldproxyd exits 0
# logging "aldproxyd stopped".  A fresh aldproxyd for each case:
#  (a) an idle bound client is disconnected at once; aldproxyd exits < 2 s;
#  (b) a search in flight (slapd frozen with SIGSTOP) finishes once slapd
#      resumes ~1 s after the SIGTERM: the client gets its entries and
#      result 0, the listeners refuse new connections at once, and aldproxyd
#      exits well before the 5 s bound;
#  (c) the bound holds: slapd stays frozen, aldproxyd exits 4.5-8 s after
#      the SIGTERM and the client sees a result or a Notice of
#      Disconnection (logged "closed: aldproxy is shutting down") — never a
#      hang (15 s client timeout);
#  (d) results aldproxyd has already received reach a client that reads
#      slowly: a client with unsent output is not closed until it is
#      flushed or the drain ends.
# The clients are python3-ldap3 processes ($RIG_PYTHON) in the background.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../rig/rig.sh"
. "$here/lib/common.sh"

test_begin test_drain
rig_init
rig_certs
rig_slapd_start
rig_proxy_config
CTL="${ALDPROXYCTL:-$REPO/build/src/aldproxyctl}"
SOCK="$RIG_DIR/control.sock"
W="$RIG_DIR/drain"
mkdir -p "$W"
: >>"$PROXY_LOG"

# ------------------------------------------------------------------ helpers

# The client: bind as the service account, write $dir/bound, then
#   idle   — wait (<= 10 s) until the server closes the socket or sends something;
#   search — wait for $dir/go, write $dir/sent, run one search (15 s timeout).
# The outcome goes to $dir/result as JSON (written last, atomically).
cat >"$W/client.py" <<'PY'
import json, os, select, socket, sys, time
from ldap3 import Server, Connection
mode, d, url, dn, pw, base, flt = sys.argv[1:8]

def done(**kw):
    kw["t"] = time.time()
    with open(d + "/result.tmp", "w") as f:
        json.dump(kw, f)
    os.rename(d + "/result.tmp", d + "/result")
    sys.exit(0)

c = Connection(Server(url, connect_timeout=5), dn, pw, auto_bind=True, receive_timeout=15)
open(d + "/bound", "w").write("%f\n" % time.time())
if mode == "idle":
    r, _, _ = select.select([c.socket], [], [], 10)
    if not r:
        done(event="open")
    try:
        data = c.socket.recv(4096)
    except OSError as e:
        done(event="error", error=repr(e))
    done(event="eof" if data == b"" else "data", nbytes=len(data))
for _ in range(400):
    if os.path.exists(d + "/go"):
        break
    time.sleep(0.05)
else:
    done(outcome="no-go")
t0 = time.time()
open(d + "/sent", "w").write("%f\n" % t0)
try:
    c.search(base, flt, attributes=["uid", "mail"])
except Exception as e:  # a closed connection or a timeout
    done(outcome="exception", type=type(e).__name__, error=str(e), elapsed=time.time() - t0)
done(outcome="result", result=c.result["result"], message=c.result.get("message", ""),
     entries=sorted(str(e.entry_dn) for e in c.entries), elapsed=time.time() - t0)
PY

# start_client MODE NAME [FILTER] — background client in $W/NAME
start_client() {
	local d="$W/$2"
	rm -rf "$d"
	mkdir -p "$d"
	"$RIG_PYTHON" "$W/client.py" "$1" "$d" "$PROXY_URL" "$SVC_DN" "$SVC_PW" "$USERS_DN" "${3:-(uid=alice)}" \
		>"$d/out" 2>&1 &
	CLIENT_PID=$!
	rig_track_pid "$CLIENT_PID"
}

# wait_file FILE SECONDS
wait_file() {
	local n=$(($2 * 20))
	while [ ! -e "$1" ]; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || return 1
		sleep 0.05
	done
}

# json FILE EXPR — evaluate a python expression over the JSON in FILE (as d)
json() {
	"$RIG_PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
# cmp_le A B — A <= B (decimals)
cmp_le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }

# in-flight operations on the proxy's client connections (control socket)
wait_in_flight() {
	local i out
	for ((i = 0; i < 100; i++)); do
		out=$("$CTL" -s "$SOCK" connections 2>/dev/null || true)
		case "$out" in *'"in_flight":1'*) return 0 ;; esac
		sleep 0.05
	done
	fail "the search never showed up in flight on the proxy: $out"
}

# proxy_term — SIGTERM, noting the time in T_TERM
proxy_term() {
	T_TERM=$(date +%s.%N)
	kill -TERM "$PROXY_PID"
}

# proxy_wait_exit SECONDS — wait for the SIGTERMed proxy to exit: EXIT_SECS
# (since T_TERM) and EXIT_STATUS; the rig forgets the pid (rig_proxy_stop
# would report a proxy that exited before it as "died on its own").
proxy_wait_exit() {
	local pid=$PROXY_PID n=$(($1 * 50))
	while _rig_alive "$pid"; do
		n=$((n - 1))
		if [ "$n" -le 0 ]; then
			kill -KILL "$pid" 2>/dev/null || true
			_rig_reap "$pid"
			PROXY_PID=
			fail "aldproxyd still running $1 s after SIGTERM (killed)"
		fi
		sleep 0.02
	done
	EXIT_SECS=$(elapsed "$T_TERM" "$(date +%s.%N)")
	_rig_reap "$pid"
	EXIT_STATUS=$RIG_REAP_STATUS
	PROXY_PID=
}

# check_stopped_cleanly FROM_LINE — status 0, "aldproxyd stopped", no sanitizer report
check_stopped_cleanly() {
	local log
	log=$(tail -n +"$1" "$PROXY_LOG")
	if grep -qE 'AddressSanitizer|LeakSanitizer|ThreadSanitizer|MemorySanitizer|runtime error:' <<<"$log"; then
		_rig_print_proxy_log
		fail "sanitizer report in $PROXY_LOG"
	fi
	assert_eq 0 "$EXIT_STATUS" "aldproxyd exit status after SIGTERM"
	assert_contains "$log" "aldproxyd stopped"
	assert_contains "$log" "no longer accepting connections; draining for up to 5 s"
}

# refused_within SECONDS — every proxy listener refuses connections within SECONDS
refused_within() {
	"$RIG_PYTHON" - "$1" "$PROXY_PORT" "$PROXY_TLS_PORT" <<'PY'
import socket, sys, time
limit, ports = float(sys.argv[1]), [int(p) for p in sys.argv[2:]]
end = time.time() + limit
for p in ports:
    while True:
        s = socket.socket()
        s.settimeout(0.5)
        try:
            s.connect(("127.0.0.1", p))
        except ConnectionRefusedError:
            break
        except OSError as e:
            sys.exit("port %d: %r" % (p, e))
        finally:
            s.close()
        if time.time() > end:
            sys.exit("port %d still accepts connections %.1f s after SIGTERM" % (p, limit))
        time.sleep(0.02)
PY
}

# ------------------------------------------------------------------ (a) idle client
from=$(($(log_lines) + 1))
rig_proxy_start
start_client idle a
wait_file "$W/a/bound" 10 || { cat "$W/a/out" >&2; fail "(a) the idle client did not bind"; }
sleep 0.2
proxy_term
wait_file "$W/a/result" 5 || fail "(a) the idle client saw nothing within 5 s of SIGTERM"
proxy_wait_exit 10
wait "$CLIENT_PID" || fail "(a) client failed: $(cat "$W/a/out")"
ev=$(json "$W/a/result" 'd["event"]')
t_close=$(elapsed "$T_TERM" "$(json "$W/a/result" 'd["t"]')")
[ "$ev" = eof ] || [ "$ev" = data ] || fail "(a) idle client: $(cat "$W/a/result")"
cmp_le "$t_close" 1 || fail "(a) the idle client was disconnected $t_close s after SIGTERM, expected at once"
cmp_le "$EXIT_SECS" 2 || fail "(a) aldproxyd took $EXIT_SECS s to exit with only an idle client"
check_stopped_cleanly "$from"
ok "(a) idle bound client disconnected ${t_close} s after SIGTERM ($ev); aldproxyd exited 0 in ${EXIT_SECS} s"

# ------------------------------------------------------------------ (b) in flight, finishes
# (Known daemon race, see (d): about 1 run in 100 the client gets
# "session terminated by server" here — the result was read from slapd in
# the same loop turn as drain_check_cb(), which closed the client before its
# output was written.)
from=$(($(log_lines) + 1))
rig_proxy_start
start_client search b '(|(uid=alice)(uid=bob)(uid=carol))'
wait_file "$W/b/bound" 10 || { cat "$W/b/out" >&2; fail "(b) the client did not bind"; }
rig_slapd_pause
touch "$W/b/go"
wait_file "$W/b/sent" 5 || fail "(b) the client did not send its search"
wait_in_flight
proxy_term
refused_within 1 || { rig_slapd_resume; fail "(b) the listeners were not closed at once on SIGTERM"; }
t_refused=$(elapsed "$T_TERM" "$(date +%s.%N)")
[ ! -e "$W/b/result" ] || { rig_slapd_resume; fail "(b) the search ended while slapd was frozen: $(cat "$W/b/result")"; }
_rig_alive "$PROXY_PID" || { rig_slapd_resume; fail "(b) aldproxyd exited with a search in flight"; }
sleep 1
rig_slapd_resume
t_resume=$(elapsed "$T_TERM" "$(date +%s.%N)")
proxy_wait_exit 10
wait_file "$W/b/result" 15 || fail "(b) no search result"
wait "$CLIENT_PID" || fail "(b) client failed: $(cat "$W/b/out")"
out=$(cat "$W/b/result")
assert_eq result "$(json "$W/b/result" 'd["outcome"]')" "(b) the in-flight search did not complete: $out"
assert_eq 0 "$(json "$W/b/result" 'd["result"]')" "(b) result code of the in-flight search: $out"
assert_eq "uid=alice,$USERS_DN uid=bob,$USERS_DN uid=carol,$USERS_DN" \
	"$(json "$W/b/result" '" ".join(d["entries"])')" "(b) entries of the in-flight search"
cmp_le "$EXIT_SECS" 3 || fail "(b) aldproxyd exited $EXIT_SECS s after SIGTERM (slapd resumed at $t_resume s), expected well before 5 s"
check_stopped_cleanly "$from"
ok "(b) listeners refused within ${t_refused} s; the search in flight returned 3 entries, result 0 after slapd resumed at ${t_resume} s; aldproxyd exited 0 at ${EXIT_SECS} s"

# ------------------------------------------------------------------ (c) the bound holds
from=$(($(log_lines) + 1))
rig_proxy_start
start_client search c '(uid=alice)'
wait_file "$W/c/bound" 10 || { cat "$W/c/out" >&2; fail "(c) the client did not bind"; }
rig_slapd_pause
touch "$W/c/go"
wait_file "$W/c/sent" 5 || { rig_slapd_resume; fail "(c) the client did not send its search"; }
wait_in_flight
proxy_term
proxy_wait_exit 12
rig_slapd_resume
wait_file "$W/c/result" 20 || fail "(c) the client got no outcome"
wait "$CLIENT_PID" || fail "(c) client failed: $(cat "$W/c/out")"
out=$(cat "$W/c/result")
cmp_le 4.5 "$EXIT_SECS" || fail "(c) aldproxyd exited $EXIT_SECS s after SIGTERM with a search in flight, before the drain time"
cmp_le "$EXIT_SECS" 8 || fail "(c) aldproxyd exited $EXIT_SECS s after SIGTERM, past the 5 s drain bound"
check_stopped_cleanly "$from"
assert_contains "$(tail -n +"$from" "$PROXY_LOG")" "stopping: 1 client(s), 1 operation(s) still in flight"
outcome=$(json "$W/c/result" 'd["outcome"]')
cmp_le "$(json "$W/c/result" 'd["elapsed"]')" 12 || fail "(c) the client waited too long (a hang): $out"
case "$outcome" in
result)
	rc=$(json "$W/c/result" 'd["result"]')
	[ "$rc" != 0 ] || fail "(c) the search succeeded although slapd stayed frozen: $out"
	what="result $rc"
	;;
exception)
	case "$out" in
	*[Tt]imed\ out* | *[Tt]imeout*) fail "(c) the client timed out (hang): $out" ;;
	esac
	what="closed connection ($(json "$W/c/result" 'd["type"]'))"
	;;
*) fail "(c) unexpected outcome: $out" ;;
esac
# told, not dropped: a Notice of Disconnection (unavailable) went out first
tail -n +"$from" "$PROXY_LOG" | grep -q "closed: aldproxy is shutting down" ||
	fail "(c) the client was not sent a Notice of Disconnection when the drain ended"
ok "(c) slapd frozen: aldproxyd exited 0 at ${EXIT_SECS} s after SIGTERM; the client got a $what after $(json "$W/c/result" '"%.2f" % d["elapsed"]') s"

# ------------------------------------------------------------------ (d) unflushed output
# drain_idle() once closed every client with no operation in flight, results
# still in its output buffer and all: a slow reader lost what aldproxyd had
# already received.  6 pipelined searches of every user (~0.9 MB each) and a
# reader that starts 1 s after slapd answered.
if [ "${DRAIN_TEST_UNFLUSHED:-1}" = 1 ]; then
	from=$(($(log_lines) + 1))
	rig_proxy_start
	mkdir -p "$W/d"
	PYTHONPATH="$INTEG_LIB" "$RIG_PYTHON" - "$PROXY_URL" "$SVC_DN" "$SVC_PW" "$USERS_DN" "$W/d" \
		>"$W/d/out" 2>&1 <<'PY' &
import json, os, sys, time
import ldapwire as w
url, dn, pw, base, d = sys.argv[1:6]
c = w.Conn(url, timeout=15, rcvbuf=32768)
assert c.bind(dn, pw).code == 0
es, done = c.search(base, w.f_eq("objectClass", "person"), ["*"])
per = len(es)
open(d + "/bound", "w").close()
while not os.path.exists(d + "/go"):
    time.sleep(0.02)
mids = [c.msgid() for _ in range(6)]
c.send(b"".join(w.search_req(m, base, w.f_eq("objectClass", "person"), ["*"]) for m in mids))
open(d + "/sent", "w").close()
while not os.path.exists(d + "/read"):
    time.sleep(0.02)
n, codes, err = 0, [], None
try:
    while len(codes) < len(mids):
        m = c.recv(15)
        if m.tag == w.SEARCH_ENTRY:
            n += 1
        elif m.tag == w.SEARCH_DONE:
            codes.append(m.code)
except Exception as e:
    err = "%s: %s" % (type(e).__name__, e)
json.dump({"per": per, "entries": n, "codes": codes, "error": err}, open(d + "/result", "w"))
PY
	CLIENT_PID=$!
	rig_track_pid "$CLIENT_PID"
	wait_file "$W/d/bound" 10 || { cat "$W/d/out" >&2; fail "(d) the client did not bind"; }
	rig_slapd_pause
	touch "$W/d/go"
	wait_file "$W/d/sent" 5 || { rig_slapd_resume; fail "(d) the client did not send its searches"; }
	sleep 0.3
	proxy_term
	sleep 1
	rig_slapd_resume
	sleep 1
	touch "$W/d/read"
	proxy_wait_exit 10
	wait "$CLIENT_PID" || fail "(d) client failed: $(cat "$W/d/out")"
	out=$(cat "$W/d/result")
	assert_eq "[0, 0, 0, 0, 0, 0] $(json "$W/d/result" '6 * d["per"]')" \
		"$(json "$W/d/result" 'sorted(d["codes"])') $(json "$W/d/result" 'd["entries"]')" \
		"(d) the pipelined searches did not all arrive (aldproxyd had exited by $EXIT_SECS s after SIGTERM): $out"
	cmp_le "$EXIT_SECS" 8 || fail "(d) aldproxyd exited $EXIT_SECS s after SIGTERM"
	check_stopped_cleanly "$from"
	ok "(d) a slow reader got all 6 pipelined results; aldproxyd exited 0 at ${EXIT_SECS} s"
fi

# slapd still fine after the freezes
out=$(direct_search -b "$USERS_DN" '(uid=alice)' uid) || fail "slapd after the freezes: $out"
assert_contains "$out" "uid: alice"
test_pass
