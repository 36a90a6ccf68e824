#!/usr/bin/env python3
"""gen_tree.py — print an LDIF of an ALD Pro / FreeIPA-like directory tree.

Usage:  gen_tree.py [--suffix dc=ald,dc=test] [--users 1000] [--realm ALD.TEST]

Loads into OpenLDAP with core, cosine, inetorgperson, nis and
tests/rig/schema/freeipa-lite.schema (see that file for the deviations from
389-DS that OpenLDAP's stricter schema checks force).

Layout (suffix S = dc=ald,dc=test by default):
  S                                   dcObject + organization
  cn=accounts,S  cn=users|groups|roles|services|computers,cn=accounts,S
  cn=etc,S  cn=sysaccounts,cn=etc,S  cn=hbac,S  cn=sudo,S  cn=sudorules,cn=sudo,S

Accounts and passwords (clear text in userPassword; slapd compares them as is):
  uid=admin,cn=users,cn=accounts,S     AdminPass1   (no inetOrgPerson, like FreeIPA)
  uid=alice|bob|carol|dave,...         Secret123
  uid=eve,...                          Secret123    nsAccountLock: TRUE (cannot bind)
  uid=user0001..userNNNN,...           Secret123
  uid=aldproxy,cn=sysaccounts,cn=etc,S ProxyPass1   (the proxy's backend identity)
  uid=demo,cn=sysaccounts,cn=etc,S     DemoPass1    (a product's service account)

Groups (cn=<name>,cn=groups,cn=accounts,S), nesting developers ⊂ engineering ⊂ zabbix-users:
  ipausers      every user (admin too)
  admins        admin                                   posix
  engineering   alice, bob, group developers            posix
  developers    carol, user0001..user0010               posix
  sales         dave, eve
  zabbix-users  group engineering, dave
  grp00..grp19  generated users with index = k (mod 20)  posix
  <login>       user private group (posixGroup, no member) of admin, alice..eve
Role cn=helpdesk,cn=roles,cn=accounts,S: alice, dave, user0001..user0005.
HBAC rule "allow_engineering" (memberUser: group engineering) under cn=hbac,S.
Sudo rule "admins_all" (memberUser: group admins) under cn=sudorules,cn=sudo,S.
memberOf on users and groups is computed here, transitively over member and
memberUser, as FreeIPA's memberOf plugin maintains it (groups, the role and
the rules).  Output is deterministic (ipaUniqueID = UUIDv5 of the name).
"""

import argparse
import base64
import sys
import uuid

NS = uuid.UUID("6f1d2c3a-51c4-4e0c-9a55-ad1d0a1d0001")
ID_BASE = 1668600000            # FreeIPA-like ID range
USER_PW = "Secret123"
ADMIN_PW = "AdminPass1"

FIRST = ["Ivan", "Olga", "Petr", "Anna", "Sergey", "Maria", "Dmitry", "Elena",
         "Pavel", "Irina", "Nikolay", "Tatiana", "Alexey", "Natalia", "Oleg",
         "Svetlana", "Yuri", "Ekaterina", "Boris", "Galina"]
LAST = ["Ivanov", "Petrov", "Sidorov", "Smirnov", "Kuznetsov", "Popov",
        "Vasiliev", "Sokolov", "Mikhailov", "Novikov", "Fedorov", "Morozov",
        "Volkov", "Alekseev", "Lebedev", "Semenov", "Egorov", "Pavlov",
        "Kozlov", "Stepanov", "Nikolaev"]


def uid_of(kind, name):
    return str(uuid.uuid5(NS, kind + ":" + name))


def needs_b64(v):
    if v == "":
        return False
    if v[0] in " :<" or v[-1] == " ":
        return True
    return any(ord(c) < 32 or ord(c) > 126 for c in v)


def emit(out, dn, attrs):
    """attrs: list of (name, value) in output order."""
    lines = [("dn", dn)] + attrs
    for k, v in lines:
        v = str(v)
        if needs_b64(v):
            out.append("%s:: %s" % (k, base64.b64encode(v.encode()).decode()))
        else:
            out.append("%s: %s" % (k, v))
    out.append("")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--suffix", default="dc=ald,dc=test")
    ap.add_argument("--users", type=int, default=1000,
                    help="number of generated users user0001..userNNNN")
    ap.add_argument("--realm", default=None,
                    help="Kerberos realm (default: from the suffix, ALD.TEST)")
    a = ap.parse_args()
    if a.users < 0 or a.users > 999999:
        ap.error("--users must be 0..999999")

    S = a.suffix
    dcs = [p.split("=", 1)[1] for p in S.split(",") if p.lower().startswith("dc=")]
    realm = a.realm or ".".join(dcs).upper()
    domain = ".".join(dcs).lower()
    width = max(4, len(str(a.users)))

    accounts = "cn=accounts," + S
    users_c = "cn=users," + accounts
    groups_c = "cn=groups," + accounts
    roles_c = "cn=roles," + accounts
    hbac_c = "cn=hbac," + S
    sudorules_c = "cn=sudorules,cn=sudo," + S
    sysacc_c = "cn=sysaccounts,cn=etc," + S

    def udn(login):
        return "uid=%s,%s" % (login, users_c)

    def gdn(name):
        return "cn=%s,%s" % (name, groups_c)

    # ---- users: (login, index or None, given, sn, uidNumber)
    named = [("admin", None, "Administrator", "Administrator", ID_BASE + 0),
             ("alice", None, "Alice", "Liddell", ID_BASE + 1),
             ("bob", None, "Bob", "Builder", ID_BASE + 2),
             ("carol", None, "Carol", "Danvers", ID_BASE + 3),
             ("dave", None, "Dave", "Lister", ID_BASE + 4),
             ("eve", None, "Eve", "Polastri", ID_BASE + 5)]
    gen = []
    for i in range(1, a.users + 1):
        login = "user%0*d" % (width, i)
        gen.append((login, i, FIRST[i % len(FIRST)], LAST[(i // len(FIRST)) % len(LAST)],
                    ID_BASE + 1000 + i))
    all_users = named + gen
    upg_logins = [u[0] for u in named]

    # ---- containers holding members: dn -> (kind, list of member DNs)
    # kind: group | role | rule (rules use memberUser)
    members = {}
    groups = []   # (name, gid or None, description)

    def group(name, gid, desc, mem):
        groups.append((name, gid, desc))
        members[gdn(name)] = ("group", mem)

    dev_users = [udn("carol")] + [udn(u[0]) for u in gen[:10]]
    group("ipausers", None, "Default group for all users", [udn(u[0]) for u in all_users])
    group("admins", ID_BASE + 100, "Account administrators group", [udn("admin")])
    group("engineering", ID_BASE + 101, "Engineering",
          [udn("alice"), udn("bob"), gdn("developers")])
    group("developers", ID_BASE + 102, "Developers", dev_users)
    group("sales", None, "Sales", [udn("dave"), udn("eve")])
    group("zabbix-users", None, "Zabbix frontend users", [gdn("engineering"), udn("dave")])
    for k in range(20):
        group("grp%02d" % k, ID_BASE + 200 + k, "Generated group %d" % k,
              [udn(u[0]) for u in gen if u[1] % 20 == k])

    role_dn = "cn=helpdesk," + roles_c
    members[role_dn] = ("role", [udn("alice"), udn("dave")] + [udn(u[0]) for u in gen[:5]])

    hbac_id = uid_of("hbac", "allow_engineering")
    hbac_dn = "ipaUniqueID=%s,%s" % (hbac_id, hbac_c)
    members[hbac_dn] = ("rule", [gdn("engineering")])

    sudo_id = uid_of("sudo", "admins_all")
    sudo_dn = "ipaUniqueID=%s,%s" % (sudo_id, sudorules_c)
    members[sudo_dn] = ("rule", [gdn("admins")])

    # ---- transitive memberOf: parents[x] = containers listing x directly
    parents = {}
    for cdn, (_, mem) in members.items():
        for m in mem:
            parents.setdefault(m.lower(), []).append(cdn)

    def member_of(dn):
        seen, order, stack = set(), [], list(parents.get(dn.lower(), []))
        while stack:
            p = stack.pop(0)
            if p.lower() in seen:
                continue
            seen.add(p.lower())
            order.append(p)
            stack.extend(parents.get(p.lower(), []))
        return order

    out = []
    out.append("# Generated by tests/rig/gen_tree.py --suffix %s --users %d" % (S, a.users))
    out.append("# Passwords: every user Secret123, admin AdminPass1, "
               "uid=aldproxy ProxyPass1, uid=demo DemoPass1; eve is locked.")
    out.append("")

    # ---- skeleton
    emit(out, S, [("objectClass", "top"), ("objectClass", "dcObject"),
                  ("objectClass", "organization"), ("dc", dcs[0] if dcs else "ald"),
                  ("o", realm), ("description", "ALD Pro test domain " + realm)])

    def container(dn):
        cn = dn.split(",", 1)[0].split("=", 1)[1]
        emit(out, dn, [("objectClass", "top"), ("objectClass", "nsContainer"), ("cn", cn)])

    for c in [accounts, users_c, groups_c, roles_c, "cn=services," + accounts,
              "cn=computers," + accounts, "cn=etc," + S, sysacc_c, hbac_c,
              "cn=sudo," + S, sudorules_c]:
        container(c)

    # ---- system accounts
    for login, pw, desc in [("aldproxy", "ProxyPass1", "aldproxy backend identity"),
                            ("demo", "DemoPass1", "demo product service account")]:
        emit(out, "uid=%s,%s" % (login, sysacc_c),
             [("objectClass", "top"), ("objectClass", "account"),
              ("objectClass", "simpleSecurityObject"), ("uid", login),
              ("description", desc), ("userPassword", pw)])

    # ---- users
    for login, idx, given, sn, num in all_users:
        dn = udn(login)
        cn = "%s %s" % (given, sn) if login != "admin" else "Administrator"
        if login == "admin":
            ocs = ["top", "person", "posixaccount", "krbprincipalaux",
                   "krbticketpolicyaux", "inetuser", "ipaobject", "ipasshuser"]
        else:
            ocs = ["top", "person", "organizationalPerson", "inetOrgPerson", "inetUser",
                   "posixAccount", "krbPrincipalAux", "krbTicketPolicyAux",
                   "ipaObject", "ipaSshUser"]
        if login in upg_logins:
            ocs.append("mepOriginEntry")
        at = [("objectClass", o) for o in ocs]
        at += [("uid", login), ("cn", cn), ("sn", sn)]
        if login != "admin":
            at += [("givenName", given), ("displayName", cn),
                   ("initials", given[0] + sn[0]),
                   ("mail", "%s@%s" % (login, domain))]
        at += [("gecos", cn), ("uidNumber", num), ("gidNumber", num),
               ("homeDirectory", "/home/" + login), ("loginShell", "/bin/bash"),
               ("krbPrincipalName", "%s@%s" % (login, realm)),
               ("krbCanonicalName", "%s@%s" % (login, realm)),
               ("krbPasswordExpiration", "20380101000000Z"),
               ("krbLastPwdChange", "20240101000000Z"),
               ("ipaUniqueID", uid_of("user", login)),
               ("userPassword", ADMIN_PW if login == "admin" else USER_PW)]
        if login == "alice":
            at.append(("ipaSshPubKey", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHJpZ3Rlc3RrZXlmb3JhbGljZWFsZHByb3h5MDEy alice@" + domain))
        if login == "eve":
            at.append(("nsAccountLock", "TRUE"))
        if login in upg_logins:
            at.append(("mepManagedEntry", gdn(login)))
        for g in member_of(dn):
            at.append(("memberOf", g))
        emit(out, dn, at)

    # ---- user private groups
    for login, _, _, _, num in named:
        emit(out, gdn(login),
             [("objectClass", "top"), ("objectClass", "posixGroup"),
              ("objectClass", "ipaObject"), ("objectClass", "mepManagedEntry"),
              ("cn", login), ("gidNumber", num),
              ("description", "User private group for " + login),
              ("mepManagedBy", udn(login)),
              ("ipaUniqueID", uid_of("upg", login))])

    # ---- groups
    for name, gid, desc in groups:
        dn = gdn(name)
        mem = members[dn][1]
        ocs = ["top"]
        if mem:
            ocs.append("groupOfNames")
        ocs += ["nestedGroup", "ipaUserGroup", "ipaObject"]
        if gid is not None:
            ocs.append("posixGroup")
            if mem:
                ocs.append("posixGroupOfNames")  # schema glue, see freeipa-lite.schema
        elif not mem:
            sys.exit("gen_tree.py: group %s has neither members nor gidNumber; "
                     "OpenLDAP needs a structural class for it" % name)
        at = [("objectClass", o) for o in ocs]
        at += [("cn", name), ("description", desc)]
        if gid is not None:
            at.append(("gidNumber", gid))
        at.append(("ipaUniqueID", uid_of("group", name)))
        at += [("member", m) for m in mem]
        at += [("memberOf", g) for g in member_of(dn)]
        emit(out, dn, at)

    # ---- role
    emit(out, role_dn,
         [("objectClass", "top"), ("objectClass", "groupOfNames"),
          ("objectClass", "nestedGroup"), ("cn", "helpdesk"),
          ("description", "Helpdesk")] + [("member", m) for m in members[role_dn][1]])

    # ---- HBAC rule and sudo rule
    emit(out, hbac_dn,
         [("objectClass", "top"), ("objectClass", "ipaAssociation"),
          ("objectClass", "ipaHBACRule"), ("ipaUniqueID", hbac_id),
          ("cn", "allow_engineering"), ("accessRuleType", "allow"),
          ("ipaEnabledFlag", "TRUE"), ("hostCategory", "all"),
          ("serviceCategory", "all"), ("memberUser", gdn("engineering")),
          ("description", "Engineering may log in everywhere")])
    emit(out, sudo_dn,
         [("objectClass", "top"), ("objectClass", "ipaAssociation"),
          ("objectClass", "ipaSudoRule"), ("ipaUniqueID", sudo_id),
          ("cn", "admins_all"), ("ipaEnabledFlag", "TRUE"),
          ("hostCategory", "all"), ("cmdCategory", "all"),
          ("ipaSudoRunAsUserCategory", "all"), ("ipaSudoRunAsGroupCategory", "all"),
          ("memberUser", gdn("admins")), ("description", "admins may run anything")])

    # ---- host and service
    host = "host1." + domain
    host_dn = "fqdn=%s,cn=computers,%s" % (host, accounts)
    emit(out, host_dn,
         [("objectClass", "top"), ("objectClass", "nsHost"), ("objectClass", "ipaHost"),
          ("objectClass", "ipaObject"), ("objectClass", "ipaService"),
          ("objectClass", "krbPrincipalAux"), ("cn", host), ("fqdn", host),
          ("serverHostName", "host1"), ("ipaClientVersion", "4.9.11"),
          ("krbPrincipalName", "host/%s@%s" % (host, realm)),
          ("krbCanonicalName", "host/%s@%s" % (host, realm)),
          ("managedBy", host_dn), ("ipaUniqueID", uid_of("host", host))])
    svc = "HTTP/%s@%s" % (host, realm)
    emit(out, "krbprincipalname=%s,cn=services,%s" % (svc, accounts),
         [("objectClass", "top"), ("objectClass", "krbPrincipal"),
          ("objectClass", "krbPrincipalAux"), ("objectClass", "krbTicketPolicyAux"),
          ("objectClass", "ipaObject"), ("objectClass", "ipaService"),
          ("krbPrincipalName", svc), ("krbCanonicalName", svc),
          ("managedBy", host_dn), ("ipaUniqueID", uid_of("service", svc))])

    sys.stdout.write("\n".join(out))


if __name__ == "__main__":
    main()
