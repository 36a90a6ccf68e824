#!/usr/bin/env bash
# test_product_usergate.sh — UserGate NGFW's LDAP connector through aldproxy
# with the shipped profiles/usergate.yaml (Active Directory emulation,
# DOMAIN\user and user@domain binds): lib/product_usergate.py replays the
# connector over ldaps (login as EXAMPLE\usergate, substring user and group
# lookups, a paged listing, captive-portal binds and the user's groups) and
# checks the results against the same searches on the directory, the AD
# attributes, and who is refused with which AD diagnostic.
# directories: slapd 389ds
set -euo pipefail
. "$(dirname "$0")/lib/product.sh"    # rig.sh, common.sh, prod_setup

P=usergate
P_PW=UsergateSvc-Pass1
GROUP=zabbix-users        # stands for usergate-users: alice, bob, carol (nested), dave, user0001-0010
# the system account (for a DN-capable set-up, made by prod_setup), and the
# ALD Pro user the connector logs in as (UserGate takes DOMAIN\user or
# user@domain only), a member of the login group like the users it looks up
directory() {
	_prod_dm ldapadd <<EOF
dn: $(udn "$P")
objectClass: top
objectClass: person
objectClass: organizationalPerson
objectClass: inetOrgPerson
objectClass: inetUser
objectClass: posixAccount
objectClass: krbPrincipalAux
objectClass: ipaObject
uid: $P
cn: UserGate connector
sn: connector
givenName: UserGate
displayName: UserGate connector
uidNumber: 1668609001
gidNumber: 1668609001
homeDirectory: /home/$P
loginShell: /sbin/nologin
krbPrincipalName: $P@ALD.TEST
ipaUniqueID: $(cat /proc/sys/kernel/random/uuid)
userPassword: $P_PW
EOF
	prod_add_members "$GROUP" "$(udn "$P")" "$(udn eve)"   # eve (locked): her lock must refuse her
}
prod_setup "$P" "$P_PW" --directory directory --sed "s/$P-users/$GROUP/g"

py product_$P.py "$P" "$P" "$P_PW" "$GROUP" || fail "lib/product_$P.py failed"

# the system account's DN works where a DN can be entered
out=$(ldapsearch -LLL -o ldif-wrap=no -o nettimeout=10 -x -H "$PROXY_LDAPS_URL" \
	-D "uid=$P,cn=sysaccounts,cn=etc,$BASE_DN" -w "$P_PW" -b "CN=Users,DC=example,DC=com" \
	'(sAMAccountName=dave)' sAMAccountName) || fail "ldapsearch as the system account failed"
assert_contains "$out" "dn: uid=dave,CN=Users,DC=example,DC=com" "dave through the system account"
assert_contains "$out" "sAMAccountName: dave"
ok "the system account's DN binds and searches the virtual tree"

rig_proxy_stop || fail "aldproxyd did not stop cleanly"
prod_pass
