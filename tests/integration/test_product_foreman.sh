#!/usr/bin/env bash
# test_product_foreman.sh — Foreman's LDAP authentication source (server
# type FreeIPA; ldap_fluff over Ruby net-ldap) through aldproxy with the
# shipped profiles/foreman.yaml: lib/product_foreman.py replays net-ldap's
# connection per operation over ldaps (rootDSE check, every search paged by
# 126), the (uid=x) search then the user's bind, memberOf group names by the
# first cn=, and external user groups by (cn=g) with nested members.
# Foreman's URL is an ldaps listener pinned to the profile (the password bind
# is a fresh connection).  A paged listing of all visible users is compared
# here with ldapsearch straight against the directory.
#
# Login group foreman-users: engineering (nested: developers), dave, eve and
# grp04..grp09 (about 315 users: several pages of 126).
# directories: slapd 389ds
set -euo pipefail
. "$(dirname "$0")/lib/product.sh"    # rig.sh, common.sh, prod_setup

P=foreman
P_PW=ForemanSvc-Pass1
GROUP=foreman-users
directory() {
	local members k
	members=("$(gdn engineering)" "$(udn dave)" "$(udn eve)")
	for k in 04 05 06 07 08 09; do members+=("$(gdn "grp$k")"); done
	prod_group "$GROUP" "${members[@]}"
}
prod_setup "$P" "$P_PW" --directory directory --pin ldaps --other

W="$RIG_DIR/$P"
mkdir -p "$W"
py product_$P.py "$P_PW" "$GROUP" "$W" || fail "lib/product_$P.py failed"

prod_direct_dns "(&(objectClass=person)(memberOf=$(gdn "$GROUP")))" "$USERS_DN" >"$W/direct.dns"
nd=$(grep -c . "$W/direct.dns" || true)
np=$(grep -c . "$W/list.dns" || true)
[ "$nd" -gt 252 ] || fail "the directory has only $nd members of $GROUP"
assert_eq "$nd" "$np" "users listed by net-ldap paging through the proxy vs members of $GROUP"
diff "$W/direct.dns" "$W/list.dns" >/dev/null || fail "listed users differ from the members of $GROUP"
ok "paged listing: $np users = the directory's members of $GROUP"

no_log_problems
rig_proxy_stop || fail "aldproxyd did not stop cleanly"
prod_pass
