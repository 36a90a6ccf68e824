#!/usr/bin/env bash
# test_product_active-directory.sh — the generic AD emulation profile
# (profiles/active-directory.yaml) with a generic AD connector (Keycloak's AD
# preset and AD-only products): lib/product_active_directory.py reads the
# installed profile for its names, replays the connector over ldaps (rootDSE,
# AD user filter with the disabled bit, objectGUID lookups, in-chain nested
# members, critical paged results, group listing) and user binds in every
# name form the profile accepts, and checks the AD attributes, AD bind
# diagnostics and counts against the directory's own.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../rig/rig.sh"
. "$here/lib/common.sh"
need py:yaml
. "$here/lib/product.sh"

P=active-directory
P_PW=AdSvc-Pass1
GROUP=zabbix-users        # stands for active-directory-users: alice, bob, carol (nested), dave, user0001-0010
test_begin test_product_$P
rig_init
rig_certs
rig_slapd_start
prod_sysaccount "$P" "$P_PW"
# eve (locked) joins the group: her lock, not the group, must refuse her
prod_add_members "$GROUP" "$(udn eve)"
rig_proxy_config
prod_profile "$P" "s/$P-users/$GROUP/g"
rig_proxy_start

py product_active_directory.py "$RIG_DIR/profiles/$P.yaml" "$P_PW" "$GROUP" ||
	fail "lib/product_active_directory.py failed"

rig_proxy_stop || fail "aldproxyd did not stop cleanly"
test_pass
