#!/usr/bin/env bash
# test_shipped_profiles.sh — the product profiles shipped in profiles/ load
# together as shipped: every *.yaml there (whatever other work added) is
# copied into the rig's profile directory and `aldproxyctl check` (and
# `aldproxyd -t`) accept the set with the right count; every profile explains
# (objectClass=*); every shipped file is named after its profile and names no
# listener.  For the product profiles listed below, a filter such as the
# product sends is rewritten as expected (AD names, matching rules and DNs
# translated, the login group's visibility added), the attributes it tests are
# in the profile's allowlist (explain does not check that; the daemon answers
# insufficientAccess), and bind names translate.  Broken profiles are refused
# with exit status 1 and a message naming the file, the line and the key: an
# unknown key, an attribute_map to a non-ALD Pro attribute, a listener clashing
# with aldproxy.yaml's, two profiles sharing a listener, a clear-text
# password_hash (not echoed), one service account in two profiles.
# Neither slapd nor aldproxyd is started: loading profiles needs neither.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../rig/rig.sh"
. "$here/lib/common.sh"

test_begin test_shipped_profiles
rig_init
rig_certs
rig_proxy_config

CTL=${ALDPROXYCTL:-$REPO/build/src/aldproxyctl}
D=${ALDPROXYD:-$REPO/build/src/aldproxyd}
[ -x "$CTL" ] || fail "aldproxyctl not found at $CTL (build first, or set ALDPROXYCTL)"
SHIPPED="$REPO/profiles"
P="$RIG_DIR/profiles"
SUFFIX="dc=ald,dc=example"
REAL_USERS="cn=users,cn=accounts,$SUFFIX"
REAL_GROUPS="cn=groups,cn=accounts,$SUFFIX"

# ---- every shipped profile, together
rm -f "$P"/*.yaml
shopt -s nullglob
files=("$SHIPPED"/*.yaml)
shopt -u nullglob
n=${#files[@]}
[ "$n" -gt 0 ] || fail "no profiles in $SHIPPED"
cp "${files[@]}" "$P"/
out=$("$CTL" -c "$PROXY_CONFIG" check 2>&1) || fail "aldproxyctl check refuses the shipped profiles: $out"
assert_contains "$out" "$PROXY_CONFIG: OK, $n profile(s)"
if [ -x "$D" ]; then
	out=$("$D" -t -c "$PROXY_CONFIG" 2>&1) || fail "aldproxyd -t refuses the shipped profiles: $out"
	assert_contains "$out" "configuration OK"
	assert_contains "$out" "$n profile(s)"
fi
ok "$n shipped profiles load together (aldproxyctl check, aldproxyd -t)"

listing=$("$CTL" -c "$PROXY_CONFIG" profiles 2>&1) || fail "aldproxyctl profiles failed: $listing"
assert_eq "$n" "$(printf '%s\n' "$listing" | grep -c .)" "aldproxyctl profiles: one line per shipped file"
while IFS=$'\t' read -r name file _; do
	assert_eq "$name.yaml" "$(basename "$file")" "shipped file name = profile name"
	if grep -qE '^listeners:' "$SHIPPED/$name.yaml"; then
		fail "$SHIPPED/$name.yaml names a listener: ports are site-specific, shipped profiles name none"
	fi
	rc=0
	out=$("$CTL" -c "$PROXY_CONFIG" explain "$name" '(objectClass=*)' 2>&1) || rc=$?
	[ "$rc" = 0 ] || fail "aldproxyctl explain $name '(objectClass=*)' exited $rc: $out"
	assert_contains "$out" "profile     $name ("
	assert_contains "$out" "filter      (objectClass=*)"
done <<<"$listing"
ok "every shipped profile is named after its file, names no listener and explains (objectClass=*)"

# ---- the product profiles of this change: product-typical requests

# allowlist NAME — the profile's `attributes` (one per line), "*" for all
allowlist() {
	awk '/^attributes:/ { on = 1; sub(/^attributes:/, "") }
	     on { s = s $0; if ($0 ~ /\]/) exit }
	     END { gsub(/[][" ]/, "", s); n = split(s, a, ","); for (i = 1; i <= n; i++) if (a[i] != "") print a[i] }' \
		"$SHIPPED/$1.yaml"
}

# filter_attrs FILTER — the attribute names a filter tests
filter_attrs() {
	grep -oE '\([A-Za-z][A-Za-z0-9-]*(:[0-9.]+)?(:=|~=|>=|<=|=)' <<<"$1" |
		sed -E 's/^\(//; s/(:[0-9.]+)?(:=|~=|>=|<=|=)$//' | sort -u
}

# rewritten OUTPUT — the rewritten filter of an explain output
rewritten() { sed -n '/^filter/{n;s/^ *-> //;p;q}' <<<"$1"; }

# check_rewrite NAME MODE FILTER NEEDLE... — explain NAME FILTER; the rewritten
# filter holds every NEEDLE and the login group's visibility; an AD profile's
# leaves no AD name or matching rule; every attribute FILTER tests is allowed.
checked=()
check_rewrite() {
	local name=$1 mode=$2 filter=$3 out got a allowed n
	shift 3
	[ -f "$SHIPPED/$name.yaml" ] || fail "$SHIPPED/$name.yaml is missing"
	out=$("$CTL" -c "$PROXY_CONFIG" explain "$name" "$filter" 2>&1) || fail "explain $name '$filter' failed: $out"
	got=$(rewritten "$out")
	for n in "$@"; do
		assert_contains "$got" "$n" "explain $name '$filter': rewritten filter lacks '$n'"
	done
	if grep -qE '^  visible:' "$SHIPPED/$name.yaml"; then
		assert_contains "$got" "(memberOf=cn=$name-users,$REAL_GROUPS)" "explain $name: no visibility restriction"
	fi
	if [ "$mode" = ad ]; then
		for n in sAMAccountName userPrincipalName objectCategory sAMAccountType userAccountControl objectGUID \
			distinguishedName whenChanged 1.2.840.113556 "DC=example,DC=com" "objectClass=user)" "objectClass=group)"; do
			assert_not_contains "$got" "$n" "explain $name '$filter': '$n' reaches the directory"
		done
	fi
	allowed=$(allowlist "$name")
	if [ "$allowed" != "*" ]; then
		for a in $(filter_attrs "$filter"); do
			[ "${a,,}" = objectclass ] && continue
			grep -qixF -- "$a" <<<"$allowed" ||
				fail "$name: the product's filter tests '$a', which is not in its attributes (insufficientAccess)"
		done
	fi
	checked+=("$name")
}

# check_ad_names NAME — attribute list and bind names of an AD-emulating profile
check_ad_names() {
	local name=$1 out
	out=$("$CTL" -c "$PROXY_CONFIG" explain "$name" '(objectClass=user)' -b "CN=Users,DC=example,DC=com" \
		-a sAMAccountName,userPrincipalName,objectGUID,name --bind 'EXAMPLE\alice' 2>&1) || fail "explain $name: $out"
	assert_contains "$out" "-> $REAL_USERS"
	assert_contains "$out" "-> uid krbPrincipalName ipaUniqueID cn"
	assert_contains "$out" "-> uid=alice,$REAL_USERS"
	assert_contains "$out" "then: must be a member of cn=$name-users,$REAL_GROUPS"
	out=$("$CTL" -c "$PROXY_CONFIG" explain "$name" '(objectClass=*)' --bind 'alice@EXAMPLE.COM' 2>&1)
	assert_contains "$out" "-> uid=alice,$REAL_USERS"
	out=$("$CTL" -c "$PROXY_CONFIG" explain "$name" '(objectClass=*)' --bind "uid=alice,CN=Users,DC=example,DC=com" 2>&1)
	assert_contains "$out" "-> uid=alice,$REAL_USERS"
	# (explain prints a name it does not translate as is, where the daemon refuses it: src/ctl.c)
	out=$("$CTL" -c "$PROXY_CONFIG" explain "$name" '(objectClass=*)' --bind 'OTHER\alice' 2>&1)
	assert_not_contains "$out" "-> uid=alice," "$name accepts another NetBIOS domain"
}

# check_native_names NAME — a FreeIPA-native profile: real names pass, the
# user DN binds as is (then the login group), AD-style names are refused
check_native_names() {
	local name=$1 out
	out=$("$CTL" -c "$PROXY_CONFIG" explain "$name" '(objectClass=*)' -a uid,mail,memberOf --bind "uid=alice,$REAL_USERS" 2>&1) ||
		fail "explain $name: $out"
	assert_contains "$out" "-> uid mail memberOf"
	assert_contains "$out" "-> uid=alice,$REAL_USERS"
	assert_contains "$out" "then: must be a member of cn=$name-users,$REAL_GROUPS"
	out=$("$CTL" -c "$PROXY_CONFIG" explain "$name" '(objectClass=*)' --bind 'EXAMPLE\alice' 2>&1)
	assert_not_contains "$out" "-> uid=alice," "$name (native) translates a NetBIOS name"
}

AD_ONLY='(!(userAccountControl:1.2.840.113556.1.4.803:=2))'
NOT_LOCKED='(!(&(objectClass=person)(nsAccountLock=TRUE)))'

check_rewrite active-directory ad '(&(objectCategory=person)(sAMAccountName=alice))' '(objectClass=person)' '(uid=alice)'
check_rewrite active-directory ad "(&(objectClass=user)(objectCategory=person)$AD_ONLY(whenChanged>=20250101000000.0Z))" \
	"$NOT_LOCKED" '(modifyTimestamp>=20250101000000.0Z)'
check_rewrite trueconf ad "(&(objectCategory=person)(objectClass=user)$AD_ONLY)" '(objectClass=person)' "$NOT_LOCKED"
check_rewrite trueconf ad '(userAccountControl:1.2.840.113556.1.4.803:=2)' '(&(objectClass=person)(nsAccountLock=TRUE))'
check_rewrite mfasoft-sas ad \
	"(&(objectCategory=person)(objectClass=user)$AD_ONLY(memberOf:1.2.840.113556.1.4.1941:=CN=mfasoft-sas-users,CN=Groups,DC=example,DC=com))" \
	"$NOT_LOCKED" "(memberOf=CN=mfasoft-sas-users,$REAL_GROUPS)"
check_rewrite ideco-ngfw ad '(&(objectCategory=person)(objectClass=user)(userPrincipalName=alice@EXAMPLE.COM))' \
	'(objectClass=person)' '(krbPrincipalName=alice@EXAMPLE.COM)'
check_rewrite ideco-ngfw ad '(&(objectClass=group)(cn=ideco-ngfw-users))' '(objectClass=ipaUserGroup)' '(cn=ideco-ngfw-users)'
check_rewrite solar-safeinspect ad '(&(objectClass=group)(member=uid=alice,CN=Users,DC=example,DC=com))' \
	'(objectClass=ipaUserGroup)' "(member=uid=alice,$REAL_USERS)"
check_rewrite solar-dozor ad '(&(objectCategory=person)(objectClass=user)(whenChanged>=20250101000000.0Z))' \
	'(objectClass=person)' '(modifyTimestamp>=20250101000000.0Z)'
check_rewrite aladdin-ca ad '(&(sAMAccountType=805306368)(userPrincipalName=alice@EXAMPLE.COM))' \
	'(objectClass=person)' '(krbPrincipalName=alice@EXAMPLE.COM)'
check_rewrite safetech-ca ad '(objectGUID=\01\02\03\04\05\06\07\08\09\0a\0b\0c\0d\0e\0f\10)' \
	'(ipaUniqueID=04030201-0605-0807-090a-0b0c0d0e0f10)'
check_rewrite basis-virtual-security ad '(&(objectClass=user)(sAMAccountName=alice))' '(objectClass=person)' '(uid=alice)'
check_rewrite vipnet-safeboot ad '(&(objectCategory=person)(sAMAccountName=alice))' '(objectClass=person)' '(uid=alice)'
check_rewrite consultantplus ad "(&(objectClass=user)(sAMAccountName=alice)$AD_ONLY)" '(uid=alice)' "$NOT_LOCKED"
check_rewrite garant ad '(distinguishedName=uid=alice,CN=Users,DC=example,DC=com)' "(entryDN=uid=alice,$REAL_USERS)"
check_rewrite rupost native '(&(objectClass=inetOrgPerson)(|(uid=alice)(mail=alice@example.com)))' \
	'(uid=alice)' '(mail=alice@example.com)'
check_rewrite rubackup native '(&(objectClass=posixAccount)(uid=alice))' '(uid=alice)'
check_rewrite tantor native '(&(objectClass=posixAccount)(uid=alice))' '(uid=alice)'
check_rewrite mts-link native '(&(objectClass=inetOrgPerson)(!(nsAccountLock=TRUE))(uid=alice))' '(!(nsAccountLock=TRUE))'
check_rewrite dion native '(&(objectClass=inetOrgPerson)(uid=alice))' '(uid=alice)'
check_rewrite elma365 native '(&(objectClass=inetOrgPerson)(!(nsAccountLock=TRUE))(modifyTimestamp>=20250101000000Z))' \
	'(modifyTimestamp>=20250101000000Z)'
check_rewrite p7-office native "(&(objectClass=groupOfNames)(member=uid=alice,$REAL_USERS))" "(member=uid=alice,$REAL_USERS)"
check_rewrite printum native '(&(objectClass=inetOrgPerson)(employeeNumber=0042))' '(employeeNumber=0042)'
check_rewrite pro32connect native '(&(objectClass=inetOrgPerson)(uid=alice))' '(uid=alice)'
check_rewrite safeconnect native '(&(objectClass=inetOrgPerson)(uid=alice))' '(uid=alice)'
check_rewrite granulex-recovery native '(&(objectClass=inetOrgPerson)(uid=alice))' '(uid=alice)'
# an IdM sees every account: login group only, no visibility restriction
check_rewrite ankey-idm native '(&(objectClass=inetOrgPerson)(modifyTimestamp>=20250101000000Z))' \
	'(&(objectClass=inetOrgPerson)(modifyTimestamp>=20250101000000Z))'
assert_not_contains "$(rewritten "$("$CTL" -c "$PROXY_CONFIG" explain ankey-idm '(uid=*)')")" "memberOf" \
	"ankey-idm: reconciliation must see every account"

for name in active-directory trueconf mfasoft-sas ideco-ngfw solar-safeinspect solar-dozor aladdin-ca safetech-ca \
	basis-virtual-security vipnet-safeboot consultantplus garant; do
	check_ad_names "$name"
done
for name in rupost rubackup tantor mts-link dion elma365 p7-office printum pro32connect safeconnect granulex-recovery \
	ankey-idm; do
	check_native_names "$name"
done
# the generic AD profile also takes bare logins
out=$("$CTL" -c "$PROXY_CONFIG" explain active-directory '(objectClass=*)' --bind alice)
assert_contains "$out" "-> uid=alice,$REAL_USERS"
# each header says which group to create
for name in $(printf '%s\n' "${checked[@]}" | sort -u); do
	grep -qE "^# .*\b$name-users\b" "$SHIPPED/$name.yaml" || fail "$name.yaml: the header does not name the group $name-users"
	grep -qE "^# +bind DN +uid=$name,cn=sysaccounts,cn=etc,$SUFFIX$" "$SHIPPED/$name.yaml" ||
		fail "$name.yaml: the header does not give the bind DN"
	grep -qE "^  - uid=$name,cn=sysaccounts,cn=etc,$SUFFIX$" "$SHIPPED/$name.yaml" ||
		fail "$name.yaml: the service account is not uid=$name,cn=sysaccounts,cn=etc,$SUFFIX"
done
# products whose LDAP behaviour is not documented publicly say so, and on what the profile is based
for name in active-directory rupost rubackup granulex-recovery ankey-idm ideco-ngfw aladdin-ca safetech-ca \
	basis-virtual-security vipnet-safeboot consultantplus garant; do
	hdr=$(sed -n 's/^# \{0,1\}//p' "$SHIPPED/$name.yaml" | tr '\n' ' ')
	assert_contains "$hdr" "vendor behaviour not documented publicly; based on " "$name.yaml: the header must say so"
done
ok "${#checked[@]} product-typical filters rewritten as expected, their attributes allowed; bind names translate"

# ---- broken profiles: exit 1, the file, the line and the key
NEG="$RIG_DIR/neg"
PROBLEMS=()

# negcase CASE — an empty profile directory and a configuration using it
negcase() {
	local d="$NEG/$1"
	mkdir -p "$d/profiles"
	sed "s#^profiles_dir: .*#profiles_dir: $d/profiles#" "$PROXY_CONFIG" >"$d/aldproxy.yaml"
	CASE_DIR=$d
}

# line_of FILE ERE — the first line matching ERE (anchor it: headers quote keys)
line_of() { grep -nE -- "$2" "$1" | head -n1 | cut -d: -f1; }

# expect_refused CASE NEEDLE... — check exits 1 with every NEEDLE in its message
expect_refused() {
	local what=$1 cfg="$CASE_DIR/aldproxy.yaml" out rc=0 n miss=()
	shift
	out=$("$CTL" -c "$cfg" check 2>&1) || rc=$?
	if [ "$rc" != 1 ]; then
		PROBLEMS+=("$what: aldproxyctl check exited $rc, expected 1: $out")
		return 0
	fi
	for n in "$@"; do
		case "$out" in *"$n"*) ;; *) miss+=("'$n'") ;; esac
	done
	if [ ${#miss[@]} -gt 0 ]; then
		PROBLEMS+=("$what: the message lacks ${miss[*]}: $out")
		return 0
	fi
	LAST_MSG=$out
	ok "$what: $out"
}

# an unknown key
negcase unknown-key
f="$CASE_DIR/profiles/rupost.yaml"
cp "$SHIPPED/rupost.yaml" "$f"
sed -i '/^search_base:/a search_scope: sub' "$f"
expect_refused "unknown key" "$f:$(line_of "$f" "^search_scope:"):" "key 'search_scope'" "unknown key"

# an attribute_map whose real side is not an ALD Pro attribute
negcase bad-map
f="$CASE_DIR/profiles/trueconf.yaml"
cp "$SHIPPED/trueconf.yaml" "$f"
sed -i '/^attribute_map:/a\  mail: emailAddressX' "$f"
expect_refused "attribute_map to a non-ALD Pro attribute" "$f:$(line_of "$f" "^  mail: emailAddressX"):" \
	"key 'attribute_map.mail'" "emailAddressX"

# a profile listener that is also a listener of aldproxy.yaml
negcase listener-vs-config
f="$CASE_DIR/profiles/rupost.yaml"
cp "$SHIPPED/rupost.yaml" "$f"
sed -i "/^search_base:/i listeners: [\"ldap://127.0.0.1:$PROXY_PORT\"]" "$f"
expect_refused "listener clashing with aldproxy.yaml" "$f:$(line_of "$f" "^listeners:"):" "key 'listeners'" \
	"ldap://127.0.0.1:$PROXY_PORT" "$CASE_DIR/aldproxy.yaml"

# two profiles sharing a listener (the later by name is reported)
negcase shared-listener
for p in rupost tantor; do
	cp "$SHIPPED/$p.yaml" "$CASE_DIR/profiles/$p.yaml"
	sed -i "/^search_base:/i listeners: [\"ldaps://127.0.0.1:$PROXY_PORT2\"]" "$CASE_DIR/profiles/$p.yaml"
done
f="$CASE_DIR/profiles/tantor.yaml"
expect_refused "two profiles sharing a listener" "$f:$(line_of "$f" "^listeners:"):" "key 'listeners'" \
	"ldaps://127.0.0.1:$PROXY_PORT2" "profile 'rupost'"

# a clear-text password where a hash belongs; the password is not echoed
negcase cleartext
f="$CASE_DIR/profiles/trueconf.yaml"
cp "$SHIPPED/trueconf.yaml" "$f"
sed -i 's#^  - uid=trueconf,cn=sysaccounts,cn=etc,.*#  - { dn: "CN=svc-trueconf,CN=Users,DC=example,DC=com", password_hash: "Plain-Secret-42" }#' "$f"
expect_refused "clear-text password_hash" "$f:$(line_of "$f" "^  - .*Plain-Secret-42"):" "key 'service_accounts[0]'" \
	"clear-text"
[ -z "${LAST_MSG:-}" ] || assert_not_contains "$LAST_MSG" "Plain-Secret-42" "the clear-text password is echoed"

# one service account in two profiles (the later by name is reported, with the
# line of its service account: profile_set_load() in src/profile.c must give it)
negcase shared-service-account
cp "$SHIPPED/rupost.yaml" "$CASE_DIR/profiles/rupost.yaml"
f="$CASE_DIR/profiles/rupost-copy.yaml"
sed 's/^name: rupost$/name: rupost-copy/' "$SHIPPED/rupost.yaml" >"$f"
expect_refused "service account shared by two profiles" \
	"$f:$(line_of "$f" "^  - uid=rupost,cn=sysaccounts"):" "key 'service_accounts'" \
	"uid=rupost,cn=sysaccounts,cn=etc,$SUFFIX" "profile 'rupost'"

if [ ${#PROBLEMS[@]} -gt 0 ]; then
	printf '  %s\n' "${PROBLEMS[@]}" >&2
	fail "${#PROBLEMS[@]} broken profile(s) not refused as required (above)"
fi
ok "broken profiles refused with the file, the line and the key"
test_pass
