"""provisioning.py — test_provisioning.sh's migration-tool client: python3-ldap3,
as migration scripts and IDM connectors written in Python use it, through
aldproxy as the IDM's service account, plus raw malformed requests (ldapwire).

    provisioning.py flow URL BIND_DN PASSWORD STAGING USERS
        add uid=mig1 under STAGING, move it under USERS (newSuperior), rename it
        uid=mig2, check each result, delete it; prints "ok"
    provisioning.py refused URL BIND_DN PASSWORD USERS GROUPS
        the refusals as ldap3 sees them (50 and aldproxy's message)
    provisioning.py malformed URL BIND_DN PASSWORD USERS
        an AddRequest whose values are not a SET, a ModifyDNRequest without
        deleteoldrdn: each a Notice of Disconnection with protocolError, and
        aldproxy still serves a new connection
"""
import sys

import ldap3
from ldap3.core.exceptions import LDAPException

import ldapwire as w


def conn(url, dn, pw):
    c = ldap3.Connection(ldap3.Server(url, get_info=ldap3.NONE), user=dn, password=pw,
                         auto_bind=True, raise_exceptions=False)
    return c


def expect(c, ok, code, what):
    r = c.result
    if r["result"] != code:
        sys.exit("%s: result %r, expected %d" % (what, r, code))
    if code == 0 and not ok:
        sys.exit("%s: call returned False with result 0" % what)
    return r


def flow(url, dn, pw, staging, users):
    c = conn(url, dn, pw)
    staged = "uid=mig1," + staging
    ok = c.add(staged, ["top", "person", "organizationalPerson", "inetOrgPerson"],
               {"uid": "mig1", "cn": "Migrated One", "sn": "One", "givenName": "Migrated",
                "mail": "mig1@ald.test", "title": "Engineer"})
    expect(c, ok, 0, "add into staging")
    ok = c.modify_dn(staged, "uid=mig1", new_superior=users)
    expect(c, ok, 0, "move from staging to users (newSuperior)")
    ok = c.modify_dn("uid=mig1," + users, "uid=mig2", delete_old_dn=True)
    expect(c, ok, 0, "rename uid=mig1 -> uid=mig2")
    ok = c.search("uid=mig2," + users, "(objectClass=*)", ldap3.BASE, attributes=["uid", "mail"])
    if not ok or len(c.entries) != 1 or [str(v) for v in c.entries[0].uid.values] != ["mig2"]:
        sys.exit("the renamed entry reads back wrong: %r" % c.entries)
    ok = c.delete("uid=mig2," + users)
    expect(c, ok, 0, "delete")
    c.search("uid=mig2," + users, "(objectClass=*)", ldap3.BASE)
    expect(c, False, 32, "the deleted entry is gone")
    c.unbind()
    print("ok")


def refused(url, dn, pw, users, groups):
    c = conn(url, dn, pw)
    c.add("uid=mig3," + groups, ["top", "person", "inetOrgPerson"], {"uid": "mig3", "cn": "x", "sn": "y"})
    r = expect(c, False, 50, "add outside the subtree")
    assert "outside writes.add.subtrees" in r["message"], r
    c.add("uid=mig3," + users, ["top", "person", "inetOrgPerson", "posixAccount"], {"uid": "mig3", "cn": "x", "sn": "y"})
    r = expect(c, False, 50, "add of a posixAccount")
    assert "class 'posixAccount'" in r["message"], r
    c.add("uid=mig3," + users, ["top", "person", "inetOrgPerson"],
          {"uid": "mig3", "cn": "x", "sn": "y", "uidNumber": "0", "gidNumber": "0"})
    r = expect(c, False, 50, "add with uidNumber (not listed)")
    assert "'uidNumber' (not in writes.add.attributes)" in r["message"], r
    c.add("uid=mig3," + users, ["top", "person", "inetOrgPerson"],
          {"uid": "mig3", "cn": "x", "sn": "y", "memberOf": "cn=admins," + groups})
    r = expect(c, False, 50, "add with memberOf")
    assert "'memberOf' (never writable" in r["message"], r
    c.modify_dn("uid=alice," + users, "uid=alice", new_superior=groups)
    r = expect(c, False, 50, "move out of the subtree")
    c.modify_dn("uid=alice," + users, "cn=Alice")
    r = expect(c, False, 50, "rename to another naming attribute")
    assert "only a new value of the attribute that names the entry" in r["message"], r
    c.unbind()
    print("ok")


def malformed(url, dn, pw, users):
    host, port = url.split("//")[1].split(":")
    k = w.Conn(host=host, port=int(port))
    r = k.bind(dn, pw)
    w.check(r.code == 0, "bind: %r" % r)
    # AttributeList item whose vals is a SEQUENCE, not a SET
    bad = w.seq(w.octets("uid"), w.seq(w.octets("x")))
    k.send(w.message(2, w.seq(w.octets("uid=x," + users), w.seq(bad), tag=w.ADD_REQ)))
    m = k.recv(timeout=10)
    w.check(m.code == 2 and m.msgid == 0, "a malformed add: %r" % m)
    k.close()
    k = w.Conn(host=host, port=int(port))
    w.check(k.bind(dn, pw).code == 0, "a new connection after the malformed add")
    # a ModifyDNRequest without deleteoldrdn: also malformed
    k.send(w.message(3, w.seq(w.octets("uid=alice," + users), w.octets("uid=x"), tag=w.MODDN_REQ)))
    m = k.recv(timeout=10)
    w.check(m.code == 2 and m.msgid == 0, "a modify DN request without deleteoldrdn: %r" % m)
    k.close()
    print("ok")


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    try:
        {"flow": flow, "refused": refused, "malformed": malformed}[cmd](*args)
    except LDAPException as e:
        sys.exit("ldap3: %s" % e)
