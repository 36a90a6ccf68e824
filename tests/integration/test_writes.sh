#!/usr/bin/env bash
# test_writes.sh — a profile's `writes`: Modify of listed attributes and
# Password Modify, performed on the directory AS THE BOUND USER (proxied
# authorization), so the directory's own access rules decide; everything
# else stays read-only.  Runs on slapd and on 389-ds (RIG_BACKEND=389ds).
# directories: slapd 389ds
set -euo pipefail
. "$(dirname "$0")/../rig/rig.sh"
rig_init
rig_certs
rig_slapd_start
rig_proxy_config
cat >"$RIG_DIR/profiles/idm.yaml" <<YAML
name: idm
description: an IDM product on its own port, allowed to change phones and passwords
listeners: ["ldap://127.0.0.1:$PROXY_PORT2"]
user_bases: ["$USERS_DN"]
search_base: "$BASE_DN"
writes:
  password_modify: true
  modify: [telephoneNumber, mobile]
attributes: ["*"]
YAML
rig_proxy_start
IDM_URL="ldap://127.0.0.1:$PROXY_PORT2"
ALICE="uid=alice,$USERS_DN"
BOB="uid=bob,$USERS_DN"

direct_value() {   # DN ATTR — as the directory has it now
	ldapsearch -x -LLL -o ldif-wrap=no -H "$SLAPD_URL" -D "$DM_DN" -w "$DM_PW" -b "$1" -s base "$2" |
		sed -n "s/^$2: //p"
}

# 1. alice changes her own phone number through the IDM profile
rc=0
out=$(ldapmodify -x -H "$IDM_URL" -D "$ALICE" -w Secret123 2>&1 <<LDIF) || rc=$?
dn: $ALICE
changetype: modify
replace: telephoneNumber
telephoneNumber: +7 495 000 11 22
LDIF
assert_eq 0 "$rc" "alice modifies her own telephoneNumber: $out"
assert_eq "+7 495 000 11 22" "$(direct_value "$ALICE" telephoneNumber)" "the directory has the new number"
echo "ok - a listed attribute is modified as the bound user"

# 2. the same on bob's entry: the directory refuses, because it runs as alice, not as aldproxy
rc=0
out=$(ldapmodify -x -H "$IDM_URL" -D "$ALICE" -w Secret123 2>&1 <<LDIF) || rc=$?
dn: $BOB
changetype: modify
replace: telephoneNumber
telephoneNumber: +7 495 999 99 99
LDIF
assert_eq 50 "$rc" "alice modifying bob's telephoneNumber: $out"
[ "$(direct_value "$BOB" telephoneNumber)" != "+7 495 999 99 99" ] || fail "bob's number changed"
echo "ok - the directory's own access rules apply (alice cannot change bob)"

# 3. an attribute the profile does not list
rc=0
out=$(ldapmodify -x -H "$IDM_URL" -D "$ALICE" -w Secret123 2>&1 <<LDIF) || rc=$?
dn: $ALICE
changetype: modify
replace: mail
mail: someone@evil.test
LDIF
assert_eq 50 "$rc" "modify of mail"
assert_contains "$out" "does not allow modifying 'mail'"
echo "ok - attributes outside writes.modify are refused by aldproxy"

# 4. Password Modify as alice, then the new password works and the old one does not
rc=0
out=$(ldappasswd -x -H "$IDM_URL" -D "$ALICE" -w Secret123 -a Secret123 -s NewSecret456 2>&1) || rc=$?
assert_eq 0 "$rc" "ldappasswd through the IDM profile: $out"
ldapwhoami -x -H "$PROXY_URL" -D "$ALICE" -w NewSecret456 >/dev/null || fail "the new password does not bind"
if ldapwhoami -x -H "$PROXY_URL" -D "$ALICE" -w Secret123 >/dev/null 2>&1; then
	fail "the old password still binds"
fi
assert_not_contains "$PROXY_LOG" "NewSecret456" "the new password in the log"
echo "ok - Password Modify runs as the user; the new password binds, the old does not"

# 5. the demo profile has no writes: read-only
rc=0
out=$(ldapmodify -x -H "$PROXY_URL" -D "$SVC_DN" -w "$SVC_PW" 2>&1 <<LDIF) || rc=$?
dn: $BOB
changetype: modify
replace: telephoneNumber
telephoneNumber: 1
LDIF
assert_eq 53 "$rc" "modify through a read-only profile"
rc=0
out=$(ldappasswd -x -H "$PROXY_URL" -D "$BOB" -w Secret123 -s Other789 2>&1) || rc=$?
assert_contains "$out" "(53)" "password modify through a read-only profile"

# 6. add, delete and rename: only with writes.add / delete / modrdn (test_provisioning.sh)
rc=0
out=$(ldapadd -x -H "$IDM_URL" -D "$ALICE" -w NewSecret456 2>&1 <<LDIF) || rc=$?
dn: cn=new,$BASE_DN
objectClass: organizationalRole
cn: new
LDIF
assert_eq 50 "$rc" "add"
assert_contains "$out" "may not add entries (writes.add is not set)"
rc=0
out=$(ldapdelete -x -H "$IDM_URL" -D "$ALICE" -w NewSecret456 "$BOB" 2>&1) || rc=$?
assert_eq 50 "$rc" "delete"
rc=0
out=$(ldapmodrdn -x -H "$IDM_URL" -D "$ALICE" -w NewSecret456 "$BOB" uid=bobby 2>&1) || rc=$?
assert_eq 50 "$rc" "modrdn"
echo "ok - read-only profiles refuse writes (53); add, delete and modrdn without writes.add/delete/modrdn (50)"

rig_proxy_stop
echo "PASS test_writes"
