#!/usr/bin/env bash
# test_product_astra-disk.sh — Astra Disk / a Nextcloud-style LDAP backend
# (Nextcloud's user_ldap) through aldproxy with the shipped
# profiles/astra-disk.yaml: lib/product_astra-disk.py replays the login
# filter and the password check on a new connection (StartTLS), the UUID
# probing (entryuuid, nsuniqueid, objectguid, guid, ipauniqueid), existence
# reads with the user filter (also ldap_read with [''] as the attribute
# list), groups from memberOf, nested members by
# memberof:1.2.840.113556.1.4.1941:, and the user listing paged by 500.
# Its URL is a plain listener pinned to the profile (the password check is a
# fresh connection).  The listing is compared here with ldapsearch straight
# against the directory.
#
# Login group astra-disk-users: engineering (nested: developers), dave, eve
# and grp00..grp11 (about 605 users: two pages of 500).
# directories: slapd 389ds
set -euo pipefail
. "$(dirname "$0")/lib/product.sh"    # rig.sh, common.sh, prod_setup

P=astra-disk
P_PW=AstraDisk-Pass1
GROUP=astra-disk-users
directory() {
	local members k
	members=("$(gdn engineering)" "$(udn dave)" "$(udn eve)")
	for k in $(seq -w 0 11); do members+=("$(gdn "grp$k")"); done
	prod_group "$GROUP" "${members[@]}"
}
prod_setup "$P" "$P_PW" --directory directory --pin ldap --other

W="$RIG_DIR/$P"
mkdir -p "$W"
py product_$P.py "$P_PW" "$GROUP" "$W" || fail "lib/product_$P.py failed"

prod_direct_dns "(&(objectClass=inetOrgPerson)(memberOf=$(gdn "$GROUP")))" "$USERS_DN" >"$W/direct.dns"
nd=$(grep -c . "$W/direct.dns" || true)
np=$(grep -c . "$W/users.dns" || true)
[ "$nd" -gt 500 ] || fail "the directory has only $nd members of $GROUP"
assert_eq "$nd" "$np" "users listed through the proxy (paged 500) vs members of $GROUP"
diff "$W/direct.dns" "$W/users.dns" >/dev/null || fail "listed users differ from the members of $GROUP"
ok "user listing: $np users = the directory's members of $GROUP"

no_log_problems
rig_proxy_stop || fail "aldproxyd did not stop cleanly"
prod_pass
