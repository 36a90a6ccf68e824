#!/usr/bin/env bash
# test_policy_gate.sh — regression test for eleven holes in aldproxy's policy
# gate, asserting the secure behaviour docs/security.md specifies:
#
#   1  (389-ds) malformed attribute descriptions ("userPassword x", ...) in an
#      attribute list or filter -> 2; a dereference control is dropped; the
#      directory is still up afterwards
#   2  malformed descriptions in filters -> 2; userPassword by option, case,
#      OID, ipaNTHash -> 50, never an oracle
#   3  non-critical dereference dropped, entries' controls stripped
#   4  assertion, server-side sort, VLV: critical -> 12, else dropped; on
#      slapd (sssvlv overlay) VLV state never sits on a shared connection
#   5  extensible match without a type -> 50; dnAttributes on an allowlist -> 50
#   6  secrets under other names (pwdHistory, samba*, ns*, ipa*) -> 50 in a
#      filter, never returned
#   7  Modify / Password Modify of an entry the profile does not see -> 32
#   8  write controls: unknown critical -> 12, post-read dropped
#   9  an invisible entry looks exactly like a missing one
#   10 the compat tree and system accounts do not exist for visible-group profiles
#   11 a 1 KB bind DN: WhoAmI still answers
#
# Profiles ($RIG_DIR/profiles, each on its own listener):
#   (a) pg-star   attributes "*", memberof.groups_only (the rewriting path)
#   (b) pg-allow  attributes uid cn mail memberOf member objectClass
#   (c) pg-vis    groups.visible [engineering], writes telephoneNumber + Password Modify
#   and the shipped active-directory and bitrix24 profiles (visible group
#   engineering) on the main listener, selected by their service accounts.
# Directory additions (as the directory manager): alice's manager (bob) and
# seeAlso (uid=aldproxy) and a group pg-leak (alice, uid=aldproxy) to
# dereference; a compat tree cn=users,cn=compat with alice and dave; an
# extensibleObject entry uid=pgsecret holding every secret the schema knows;
# a user with a 1000-character uid; alice may write other users' phone and
# password (a helpdesk right, so only aldproxy's visibility check stands
# between her and invisible users).  The directory shows aldproxy its own
# userPassword (slapd: "by self write"; 389: RIG_389_SELF_READS_PASSWORD=1),
# so a leak shows.  On slapd the sssvlv and deref overlays are loaded.
#
# Checks print "ok - ..." / "not ok - ..."; every failure is collected and the
# test fails at the end.  Runs on slapd and on 389-ds (RIG_BACKEND=389ds).
# directories: slapd 389ds
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../rig/rig.sh"
. "$here/lib/common.sh"
. "$here/lib/product.sh"

test_begin test_policy_gate
rig_init
need ldapsearch ldapadd ldapmodify
[ "$RIG_BACKEND" = 389ds ] || need slaptest
rig_certs
export RIG_389_SELF_READS_PASSWORD=1
rig_slapd_start
W="$RIG_DIR/policy_gate"
mkdir -p "$W"
ALICE=$(udn alice)

# ---- slapd: the sssvlv and deref overlays, and alice's helpdesk rights
# (the rig's slapd.conf, converted to cn=config again, as the rig does)
if [ "$RIG_BACKEND" = slapd ]; then
	rig_slapd_stop
	"$RIG_PYTHON" - "$RIG_DIR/slapd/slapd.conf" "$ALICE" <<'PY' || fail "cannot extend slapd.conf"
import sys
path, alice = sys.argv[1:3]
t = open(path, encoding="utf-8").read()
if t.count("\tby self write\n") != 2 or "moduleload back_mdb\n" not in t:
    sys.exit("slapd.conf of the rig changed: update test_policy_gate.sh")
t = t.replace("moduleload back_mdb\n", "moduleload back_mdb\nmoduleload sssvlv\nmoduleload deref\n", 1)
t = t.replace("\tby self write\n", '\tby self write\n\tby dn.exact="%s" write\n' % alice)
t += "\n# test_policy_gate.sh\noverlay sssvlv\nsssvlv-max 8\nsssvlv-maxperconn 8\noverlay deref\n"
open(path, "w", encoding="utf-8").write(t)
PY
	rm -rf "$RIG_DIR/slapd/slapd.d"
	mkdir -p "$RIG_DIR/slapd/slapd.d"
	slaptest -f "$RIG_DIR/slapd/slapd.conf" -F "$RIG_DIR/slapd/slapd.d" >"$W/slaptest.log" 2>&1 ||
		{ cat "$W/slaptest.log" >&2; fail "slaptest could not convert the extended slapd.conf"; }
	rig_slapd_restart
else
	_prod_dm ldapmodify <<EOF
dn: $USERS_DN
changetype: modify
add: aci
aci: (targetattr = "telephoneNumber || userPassword")(version 3.0; acl "test_policy_gate: alice is helpdesk"; allow (write) userdn = "ldap:///$ALICE";)
EOF
fi

# ---- directory data
_prod_dm ldapmodify <<EOF
dn: $ALICE
changetype: modify
add: manager
manager: $(udn bob)
-
add: seeAlso
seeAlso: $PROXY_BIND_DN
EOF
_prod_dm ldapadd <<EOF
dn: $(gdn pg-leak)
objectClass: top
objectClass: groupOfNames
cn: pg-leak
member: $ALICE
member: $PROXY_BIND_DN

dn: cn=compat,$BASE_DN
objectClass: top
objectClass: nsContainer
cn: compat

dn: cn=users,cn=compat,$BASE_DN
objectClass: top
objectClass: nsContainer
cn: users

dn: uid=alice,cn=users,cn=compat,$BASE_DN
objectClass: top
objectClass: account
objectClass: posixAccount
uid: alice
cn: Alice Liddell
uidNumber: 1668600001
gidNumber: 1668600001
homeDirectory: /home/alice
loginShell: /bin/bash
gecos: Alice Liddell

dn: uid=dave,cn=users,cn=compat,$BASE_DN
objectClass: top
objectClass: account
objectClass: posixAccount
uid: dave
cn: Dave Lister
uidNumber: 1668600004
gidNumber: 1668600004
homeDirectory: /home/dave
loginShell: /bin/bash
gecos: Dave Lister

dn: $(udn pgsecret)
objectClass: top
objectClass: person
objectClass: extensibleObject
uid: pgsecret
cn: pg secret
sn: secret
EOF
# every secret of case 6 the directory's schema knows, with a marked value
PG_SEEDED=
for a in pwdHistory sambaPasswordHistory sambaClearTextPassword ntUserNtPassword netscapeReversiblePassword \
	nsSymmetricKey nsDS5ReplicaCredentials nsDS5ReplicaBootstrapCredentials ipatokenRadiusSecret \
	ipaNTTrustAuthIncoming ipaNTTrustAuthOutgoing; do
	if printf 'dn: %s\nchangetype: modify\nadd: %s\n%s: PGSECRETVALUE-%s\n' "$(udn pgsecret)" "$a" "$a" "$a" |
		ldapmodify -x -H "$SLAPD_URL" -D "$DM_DN" -w "$DM_PW" -o nettimeout=10 >>"$W/seed.log" 2>&1; then
		PG_SEEDED="$PG_SEEDED $a"
	fi
done
export PG_SEEDED
# a user whose DN is about 1 KB (1010 bytes: aldproxy's DN_MAX is 1024): on
# 389-ds one 970-character uid; slapd's back-mdb keeps each RDN within an LMDB
# key (about 250 bytes), so there the kilobyte is four RDNs of about 240
# characters (organizationalUnits under cn=users)
parent=$USERS_DN
if [ "$RIG_BACKEND" = 389ds ]; then
	long_uid="pg$(head -c $((1010 - 4 - 1 - ${#USERS_DN} - 2)) /dev/zero | tr '\0' x)"
else
	x237=$(head -c 237 /dev/zero | tr '\0' x)
	long_uid="pg$x237"
	for n in 1 2 3; do
		printf 'dn: ou=pg%s%s,%s\nobjectClass: top\nobjectClass: organizationalUnit\nou: pg%s%s\n' \
			"$n" "$x237" "$parent" "$n" "$x237" | _prod_dm ldapadd
		parent="ou=pg$n$x237,$parent"
	done
fi
export PG_LONG_DN="uid=$long_uid,$parent"
_prod_dm ldapadd <<EOF
dn: $PG_LONG_DN
objectClass: top
objectClass: person
objectClass: organizationalPerson
objectClass: inetOrgPerson
uid: $long_uid
cn: pg long
sn: long
userPassword: Secret123
EOF
export PG_AD_SVC="uid=active-directory,cn=sysaccounts,cn=etc,$BASE_DN" PG_AD_PW=AdSvc-Pass1
export PG_BX_SVC="uid=bitrix24,cn=sysaccounts,cn=etc,$BASE_DN" PG_BX_PW=Bitrix24Svc-Pass1
prod_sysaccount active-directory "$PG_AD_PW"
prod_sysaccount bitrix24 "$PG_BX_PW"

# ---- aldproxy with the three profiles on their own listeners
while :; do
	read -r port_b port_c _ <<<"$(_rig_free_ports 2)" || fail "no free ports"
	case " $PROXY_PORT $PROXY_TLS_PORT $PROXY_PORT2 " in *" $port_b "* | *" $port_c "*) ;; *) break ;; esac
done
export PG_URL_A="ldap://127.0.0.1:$PROXY_PORT2" PG_URL_B="ldap://127.0.0.1:$port_b" PG_URL_C="ldap://127.0.0.1:$port_c"
rig_proxy_config
cat >"$RIG_DIR/profiles/pg-star.yaml" <<EOF
name: pg-star
description: (a) test_policy_gate.sh — every attribute, rewriting path (memberof.groups_only)
listeners: ["$PG_URL_A"]
user_bases: ["$USERS_DN"]
search_base: "$BASE_DN"
memberof: { groups_only: true }
attributes: ["*"]
EOF
cat >"$RIG_DIR/profiles/pg-allow.yaml" <<EOF
name: pg-allow
description: (b) test_policy_gate.sh — plain allowlist
listeners: ["$PG_URL_B"]
user_bases: ["$USERS_DN"]
search_base: "$BASE_DN"
attributes: [uid, cn, mail, memberOf, member, objectClass]
EOF
cat >"$RIG_DIR/profiles/pg-vis.yaml" <<EOF
name: pg-vis
description: (c) test_policy_gate.sh — visible group engineering, writes
listeners: ["$PG_URL_C"]
user_bases: ["$USERS_DN"]
search_base: "$BASE_DN"
groups: { visible: [engineering] }
writes: { modify: [telephoneNumber], password_modify: true }
attributes: ["*"]
EOF
prod_profile active-directory "s/active-directory-users/engineering/g"
prod_profile bitrix24 "s/bitrix24-users/engineering/g"
rig_proxy_start

# ---- the cases
problems=()
set -f

# pg_health LABEL — the directory and aldproxy survived LABEL; a casualty is a
# problem, and is restarted so the next cases still mean something
pg_health() {
	local i
	if ! _rig_alive "$SLAPD_PID"; then
		problems+=("not ok - $1: the directory ($RIG_BACKEND, pid $SLAPD_PID) died")
		echo "not ok - $1: the directory ($RIG_BACKEND) died; restarting it" >&2
		tail -n 20 "$RIG_DIR/slapd.log" >&2 || true
		wait "$SLAPD_PID" 2>/dev/null || true
		SLAPD_PID=
		rig_slapd_restart
	fi
	if ! _rig_alive "$PROXY_PID"; then
		problems+=("not ok - $1: aldproxyd died")
		echo "not ok - $1: aldproxyd died; restarting it" >&2
		tail -n 30 "$PROXY_LOG" >&2
		_rig_reap "$PROXY_PID"
		PROXY_PID=
		rig_proxy_start
	fi
	for ((i = 0; i < 100; i++)); do   # the backend pool back after a restart
		timeout 3 ldapsearch -x -H "$PROXY_URL" -D "$SVC_DN" -w "$SVC_PW" -o nettimeout=2 -b "$BASE_DN" -s base 1.1 \
			>/dev/null 2>&1 && return 0
		sleep 0.1
	done
	problems+=("not ok - $1: aldproxy does not answer a search afterwards")
}

run_case() {  # N
	local rc=0 l
	py policy_gate.py "case$1" >"$W/case$1.out" 2>&1 || rc=$?
	cat "$W/case$1.out"
	while IFS= read -r l; do problems+=("$l"); done < <(grep '^not ok - ' "$W/case$1.out" || true)
	if [ "$rc" != 0 ] && ! grep -q '^not ok - ' "$W/case$1.out"; then
		problems+=("not ok - case $1: lib/policy_gate.py exited $rc")
	fi
	pg_health "case $1"
}

# case 4 fills slapd's sort/VLV slots and case 1 may take 389-ds down: last
for n in 2 3 5 6 7 8 9 10 11 4; do
	run_case "$n"
done
if [ "$RIG_BACKEND" = 389ds ]; then
	run_case 1
else
	echo "ok - case 1 is for 389-ds only (RIG_BACKEND=389ds)"
fi

rig_proxy_stop || problems+=("not ok - aldproxyd did not stop cleanly (log above)")
if [ ${#problems[@]} -gt 0 ]; then
	echo "--- $TEST_NAME on $RIG_BACKEND: ${#problems[@]} problem(s)" >&2
	printf '  %s\n' "${problems[@]}" >&2
	fail "${#problems[@]} policy gate problem(s) on $RIG_BACKEND (above)"
fi
test_pass
