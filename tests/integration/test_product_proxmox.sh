#!/usr/bin/env bash
# test_product_proxmox.sh — Proxmox VE's LDAP realm through aldproxy with the
# shipped profiles/proxmox.yaml, replayed with Perl Net::LDAP (Proxmox's own
# library) in lib/product_proxmox.pl: logins over ldap+starttls (bind_dn,
# "uid=<login>" search, the user's bind on the same connection), the user
# sync over ldaps with paged results of 900 (more than 900 visible users, so
# the cookie is followed through the group-filter rewrite), syncs stopped
# after one page (cookie + size 0), and the group sync (paged 100).  The
# synced users, their attributes and group memberships are compared here
# with the directory's own answers (ldapsearch as aldproxy's identity).
#
# The login group proxmox-users: engineering (nested: developers), dave, eve
# and grp00..grp19 except grp15 — about 955 users; user0015 (grp15) and the
# other 49 users of grp15 stay outside.
# directories: slapd 389ds
set -euo pipefail
. "$(dirname "$0")/lib/product.sh"    # rig.sh, common.sh, prod_setup
need perl pl:Net::LDAP

P=proxmox
P_PW=PveSvc-Pass1
GROUP=proxmox-users
directory() {
	local members k
	members=("$(gdn engineering)" "$(udn dave)" "$(udn eve)")
	for k in $(seq -w 0 19); do
		[ "$k" = 15 ] || members+=("$(gdn "grp$k")")
	done
	prod_group "$GROUP" "${members[@]}"
}
prod_setup "$P" "$P_PW" --directory directory --pin ldap --other

W="$RIG_DIR/$P"
mkdir -p "$W"
perl "$INTEG_LIB/product_proxmox.pl" "$P_PW" "$GROUP" "$W" || fail "lib/product_proxmox.pl failed"

# ---- the synced users are exactly the visible ones, as the directory counts them
G=$(gdn "$GROUP")
prod_direct_dns "(&(uid=*)(|(objectclass=inetorgperson)(objectclass=posixaccount)(objectclass=person))(memberOf=$G))" \
	"$USERS_DN" >"$W/direct.users"
nd=$(grep -c . "$W/direct.users" || true)
np=$(grep -c . "$W/users" || true)
[ "$nd" -gt 900 ] || fail "the directory has only $nd members of $GROUP; the test needs more than 900"
assert_eq "$nd" "$np" "users synced by Proxmox through the proxy vs members of $GROUP in the directory"
diff "$W/direct.users" <(sort "$W/users") >/dev/null || fail "synced users differ from the members of $GROUP"
grep -q "^uid=user0015," "$W/users" && fail "user0015 was synced"
ok "user sync: $np users, exactly the directory's members of $GROUP (user0015 not among them)"

# ---- mapped attributes: email/firstname/lastname are ALD Pro's mail/givenName/sn
for u in alice carol user0040; do
	exp=$(ldapsearch -LLL -o ldif-wrap=no -x -H "$SLAPD_URL" -D "$PROXY_BIND_DN" -w "$PROXY_BIND_PW" \
		-b "$(udn "$u")" -s base '(objectClass=*)' uid mail givenName sn |
		awk -F': ' '/^uid:/ {u=$2} /^mail:/ {m=$2} /^givenName:/ {g=$2} /^sn:/ {s=$2} END {print u"|"m"|"g"|"s}')
	got=$(grep "^$(udn "$u" | tr 'A-Z' 'a-z')|" "$W/users.attrs" | cut -d'|' -f2-)
	assert_eq "$exp" "$got" "$u's uid|email|firstname|lastname as Proxmox syncs them"
done
ok "email, firstname, lastname arrive as mail, givenName, sn"

# ---- group memberships: each group's member values that are synced users
ldapsearch -LLL -o ldif-wrap=no -x -H "$SLAPD_URL" -D "$PROXY_BIND_DN" -w "$PROXY_BIND_PW" -b "$GROUPS_DN" \
	'(|(objectclass=groupOfNames)(objectclass=ipausergroup))' cn member |
	awk -F': ' '/^cn:/ {c=tolower($2)} /^member:/ {print c "|" tolower($2)}' | sort >"$W/direct.pairs"
awk -F'|' 'NR == FNR { vis[$0] = 1; next } ($2 in vis)' "$W/direct.users" "$W/direct.pairs" | sort >"$W/direct.groups"
sort "$W/groups" >"$W/groups.sorted"
diff "$W/direct.groups" "$W/groups.sorted" >"$W/groups.diff" || {
	head -20 "$W/groups.diff" >&2
	fail "group memberships synced by Proxmox differ from the directory's"
}
n=$(grep -c . "$W/groups.sorted" || true)
grep -q "^engineering|uid=alice," "$W/groups.sorted" || fail "alice is not in engineering after the group sync"
grep -q "^engineering|uid=carol," "$W/groups.sorted" && fail "carol (nested) in engineering: Proxmox does not nest"
ok "group sync: $n memberships of visible users, as the directory has them (no nesting, as Proxmox)"
PROD_LIB="Net::LDAP (libnet-ldap-perl)" prod_case member_login_groups ok \
	"alice, bob, carol (nested), dave log in; group sync = the directory's memberships (Proxmox does not nest)"

no_log_problems
rig_proxy_stop || fail "aldproxyd did not stop cleanly"
prod_pass
