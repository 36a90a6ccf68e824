#!/usr/bin/env bash
# test_product_passwork.sh — Passwork's LDAP integration through aldproxy
# with the shipped profiles/passwork.yaml (native ALD Pro tree, AD filter
# names, UPN binds): lib/product_passwork.py replays logins as user@code
# (service search with Passwork's default DN filter, then a bind as
# <login>@<realm>), the group list with Passwork's group filter and a paged
# sync, and checks who logs in with which groups, that private groups are
# dropped and non-POSIX groups kept, and counts against the directory's own.
# directories: slapd 389ds
set -euo pipefail
. "$(dirname "$0")/lib/product.sh"    # rig.sh, common.sh, prod_setup

P=passwork
P_PW=PassworkSvc-Pass1
GROUP=zabbix-users        # stands for passwork-users: alice, bob, carol (nested), dave, user0001-0010
REALM=ALD.TEST            # the rig's Kerberos realm (krbPrincipalName user@ALD.TEST)
# eve (locked) joins the group: her lock, not the group, must refuse her
directory() { prod_add_members "$GROUP" "$(udn eve)"; }
prod_setup "$P" "$P_PW" --directory directory \
	--sed "s/$P-users/$GROUP/g" --sed "s/^  realm: ALD.EXAMPLE\$/  realm: $REALM/"
grep -q "realm: $REALM" "$RIG_DIR/profiles/$P.yaml" || fail "the shipped profile's realm line changed"

py product_$P.py "$P" "$P_PW" "$GROUP" "$REALM" || fail "lib/product_$P.py failed"

rig_proxy_stop || fail "aldproxyd did not stop cleanly"
prod_pass
