#!/usr/bin/env bash
# test_product_zabbix.sh — Zabbix 6.4+ (frontend LDAP login + JIT
# provisioning) through aldproxy with the shipped profiles/zabbix.yaml:
# the connector's sequence replayed by lib/product_zabbix.py (one connection:
# StartTLS, service bind x2, (uid=<escaped login>) search, the user's bind on
# the same connection, service bind + JIT read of memberOf with the group
# names computed as Zabbix's getGroupPatternsFromDns() does; the DN-template
# mode on a listener pinned to the profile), then libldap's
# ldapsearch (what PHP's ext/ldap is built on) for the service search under
# the profile's virtual Base DN ou=users, the memberOf values (one cn= RDN
# each, under ou=groups) and a paged listing compared with the directory's
# own count.
# directories: slapd 389ds
set -euo pipefail
. "$(dirname "$0")/lib/product.sh"    # rig.sh, common.sh, prod_setup

P=zabbix
P_PW=ZbxSvc-Pass1
GROUP=zabbix-users
# ALD Pro side (after the system account): the login group (the rig's
# zabbix-users: engineering (alice, bob, developers: carol, user0001-0010) and
# dave) plus the locked eve, so that her lock is what refuses her
directory() {
	prod_user ivanov "Иван" "Иванов"     # UTF-8 names through the JIT read
	prod_add_members "$GROUP" "$(udn eve)" "$(udn ivanov)"
}
# --pin: a second listener pinned to the profile (listeners[].profile in
# aldproxy.yaml) for Zabbix's DN-template bind mode: a fresh connection
# carries no profile, so only a pinned listener ties its bind to this one
prod_setup "$P" "$P_PW" --directory directory --pin ldap --other

py product_$P.py "$P" "$P_PW" starttls "$GROUP" || fail "lib/product_$P.py failed"

# ---- libldap (ldapsearch), as PHP: the login search with StartTLS
SVC="uid=$P,cn=sysaccounts,cn=etc,$BASE_DN"
# the profile's virtual tree: ALD Pro's cn=users,cn=accounts and cn=groups,cn=accounts
# as ou=users and ou=groups (Zabbix takes every cn= RDN of a memberOf value as a group)
V_USERS="ou=users,$BASE_DN"
V_GROUPS="ou=groups,$BASE_DN"
zsearch() {
	LDAPTLS_REQCERT=demand ldapsearch -LLL -o ldif-wrap=no -o nettimeout=10 -x -ZZ -H "$PROXY_URL" \
		-D "$SVC" -w "$P_PW" -b "$V_USERS" "$@"
}
out=$(zsearch '(uid=alice)' dn) || fail "ldapsearch -ZZ (uid=alice) failed"
assert_eq "dn: uid=alice,$V_USERS" "$out" "the login search for alice"
out=$(zsearch '(uid=user0015)' dn) || fail "ldapsearch -ZZ (uid=user0015) failed"
assert_eq "" "$out" "user0015 (outside $GROUP) must not be found"
out=$(zsearch '(uid=alice)' memberOf) || fail "ldapsearch (uid=alice) memberOf failed"
mo=$(sed -n 's/^memberOf: //p' <<<"$out")
[ -n "$mo" ] || fail "no memberOf for alice: $out"
while IFS= read -r v; do
	case "$v" in
	cn=*,"$V_GROUPS") [ "$(grep -o 'cn=' <<<"${v,,}" | wc -l)" = 1 ] || fail "memberOf $v: more than one cn= RDN" ;;
	*) fail "memberOf $v is not cn=<group>,$V_GROUPS" ;;
	esac
done <<<"$mo"
ok "ldapsearch -ZZ: (uid=alice) finds uid=alice,$V_USERS, (uid=user0015) none; alice's memberOf values are cn=<group>,$V_GROUPS"

# ---- every visible user, paged by ldapsearch, against the directory's count
W="$RIG_DIR/$P"
mkdir -p "$W"
zsearch -E pr=4/noprompt '(objectClass=person)' 1.1 >"$W/proxy" || fail "paged listing through the proxy failed"
grep '^dn: ' "$W/proxy" | sed 's/^dn: //' | tr 'A-Z' 'a-z' | sort >"$W/proxy.dns"
prod_direct_dns "(&(objectClass=person)(memberOf=$(gdn "$GROUP")))" "$USERS_DN" |
	sed "s/,$(tr 'A-Z' 'a-z' <<<"$USERS_DN")\$/,$(tr 'A-Z' 'a-z' <<<"$V_USERS")/" | sort >"$W/direct.dns"
nd=$(grep -c . "$W/direct.dns" || true)
np=$(grep -c . "$W/proxy.dns" || true)
[ "$nd" -ge 16 ] || fail "the directory lists only $nd members of $GROUP"
assert_eq "$nd" "$np" "paged (pr=4) listing of visible users: count through the proxy"
diff "$W/direct.dns" "$W/proxy.dns" >/dev/null || fail "paged listing: DNs differ from the members of $GROUP"
ok "ldapsearch -E pr=4: $np users, exactly the members of $GROUP in the directory"

no_log_problems
rig_proxy_stop || fail "aldproxyd did not stop cleanly"
prod_pass
