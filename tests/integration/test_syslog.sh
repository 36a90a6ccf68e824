#!/usr/bin/env bash
# test_syslog.sh — log.target: syslog and audit.target: syslog reach a real
# syslog socket with the configured facilities and priorities:
#   * audit records (JSON, then CEF) under facility authpriv (the default) —
#     a failed bind at warning, a good one at info;
#   * the log under log.facility local3, ident aldproxyd[PID];
#   * no password in anything received.
# glibc's syslog(3) writes to /dev/log: aldproxyd runs in a private mount
# namespace where /dev/log is this test's receiver (lib/syslogd.py); when the
# machine has no /dev/log at all, the receiver's socket is bound there for
# the run and removed afterwards.
set -euo pipefail
. "$(dirname "$0")/../rig/rig.sh"
. "$(dirname "$0")/lib/common.sh"
need unshare
rig_init
rig_certs
rig_slapd_start
test_begin test_syslog
SOCKF="$RIG_DIR/devlog.sock"
RECV="$RIG_DIR/syslog.out"
"$RIG_PYTHON" "$INTEG_LIB/syslogd.py" "$SOCKF" "$RECV" </dev/null >"$RIG_DIR/syslogd.log" 2>&1 &
rig_track_pid $!
for _ in $(seq 50); do [ -e "$RECV.ready" ] && break; sleep 0.1; done
[ -S "$SOCKF" ] || fail "the syslog receiver did not start"

created_devlog=0
if [ ! -e /dev/log ] && [ ! -L /dev/log ]; then
	: >/dev/log
	created_devlog=1
fi
cleanup_devlog() { [ "$created_devlog" = 1 ] && rm -f /dev/log; return 0; }
trap 'cleanup_devlog; rig_cleanup' EXIT
trap 'cleanup_devlog; rig_cleanup; trap - EXIT; exit 130' INT
trap 'cleanup_devlog; rig_cleanup; trap - EXIT; exit 143' TERM

# run aldproxyd with /dev/log bound to the receiver, in its own mount
# namespace: /dev (or /, when /dev is not a mount point) made private there
# first, so the bind mount never reaches the rest of the machine.  This works
# in a chroot too (where / is not a mount point and `unshare --propagation
# private` fails).
WRAP="$RIG_DIR/with-devlog"
cat >"$WRAP" <<SH
#!/bin/sh
exec unshare --mount --propagation unchanged sh -c '{ mount --make-rprivate /dev 2>/dev/null || mount --make-rprivate /; } &&
	mount --bind "$SOCKF" /dev/log && exec "\$0" "\$@"' "\$@"
SH
chmod +x "$WRAP"
if ! out=$("$WRAP" true 2>&1); then
	fail "this test needs a private mount namespace to put its syslog socket on /dev/log: root with CAP_SYS_ADMIN, \
unshare(CLONE_NEWNS) allowed (not blocked by seccomp or a container's policy), and /dev or / a mount point whose \
propagation can be made private; here: $out"
fi
REAL_D="${ALDPROXYD:-$REPO/build/src/aldproxyd}"
cat >"$RIG_DIR/aldproxyd-syslog" <<SH
#!/bin/sh
exec "$WRAP" "$REAL_D" "\$@"
SH
chmod +x "$RIG_DIR/aldproxyd-syslog"
export ALDPROXYD="$RIG_DIR/aldproxyd-syslog"

start_with() {   # AUDIT_FORMAT
	RIG_AUDIT_TARGET=syslog RIG_AUDIT_FORMAT=$1 rig_proxy_config
	sed -i 's/^  target: stderr$/  target: syslog\n  facility: local3/' "$PROXY_CONFIG"
	grep -q "facility: local3" "$PROXY_CONFIG" || fail "could not switch the log to syslog"
	rig_proxy_start
}

start_with json
ldapwhoami -x -H "$PROXY_URL" -D "$SVC_DN" -w "$SVC_PW" >/dev/null
rc=0; ldapwhoami -x -H "$PROXY_URL" -D "uid=alice,$USERS_DN" -w 'Wr0ng-Syslog-Pw' >/dev/null 2>&1 || rc=$?
assert_eq 49 "$rc" "a wrong password"
sleep 0.3
rig_proxy_stop
# authpriv = 10: info 86, warning 84, notice 85; local3 = 19: notice 157, info 158
"$RIG_PYTHON" - "$RECV" "$SVC_DN" <<'PY' || fail "syslog records: $(tail -n 20 "$RECV")"
import json, re, sys
lines = open(sys.argv[1]).read().splitlines()
svc = sys.argv[2]
msgs = []
for l in lines:
    m = re.match(r'^<(\d+)>(\w{3} [ \d]\d \d\d:\d\d:\d\d) aldproxyd\[(\d+)\]: (.*)$', l)
    assert m, "not a syslog(3) message from aldproxyd: %r" % l
    msgs.append((int(m.group(1)), m.group(4)))
audit = [(p, json.loads(t)) for p, t in msgs if t.startswith("{")]
ok = [(p, r) for p, r in audit if r["event"] == "bind_success" and r["user"] == svc]
bad = [(p, r) for p, r in audit if r["event"] == "bind_failure" and r["reason"] == "invalid_credentials"]
assert ok and all(p == 86 for p, _ in ok), ok
assert bad and all(p == 84 for p, _ in bad), bad
assert any(r["event"] == "service_start" and p == 85 for p, r in audit)
logl = [(p, t) for p, t in msgs if not t.startswith("{")]
assert any(p == 157 and "started:" in t for p, t in logl), logl[:5]
assert any(p == 158 and " op=1 BIND profile=demo" in t and "result=0" in t for p, t in logl)
assert any(p == 158 and "result=49" in t for p, t in logl)
print("ok - syslog: %d audit records under authpriv (success info, failure warning), %d log lines under local3"
      % (len(audit), len(logl)))
PY

: >"$RECV"
start_with cef
rc=0; ldapwhoami -x -H "$PROXY_URL" -D "uid=alice,$USERS_DN" -w 'Wr0ng-Syslog-Pw' >/dev/null 2>&1 || rc=$?
sleep 0.3
rig_proxy_stop
grep -qE '^<84>.* aldproxyd\[[0-9]+\]: CEF:0\|ALD\|aldproxy\|[^|]+\|bind_failure\|' "$RECV" ||
	fail "no CEF bind_failure at authpriv.warning: $(tail -n 5 "$RECV")"
ok "syslog: CEF records as well"
assert_not_contains "$(cat "$RECV")" "Wr0ng-Syslog-Pw" "a password reached syslog"
assert_not_contains "$(cat "$RECV")" "$SVC_PW" "a password reached syslog"
test_pass
