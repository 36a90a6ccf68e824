#!/usr/bin/env bash
# test_sssd.sh — the real SSSD from Debian (sssd-ldap, libnss-sss, libpam-sss)
# against aldproxy with the shipped profiles/termit.yaml, as Termit, OpenVPN
# through SSSD or any Linux host uses it: SSSD's ldap id and auth providers
# configured as the termit.yaml header prescribes (StartTLS with the rig's
# CA, ldap_tls_reqcert = demand, the termit service account, user and group
# bases under cn=accounts), on the listener pinned to the profile.
#
# The directory: a POSIX login group termit-users with the direct members
# alice, dave and the locked eve, and the group developers (carol,
# user0001..0010) nested in it; bob and user0015 are outside it.
#
# Two passes, each with an empty SSSD cache:
#   1. ldap_schema = rfc2307bis, ldap_group_member = member (the header's);
#   2. ldap_schema = rfc2307, ldap_group_member = memberUid: memberUid is
#      computed by aldproxy (the shipped termit.yaml has
#      `virtual_attributes: memberUid: { type: member_uid }`).
# In each: getent -s sss passwd for members (direct and nested) with the
# directory's POSIX attributes, nobody outside the group; getent -s sss group
# termit-users lists its members (rfc2307bis: every user member, nesting
# resolved by SSSD; rfc2307: the direct user members, as memberUid); getent
# -s sss initgroups (what id and login use) gives alice and carol exactly
# their POSIX groups in the directory, nested ones included (the primary
# group, a member-less user private group, is not in that list); a PAM login
# through SSSD's PAM responder (pamtester, auth + account pam_sss) succeeds
# for alice and carol and fails for a wrong password, for bob (outside the
# group: unknown) and for the locked eve; SSSD's log shows the schema's own
# group filter and aldproxy's audit log the user binds, on the pinned
# listener, profile termit, over TLS.
# /etc/nsswitch.conf is not touched (getent -s sss); the PAM service file
# /etc/pam.d/aldproxy-sssd-test and sssd's state are removed/restored at exit.
# directories: slapd 389ds
set -euo pipefail
# shellcheck source=lib/product.sh
. "$(dirname "$0")/lib/product.sh"    # rig.sh, common.sh, prod_setup
# shellcheck source=lib/sssd.sh
. "$(dirname "$0")/lib/sssd.sh"

P=termit
P_PW=TermitSvc-Pass1
GROUP=termit-users
GROUP_GID=1668600300
SSSD_PKGS=(sssd-ldap sssd-common libnss-sss libpam-sss pamtester)

# ---- packages (declared in tests/rig/packages.sh, PKGS_PRODUCTS)
# shellcheck source=../rig/packages.sh
. "$RIG_LIB_DIR/packages.sh"
# shellcheck source=../rig/apt.sh
. "$RIG_LIB_DIR/apt.sh"
for pkg in "${SSSD_PKGS[@]}"; do
	[[ " ${PKGS_ALL[*]} " == *" $pkg "* ]] || fail "$pkg is not declared in tests/rig/packages.sh"
done
if [ "${RIG_SKIP_DEPS:-0}" != 1 ]; then
	apt_install_missing test_sssd "${SSSD_PKGS[@]}" || fail "cannot install ${SSSD_PKGS[*]}"
	# a daemon the package may have started despite policy-rc.d
	[ "$APT_INSTALLED" = 0 ] || apt_stop_by_pidfile sssd /run/sssd.pid /var/run/sssd.pid
fi
need sssd pamtester flock
for pkg in "${SSSD_PKGS[@]}"; do
	[ "$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)" = installed ] ||
		fail "package $pkg is not installed (tests/rig/packages.sh declares it; scripts/deps.sh installs it)"
done

# ---- the directory and aldproxy: termit.yaml on a listener of its own
directory() {
	local m=("$(udn alice)" "$(udn dave)" "$(udn eve)" "$(gdn developers)") ldif x
	ldif="dn: $(gdn "$GROUP")
objectClass: top
objectClass: groupOfNames
objectClass: nestedGroup
objectClass: ipaUserGroup
objectClass: ipaObject
objectClass: posixGroup
cn: $GROUP
gidNumber: $GROUP_GID
description: Termit users (test_sssd)
ipaUniqueID: $(cat /proc/sys/kernel/random/uuid)"
	# slapd's schema needs the rig's glue class for groupOfNames + posixGroup
	[ "$DIRECTORY_KIND" != slapd ] || ldif="$ldif
objectClass: posixGroupOfNames"
	for x in "${m[@]}"; do ldif="$ldif
member: $x"; done
	printf '%s\n' "$ldif" | _prod_dm ldapadd
	_prod_memberof "$(gdn "$GROUP")" "${m[@]}"
}
prod_setup "$P" "$P_PW" --directory directory --pin ldap
TEST_NAME=test_sssd   # prod_setup named it after the profile
export TEST_NAME
sssd_begin
sssd_pam_service
SSSD_VERSION=$(dpkg-query -W -f='${Version}' sssd-ldap 2>/dev/null | sed 's/-[^-]*$//')   # the product matrix's library
SVC="uid=$P,cn=sysaccounts,cn=etc,$BASE_DN"

# ---- the directory's answers (straight, as aldproxy's own identity)
dsearch() {  # BASE SCOPE FILTER ATTR... — "attr: value" lines
	ldapsearch -LLL -o ldif-wrap=no -o nettimeout=10 -x -H "$SLAPD_URL" -D "$PROXY_BIND_DN" \
		-w "$PROXY_BIND_PW" -b "$1" -s "$2" "$3" "${@:4}"
}
dval() {  # DN ATTR — its values, one a line
	dsearch "$1" base '(objectClass=*)' "$2" | sed -n "s/^$2: //Ip"
}
uid_of() { sed -n 's/^uid=\([^,]*\),.*/\1/Ip'; }
# passwd line fields SSSD takes from the entry: name:uid:gid:home:shell
want_passwd() {
	local dn
	dn=$(udn "$1")
	echo "$1:$(dval "$dn" uidNumber):$(dval "$dn" gidNumber):$(dval "$dn" homeDirectory):$(dval "$dn" loginShell)"
}
# the user's groups: each POSIX group under the groups base that its memberOf
# (nesting included) names.  getent initgroups leaves the primary group out
# (its user private group has no members).
want_gids() {
	local dn g
	dn=$(udn "$1")
	{
		dval "$dn" memberOf | while IFS= read -r g; do
			case "$(tr '[:upper:]' '[:lower:]' <<<"$g")" in
			*",$(tr '[:upper:]' '[:lower:]' <<<"$GROUPS_DN")") dsearch "$g" base '(&(objectClass=posixGroup)(gidNumber=*))' gidNumber |
				sed -n 's/^gidNumber: //p' ;;
			esac
		done
	} | sort -n -u | tr '\n' ' ' | sed 's/ $//'
}
want_members() {  # rfc2307bis | rfc2307 — termit-users' users, sorted
	if [ "$1" = rfc2307bis ]; then
		prod_direct_dns "(&(objectClass=posixAccount)(memberOf=$(gdn "$GROUP")))" "$USERS_DN"
	else
		dval "$(gdn "$GROUP")" member | tr '[:upper:]' '[:lower:]' | grep -F ",$(tr '[:upper:]' '[:lower:]' <<<"$USERS_DN")" || true
	fi | uid_of | sort | tr '\n' ',' | sed 's/,$//'
}

# audit_binds FROM_LINE — "event uid profile tls listener" of each user bind
# aldproxy audited since that line of $AUDIT_LOG
audit_binds() {
	tail -n +"$1" "$AUDIT_LOG" | "$RIG_PYTHON" -c '
import json, sys
for line in sys.stdin:
    try:
        r = json.loads(line)
    except ValueError:
        continue
    u = r.get("user_dn") or r.get("user") or ""
    if r.get("event", "").startswith("bind_") and u.lower().startswith("uid=") and ",cn=users," in u.lower():
        print(r["event"], u.split(",")[0][4:], r.get("profile"), str(r.get("tls")).lower(), r.get("listener"))'
}

# ---- what SSSD answers
gpasswd() { getent -s sss passwd "$1" | awk -F: '{ print $1 ":" $3 ":" $4 ":" $6 ":" $7 }'; }
ggids() { getent -s sss initgroups "$1" | awk '{ $1 = ""; print }' | tr ' ' '\n' | grep . | sort -n -u | tr '\n' ' ' | sed 's/ $//'; }
gmembers() { getent -s sss group "$1" | awk -F: '{ print $4 }' | tr ',' '\n' | grep . | sort | tr '\n' ',' | sed 's/,$//'; }

# run_pass SCHEMA MEMBER_ATTR
run_pass() {
	local schema=$1 member=$2 conf="$RIG_DIR/sssd-$1.conf" who out rc got want a0 s0 filt
	a0=$(($(wc -l <"$AUDIT_LOG") + 1))
	s0=$(($( [ -f "$SSSD_LOG" ] && wc -l <"$SSSD_LOG" || echo 0) + 1))
	sssd_conf "$conf" \
		"id_provider=ldap" "auth_provider=ldap" \
		"ldap_uri=$PINNED_URL" "ldap_id_use_start_tls=true" \
		"ldap_tls_cacert=$CA_FILE" "ldap_tls_reqcert=demand" \
		"ldap_schema=$schema" "ldap_group_member=$member" \
		"ldap_search_base=$BASE_DN" "ldap_user_search_base=$USERS_DN" "ldap_group_search_base=$GROUPS_DN" \
		"ldap_default_bind_dn=$SVC" "ldap_default_authtok=$P_PW" \
		"ldap_user_uuid=ipaUniqueID" "ldap_account_expire_policy=rhds" "ldap_page_size=1000" \
		"cache_credentials=false" "enumerate=false" "entry_cache_timeout=5"
	sssd_start "$conf"

	# getgrnam first, on the empty cache: SSSD lists the users of a nested group
	# (developers) in termit-users only while they are not cached yet (the same
	# straight against the directory), so a getpwnam before would hide them
	out=$(getent -s sss group "$GROUP") || fail "$schema: getent -s sss group $GROUP found nothing"
	assert_eq "$GROUP_GID" "$(cut -d: -f3 <<<"$out")" "$schema: $GROUP's gid"
	want=$(want_members "$schema")
	[ -n "$want" ] || fail "$schema: no expected members computed for $GROUP"
	assert_eq "$want" "$(gmembers "$GROUP")" "$schema: getent group $GROUP members"
	ok "$schema: getent group $GROUP: gid $GROUP_GID, members $want"

	# getpwnam: members direct and nested, the locked eve (in the group); not bob, user0015, admin
	for who in alice carol dave eve; do
		got=$(gpasswd "$who") || fail "$schema: getent -s sss passwd $who found nothing"
		assert_eq "$(want_passwd "$who")" "$got" "$schema: $who's passwd entry through SSSD (name:uid:gid:home:shell)"
	done
	for who in bob user0015 admin nosuchuser; do
		rc=0; out=$(getent -s sss passwd "$who") || rc=$?
		[ "$rc" = 2 ] || fail "$schema: getent -s sss passwd $who (outside $GROUP): exit $rc, '$out'"
	done
	ok "$schema: getent passwd: alice, carol (nested), dave, eve as in the directory; bob, user0015, admin, nosuchuser unknown"

	# initgroups (what id(1) and a login's setgroups use): nested groups count
	for who in alice carol; do
		want=$(want_gids "$who")
		got=$(ggids "$who")
		assert_eq "$want" "$got" "$schema: $who's groups (getent -s sss initgroups) vs the directory"
		case " $got " in *" $GROUP_GID "*) ;; *) fail "$schema: $who's groups lack $GROUP" ;; esac
	done
	ok "$schema: initgroups: alice [$(ggids alice)], carol (nested) [$(ggids carol)] = the directory's POSIX groups"

	# PAM through sssd_pam
	for who in alice carol; do
		rc=0; out=$(sssd_login "$who" Secret123) || rc=$?
		[ "$rc" = 0 ] || fail "$schema: PAM login of $who failed (pamtester exit $rc): $out"
	done
	rc=0; out=$(sssd_login alice wrong-password) || rc=$?
	[ "$rc" != 0 ] || fail "$schema: PAM login of alice with a wrong password succeeded: $out"
	assert_contains "$out" "Authentication failure" "$schema: alice, wrong password: $out"
	rc=0; out=$(sssd_login bob Secret123) || rc=$?
	[ "$rc" != 0 ] || fail "$schema: PAM login of bob (outside $GROUP) succeeded: $out"
	assert_contains "$out" "User not known" "$schema: bob (outside $GROUP): $out"
	rc=0; out=$(sssd_login eve Secret123) || rc=$?
	[ "$rc" != 0 ] || fail "$schema: PAM login of the locked eve succeeded: $out"
	assert_contains "$out" "Authentication failure" "$schema: locked eve: $out"
	rc=0; out=$(sssd_login nosuchuser Secret123) || rc=$?
	[ "$rc" != 0 ] || fail "$schema: PAM login of the unknown nosuchuser succeeded: $out"
	assert_contains "$out" "User not known" "$schema: nosuchuser (in no directory): $out"
	ok "$schema: PAM (pam_sss auth + account): alice, carol log in; wrong password, bob (unknown), locked eve," \
		"nosuchuser (unknown) refused"
	# shellcheck disable=SC2034  # read by prod_case
	local PROD_LIB="sssd $SSSD_VERSION ($schema)"
	prod_case member_login_groups ok "alice, carol (nested): getent passwd, initgroups = the directory's POSIX groups; PAM login"
	prod_case wrong_password ok "PAM: Authentication failure"
	prod_case locked_account ok "eve (in the group): resolves; PAM: Authentication failure"
	prod_case unknown_user ok "nosuchuser: getent exit 2; PAM: User not known"
	prod_case outside_groups ok "bob, user0015: getent exit 2; PAM (bob): User not known"

	# it was SSSD's $schema code, through aldproxy's termit profile, over TLS
	# (for some user: which lookups SSSD answers from the groups it already
	# cached depends on their order and timing)
	if [ "$schema" = rfc2307bis ]; then filt="(&(member=uid="
	else filt="(&(memberUid="; fi
	# sssd's back end writes its debug log on its own schedule: give it 10 s
	local seen=0
	for _ in $(seq 100); do
		if tail -n +"$s0" "$SSSD_LOG" | grep -qiF "$filt"; then seen=1; break; fi
		sleep 0.1
	done
	[ "$seen" = 1 ] || fail "$schema: SSSD never searched $filt..."
	out=$(audit_binds "$a0")
	for want in "bind_success alice" "bind_success carol" "bind_failure alice" "bind_failure eve"; do
		assert_contains "$out" "$want $P true $PINNED_URL" "$schema: aldproxy's audit of SSSD's user binds"
	done
	assert_not_contains "$out" " bob " "$schema: bob (unknown to SSSD) reached a bind"
	ok "$schema: SSSD sent $filt...; aldproxy audited its user binds on $PINNED_URL, profile $P, TLS"

	sssd_stop
	kill -0 "$PROXY_PID" 2>/dev/null || fail "aldproxyd died during the $schema pass"
}

# ---- pass 1: rfc2307bis, the termit.yaml header's settings
run_pass rfc2307bis member

# ---- pass 2: rfc2307 — memberUid computed by aldproxy
prof="$RIG_DIR/profiles/$P.yaml"
grep -q 'memberUid: { type: member_uid }' "$prof" ||
	fail "the shipped termit.yaml lost virtual_attributes: memberUid: { type: member_uid }"
run_pass rfc2307 memberUid

rig_proxy_stop || fail "aldproxyd did not stop cleanly"
prod_pass
