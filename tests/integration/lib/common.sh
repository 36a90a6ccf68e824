# shellcheck shell=bash
# common.sh — shared by the integration tests: source after ../rig/rig.sh.
#   ok MSG            progress line
#   test_begin NAME   start the clock;  test_pass   print PASS NAME (N s)
#   py SCRIPT ARGS    run a helper of lib/ (or - for stdin) with the rig's python (ldap3)
#   proxy_search ...  ldapsearch -LLL -o ldif-wrap=no through the proxy as the service account
#   direct_search ... the same straight to slapd as aldproxy's own identity
INTEG_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export INTEG_LIB

ok() { echo "ok - $*"; }

test_begin() {
	TEST_NAME=$1
	TEST_T0=$(date +%s.%N)
}

test_pass() {
	local t1
	t1=$(date +%s.%N)
	echo "PASS $TEST_NAME ($(awk -v a="$TEST_T0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s)"
}

py() {
	local s=$1
	shift
	[ "$s" = - ] || s="$INTEG_LIB/$s"
	PYTHONPATH="$INTEG_LIB${PYTHONPATH:+:$PYTHONPATH}" "$RIG_PYTHON" "$s" "$@"
}

proxy_search() {
	ldapsearch -LLL -o ldif-wrap=no -o nettimeout=10 -x -H "$PROXY_URL" -D "$SVC_DN" -w "$SVC_PW" "$@"
}

direct_search() {
	ldapsearch -LLL -o ldif-wrap=no -o nettimeout=10 -x -H "$SLAPD_URL" -D "$PROXY_BIND_DN" -w "$PROXY_BIND_PW" "$@"
}

# no_log_problems [SINCE_LINE] — fail when the proxy log (from line SINCE_LINE)
# holds error or warning lines.
no_log_problems() {
	local from=${1:-1} bad
	bad=$(tail -n +"$from" "$PROXY_LOG" | grep -E '^[0-9T:.-]+Z (error|warning): ' || true)
	[ -z "$bad" ] || fail "proxy log has errors/warnings:
$bad"
}

log_lines() { wc -l <"$PROXY_LOG"; }

# audit_has EVENT PYTHON-CONDITION — some JSON record of EVENT in $AUDIT_LOG
# satisfies the condition (r is the record; a missing key reads as None);
# every record must carry the common fields (docs/audit.md)
audit_has() {
	"$RIG_PYTHON" - "$AUDIT_LOG" "$1" "$2" <<'PY' || fail "no audit record '$1' with $2 in $AUDIT_LOG:
$(tail -n 30 "$AUDIT_LOG")"
import json, sys
path, event, cond = sys.argv[1:4]
class R(dict):
    def __missing__(self, k):
        return None
recs = [json.loads(l, object_hook=R) for l in open(path) if l.strip()]
for r in recs:
    for k in ("time", "host", "product", "version", "pid", "event", "outcome"):
        assert k in r, "record without %s: %r" % (k, r)
sys.exit(0 if any(r["event"] == event and eval(cond) for r in recs) else 1)
PY
}
