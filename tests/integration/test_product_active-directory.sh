#!/usr/bin/env bash
# test_product_active-directory.sh — the generic AD emulation profile
# (profiles/active-directory.yaml) with a generic AD connector (Keycloak's AD
# preset and AD-only products): lib/product_active_directory.py reads the
# installed profile for its names, replays the connector over ldaps (rootDSE,
# AD user filter with the disabled bit, objectGUID lookups, in-chain nested
# members, critical paged results, group listing) and user binds in every
# name form the profile accepts, and checks the AD attributes, AD bind
# diagnostics and counts against the directory's own.
# directories: slapd 389ds
set -euo pipefail
. "$(dirname "$0")/lib/product.sh"    # rig.sh, common.sh, prod_setup
need py:yaml

P=active-directory
P_PW=AdSvc-Pass1
GROUP=zabbix-users        # stands for active-directory-users: alice, bob, carol (nested), dave, user0001-0010
# eve (locked) joins the group: her lock, not the group, must refuse her
# alice and carol get SIDs (ipa-adtrust-install gives every user one): objectSid
directory() {
	prod_add_members "$GROUP" "$(udn eve)"
	local k=0 u
	for u in alice carol; do
		k=$((k + 1))
		printf 'dn: %s\nchangetype: modify\nadd: objectClass\nobjectClass: ipaNTUserAttrs\n-\nadd: ipaNTSecurityIdentifier\nipaNTSecurityIdentifier: S-1-5-21-3623811015-3361044348-30300820-%d\n\n' \
			"$(udn "$u")" $((1000 + k))
	done | _prod_dm ldapmodify
}
prod_setup "$P" "$P_PW" --directory directory --sed "s/$P-users/$GROUP/g"

py product_active_directory.py "$RIG_DIR/profiles/$P.yaml" "$P_PW" "$GROUP" ||
	fail "lib/product_active_directory.py failed"

rig_proxy_stop || fail "aldproxyd did not stop cleanly"
prod_pass
