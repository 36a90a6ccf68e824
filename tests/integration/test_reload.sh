#!/usr/bin/env bash
# test_reload.sh — SIGHUP re-reads the configuration and the profiles beside
# the running set: a bad profile keeps the old set running (no failed
# operation for a client searching throughout), a good change takes effect
# for new binds, and clients bound before keep working.
# directories: slapd 389ds
set -euo pipefail
. "$(dirname "$0")/../rig/rig.sh"
rig_init
rig_certs
rig_slapd_start
rig_proxy_config
rig_proxy_start

search_as_demo() {
	ldapsearch -x -LLL -o nettimeout=5 -H "$PROXY_URL" -D "$SVC_DN" -w "$SVC_PW" -b "$BASE_DN" "$@"
}

# a client that keeps searching on one connection for the whole test
"$RIG_PYTHON" - "$PROXY_URL" "$SVC_DN" "$SVC_PW" "$USERS_DN" "$RIG_DIR/searcher.out" <<'PY' &
import sys, time
from ldap3 import Server, Connection
url, dn, pw, base, out = sys.argv[1:6]
c = Connection(Server(url), dn, pw, auto_bind=True, receive_timeout=10)
ok = bad = 0
end = time.time() + 6
while time.time() < end:
    c.search(base, "(uid=alice)", attributes=["uid"])
    if c.result["result"] == 0 and len(c.entries) == 1:
        ok += 1
    else:
        bad += 1
    time.sleep(0.01)
open(out, "w").write("%d %d\n" % (ok, bad))
PY
searcher=$!
rig_track_pid "$searcher"
sleep 0.5

# 1. a broken profile: the reload fails, the old set keeps serving
cp "$RIG_DIR/profiles/demo.yaml" "$RIG_DIR/demo.good"
echo "bogus_key: 1" >>"$RIG_DIR/profiles/demo.yaml"
kill -HUP "$PROXY_PID"
sleep 0.5
assert_contains "$PROXY_LOG" "reload failed, the running configuration stays"
assert_contains "$PROXY_LOG" "key 'bogus_key': unknown key"
out=$(search_as_demo "(uid=bob)" uid) || fail "search after a failed reload: $out"
assert_contains "$out" "uid: bob"
echo "ok - a bad profile is refused on reload and the old set keeps serving"

# 2. a good change: a second profile appears, its service account binds
cp "$RIG_DIR/demo.good" "$RIG_DIR/profiles/demo.yaml"
ldapadd -x -H "$SLAPD_URL" -D "$DM_DN" -w "$DM_PW" >/dev/null <<LDIF
dn: uid=reloaded,cn=sysaccounts,cn=etc,$BASE_DN
objectClass: account
objectClass: simpleSecurityObject
uid: reloaded
userPassword: ReloadPass1
LDIF
cat >"$RIG_DIR/profiles/reloaded.yaml" <<YAML
name: reloaded
service_accounts: ["uid=reloaded,cn=sysaccounts,cn=etc,$BASE_DN"]
search_base: $USERS_DN
attributes: [uid, cn]
YAML
if ldapwhoami -x -H "$PROXY_URL" -D "uid=reloaded,cn=sysaccounts,cn=etc,$BASE_DN" -w ReloadPass1 >/dev/null 2>&1; then
	fail "the new profile's account could bind before the reload"
fi
kill -HUP "$PROXY_PID"
sleep 0.5
assert_contains "$PROXY_LOG" "reload done: 2 profile(s)"
out=$(ldapsearch -x -LLL -H "$PROXY_URL" -D "uid=reloaded,cn=sysaccounts,cn=etc,$BASE_DN" -w ReloadPass1 \
	-b "$USERS_DN" "(uid=alice)" uid mail) || fail "search through the reloaded profile: $out"
assert_contains "$out" "uid: alice"
assert_not_contains "$out" "mail:" "the new profile's allowlist applies"
echo "ok - a good reload swaps the profile set in whole"

wait "$searcher" || fail "searcher failed"
read -r ok bad <"$RIG_DIR/searcher.out"
[ "$bad" -eq 0 ] || fail "$bad searches failed across the reloads ($ok succeeded)"
[ "$ok" -gt 50 ] || fail "only $ok searches ran"
echo "ok - $ok searches on a connection bound before the reloads, none failed"

rig_proxy_stop
echo "PASS test_reload"
