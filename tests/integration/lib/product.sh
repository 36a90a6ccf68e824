# shellcheck shell=bash
# product.sh — shared by tests/integration/test_product_*.sh: the ALD Pro
# side of a product's set-up (its system account and login group), the
# shipped profile installed into the rig, and direct reads of the directory
# for counts the tests compare with what the product sees through the proxy.
# A product test sources only this file: it sources ../../rig/rig.sh and
# common.sh itself unless they already are (tests that source them first,
# as test_policy_*.sh do, keep working).
#
#   prod_setup NAME PASSWORD [--directory FUNC] [--pin ldap|ldaps]
#              [--sed EXPR]... [--other]
#                                     the set-up every product test shares,
#                                     in this order: test_begin test_product_NAME,
#                                     rig_init, rig_certs, rig_slapd_start,
#                                     prod_sysaccount NAME PASSWORD, then FUNC
#                                     (the test's own ALD Pro side: login group,
#                                     extra users, directory settings); --pin:
#                                     a second listener SCHEME://127.0.0.1:$PROXY_PORT2
#                                     pinned to the profile (RIG_EXTRA_LISTENERS,
#                                     and PINNED_URL for the product's script,
#                                     both exported); rig_proxy_config,
#                                     prod_profile NAME EXPR..., with --other
#                                     prod_other_profile, and rig_proxy_start
#   prod_sysaccount NAME PASSWORD     uid=NAME,cn=sysaccounts,cn=etc,$BASE_DN
#                                     (account + simpleSecurityObject), as $DM_DN
#   prod_user LOGIN GIVEN SN          a user like gen_tree.py's (password
#                                     Secret123), names in UTF-8 as given
#   prod_group NAME MEMBER_DN...      cn=NAME,$GROUPS_DN with these members, as
#                                     FreeIPA makes a user group; on slapd (no
#                                     memberof overlay in the rig) the members'
#                                     memberOf, nesting included, is written too;
#                                     389-ds's MemberOf plugin does that itself
#   prod_add_members GROUP MEMBER_DN...  more members for an existing group
#                                     (memberOf likewise)
#   prod_profile NAME [SED_EXPR...]   profiles/NAME.yaml into $RIG_DIR/profiles
#                                     with the rig's suffix (dc=ald,dc=test) and
#                                     the extra sed expressions; call after
#                                     rig_proxy_config (which writes demo.yaml)
#   prod_other_profile                another product's profile, a-other.yaml,
#                                     accepting every user with no group rule:
#                                     it sorts before every product profile, so
#                                     a bind that picks "the first profile by
#                                     name" instead of the product's shows up
#   prod_listener PROFILE URL         a RIG_EXTRA_LISTENERS line pinning URL to
#                                     PROFILE (listeners[].profile in aldproxy.yaml)
#   prod_direct_dns FILTER [BASE]     sorted, lower-cased DNs straight from the
#                                     directory as $PROXY_BIND_DN (no proxy)
#   prod_direct_count FILTER [BASE]   how many of them
#   udn LOGIN | gdn NAME              a user's / group's DN in the rig

# rig.sh and common.sh, unless the test sourced them already (re-sourcing
# rig.sh would forget the processes it started)
if ! declare -F rig_init >/dev/null; then
	# shellcheck source=../../rig/rig.sh
	. "$(dirname "${BASH_SOURCE[0]}")/../../rig/rig.sh"
fi
if ! declare -F test_begin >/dev/null; then
	# shellcheck source=common.sh
	. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
fi

# prod_setup NAME PASSWORD [--directory FUNC] [--pin ldap|ldaps] [--sed EXPR]... [--other]
# (see the top of this file).  Its locals are _ps_*: FUNC sees the caller's
# variables (P, P_PW, GROUP...) unshadowed.
prod_setup() {
	[ $# -ge 2 ] || fail "prod_setup: NAME PASSWORD [OPTIONS] expected"
	local _ps_name=$1 _ps_pw=$2 _ps_dir='' _ps_pin='' _ps_other=0 _ps_sed=()
	shift 2
	while [ $# -gt 0 ]; do
		case "$1" in
		--directory) [ $# -ge 2 ] || fail "prod_setup: --directory FUNC"; _ps_dir=$2; shift 2 ;;
		--pin) [ $# -ge 2 ] || fail "prod_setup: --pin ldap|ldaps"; _ps_pin=$2; shift 2 ;;
		--sed) [ $# -ge 2 ] || fail "prod_setup: --sed EXPR"; _ps_sed+=("$2"); shift 2 ;;
		--other) _ps_other=1; shift ;;
		*) fail "prod_setup: unknown argument $1" ;;
		esac
	done
	case "$_ps_pin" in
	"" | ldap | ldaps) ;;
	*) fail "prod_setup: --pin takes ldap or ldaps, not $_ps_pin" ;;
	esac
	if [ -n "$_ps_dir" ] && ! declare -F "$_ps_dir" >/dev/null; then
		fail "prod_setup: --directory $_ps_dir: no such function"
	fi

	test_begin "test_product_$_ps_name"
	_prod_cases_begin "$_ps_name"
	rig_init
	rig_certs
	rig_slapd_start
	prod_sysaccount "$_ps_name" "$_ps_pw"
	[ -z "$_ps_dir" ] || "$_ps_dir"
	if [ -n "$_ps_pin" ]; then
		export RIG_EXTRA_LISTENERS PINNED_URL
		PINNED_URL="$_ps_pin://127.0.0.1:$PROXY_PORT2"
		RIG_EXTRA_LISTENERS=$(prod_listener "$_ps_name" "$PINNED_URL")
	fi
	rig_proxy_config
	prod_profile "$_ps_name" ${_ps_sed[@]+"${_ps_sed[@]}"}
	[ "$_ps_other" = 0 ] || prod_other_profile
	rig_proxy_start
}

udn() { echo "uid=$1,$USERS_DN"; }
gdn() { echo "cn=$1,$GROUPS_DN"; }

_prod_dm() {  # ldapadd/ldapmodify as the directory manager, LDIF on stdin
	local tool=$1 out
	shift
	if ! out=$("$tool" -x -H "$SLAPD_URL" -D "$DM_DN" -w "$DM_PW" -o nettimeout=10 "$@" 2>&1); then
		echo "$out" >&2
		fail "$tool as $DM_DN failed"
	fi
}

prod_sysaccount() {
	local name=$1 pw=$2
	_prod_dm ldapadd <<EOF
dn: uid=$name,cn=sysaccounts,cn=etc,$BASE_DN
objectClass: top
objectClass: account
objectClass: simpleSecurityObject
uid: $name
description: $name service account (aldproxy product test)
userPassword: $pw
EOF
}

prod_user() {
	local login=$1 given=$2 sn=$3 num domain=${BASE_DN//dc=/}
	domain=${domain//,/.}
	num=$((1668700000 + $(printf '%s' "$login" | cksum | cut -d' ' -f1) % 90000))
	_prod_dm ldapadd <<EOF
dn: uid=$login,$USERS_DN
objectClass: top
objectClass: person
objectClass: organizationalPerson
objectClass: inetOrgPerson
objectClass: inetUser
objectClass: posixAccount
objectClass: krbPrincipalAux
objectClass: krbTicketPolicyAux
objectClass: ipaObject
objectClass: ipaSshUser
uid: $login
cn: $given $sn
sn: $sn
givenName: $given
displayName: $given $sn
mail: $login@$domain
uidNumber: $num
gidNumber: $num
homeDirectory: /home/$login
loginShell: /bin/bash
krbPrincipalName: $login@ALD.TEST
krbCanonicalName: $login@ALD.TEST
ipaUniqueID: $(cat /proc/sys/kernel/random/uuid)
userPassword: Secret123
EOF
}

prod_group() {
	local name=$1 m dn ldif
	shift
	dn=$(gdn "$name")
	ldif="dn: $dn
objectClass: top
objectClass: groupOfNames
objectClass: nestedGroup
objectClass: ipaUserGroup
objectClass: ipaObject
cn: $name
description: $name (aldproxy product test)
ipaUniqueID: $(cat /proc/sys/kernel/random/uuid)"
	for m in "$@"; do
		ldif="$ldif
member: $m"
	done
	printf '%s\n' "$ldif" | _prod_dm ldapadd
	_prod_memberof "$dn" "$@"
}

# prod_add_members GROUP MEMBER_DN... — more members for an existing group
prod_add_members() {
	local dn m
	dn=$(gdn "$1")
	shift
	for m in "$@"; do
		printf 'dn: %s\nchangetype: modify\nadd: member\nmember: %s\n\n' "$dn" "$m"
	done | _prod_dm ldapmodify
	_prod_memberof "$dn" "$@"
}

# _prod_memberof GROUP_DN MEMBER_DN... — on slapd (memberOf is static data,
# computed transitively by gen_tree.py), give GROUP_DN to each member and to
# everything (transitively) in a member group: those entries already name
# that group in their memberOf.  389-ds's MemberOf plugin does this itself.
_prod_memberof() {
	[ "$DIRECTORY_KIND" = slapd ] || return 0
	local dn=$1 m targets
	shift
	targets=$(
		{
			# entries that already have it: skipped
			_prod_dm_search "(memberOf=$dn)" | sed 's/^/-/'
			for m in "$@"; do
				echo "$m"
				_prod_dm_search "(memberOf=$m)"
			done
		} | awk '/^-/ { seen[tolower(substr($0, 2))] = 1; next }
			{ k = tolower($0); if (!(k in seen)) { seen[k] = 1; print } }'
	)
	[ -n "$targets" ] || return 0
	while IFS= read -r m; do
		printf 'dn: %s\nchangetype: modify\nadd: memberOf\nmemberOf: %s\n\n' "$m" "$dn"
	done <<<"$targets" | _prod_dm ldapmodify
}

_prod_dm_search() {
	ldapsearch -LLL -o ldif-wrap=no -o nettimeout=10 -x -H "$SLAPD_URL" -D "$DM_DN" -w "$DM_PW" \
		-b "$BASE_DN" "$1" 1.1 | sed -n 's/^dn: //p'
}

prod_profile() {
	local name=$1 src="$REPO/profiles/$1.yaml" e
	shift
	[ -f "$src" ] || fail "no shipped profile $src"
	[ -d "$RIG_DIR/profiles" ] || fail "prod_profile: call rig_proxy_config first"
	local args=(-e 's/dc=ald,dc=example/dc=ald,dc=test/g')
	for e in "$@"; do
		args+=(-e "$e")
	done
	sed "${args[@]}" "$src" >"$RIG_DIR/profiles/$name.yaml"
}

prod_other_profile() {
	[ -d "$RIG_DIR/profiles" ] || fail "prod_other_profile: call rig_proxy_config first"
	cat >"$RIG_DIR/profiles/a-other.yaml" <<EOF
# another product on the same aldproxy: every user, no group rule
name: a-other
service_accounts:
  - uid=a-other,cn=sysaccounts,cn=etc,$BASE_DN
user_bases:
  - $USERS_DN
search_base: $BASE_DN
attributes: ["*"]
EOF
}

prod_listener() {
	printf '  - url: %s\n    profile: %s\n' "$2" "$1"
}

prod_direct_dns() {
	ldapsearch -LLL -o ldif-wrap=no -o nettimeout=10 -x -H "$SLAPD_URL" -D "$PROXY_BIND_DN" \
		-w "$PROXY_BIND_PW" -b "${2:-$BASE_DN}" "$1" 1.1 | sed -n 's/^dn: //p' | tr 'A-Z' 'a-z' | sort
}

prod_direct_count() {
	prod_direct_dns "$@" | grep -c . || true
}

# ---- the product matrix: which of the five standard cases each product test
# checked, with which client library, on which directory.  scripts/product-matrix.py
# turns the records into the table of docs/profiles.md.
#
#   prod_case CASE ok|fail|na [DETAIL]  record a case of this test (na: it does
#                                     not apply to the profile): CASE is one of
#                                     $PROD_CASES; the client library is
#                                     $PROD_LIB (default: libldap's command-line
#                                     tools, "libldap (ldap-utils)"); call it where
#                                     the check has passed (a failed check fails
#                                     the test, which then has no end record)
#   prod_pass                         the end record, then test_pass: a test
#                                     without it did not finish
# The Python replays record with product_common.case(), the Perl ones with
# product_common.pl's prod_case(), the same way: each appends a line to
# $PRODUCT_CASES_FILE (exported by _prod_cases_begin, from prod_setup):
#   begin TEST PRODUCT DIRECTORY DATE COMMIT
#   case  PRODUCT LIBRARY DIRECTORY CASE ok|fail DETAIL
#   end   TEST PRODUCT DIRECTORY pass
# (tab-separated), one file per test and directory:
# $PRODUCT_MATRIX_DIR/TEST.DIRECTORY.tsv.  PRODUCT_MATRIX_DIR defaults to
# BUILD/product-matrix when $ALDPROXYD is BUILD/src/aldproxyd (as ctest sets
# it), else to $REPO/build/product-matrix; PRODUCT_MATRIX_DIR=none records nothing.
PROD_CASES="member_login_groups wrong_password locked_account unknown_user outside_groups"
PROD_LIB=${PROD_LIB:-libldap (ldap-utils)}

_prod_cases_begin() {  # PRODUCT
	local dir=${PRODUCT_MATRIX_DIR:-} test commit
	if [ -z "$dir" ]; then
		case "${ALDPROXYD:-}" in
		*/src/aldproxyd) dir=${ALDPROXYD%/src/aldproxyd}/product-matrix ;;
		*) dir=$REPO/build/product-matrix ;;
		esac
	fi
	export PRODUCT_NAME=$1 PRODUCT_CASES_FILE=
	[ "$dir" != none ] || return 0
	mkdir -p "$dir" || fail "cannot create PRODUCT_MATRIX_DIR $dir"
	test=$(basename "$0" .sh)
	PRODUCT_CASES_FILE=$dir/$test.$DIRECTORY_KIND.tsv
	commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
	if [ "$commit" != unknown ] && [ -n "$(git -C "$REPO" status --porcelain --untracked-files=no 2>/dev/null | head -1)" ]; then
		commit="$commit+modified"
	fi
	printf 'begin\t%s\t%s\t%s\t%s\t%s\n' "$test" "$1" "$DIRECTORY_KIND" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
		"$commit" >"$PRODUCT_CASES_FILE"
}

prod_case() {
	[ $# -ge 2 ] || fail "prod_case: CASE ok|fail [DETAIL] expected"
	case " $PROD_CASES " in *" $1 "*) ;; *) fail "prod_case: unknown case $1 (one of: $PROD_CASES)" ;; esac
	case "$2" in ok | fail | na) ;; *) fail "prod_case: result ok, fail or na (not applicable), not $2" ;; esac
	[ -n "${PRODUCT_CASES_FILE:-}" ] || return 0
	local detail=${3:-}
	detail=${detail//$'\t'/ }
	printf 'case\t%s\t%s\t%s\t%s\t%s\t%s\n' "$PRODUCT_NAME" "$PROD_LIB" "$DIRECTORY_KIND" "$1" "$2" \
		"${detail//$'\n'/ }" >>"$PRODUCT_CASES_FILE"
}

prod_pass() {
	if [ -n "${PRODUCT_CASES_FILE:-}" ]; then
		printf 'end\t%s\t%s\t%s\tpass\n' "$(basename "$0" .sh)" "$PRODUCT_NAME" "$DIRECTORY_KIND" >>"$PRODUCT_CASES_FILE"
	fi
	test_pass
}
