#!/usr/bin/env bash
# test_rig_selftest.sh — checks the integration rig itself, straight against
# slapd (no proxy): tree size, transitive memberOf, locked account, TLS
# (StartTLS and ldaps), ACLs, restart; and that rig_proxy_config writes its
# files.  Should take well under 15 s.
# directories: slapd 389ds
set -euo pipefail

. "$(cd "$(dirname "$0")/../rig" && pwd)/rig.sh"

t0=$(date +%s.%N)
rig_init
rig_certs
rig_slapd_start --users 1000

ok() { echo "ok - $*"; }

# 1. At least 1000 users under cn=users (paged, as the proxy's identity).
out=$(ldapsearch -LLL -x -H "$SLAPD_URL" -D "$PROXY_BIND_DN" -w "$PROXY_BIND_PW" \
	-b "$USERS_DN" -s one -E pr=500/noprompt '(objectClass=posixAccount)' 1.1)
n=$(grep -c '^dn: ' <<<"$out" || true)
[ "$n" -ge 1000 ] || fail "expected >= 1000 users under $USERS_DN, got $n"
ok "$n users under $USERS_DN"

# 2. alice's memberOf holds engineering and, through nesting, zabbix-users.
out=$(ldapsearch -LLL -o ldif-wrap=no -x -H "$SLAPD_URL" -D "$PROXY_BIND_DN" -w "$PROXY_BIND_PW" \
	-b "uid=alice,$USERS_DN" -s base memberOf)
assert_contains "$out" "memberOf: cn=engineering,$GROUPS_DN" "alice not in engineering"
assert_contains "$out" "memberOf: cn=zabbix-users,$GROUPS_DN" "alice not in zabbix-users (nested)"
# carol: developers ⊂ engineering ⊂ zabbix-users
out=$(ldapsearch -LLL -o ldif-wrap=no -x -H "$SLAPD_URL" -D "$PROXY_BIND_DN" -w "$PROXY_BIND_PW" \
	-b "uid=carol,$USERS_DN" -s base memberOf)
assert_contains "$out" "memberOf: cn=zabbix-users,$GROUPS_DN" "carol not in zabbix-users (2 levels)"
ok "transitive memberOf"

# 3. eve is locked: invalidCredentials (49) even with the right password;
#    389-ds (nsAccountLock) answers unwillingToPerform (53) "Account inactivated".
if [ "$DIRECTORY_KIND" = 389ds ]; then
	assert_rc 53 ldapwhoami -x -H "$SLAPD_URL" -D "uid=eve,$USERS_DN" -w Secret123
else
	assert_rc 49 ldapwhoami -x -H "$SLAPD_URL" -D "uid=eve,$USERS_DN" -w Secret123
fi
assert_rc 49 ldapwhoami -x -H "$SLAPD_URL" -D "uid=alice,$USERS_DN" -w wrong
ok "locked account and bad password refused"

# 4. alice binds over StartTLS (-ZZ, cert checked against IP SAN 127.0.0.1
#    and DNS SAN localhost) and over ldaps.  389-ds answers WhoAmI with
#    "dn: <DN>" (a space after the colon), slapd with "dn:<DN>".
authz="dn:uid=alice,$USERS_DN"
[ "$DIRECTORY_KIND" = 389ds ] && authz="dn: uid=alice,$USERS_DN"
out=$(ldapwhoami -x -ZZ -H "$SLAPD_URL" -D "uid=alice,$USERS_DN" -w Secret123)
assert_eq "$authz" "$out" "StartTLS bind to $SLAPD_URL"
out=$(ldapwhoami -x -ZZ -H "ldap://localhost:$SLAPD_PORT" -D "uid=alice,$USERS_DN" -w Secret123)
assert_eq "$authz" "$out" "StartTLS bind to localhost"
out=$(ldapwhoami -x -H "$SLAPD_LDAPS_URL" -D "uid=alice,$USERS_DN" -w Secret123)
assert_eq "$authz" "$out" "ldaps bind"
ok "StartTLS and ldaps binds"

# Other accounts of the tree.
assert_rc 0 ldapwhoami -x -H "$SLAPD_URL" -D "uid=admin,$USERS_DN" -w AdminPass1
assert_rc 0 ldapwhoami -x -H "$SLAPD_URL" -D "$SVC_DN" -w "$SVC_PW"
assert_rc 0 ldapwhoami -x -H "$SLAPD_URL" -D "$DM_DN" -w "$DM_PW"
ok "admin, service account and Directory Manager bind"

# 5. Anonymous: root DSE and subschema yes, users no.  389-ds with
#    nsslapd-allow-anonymous-access: rootdse answers every other anonymous
#    search, cn=schema included, with inappropriateAuthentication (48); its
#    subschema entry is cn=schema (read it as aldproxy there).
out=$(ldapsearch -LLL -x -H "$SLAPD_URL" -b '' -s base namingContexts)
assert_contains "$out" "namingContexts: $BASE_DN" "anonymous root DSE"
if [ "$DIRECTORY_KIND" = 389ds ]; then
	assert_rc 48 ldapsearch -LLL -x -H "$SLAPD_URL" -b cn=schema -s base objectClasses
	out=$(ldapsearch -LLL -x -H "$SLAPD_URL" -D "$PROXY_BIND_DN" -w "$PROXY_BIND_PW" \
		-b cn=schema -s base objectClasses | grep -c posixGroupOfNames || true)
	[ "$out" -ge 1 ] || fail "aldproxy cannot read cn=schema (or the rig schema is missing)"
	anon_rcs=" 48 "
else
	out=$(ldapsearch -LLL -x -H "$SLAPD_URL" -b cn=Subschema -s base objectClasses | grep -c posixGroupOfNames || true)
	[ "$out" -ge 1 ] || fail "anonymous cannot read cn=Subschema"
	anon_rcs=" 0 32 "
fi
rc=0
out=$(ldapsearch -LLL -x -H "$SLAPD_URL" -b "$USERS_DN" '(uid=alice)' 2>&1) || rc=$?
assert_not_contains "$out" "dn: uid=alice" "anonymous read a user"
case "$anon_rcs" in *" $rc "*) ;; *) fail "anonymous user search: unexpected rc $rc: $out" ;; esac
ok "anonymous sees root DSE and subschema only"

# 6. userPassword is not readable by uid=aldproxy (nor by alice herself).
out=$(ldapsearch -LLL -x -H "$SLAPD_URL" -D "$PROXY_BIND_DN" -w "$PROXY_BIND_PW" \
	-b "uid=alice,$USERS_DN" -s base userPassword uid)
assert_contains "$out" "uid: alice" "aldproxy cannot read alice"
assert_not_contains "$out" "userPassword" "aldproxy can read userPassword"
out=$(ldapsearch -LLL -x -H "$SLAPD_URL" -D "$PROXY_BIND_DN" -w "$PROXY_BIND_PW" \
	-b "$BASE_DN" '(uid=demo)' '*')
assert_not_contains "$out" "userPassword" "aldproxy can read a service account password"
ok "userPassword hidden"

# 7. Restart keeps ports and data.
old=$SLAPD_PID
rig_slapd_restart
[ "$SLAPD_PID" != "$old" ] || fail "slapd pid unchanged after restart"
assert_rc 0 ldapwhoami -x -H "$SLAPD_URL" -D "uid=bob,$USERS_DN" -w Secret123
ok "restart"

# 8. rig_proxy_config writes the configuration (the proxy is not started here).
rig_proxy_config "# appended by the self-test"
assert_contains "$PROXY_CONFIG" "  - url: ldap://127.0.0.1:$PROXY_PORT"
assert_contains "$PROXY_CONFIG" "    - ldap://localhost:$SLAPD_PORT"
assert_contains "$PROXY_CONFIG" "# appended by the self-test"
assert_contains "$RIG_DIR/profiles/demo.yaml" "  - $SVC_DN"
assert_eq 600 "$(stat -c %a "$RIG_DIR/backend.password")" "backend.password mode"
assert_eq "$PROXY_BIND_PW" "$(head -n1 "$RIG_DIR/backend.password")"
ok "proxy configuration written"

rig_slapd_stop
t1=$(date +%s.%N)
echo "PASS test_rig_selftest ($(python3 -c "print(round($t1 - $t0, 1))") s)"
