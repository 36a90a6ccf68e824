#!/usr/bin/env bash
# test_product_freeipa-native.sh — the shipped profiles/freeipa-native.yaml
# (ALD Pro's own tree, no virtual tree, no group rule) with a generic
# FreeIPA-configured connector replayed by lib/product_freeipa-native.py over
# StartTLS: service bind, (&(objectClass=inetOrgPerson)(uid=x)) search, the
# user's bind on the same connection, memberOf read as the service and as the
# user, groups by member, secrets, rootDSE, writes, and a listing paged by
# 100 that is compared here with ldapsearch straight against the directory.
# directories: slapd 389ds
set -euo pipefail
. "$(dirname "$0")/lib/product.sh"    # rig.sh, common.sh, prod_setup

P=freeipa-native
P_PW=IpaNative-Pass1
prod_setup "$P" "$P_PW" --other

W="$RIG_DIR/$P"
mkdir -p "$W"
py "product_$P.py" "$P_PW" "$W" || fail "lib/product_$P.py failed"

prod_direct_dns "(objectClass=inetOrgPerson)" "$USERS_DN" >"$W/direct.dns"
nd=$(grep -c . "$W/direct.dns" || true)
np=$(grep -c . "$W/users.dns" || true)
[ "$nd" -ge 1000 ] || fail "the directory has only $nd users"
assert_eq "$nd" "$np" "users listed through the proxy (paged 100) vs the directory"
diff "$W/direct.dns" "$W/users.dns" >/dev/null || fail "listed users differ from the directory's"
ok "listing: $np users = the directory's inetOrgPerson entries"

# libldap's paging as well, StartTLS required
n=$(LDAPTLS_REQCERT=demand ldapsearch -LLL -o ldif-wrap=no -o nettimeout=10 -x -ZZ -H "$PROXY_URL" \
	-D "uid=$P,cn=sysaccounts,cn=etc,$BASE_DN" -w "$P_PW" -b "$USERS_DN" -E pr=250/noprompt \
	'(objectClass=inetOrgPerson)' 1.1 | grep -c '^dn: ' || true)
assert_eq "$nd" "$n" "ldapsearch -ZZ -E pr=250 count"
ok "ldapsearch -ZZ -E pr=250: $n users"

no_log_problems
rig_proxy_stop || fail "aldproxyd did not stop cleanly"
prod_pass
