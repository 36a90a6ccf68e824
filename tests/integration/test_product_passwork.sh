#!/usr/bin/env bash
# test_product_passwork.sh — Passwork's LDAP integration through aldproxy
# with the shipped profiles/passwork.yaml (native ALD Pro tree, AD filter
# names, UPN binds): lib/product_passwork.py replays logins as user@code
# (service search with Passwork's default DN filter, then a bind as
# <login>@<realm>), the group list with Passwork's group filter and a paged
# sync, and checks who logs in with which groups, that private groups are
# dropped and non-POSIX groups kept, and counts against the directory's own.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../rig/rig.sh"
. "$here/lib/common.sh"
. "$here/lib/product.sh"

P=passwork
P_PW=PassworkSvc-Pass1
GROUP=zabbix-users        # stands for passwork-users: alice, bob, carol (nested), dave, user0001-0010
REALM=ALD.TEST            # the rig's Kerberos realm (krbPrincipalName user@ALD.TEST)
test_begin test_product_$P
rig_init
rig_certs
rig_slapd_start
prod_sysaccount "$P" "$P_PW"
# eve (locked) joins the group: her lock, not the group, must refuse her
prod_add_members "$GROUP" "$(udn eve)"
rig_proxy_config
prod_profile "$P" "s/$P-users/$GROUP/g" "s/^  realm: ALD.EXAMPLE\$/  realm: $REALM/"
grep -q "realm: $REALM" "$RIG_DIR/profiles/$P.yaml" || fail "the shipped profile's realm line changed"
rig_proxy_start

py product_$P.py "$P" "$P_PW" "$GROUP" "$REALM" || fail "lib/product_$P.py failed"

rig_proxy_stop || fail "aldproxyd did not stop cleanly"
test_pass
