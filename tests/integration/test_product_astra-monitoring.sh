#!/usr/bin/env bash
# test_product_astra-monitoring.sh — Astra Monitoring (Zabbix-based) through
# aldproxy with the shipped profiles/astra-monitoring.yaml, over ldaps: the
# Zabbix connector's sequence (lib/product_zabbix.py: one connection, service
# bind x2, (uid=<escaped login>) search, the user's bind on the same
# connection, JIT read of memberOf; the DN-template mode on an ldaps listener
# pinned to the profile), then libldap's ldapsearch over ldaps for the login
# search under the profile's virtual Base DN ou=users, the memberOf values
# (one cn= RDN each, under ou=groups) and a paged listing compared with the
# directory's own count.  The
# login group astra-monitoring-users is created here as an ALD Pro admin
# would: groups engineering (nested: developers) and the users dave and eve.
# directories: slapd 389ds
set -euo pipefail
. "$(dirname "$0")/lib/product.sh"    # rig.sh, common.sh, prod_setup

P=astra-monitoring
P_PW=AstraMon-Pass1
GROUP=astra-monitoring-users
directory() {
	prod_user ivanov "Иван" "Иванов"     # UTF-8 names through the JIT read
	prod_group "$GROUP" "$(gdn engineering)" "$(udn dave)" "$(udn eve)" "$(udn ivanov)"
}
prod_setup "$P" "$P_PW" --directory directory --pin ldaps --other

py product_zabbix.py "$P" "$P_PW" ldaps "$GROUP" || fail "lib/product_zabbix.py ($P) failed"

# ---- libldap (ldapsearch) over ldaps, certificate checked against the rig CA
SVC="uid=$P,cn=sysaccounts,cn=etc,$BASE_DN"
# the profile's virtual tree: ALD Pro's cn=users,cn=accounts and cn=groups,cn=accounts
# as ou=users and ou=groups (Zabbix takes every cn= RDN of a memberOf value as a group)
V_USERS="ou=users,$BASE_DN"
V_GROUPS="ou=groups,$BASE_DN"
asearch() {
	LDAPTLS_REQCERT=demand ldapsearch -LLL -o ldif-wrap=no -o nettimeout=10 -x -H "$PROXY_LDAPS_URL" \
		-D "$SVC" -w "$P_PW" -b "$V_USERS" "$@"
}
out=$(asearch '(uid=carol)' dn) || fail "ldapsearch over ldaps (uid=carol) failed"
assert_eq "dn: uid=carol,$V_USERS" "$out" "the login search for carol (nested member)"
out=$(asearch '(uid=user0015)' dn) || fail "ldapsearch over ldaps (uid=user0015) failed"
assert_eq "" "$out" "user0015 (outside $GROUP) must not be found"
out=$(asearch '(uid=carol)' memberOf) || fail "ldapsearch (uid=carol) memberOf failed"
mo=$(sed -n 's/^memberOf: //p' <<<"$out")
[ -n "$mo" ] || fail "no memberOf for carol: $out"
while IFS= read -r v; do
	case "$v" in
	cn=*,"$V_GROUPS") [ "$(grep -o 'cn=' <<<"${v,,}" | wc -l)" = 1 ] || fail "memberOf $v: more than one cn= RDN" ;;
	*) fail "memberOf $v is not cn=<group>,$V_GROUPS" ;;
	esac
done <<<"$mo"
ok "ldapsearch over ldaps: (uid=carol) finds uid=carol,$V_USERS, (uid=user0015) none; carol's memberOf values are cn=<group>,$V_GROUPS"

W="$RIG_DIR/$P"
mkdir -p "$W"
asearch -E pr=4/noprompt '(objectClass=person)' 1.1 >"$W/proxy" || fail "paged listing through the proxy failed"
grep '^dn: ' "$W/proxy" | sed 's/^dn: //' | tr 'A-Z' 'a-z' | sort >"$W/proxy.dns"
prod_direct_dns "(&(objectClass=person)(memberOf=$(gdn "$GROUP")))" "$USERS_DN" |
	sed "s/,$(tr 'A-Z' 'a-z' <<<"$USERS_DN")\$/,$(tr 'A-Z' 'a-z' <<<"$V_USERS")/" | sort >"$W/direct.dns"
nd=$(grep -c . "$W/direct.dns" || true)
np=$(grep -c . "$W/proxy.dns" || true)
[ "$nd" -ge 16 ] || fail "the directory lists only $nd members of $GROUP (memberOf not maintained?)"
assert_eq "$nd" "$np" "paged (pr=4) listing of visible users: count through the proxy"
diff "$W/direct.dns" "$W/proxy.dns" >/dev/null || fail "paged listing: DNs differ from the members of $GROUP"
ok "ldapsearch -E pr=4 over ldaps: $np users, exactly the members of $GROUP in the directory"

no_log_problems
rig_proxy_stop || fail "aldproxyd did not stop cleanly"
prod_pass
