#!/usr/bin/env bash
# test_product_bitrix24.sh — Bitrix24's AD/LDAP module through aldproxy with
# the shipped profiles/bitrix24.yaml (Active Directory emulation, virtual
# tree DC=example,DC=com): lib/product_bitrix24.py replays CLDAP over
# StartTLS (admin bind, paged AD user filter with the disabled bit, the
# user's bind on the same connection, the group list, the sync) and checks
# who logs in, the AD attributes Bitrix24 imports, the portal groups, AD bind
# diagnostics and counts against the directory's own.
# directories: slapd 389ds
set -euo pipefail
. "$(dirname "$0")/lib/product.sh"    # rig.sh, common.sh, prod_setup

P=bitrix24
P_PW=Bitrix24Svc-Pass1
GROUP=zabbix-users        # stands for bitrix24-users: alice, bob, carol (nested), dave, user0001-0010
directory() {
	# eve (locked) joins the group: the disabled bit must keep her out
	prod_add_members "$GROUP" "$(udn eve)"
	# fields Bitrix24 maps: alice's department (ou) and phone; user0008 without
	# displayName (the profile's default gives cn)
	_prod_dm ldapmodify <<EOF
dn: $(udn alice)
changetype: modify
add: ou
ou: Engineering
-
add: telephoneNumber
telephoneNumber: +7 495 000-00-01

dn: $(udn user0008)
changetype: modify
delete: displayName
EOF
}
prod_setup "$P" "$P_PW" --directory directory --sed "s/$P-users/$GROUP/g"

py product_$P.py "$P" "$P_PW" "$GROUP" || fail "lib/product_$P.py failed"

rig_proxy_stop || fail "aldproxyd did not stop cleanly"
prod_pass
