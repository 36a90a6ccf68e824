#!/usr/bin/env bash
# test_product_shturval.sh — Shturval (Kubernetes) logins through Dex's LDAP
# connector with the shipped profiles/shturval.yaml: lib/product_shturval.py
# replays Dex over ldaps (service bind, escaped user search, the user's bind
# on the same connection, the member-based group search on a new connection)
# and checks who logs in with which claims and groups, that users outside
# the login group, the locked eve and wrong passwords do not, that a user
# without mail gets the profile's default, and a paged listing against the
# directory's own count.
# directories: slapd 389ds
set -euo pipefail
. "$(dirname "$0")/lib/product.sh"    # rig.sh, common.sh, prod_setup

P=shturval
P_PW=ShturvalSvc-Pass1
GROUP=zabbix-users        # stands for shturval-users: alice, bob, carol (nested), dave, user0001-0010
directory() {
	# eve (locked) joins the group, so that her lock is what refuses her
	prod_add_members "$GROUP" "$(udn eve)"
	# a member without mail, as FreeIPA's own admin: Dex needs the default
	_prod_dm ldapmodify <<EOF
dn: $(udn user0007)
changetype: modify
delete: mail
EOF
}
prod_setup "$P" "$P_PW" --directory directory --sed "s/$P-users/$GROUP/g"

py product_$P.py "$P" "$P_PW" "$GROUP" || fail "lib/product_$P.py failed"

rig_proxy_stop || fail "aldproxyd did not stop cleanly"
prod_pass
