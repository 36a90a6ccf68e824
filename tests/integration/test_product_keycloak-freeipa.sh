#!/usr/bin/env bash
# test_product_keycloak-freeipa.sh — Keycloak's LDAP federation with the
# "Red Hat Directory Server" vendor preset (FreeIPA settings: username and RDN
# uid, UUID ipaUniqueID, inetOrgPerson, groupOfNames/member) through aldproxy,
# shipped profiles/keycloak-freeipa.yaml, replayed with Java's own LDAP client
# (JNDI, lib/KeycloakFreeipa.java) the way Keycloak's connector drives it:
# pooled service context, user lookup by uid, the password check as a bind on
# a separate unpooled context, re-validation by ipaUniqueID (and the
# preset's nsuniqueid), groups by (&(member=<user DN>)(objectclass=groupOfNames))
# with the group tree of "Preserve Group Inheritance", and by memberOf, and the
# sync with paged results marked critical.  Keycloak's URL is an ldaps
# listener pinned to the profile (its password checks are fresh connections).
# What Keycloak would show is compared here with ldapsearch straight against
# the directory: the user's entry and UUID, the groups (nested ones included),
# the synced users; a wrong password, a locked account, an unknown user and
# users outside the login group are refused.
#
# Login group keycloak-users: engineering (nested: developers), dave, eve and
# grp00..grp03 (about 215 users, so a batch of 100 takes several pages).
# directories: slapd 389ds
set -euo pipefail
. "$(dirname "$0")/lib/product.sh"    # rig.sh, common.sh, prod_setup

# Java (JNDI) is what this test runs beyond the rig: installed here when the
# test runs alone (scripts/deps.sh installs it for the whole suite)
if [ "${RIG_SKIP_DEPS:-0}" != 1 ]; then
	. "$RIG_LIB_DIR/packages.sh"
	. "$RIG_LIB_DIR/apt.sh"
	apt_install_missing test_product_keycloak-freeipa "${TOOL_PKG[javac]}" || fail "cannot install ${TOOL_PKG[javac]}"
fi
need java javac

P=keycloak-freeipa
# shellcheck disable=SC2034  # read by prod_case
PROD_LIB="Java JNDI (openjdk)"   # the product matrix's client library (prod_case)
P_PW=KcIpaSvc-Pass1
GROUP=keycloak-users
directory() {
	prod_group "$GROUP" "$(gdn engineering)" "$(udn dave)" "$(udn eve)" \
		"$(gdn grp00)" "$(gdn grp01)" "$(gdn grp02)" "$(gdn grp03)"
}
prod_setup "$P" "$P_PW" --directory directory --pin ldaps --other

W="$RIG_DIR/$P"
mkdir -p "$W/classes"
log0=$(log_lines)
javac -d "$W/classes" "$INTEG_LIB/KeycloakFreeipa.java" || fail "javac lib/KeycloakFreeipa.java failed"
HIDDEN_UUID=$(direct_search -b "$(udn user0015)" -s base '(objectClass=*)' ipaUniqueID | sed -n 's/^ipaUniqueID: //p')
[ -n "$HIDDEN_UUID" ] || fail "user0015 has no ipaUniqueID in the directory"
HIDDEN_UUID=$HIDDEN_UUID java -cp "$W/classes" KeycloakFreeipa "$P_PW" "$GROUP" "$W" ||
	fail "lib/KeycloakFreeipa.java failed"

R="$W/results.tsv"
res() {  # KEY — the replay's value ("" when it has none)
	awk -F'\t' -v k="$1" '$1 == k { sub(/^[^\t]*\t/, ""); print; exit }' "$R"
}
lc() { tr '[:upper:]' '[:lower:]'; }
direct_attr() {  # DN ATTR — values straight from the directory, one a line
	direct_search -b "$1" -s base '(objectClass=*)' "$2" | sed -n "s/^$2: //Ip"
}
# the group names (lower case) of a user's memberOf under the groups container
direct_groups_of() {
	direct_attr "$(udn "$1")" memberOf | lc | grep ",$(lc <<<"$GROUPS_DN")\$" |
		sed 's/^cn=\([^,]*\),.*/\1/' | sort | paste -sd, -
}
without() {  # LIST NAME — the comma list without NAME
	tr ',' '\n' <<<"$1" | grep -vx "$2" | paste -sd, -
}

# ---- a member logs in: entry, UUID, password, groups
assert_eq "$(udn alice | lc)" "$(res login.alice.found)" "alice's lookup by (uid=alice) with the preset's classes"
assert_eq "$(direct_attr "$(udn alice)" ipaUniqueID)" "$(res login.alice.uuid)" "alice's UUID (ipaUniqueID) as Keycloak reads it"
assert_eq "$(direct_attr "$(udn alice)" mail)" "$(res login.alice.email)" "alice's email"
assert_eq "$(direct_attr "$(udn alice)" givenName)" "$(res login.alice.firstName)" "alice's first name (givenName)"
assert_eq "$(direct_attr "$(udn alice)" createTimestamp)" "$(res login.alice.createTimestamp)" "alice's createTimestamp"
assert_eq "ok" "$(res login.alice.bind)" "alice's password check (bind on a separate JNDI context)"
want=$(direct_groups_of alice)
assert_eq "$(without "$want" "$GROUP")" "$(res login.alice.groups.inherited)" "alice's Keycloak groups (member strategy + tree)"
assert_eq "$want" "$(res login.alice.groups.memberof)" "alice's Keycloak groups (memberOf strategy)"
ok "alice logs in: entry, ipaUniqueID, givenName, mail, createTimestamp as in the directory; groups $want"

# carol: in developers, a member of engineering, a member of keycloak-users
assert_eq "ok" "$(res login.carol.bind)" "carol's password check (a nested member of $GROUP)"
want=$(direct_groups_of carol)
case ",$want," in *,developers,*engineering,*) ;; *) fail "premise: carol's memberOf in the directory lacks developers/engineering: $want" ;; esac
direct=$(direct_search -b "$GROUPS_DN" "(&(objectClass=groupOfNames)(member=$(udn carol)))" cn |
	sed -n 's/^cn: //p' | lc | sort | paste -sd, -)
assert_eq "$(without "$direct" "$GROUP")" "$(res login.carol.groups.direct)" \
	"carol's groups by (&(member=<DN>)(objectclass=groupOfNames)) = the directory's direct groups"
assert_eq "$(without "$want" "$GROUP")" "$(res login.carol.groups.inherited)" \
	"carol's groups with the inherited parents of the Keycloak group tree = her nested groups in the directory"
assert_contains "$(res login.carol.groups.paths)" "/zabbix-users/engineering/developers" "carol's Keycloak group path"
assert_eq "$want" "$(res login.carol.groups.memberof)" "carol's groups by memberOf (GET_GROUPS_FROM_USER_MEMBEROF_ATTRIBUTE)"
ok "carol (developers ⊂ engineering ⊂ $GROUP) logs in; direct groups $(res login.carol.groups.direct) as" \
	"$(res login.carol.groups.paths), i.e. $(res login.carol.groups.inherited) = her nested groups; memberOf gives $want"
prod_case member_login_groups ok "alice, carol (nested): member strategy with the group tree and memberOf = the directory's groups"

# Keycloak's one-parent rule: engineering is a member of zabbix-users and of the login group
parents=$(direct_search -b "$GROUPS_DN" "(&(objectClass=groupOfNames)(member=$(gdn engineering)))" cn |
	sed -n 's/^cn: //p' | lc | sort | paste -sd, -)
assert_eq "$GROUP,zabbix-users" "$parents" "premise: engineering's parent groups in the directory"
assert_contains "$(res groupsync.nofilter)" "Group 'engineering' detected to have multiple parents" \
	"group sync without the mapper filter"
ok "group sync without the mapper's LDAP Filter stops as Keycloak does: $(res groupsync.nofilter);" \
	"with (!(cn=$GROUP)) it resolves ($(res groupsync.filter) groups)"

# ---- wrong password, locked account, unknown user, users outside the login group
wrong=$(res bind.alice.wrong)
case "$wrong" in "AuthenticationException 49 "*) ;; *) fail "alice with a wrong password: $wrong" ;; esac
ok "wrong password: $wrong"
prod_case wrong_password ok "$wrong"

assert_eq "$(udn eve | lc)" "$(res login.eve.found)" "locked eve is found (no account-control mapper in this preset)"
[ "$(direct_attr "$(udn eve)" nsAccountLock | lc)" = true ] || fail "premise: eve is not locked in the directory"
eve=$(res login.eve.bind)
case "$DIRECTORY_KIND:$eve" in
slapd:"AuthenticationException 49 "* | 389ds:"AuthenticationException 49 "* | 389ds:"OperationNotSupportedException 53 "*) ;;
*) fail "locked eve's password check ($DIRECTORY_KIND): $eve" ;;
esac
ok "locked eve ($DIRECTORY_KIND): refused at the bind: $eve"
prod_case locked_account ok "eve (in the group): $eve"

assert_eq "-" "$(res login.nosuchuser.found)" "an unknown user"
ok "unknown user: (uid=nosuchuser) finds nothing, Keycloak answers 'Invalid username or password'"
prod_case unknown_user ok "nosuchuser: (uid=nosuchuser) finds nothing"

for u in user0015 admin; do
	[ "$(prod_direct_count "(uid=$u)" "$USERS_DN")" = 1 ] || fail "premise: $u is in the directory"
	[ "$(prod_direct_count "(&(uid=$u)(memberOf=$(gdn "$GROUP")))" "$USERS_DN")" = 0 ] ||
		fail "premise: $u is outside $GROUP"
	assert_eq "-" "$(res "login.$u.found")" "$u (outside $GROUP) found by uid"
	assert_eq "$wrong" "$(res "bind.$u")" "$u's bind with the right password: like a wrong password, word for word"
done
assert_eq "-" "$(res uuid.hidden)" "user0015 found by his ipaUniqueID"
ok "user0015 and admin (outside $GROUP): found neither by uid nor by ipaUniqueID; their binds fail as a wrong password does"
prod_case outside_groups ok "user0015, admin: not found; binds fail like a wrong password"

# ---- re-validation by UUID
assert_eq "$(udn alice | lc)" "$(res uuid.alice)" "lookup by (ipaUniqueID=<uuid>)"
assert_eq "$(udn alice | lc)" "$(res uuid.alice.customfilter)" "lookup by ipaUniqueID with the custom filter"
nsu=$(direct_attr "$(udn alice)" nsUniqueId)
if [ -n "$nsu" ]; then
	assert_eq "$nsu $(udn alice | lc)" "$(res nsuniqueid.alice)" "the preset's nsuniqueid: read and looked up"
	ok "re-validation: (ipaUniqueID=<uuid>) and the preset's (nsuniqueid=$nsu) find alice"
else
	assert_eq "absent" "$(res nsuniqueid.alice)" "nsuniqueid through the proxy where the directory has none"
	ok "re-validation: (ipaUniqueID=<uuid>) finds alice; this $DIRECTORY_KIND has no nsUniqueId (389-ds has)"
fi

# ---- the sync: paged, critical
G=$(gdn "$GROUP")
prod_direct_dns "(&(objectClass=inetOrgPerson)(objectClass=organizationalPerson)(memberOf=$G))" "$USERS_DN" >"$W/direct.dns"
nd=$(grep -c . "$W/direct.dns" || true)
[ "$nd" -gt 200 ] || fail "the directory has only $nd members of $GROUP"
assert_eq "$nd" "$(res sync.users)" "Keycloak's sync through the proxy vs members of $GROUP in the directory"
diff "$W/direct.dns" "$W/sync.dns" >/dev/null || fail "synced users differ from the members of $GROUP"
[ "$(res sync.pages)" -ge 3 ] || fail "the sync of $nd users took $(res sync.pages) page(s) of 100"
prod_direct_dns "(&(objectClass=inetOrgPerson)(objectClass=organizationalPerson)(memberOf=$G)(!(nsAccountLock=TRUE)))" \
	"$USERS_DN" >"$W/direct_enabled.dns"
diff "$W/direct_enabled.dns" "$W/sync_enabled.dns" >/dev/null ||
	fail "sync with (!(nsAccountLock=TRUE)) differs from the unlocked members"
grep -qx "$(udn eve | lc)" "$W/sync.dns" || fail "eve missing from the sync"
! grep -qx "$(udn eve | lc)" "$W/sync_enabled.dns" || fail "eve (locked) in the sync with (!(nsAccountLock=TRUE))"
ok "sync: $nd users in $(res sync.pages) critical pages of 100 = the directory's members of $GROUP;" \
	"$(res sync_enabled.users) with the custom filter (eve left out)"

# nothing Keycloak sent was refused by the profile's allowlist
! tail -n +"$log0" "$PROXY_LOG" | grep -q "does not allow" ||
	fail "the proxy refused something of the preset: $(tail -n +"$log0" "$PROXY_LOG" | grep "does not allow" | head -3)"
no_log_problems
rig_proxy_stop || fail "aldproxyd did not stop cleanly"
prod_pass
