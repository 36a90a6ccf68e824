#!/usr/bin/env bash
# test_search_parity.sh — searches through aldproxy (bound as the demo service
# account, profile attributes ["*"]) return exactly what slapd returns to
# aldproxy's own identity (the same ACL view), entry blocks sorted; secrets
# (userPassword) never come back.  Then the profile's edges: a base outside
# the profile (noSuchObject), the rootDSE without a bind, a search before a
# bind (insufficientAccessRights), a filter on userPassword (50), and compare.
# directories: slapd 389ds
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../rig/rig.sh"
. "$here/lib/common.sh"

test_begin test_search_parity
rig_init
rig_certs
# the test proves the proxy strips a password the directory does show: on 389-ds
# let each entry read its own (the slapd rig does so already)
export RIG_389_SELF_READS_PASSWORD=1
rig_slapd_start
rig_proxy_config
rig_proxy_start

W="$RIG_DIR/parity"
mkdir -p "$W"
nq=0

# q NAME MIN_ENTRIES [ldapsearch args...] — the same query both ways; same exit
# status, same sorted LDIF, at least MIN_ENTRIES entries, no userPassword.
q() {
	local name=$1 min=$2 prc=0 drc=0 n
	shift 2
	proxy_search "$@" >"$W/$name.proxy.raw" 2>"$W/$name.proxy.err" || prc=$?
	direct_search "$@" >"$W/$name.direct.raw" 2>"$W/$name.direct.err" || drc=$?
	if [ "$prc" != "$drc" ]; then
		echo "--- proxy stderr:" >&2; cat "$W/$name.proxy.err" >&2
		echo "--- direct stderr:" >&2; cat "$W/$name.direct.err" >&2
		fail "query $name ($*): proxy exit $prc, slapd exit $drc"
	fi
	# slapd shows aldproxy its own userPassword (ACL "by self write"); the
	# proxy must not pass it on, so it is stripped from slapd's side only.
	if grep -qi '^userPassword' "$W/$name.proxy.raw"; then
		grep -in '^userPassword' "$W/$name.proxy.raw" | head -n 5 >&2 || true
		fail "query $name ($*): the proxy returned userPassword"
	fi
	py ldifsort.py <"$W/$name.proxy.raw" >"$W/$name.proxy"
	py ldifsort.py --strip userPassword <"$W/$name.direct.raw" >"$W/$name.direct"
	if ! cmp -s "$W/$name.proxy" "$W/$name.direct"; then
		diff -u "$W/$name.direct" "$W/$name.proxy" | head -n 40 >&2 || true
		fail "query $name ($*): proxy output differs from slapd's (diff above: - slapd, + proxy)"
	fi
	n=$(grep -c '^dn: ' "$W/$name.proxy" || true)
	[ "$n" -ge "$min" ] || fail "query $name ($*): $n entries, expected at least $min"
	nq=$((nq + 1))
	ok "parity $name: $n entries, exit $prc"
}

E="cn=engineering,$GROUPS_DN"
q eq_alice           1   -b "$BASE_DN" '(uid=alice)'
q persons           1000 -b "$USERS_DN" '(objectClass=person)' uid cn
q groups_member      25  -b "$GROUPS_DN" '(objectClass=groupOfNames)' cn member
q memberof_eng       2   -b "$BASE_DN" "(memberOf=$E)" uid
q substr_uid         99  -b "$USERS_DN" '(uid=user00*)' uid
q substr_cn          1   -b "$USERS_DN" '(cn=Al*ce*)' cn
q substr_cn_user00   0   -b "$USERS_DN" '(cn=user00*)' cn
q presence_mail     1000 -b "$USERS_DN" '(mail=*)' mail
q and_developers     11  -b "$BASE_DN" "(&(objectClass=posixAccount)(memberOf=cn=developers,$GROUPS_DN))" uid
q or_mixed           3   -b "$BASE_DN" '(|(uid=alice)(uid=bob)(cn=sales))' cn
q not_upg            6   -b "$GROUPS_DN" '(&(objectClass=posixGroup)(!(member=*)))' cn gidNumber
q ge_uidnumber       10  -b "$USERS_DN" '(uidNumber>=1668601990)' uidNumber
q extensible         1   -b "$USERS_DN" '(uid:caseExactMatch:=alice)' uid
q scope_base         1   -s base -b "uid=alice,$USERS_DN" '(objectClass=*)' '*' '+'
q scope_one          5   -s one -b "cn=accounts,$BASE_DN" '(objectClass=*)'
q scope_sub_cont     10  -s sub -b "$BASE_DN" '(objectClass=nsContainer)' cn
q attrs_none         1   -b "$USERS_DN" '(uid=bob)' 1.1
q attrs_star         1   -b "$USERS_DN" '(uid=bob)' '*'
q attrs_plus         1   -b "$USERS_DN" '(uid=carol)' '+'
q attrs_specific     1   -b "$USERS_DN" '(uid=bob)' uid mail memberOf userPassword
q attrs_default_all  5   -b "$BASE_DN" '(objectClass=*)' # default list = all user attributes
q whole_tree        1000 -b "$BASE_DN" '(objectClass=*)' '*' '+'
q sizelimit_5        5   -z 5 -b "$USERS_DN" '(objectClass=posixAccount)' uid
q typesonly          1   -A -b "$USERS_DN" '(uid=dave)'
q sysaccounts        2   -b "cn=sysaccounts,cn=etc,$BASE_DN" '(uid=*)' '*'
q own_password       1   -b "$PROXY_BIND_DN" -s base '(objectClass=*)' userPassword uid
q own_password_all   1   -b "$PROXY_BIND_DN" -s base '(objectClass=*)' '*' '+'
q nomatch            0   -b "$BASE_DN" '(uid=nobody-here)'
q missing_base       0   -b "cn=missing,$BASE_DN" '(objectClass=*)'

# slapd does show aldproxy its own password: the two queries above prove the
# proxy strips it (both when named and under '*').
assert_contains "$W/own_password.direct.raw" "userPassword" "slapd no longer shows aldproxy its own userPassword"
assert_contains "$W/own_password_all.direct.raw" "userPassword" "slapd no longer shows aldproxy its own userPassword"
assert_contains "$W/own_password.proxy" "uid: aldproxy"

# -z 5 must really have hit the limit (4) on both sides with 5 entries.
assert_eq 5 "$(grep -c '^dn: ' "$W/sizelimit_5.proxy")" "sizelimit 5 entries"
assert_contains "$W/sizelimit_5.proxy.err" "Size limit exceeded (4)"
# -A: attribute names without values
assert_contains "$W/typesonly.proxy" "mail:" "typesOnly output has attribute names"
assert_not_contains "$W/typesonly.proxy" "mail: dave@" "typesOnly returned values"
# noSuchObject inside the profile comes from slapd, with its matchedDN
assert_contains "$W/missing_base.proxy.err" "No such object (32)"
ok "$nq queries identical through the proxy and direct"

# ---- a base outside the profile's subtree: noSuchObject (32) from the proxy
rc=0
out=$(proxy_search -b dc=other '(objectClass=*)' 2>&1) || rc=$?
assert_eq 32 "$rc" "search under dc=other: exit status"
assert_contains "$out" "outside the subtree of profile demo" "diagnostic for dc=other"
rc=0
out=$(proxy_search -b "cn=config" -s base '(objectClass=*)' 2>&1) || rc=$?
assert_eq 32 "$rc" "search of cn=config: exit status"
ok "bases outside the profile: noSuchObject"

# ---- rootDSE without a bind, search before bind: python ldap3
py - <<'PY' || fail "rootDSE / unbound search checks failed"
import os, sys
from ldap3 import Server, Connection, BASE, SUBTREE, NONE
srv = Server(os.environ["PROXY_URL"], get_info=NONE, connect_timeout=5)
c = Connection(srv, auto_bind=False, receive_timeout=10)
c.open()
assert c.search("", "(objectClass=*)", BASE, attributes=["*", "+"]), c.result
e = c.response[0]["attributes"]
nc = [x.lower() for x in e.get("namingContexts", [])]
assert nc == [os.environ["BASE_DN"].lower()], "namingContexts %r" % nc
ext = e.get("supportedExtension", [])
assert "1.3.6.1.4.1.1466.20037" in ext, "StartTLS not in supportedExtension %r" % ext
assert "1.3.6.1.4.1.4203.1.11.3" in ext, "WhoAmI not in supportedExtension %r" % ext
assert "3" in [str(v) for v in e.get("supportedLDAPVersion", [])], e
assert "1.2.840.113556.1.4.319" in e.get("supportedControl", []), "paged results not advertised"
# only the asked-for attribute
assert c.search("", "(objectClass=*)", BASE, attributes=["namingContexts"])
assert set(c.response[0]["attributes"].keys()) == {"namingContexts"}, c.response[0]["attributes"]
# before a bind: insufficientAccessRights (50), for search and compare
c.search(os.environ["USERS_DN"], "(uid=alice)", SUBTREE, attributes=["uid"])
assert c.result["result"] == 50, "unbound search: %r" % c.result
assert not [r for r in c.response or [] if r.get("type") == "searchResEntry"], "unbound search returned entries"
c.compare("uid=alice," + os.environ["USERS_DN"], "uid", "alice")
assert c.result["result"] == 50, "unbound compare: %r" % c.result
c.unbind()
print("ok - rootDSE readable without a bind; unbound search and compare: 50")
PY

# ---- a filter on a secret attribute: insufficientAccessRights (50)
for f in '(userPassword=*)' '(userPassword=Secret123)' "(&(uid=alice)(|(cn=x)(userPassword=Secret*)))" \
	'(krbPrincipalKey=*)' '(!(userpassword;binary=*))'; do
	rc=0
	out=$(proxy_search -b "$USERS_DN" "$f" uid 2>&1) || rc=$?
	assert_eq 50 "$rc" "filter $f: exit status"
	assert_not_contains "$out" "dn: " "filter $f returned entries"
done
ok "filters on secret attributes: insufficientAccessRights"

# ---- compare through the proxy
A="uid=alice,$USERS_DN"
rc=0; out=$(ldapcompare -x -H "$PROXY_URL" -D "$SVC_DN" -w "$SVC_PW" "$A" uid:alice 2>&1) || rc=$?
assert_eq 6 "$rc" "compare uid:alice exit status (compareTrue)"
assert_eq TRUE "$out"
rc=0; out=$(ldapcompare -x -H "$PROXY_URL" -D "$SVC_DN" -w "$SVC_PW" "$A" uid:bob 2>&1) || rc=$?
assert_eq 5 "$rc" "compare uid:bob exit status (compareFalse)"
assert_eq FALSE "$out"
rc=0; out=$(ldapcompare -x -H "$PROXY_URL" -D "$SVC_DN" -w "$SVC_PW" "$A" userPassword:Secret123 2>&1) || rc=$?
assert_eq 50 "$rc" "compare userPassword exit status"
rc=0; out=$(ldapcompare -x -H "$PROXY_URL" -D "$SVC_DN" -w "$SVC_PW" "uid=x,dc=other" uid:x 2>&1) || rc=$?
assert_eq 32 "$rc" "compare outside the profile exit status"
ok "compare TRUE/FALSE; userPassword and foreign DNs refused"

rig_proxy_stop || fail "aldproxyd did not stop cleanly"
test_pass
