#!/usr/bin/env bash
# test_product_mikopbx.sh — MikoPBX's LDAP login (PHP LdapRecord, FreeIPA
# model) through aldproxy with the shipped profiles/mikopbx.yaml:
# lib/product_mikopbx.pl replays it with Perl Net::LDAP over StartTLS
# (service bind, the model's escaped query, attempt() = the user's bind on
# the same connection and a rebind as the service account) and checks who
# logs in, AD's "data 52e/533/775" diagnostics MikoPBX parses (775 on 389-ds
# only, with a lockout policy), that users outside
# the login group are not found, and a paged listing against the directory.
# directories: slapd 389ds
set -euo pipefail
. "$(dirname "$0")/lib/product.sh"    # rig.sh, common.sh, prod_setup
need perl pl:Net::LDAP

P=mikopbx
P_PW=MikopbxSvc-Pass1
GROUP=zabbix-users        # stands for mikopbx-users: alice, bob, carol (nested), dave, user0001-0010
directory() {
	# eve (locked) joins the group: her lock, not the group, must refuse her
	prod_add_members "$GROUP" "$(udn eve)"
	# 389-ds: a password lockout policy (FreeIPA has one), so that a locked-out
	# account is seen too: 389 answers 19 "Exceed password retry limit", which
	# the profile turns into AD's data 775.  (The rig's slapd has no ppolicy.)
	export MIKO_LOCKOUT=0
	if [ "$DIRECTORY_KIND" = 389ds ]; then
		_prod_dm ldapmodify <<EOF
dn: cn=config
changetype: modify
replace: passwordLockout
passwordLockout: on
-
replace: passwordMaxFailure
passwordMaxFailure: 2
-
replace: passwordLockoutDuration
passwordLockoutDuration: 600
EOF
		MIKO_LOCKOUT=1
	fi
}
prod_setup "$P" "$P_PW" --directory directory --sed "s/$P-users/$GROUP/g"

perl "$INTEG_LIB/product_$P.pl" "$P" "$P_PW" "$GROUP" || fail "lib/product_$P.pl failed"

rig_proxy_stop || fail "aldproxyd did not stop cleanly"
prod_pass
