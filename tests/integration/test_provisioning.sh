#!/usr/bin/env bash
# test_provisioning.sh — a provisioning product (profiles/ankey-idm.yaml as
# shipped, with a staging container added to its subtrees) adds, renames,
# moves and deletes people through aldproxy, as the bound service account
# with proxied authorization (the directory records that account as the
# creator, not aldproxy); everything outside writes.add / writes.delete /
# writes.modrdn is refused with insufficientAccessRights (50), a message
# naming the reason and an access_denied audit record.  Clients: ldapadd,
# ldapdelete, ldapmodrdn (libldap) and python3-ldap3 (lib/provisioning.py);
# the connector's own sequence of operations is not public.
# Runs on slapd and on 389-ds (RIG_BACKEND=389ds).
# directories: slapd 389ds
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../rig/rig.sh"
. "$here/lib/common.sh"
. "$here/lib/product.sh"

test_begin test_provisioning
rig_init
rig_certs
rig_slapd_start

IDM_PW='IdmPass1'
IDM_DN="uid=ankey-idm,cn=sysaccounts,cn=etc,$BASE_DN"
STAGING="cn=staging,cn=accounts,$BASE_DN"
prod_sysaccount ankey-idm "$IDM_PW"
_prod_dm ldapadd <<LDIF
dn: $STAGING
objectClass: top
objectClass: organizationalRole
cn: staging
LDIF

# ALD Pro's side: the IDM account may add, delete and rename under cn=accounts
# (as FreeIPA's User Administrator privilege lets it); aldproxy may act as it.
if [ "$RIG_BACKEND" = 389ds ]; then
	_prod_dm ldapmodify <<LDIF
dn: cn=accounts,$BASE_DN
changetype: modify
add: aci
aci: (targetattr = "*")(version 3.0; acl "rig: ankey-idm provisions people"; allow (all) userdn = "ldap:///$IDM_DN";)
LDIF
else
	_prod_dm ldapmodify <<LDIF
dn: $PROXY_BIND_DN
changetype: modify
add: authzTo
authzTo: dn.exact:$IDM_DN
LDIF
	rig_slapd_stop
	db=$(slapcat -n0 -F "$RIG_DIR/slapd/slapd.d" -a '(olcSuffix=*)' | sed -n 's/^dn: //p' | head -n1)
	[ -n "$db" ] || fail "no mdb database in slapd's cn=config"
	slapmodify -n0 -F "$RIG_DIR/slapd/slapd.d" >"$RIG_DIR/slapmodify.log" 2>&1 <<LDIF || { cat "$RIG_DIR/slapmodify.log" >&2; fail "slapmodify failed"; }
dn: $db
changetype: modify
add: olcAccess
olcAccess: {0}to dn.subtree="cn=accounts,$BASE_DN" by dn.exact="$IDM_DN" write by * break
LDIF
	rig_slapd_restart
fi

rig_proxy_config
# the shipped profile, with the staging container also allowed for adds and renames
prod_profile ankey-idm \
	'/^  add:$/,/^  delete:$/s|subtrees: \["|subtrees: ["cn=staging,cn=accounts,dc=ald,dc=test", "|' \
	'/^  modrdn:$/,$s|subtrees: \["|subtrees: ["cn=staging,cn=accounts,dc=ald,dc=test", "|'
grep -q 'cn=staging' "$RIG_DIR/profiles/ankey-idm.yaml" || fail "the staging subtree was not added to the profile"
rig_proxy_start
# (at start-up aldproxy warns that ankey-idm and the rig's demo profile share users on one listener)
since=$(($(log_lines) + 1))

idm() { # TOOL ARGS... through aldproxy as the IDM's account; output in $out, status in $rc
	local tool=$1
	shift
	rc=0
	out=$("$tool" -x -H "$PROXY_URL" -D "$IDM_DN" -w "$IDM_PW" -o nettimeout=10 "$@" 2>&1) || rc=$?
}
direct() { # DN ATTRS... — straight from the directory as its manager
	local dn=$1
	shift
	ldapsearch -x -LLL -o ldif-wrap=no -H "$SLAPD_URL" -D "$DM_DN" -w "$DM_PW" -b "$dn" -s base "$@" 2>/dev/null
}
lc() { tr '[:upper:]' '[:lower:]'; }


NEW="uid=prov1,$USERS_DN"

# 1. add in the allowed subtree, created as the IDM's account
idm ldapadd <<LDIF
dn: $NEW
objectClass: top
objectClass: person
objectClass: organizationalPerson
objectClass: inetOrgPerson
uid: prov1
cn: Provisioned One
sn: One
givenName: Provisioned
mail: prov1@ald.test
title: Analyst
manager: uid=alice,$USERS_DN
LDIF
assert_eq 0 "$rc" "ldapadd of $NEW: $out"
entry=$(direct "$NEW" creatorsName uid manager)
assert_contains "$entry" "uid: prov1" "the directory has the new entry"
assert_contains "$(lc <<<"$entry")" "manager: uid=alice,$(lc <<<"$USERS_DN")" "manager (a DN value)"
creator=$(sed -n 's/^creatorsName: //p' <<<"$entry" | lc)
if [ "$RIG_BACKEND" = 389ds ]; then
	# 389-ds records the connection's bind DN (aldproxy's) in creatorsName; its access
	# log names the identity the operation was authorized as (authzid)
	assert_eq "$(lc <<<"$PROXY_BIND_DN")" "$creator" "389-ds creatorsName"
	grep -Ei "ADD dn=\"uid=prov1,$USERS_DN\".*authzid=\"(dn:)?$IDM_DN\"" "$RIG_389_LOGDIR/access" >/dev/null ||
		fail "389-ds's access log does not show the add authorized as $IDM_DN:
$(grep -i 'ADD dn=' "$RIG_389_LOGDIR/access" | tail -n 5)"
	how="389-ds access log: authzid=$IDM_DN"
else
	assert_eq "$(lc <<<"$IDM_DN")" "$creator" "creatorsName is the bound account, not aldproxy"
	how="creatorsName=$IDM_DN"
fi
# aldproxy's own account may not add there: the entry was created with the IDM's rights
rc=0
out=$(ldapadd -x -H "$SLAPD_URL" -D "$PROXY_BIND_DN" -w "$PROXY_BIND_PW" 2>&1 <<LDIF) || rc=$?
dn: uid=prov9,$USERS_DN
objectClass: inetOrgPerson
uid: prov9
cn: prov9
sn: x
LDIF
assert_eq 50 "$rc" "aldproxy's own account adding directly: $out"
ok "add in writes.add.subtrees, as the IDM's account ($how); aldproxy's own account could not"

# 2. refusals of add, each with its reason
add_refused() { # REASON-SUBSTRING LDIF on stdin
	local want=$1
	idm ldapadd
	assert_eq 50 "$rc" "add refused ($want): $out"
	assert_contains "$out" "$want"
}
add_refused "outside writes.add.subtrees" <<LDIF
dn: cn=prov2,$GROUPS_DN
objectClass: top
objectClass: person
cn: prov2
sn: x
LDIF
add_refused "entries at 'uid=prov2,cn=compat," <<LDIF
dn: uid=prov2,cn=compat,$BASE_DN
objectClass: person
cn: prov2
sn: x
LDIF
add_refused "of class 'groupOfNames' (not in writes.add.object_classes)" <<LDIF
dn: cn=prov2,$USERS_DN
objectClass: top
objectClass: groupOfNames
cn: prov2
member: $NEW
LDIF
add_refused "with 'nsAccountLock' (never writable through aldproxy)" <<LDIF
dn: uid=prov2,$USERS_DN
objectClass: inetOrgPerson
uid: prov2
cn: prov2
sn: x
nsAccountLock: FALSE
LDIF
add_refused "with 'userPassword' (never writable through aldproxy)" <<LDIF
dn: uid=prov2,$USERS_DN
objectClass: inetOrgPerson
uid: prov2
cn: prov2
sn: x
userPassword: Secret999
LDIF
add_refused "with 'description' (not in writes.add.attributes)" <<LDIF
dn: uid=prov2,$USERS_DN
objectClass: inetOrgPerson
uid: prov2
cn: prov2
sn: x
description: not listed
LDIF
add_refused "named by 'o' (not in writes.add.attributes)" <<LDIF
dn: o=Prov2,$USERS_DN
objectClass: inetOrgPerson
cn: prov2
sn: x
LDIF
[ -z "$(direct "uid=prov2,$USERS_DN" uid)" ] || fail "a refused add reached the directory"
ok "add refused (50, with the reason): outside the subtree, a class, nsAccountLock, userPassword, an unlisted attribute or naming attribute"

# 3. rename within the subtree; a move out of it refused
idm ldapmodrdn -r "$NEW" uid=prov1b
assert_eq 0 "$rc" "ldapmodrdn $NEW -> uid=prov1b: $out"
NEW="uid=prov1b,$USERS_DN"
assert_contains "$(direct "$NEW" uid)" "uid: prov1b" "the renamed entry"
[ -z "$(direct "uid=prov1,$USERS_DN" uid)" ] || fail "the old name still exists"
idm ldapmodrdn -s "$GROUPS_DN" "$NEW" uid=prov1b
assert_eq 50 "$rc" "modrdn to a newSuperior outside: $out"
assert_contains "$out" "may not rename entries to '$GROUPS_DN' (outside writes.modrdn.subtrees)"
idm ldapmodrdn "cn=admins,$GROUPS_DN" cn=admins2
assert_eq 50 "$rc" "modrdn of an entry outside: $out"
ok "modrdn within the subtree; a newSuperior or an entry outside refused (50)"

# 4. delete: allowed in the subtree, refused outside
idm ldapdelete "cn=admins,$GROUPS_DN"
assert_eq 50 "$rc" "delete outside: $out"
assert_contains "$out" "may not delete 'cn=admins,$GROUPS_DN' (outside writes.delete.subtrees)"
idm ldapdelete "$USERS_DN"
assert_eq 50 "$rc" "delete of the subtree's own entry: $out"
idm ldapdelete "$NEW"
assert_eq 0 "$rc" "ldapdelete $NEW: $out"
[ -z "$(direct "$NEW" uid)" ] || fail "the deleted entry is still there"
ok "delete in the subtree; outside it and of the subtree itself refused (50)"

# 5. a migration tool on python3-ldap3: staging -> users (newSuperior), rename, delete; its refusals
res=$(py provisioning.py flow "$PROXY_URL" "$IDM_DN" "$IDM_PW" "$STAGING" "$USERS_DN") || fail "ldap3 flow: $res"
assert_eq ok "$res" "ldap3 flow"
res=$(py provisioning.py refused "$PROXY_URL" "$IDM_DN" "$IDM_PW" "$USERS_DN" "$GROUPS_DN") || fail "ldap3 refusals: $res"
assert_eq ok "$res" "ldap3 refusals"
ok "python3-ldap3: add in staging, move with newSuperior, rename, delete; refusals seen as 50"

# 6. a profile without writes.add / delete / modrdn (the rig's demo profile)
rc=0
out=$(ldapadd -x -H "$PROXY_URL" -D "$SVC_DN" -w "$SVC_PW" 2>&1 <<LDIF) || rc=$?
dn: uid=prov3,$USERS_DN
objectClass: inetOrgPerson
uid: prov3
cn: prov3
sn: x
LDIF
assert_eq 50 "$rc" "add through a profile without writes.add"
assert_contains "$out" "profile demo may not add entries (writes.add is not set)"
rc=0
out=$(ldapdelete -x -H "$PROXY_URL" -D "$SVC_DN" -w "$SVC_PW" "uid=bob,$USERS_DN" 2>&1) || rc=$?
assert_eq 50 "$rc" "delete through a profile without writes.delete"
ok "a profile without writes.add / writes.delete refuses them (50)"

# 7. malformed requests: protocolError, the proxy keeps serving
res=$(py provisioning.py malformed "$PROXY_URL" "$IDM_DN" "$IDM_PW" "$USERS_DN") || fail "malformed: $res"
assert_eq ok "$res" "malformed requests"
ok "malformed add / modify DN requests: Notice of Disconnection (protocolError)"

# 8. every refusal is an access_denied audit record with its reason
audit_has access_denied "r['operation']=='add' and r['result']==50 and r['user']=='$IDM_DN' and r['profile']=='ankey-idm' and r['reason']=='policy' and \"class 'groupOfNames'\" in r['message']"
audit_has access_denied "r['operation']=='add' and r['result']==50 and \"'nsAccountLock'\" in r['message']"
audit_has access_denied "r['operation']=='add' and r['result']==50 and \"'userPassword'\" in r['message']"
audit_has access_denied "r['operation']=='add' and r['result']==50 and \"'description'\" in r['message']"
audit_has access_denied "r['operation']=='add' and 'outside writes.add.subtrees' in r['message']"
audit_has access_denied "r['operation']=='modrdn' and r['result']==50 and 'outside writes.modrdn.subtrees' in r['message']"
audit_has access_denied "r['operation']=='delete' and r['result']==50 and 'outside writes.delete.subtrees' in r['message']"
audit_has access_denied "r['operation']=='add' and r['profile']=='demo' and 'writes.add is not set' in r['message']"
ok "each refusal has an access_denied audit record naming the reason"
# 9. each write the directory performed is a write audit record, as the IDM account
audit_has write "r['operation']=='add' and r['outcome']=='success' and r['user']=='$IDM_DN' and r['profile']=='ankey-idm' and r['target'].lower().startswith('uid=') and 'objectClass' in r.get('attributes','')"
audit_has write "r['operation']=='modrdn' and r['outcome']=='success' and r['user']=='$IDM_DN'"
audit_has write "r['operation']=='delete' and r['outcome']=='success' and r['user']=='$IDM_DN'"
ok "each add, modrdn and delete performed has a write audit record with the IDM account as the user"

no_log_problems "$since"
rig_proxy_stop
test_pass
