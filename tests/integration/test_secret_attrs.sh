#!/usr/bin/env bash
# test_secret_attrs.sh — secrets never leave aldproxy, however they are named,
# and a profile's attribute allowlist holds.
#
# slapd lets aldproxy's own identity read its own userPassword (ACL "by self
# write"), so a search of uid=aldproxy is where a leak shows.  userPassword
# may be named userPassword, USERPASSWORD, userPassword;binary or by its OID
# 2.5.4.35 — in the attribute list, in a filter, in a compare.  Every form must
# be refused or stripped.
#
# A second profile "limited" (attributes uid, mail, cn, memberOf) is bound to
# its own listener ($PROXY_PORT2): searches there return only those attributes
# (and objectClass), filters and compares on anything else get 50.
# directories: slapd 389ds
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../rig/rig.sh"
. "$here/lib/common.sh"

test_begin test_secret_attrs
rig_init
rig_certs
export RIG_389_SELF_READS_PASSWORD=1   # the directory must show it for the test to prove anything
rig_slapd_start
export RIG_EXTRA_LISTENERS="  - url: ldap://127.0.0.1:$PROXY_PORT2
    profile: limited"
rig_proxy_config
cat >"$RIG_DIR/profiles/limited.yaml" <<EOF
name: limited
description: allowlist profile of test_secret_attrs.sh
user_bases:
  - $USERS_DN
search_base: $USERS_DN
attributes: [uid, mail, cn, memberOf]
EOF
rig_proxy_start
LIMITED_URL="ldap://127.0.0.1:$PROXY_PORT2"
W="$RIG_DIR/secrets"
mkdir -p "$W"
problems=()
problem() { problems+=("$*"); echo "not ok - $*" >&2; }
set -f          # attribute lists below hold '*': no pathname expansion
attr_names() { grep -v '^dn:' <<<"$1" | grep . | cut -d: -f1 | sort -u | tr '\n' ' ' || true; }

# slapd itself shows aldproxy its own password under every name: the proxy must filter
for a in userPassword 2.5.4.35; do
	out=$(direct_search -b "$PROXY_BIND_DN" -s base '(objectClass=*)' "$a") || fail "direct search $a"
	# 389-ds names the attribute as it was asked for (2.5.4.35:: ...)
	case "$out" in *userPassword*|*2.5.4.35*) ;; *) fail "the directory no longer shows aldproxy its own password (as $a): this test proves nothing" ;; esac
done

# ---- attribute lists
for attrs in "userPassword" "USERPASSWORD" "userPassword;binary" "2.5.4.35" "*" "+" "* +" "* 2.5.4.35" \
	"uid 2.5.4.35" "2.5.4.35;binary" "1.1 2.5.4.35"; do
	# shellcheck disable=SC2086
	out=$(proxy_search -b "$PROXY_BIND_DN" -s base '(objectClass=*)' $attrs 2>&1) || {
		problem "search of $PROXY_BIND_DN with attributes '$attrs' failed: $out"; continue; }
	if grep -qi '^userPassword' <<<"$out"; then
		problem "attributes '$attrs': the proxy returned aldproxy's userPassword: $(grep -i '^userPassword' <<<"$out")"
	fi
done
ok "attribute lists checked"

# ---- filters on the secret, by name and by OID: insufficientAccessRights (50)
for f in '(userPassword=*)' '(userPassword=ProxyPass1)' '(2.5.4.35=*)' '(2.5.4.35=ProxyPass1)' \
	'(2.5.4.35=Proxy*)' '(|(uid=nobody)(2.5.4.35=ProxyPass1))' '(2.5.4.35:caseExactMatch:=ProxyPass1)'; do
	rc=0
	out=$(proxy_search -b "$PROXY_BIND_DN" -s base "$f" 1.1 2>&1) || rc=$?
	if [ "$rc" != 50 ]; then
		problem "filter $f: exit $rc (expected 50)$(grep -q '^dn:' <<<"$out" && echo ' and it MATCHED: a password oracle')"
	fi
done
ok "filters checked"

# ---- compare on the secret: 50, never TRUE/FALSE
for a in userPassword 2.5.4.35 'userPassword;binary'; do
	for v in ProxyPass1 wrong; do
		rc=0
		out=$(ldapcompare -x -H "$PROXY_URL" -D "$SVC_DN" -w "$SVC_PW" "$PROXY_BIND_DN" "$a:$v" 2>&1) || rc=$?
		[ "$rc" = 50 ] || problem "compare $a:$v on $PROXY_BIND_DN: exit $rc ($out), expected 50"
	done
done
ok "compares checked"

# ---- the allowlist profile on its own listener
L() { ldapsearch -LLL -o ldif-wrap=no -o nettimeout=10 -x -H "$LIMITED_URL" -D "uid=alice,$USERS_DN" -w Secret123 "$@"; }
# docs/profiles.md: "objectClass is always allowed" — so '*' includes it
out=$(L -b "$USERS_DN" '(uid=bob)' objectClass uid) || fail "limited: objectClass uid: $out"
attrs=$(attr_names "$out")
assert_eq "objectClass uid " "$attrs" "limited profile: attributes returned for 'objectClass uid'"
for list in "* +" "*" ""; do
	# shellcheck disable=SC2086
	out=$(L -b "$USERS_DN" '(uid=bob)' $list) || fail "limited: search as alice ($list): $out"
	attrs=$(attr_names "$out")
	case "$attrs" in
	"cn mail memberOf objectClass uid ") ;;
	"cn mail memberOf uid ") problem "limited profile: attribute list '$list' returns no objectClass (docs: objectClass is always allowed)" ;;
	*) fail "limited profile: attribute list '$list' returned: $attrs" ;;
	esac
done
out=$(L -b "$USERS_DN" '(uid=bob)' gidNumber homeDirectory userPassword 2.5.4.35) || fail "limited: disallowed list"
assert_eq "dn: uid=bob,$USERS_DN" "$(grep . <<<"$out")" "limited profile: only disallowed attributes asked for"
out=$(L -b "$USERS_DN" '(uid=bob)' uid gidNumber) || fail "limited: mixed list"
assert_contains "$out" "uid: bob"
assert_not_contains "$out" "gidNumber" "limited profile returned gidNumber"
for f in '(gidNumber=*)' '(homeDirectory=/home/bob)' '(&(uid=bob)(loginShell=*))' '(userPassword=*)'; do
	rc=0; out=$(L -b "$USERS_DN" "$f" uid 2>&1) || rc=$?
	assert_eq 50 "$rc" "limited profile: filter $f"
done
rc=0; out=$(L -b "$USERS_DN" '(&(uid=bob)(mail=bob@ald.test))' uid 2>&1) || rc=$?
assert_eq 0 "$rc" "limited profile: filter on allowed attributes"
rc=0; out=$(ldapcompare -x -H "$LIMITED_URL" -D "uid=alice,$USERS_DN" -w Secret123 "uid=bob,$USERS_DN" gidNumber:1668600002 2>&1) || rc=$?
assert_eq 50 "$rc" "limited profile: compare on gidNumber"
rc=0; out=$(ldapcompare -x -H "$LIMITED_URL" -D "uid=alice,$USERS_DN" -w Secret123 "uid=bob,$USERS_DN" mail:bob@ald.test 2>&1) || rc=$?
assert_eq 6 "$rc" "limited profile: compare on mail"
rc=0; out=$(L -b "$BASE_DN" '(uid=bob)' uid 2>&1) || rc=$?
assert_eq 32 "$rc" "limited profile: base above its search_base"
# the demo service account is not a member of the dedicated listener's profile
rc=0; out=$(ldapwhoami -x -H "$LIMITED_URL" -D "$SVC_DN" -w "$SVC_PW" 2>&1) || rc=$?
assert_eq 49 "$rc" "demo service account on the limited listener"
ok "allowlist profile: attributes, filters, compares and base confined"

rig_proxy_stop || fail "aldproxyd did not stop cleanly"
if [ ${#problems[@]} -gt 0 ]; then
	printf '  %s\n' "${problems[@]}" >&2
	fail "${#problems[@]} problem(s) with secret attributes or the allowlist (above)"
fi
test_pass
