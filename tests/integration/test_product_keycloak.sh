#!/usr/bin/env bash
# test_product_keycloak.sh — Keycloak's LDAP federation with the Active
# Directory vendor preset through aldproxy, shipped profiles/keycloak.yaml:
# lib/product_keycloak.py replays the user lookup by userPrincipalName, the
# binary objectGUID (AD byte order) and UUID re-validation, password checks
# on separate connections with AD diagnostics, the memberOf group strategy,
# group members by memberOf:1.2.840.113556.1.4.1941:, and the sync with
# paged results marked critical.  Keycloak's URL is an ldaps listener pinned
# to the profile (its password checks are fresh connections).  The synced
# users are compared here with ldapsearch straight against the directory.
#
# Login group keycloak-users: engineering (nested: developers), dave, eve and
# grp00..grp03 (about 215 users, so a batch of 100 takes several pages).
# directories: slapd 389ds
set -euo pipefail
. "$(dirname "$0")/lib/product.sh"    # rig.sh, common.sh, prod_setup

P=keycloak
P_PW=KcSvc-Pass1
GROUP=keycloak-users
directory() {
	prod_group "$GROUP" "$(gdn engineering)" "$(udn dave)" "$(udn eve)" \
		"$(gdn grp00)" "$(gdn grp01)" "$(gdn grp02)" "$(gdn grp03)"
}
prod_setup "$P" "$P_PW" --directory directory --pin ldaps --other

W="$RIG_DIR/$P"
mkdir -p "$W"
py product_$P.py "$P_PW" "$GROUP" "$W" || fail "lib/product_$P.py failed"

G=$(gdn "$GROUP")
prod_direct_dns "(&(objectClass=person)(objectClass=organizationalPerson)(memberOf=$G))" "$USERS_DN" >"$W/direct.dns"
nd=$(grep -c . "$W/direct.dns" || true)
np=$(grep -c . "$W/sync.dns" || true)
[ "$nd" -gt 200 ] || fail "the directory has only $nd members of $GROUP"
assert_eq "$nd" "$np" "Keycloak's sync through the proxy vs members of $GROUP in the directory"
diff "$W/direct.dns" "$W/sync.dns" >/dev/null || fail "synced users differ from the members of $GROUP"
prod_direct_dns "(&(objectClass=person)(objectClass=organizationalPerson)(memberOf=$G)(!(nsAccountLock=TRUE)))" \
	"$USERS_DN" >"$W/direct_enabled.dns"
diff "$W/direct_enabled.dns" "$W/sync_enabled.dns" >/dev/null ||
	fail "sync with (!(userAccountControl:1.2.840.113556.1.4.803:=2)) differs from the unlocked members"
ok "sync: $np users = the directory's members of $GROUP; $(grep -c . "$W/sync_enabled.dns") without the locked ones"

no_log_problems
rig_proxy_stop || fail "aldproxyd did not stop cleanly"
prod_pass
