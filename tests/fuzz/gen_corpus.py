#!/usr/bin/env python3
"""gen_corpus.py — writes the seed corpora of the fuzz harnesses into
tests/fuzz/corpus/<harness>/ (seed-* files; regress-* files, the minimized
inputs of crashes found, are kept as they are).

Real LDAP messages built with the integration tests' encoder
(tests/integration/lib/ldapwire.py): binds, searches with filters,
attribute lists and controls, the other operations, directory entries;
filters in BER and as strings; attribute descriptions and attributeTypes
values; DNS SRV answers; configurations derived from conf/aldproxy.yaml.
The shipped profiles (profiles/*.yaml) are read by tests/fuzz/run.sh
straight from profiles/, not copied.

    python3 tests/fuzz/gen_corpus.py          # rewrite the seed-* files
"""

import os
import re
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "integration", "lib"))

import ldapwire as w  # noqa: E402

CORPUS = os.path.join(HERE, "corpus")

OID_PPOLICY = "1.3.6.1.4.1.42.2.27.8.5.1"
OID_DOMAIN_SCOPE = "1.2.840.113556.1.4.1339"
OID_PASSWD = "1.3.6.1.4.1.4203.1.11.1"
OID_SORT = "1.2.840.113556.1.4.473"
OID_DEREF = "1.3.6.1.4.1.4203.666.5.16"
OID_MANAGEDSAIT = "2.16.840.1.113730.3.4.2"

USERS = "cn=users,cn=accounts,dc=ald,dc=test"
GROUPS = "cn=groups,cn=accounts,dc=ald,dc=test"
VUSERS = "CN=Users,DC=example,DC=com"


def out(harness, name, data):
    d = os.path.join(CORPUS, harness)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def clean():
    for h in os.listdir(CORPUS) if os.path.isdir(CORPUS) else []:
        for n in os.listdir(os.path.join(CORPUS, h)):
            if n.startswith("seed-"):
                os.unlink(os.path.join(CORPUS, h, n))


# ---------------------------------------------------------------- filters

def f_sub(attr, initial=None, any_=(), final=None):
    parts = b""
    if initial is not None:
        parts += w.octets(initial, tag=0x80)
    for a in any_:
        parts += w.octets(a, tag=0x81)
    if final is not None:
        parts += w.octets(final, tag=0x82)
    return w.seq(w.octets(attr), w.seq(parts), tag=0xA4)


def f_cmp(tag, attr, val):
    return w.seq(w.octets(attr), w.octets(val), tag=tag)


def f_ext(value, rule=None, attr=None, dn=False):
    body = b""
    if rule is not None:
        body += w.octets(rule, tag=0x81)
    if attr is not None:
        body += w.octets(attr, tag=0x82)
    body += w.octets(value, tag=0x83)
    if dn:
        body += w.tlv(0x84, b"\xff")
    return w.seq(body, tag=0xA9)


BER_FILTERS = {
    "present-oc": w.f_present("objectClass"),
    "eq-uid": w.f_eq("uid", "alice"),
    "and-person": w.f_and(w.f_eq("objectClass", "person"), w.f_eq("uid", "alice")),
    "or-not": w.f_or(w.f_eq("cn", "a"), w.f_not(w.f_present("mail"))),
    "sub": f_sub("cn", "al", ["i"], "ce"),
    "sub-any": f_sub("mail", None, ["@ald"], None),
    "ge-le": w.f_and(f_cmp(0xA5, "uidNumber", "1000"), f_cmp(0xA6, "uidNumber", "2000")),
    "approx": f_cmp(0xA8, "sn", "smith"),
    "ext-rule": f_ext("2", rule="1.2.840.113556.1.4.803", attr="userAccountControl"),
    "ext-chain": f_ext("CN=G,CN=Groups,DC=example,DC=com", rule="1.2.840.113556.1.4.1941", attr="memberOf"),
    "ext-typeless": f_ext("/home/bob", rule="caseExactIA5Match"),
    "ext-dn": f_ext("x", attr="cn", dn=True),
    "abs-true": w.tlv(0xA0, b""),
    "abs-false": w.tlv(0xA1, b""),
    "ad-user": w.f_and(w.f_eq("objectCategory", "person"), w.f_eq("objectClass", "user"),
                       w.f_eq("sAMAccountName", "alice"),
                       w.f_not(f_ext("2", rule="1.2.840.113556.1.4.803", attr="userAccountControl"))),
    "guid": w.f_eq("objectGUID", bytes(range(16))),
    "member-dn": w.f_eq("member", "uid=alice," + USERS),
    "memberuid": w.f_eq("memberUid", "dave"),
    "secret": w.f_eq("userPassword", "x"),
    "oid": w.f_eq("2.5.4.3", "x"),
    "options": w.f_eq("cn;lang-ru", "x"),
    "deep": w.f_not(w.f_not(w.f_not(w.f_and(w.f_or(w.f_eq("cn", "x")))))),
}

STRING_FILTERS = {
    "s-simple": "(uid=alice)",
    "s-bare": "uid=alice",
    "s-and": "(&(objectClass=person)(|(uid=a*)(cn=*b*c))(!(mail=*)))",
    "s-ext": "(userAccountControl:1.2.840.113556.1.4.803:=2)",
    "s-ext-dn": "(cn:dn:caseExactMatch:=x)",
    "s-typeless": "(:2.5.13.17:=x)",
    "s-escapes": "(cn=a\\2ab\\28\\29\\5c)",
    "s-approx-ge": "(&(sn~=smith)(uidNumber>=10)(uidNumber<=20))",
    "s-abs": "(&(&)(|))",
    "s-spaces": " (& (cn=a) (cn=b) )",
    "s-stars": "(cn=**)",
}


# ---------------------------------------------------------------- requests

def requests():
    ppolicy = w.control(OID_PPOLICY)
    return {
        "bind-simple": w.bind_req(1, "uid=alice," + USERS, "Secret123"),
        "bind-upn": w.bind_req(1, "alice@EXAMPLE.COM", "Secret123"),
        "bind-ppolicy": w.bind_req(2, "CN=svc-portal," + VUSERS, "pw", controls=[ppolicy]),
        "bind-sasl": w.sasl_bind_req(1, "", "GSSAPI", b"\x60\x00"),
        "bind-anon": w.bind_req(1, "", ""),
        "search-base": w.search_req(2, "", w.f_present("objectClass"), ["*", "+"], scope=w.SCOPE_BASE),
        "search-user": w.search_req(3, "DC=example,DC=com", BER_FILTERS["ad-user"],
                                    ["sAMAccountName", "memberOf", "objectGUID", "userAccountControl"]),
        "search-paged": w.search_req(4, "dc=ald,dc=test", BER_FILTERS["and-person"], ["uid", "cn"],
                                     controls=[w.paged_control(100)]),
        "search-paged-cookie": w.search_req(5, "dc=ald,dc=test", BER_FILTERS["sub"], [],
                                            controls=[w.paged_control(50, b"\x01\x02", critical=True)]),
        "search-controls": w.search_req(6, USERS, BER_FILTERS["eq-uid"], ["1.1"],
                                        controls=[w.control(OID_DOMAIN_SCOPE),
                                                  w.control(OID_SORT, True, w.seq(w.seq(w.octets("cn")))),
                                                  w.control(OID_MANAGEDSAIT)]),
        "search-deref": w.search_req(7, USERS, BER_FILTERS["or-not"], ["cn;lang-ru", "2.5.4.3", ""],
                                     controls=[w.control(OID_DEREF, True, w.seq())]),
        "search-typesonly": w.search_req(8, GROUPS, BER_FILTERS["member-dn"], ["member"], typesonly=True,
                                         sizelimit=10, timelimit=5),
        "search-bad-attr": w.search_req(9, USERS, BER_FILTERS["present-oc"], ["c n", "userPassword", "01.2"]),
        "compare": w.compare_req(10, "uid=alice," + USERS, "mail", "alice@ald.test"),
        "compare-secret": w.compare_req(11, "uid=alice," + USERS, "userPassword;binary", "x"),
        "whoami": w.ext_req(12, w.OID_WHOAMI),
        "starttls": w.ext_req(13, w.OID_STARTTLS),
        "passwd": w.message(14, w.seq(w.octets(OID_PASSWD, tag=0x80),
                                      w.octets(w.seq(w.octets("uid=alice," + USERS, tag=0x80),
                                                     w.octets("old", tag=0x81), w.octets("new", tag=0x82)),
                                               tag=0x81), tag=w.EXT_REQ), [ppolicy]),
        "abandon": w.abandon_req(15, 4),
        "unbind": w.unbind_req(16),
        "modify": w.message(17, w.seq(w.octets("uid=alice," + USERS),
                                      w.seq(w.seq(w.enum(2), w.seq(w.octets("mail"),
                                                                   w.seq(w.octets("a@b"), tag=0x31)))),
                                      tag=w.MODIFY_REQ), [ppolicy]),
        "add": w.add_req(18, "uid=new," + USERS, [("objectClass", ["person"]), ("cn", ["New"])]),
        "delete": w.del_req(19, "uid=new," + USERS),
        "moddn": w.moddn_req(20, "uid=new," + USERS, "uid=newer"),
        "two-msgs": w.bind_req(1, "uid=alice," + USERS, "x") + w.unbind_req(2),
        "long-len": w.seq(w.integer(300) + w.seq(w.octets("x" * 200), tag=w.DEL_REQ)),
    }


# ---------------------------------------------------------------- entries

def entry(msgid, dn, attrs):
    al = [w.seq(w.octets(a), w.seq(*[w.octets(v) for v in vs], tag=0x31)) for a, vs in attrs]
    return w.message(msgid, w.seq(w.octets(dn), w.seq(*al), tag=w.SEARCH_ENTRY))


ALICE = [
    ("objectClass", ["top", "person", "inetOrgPerson", "posixAccount"]),
    ("uid", ["alice"]), ("cn", ["Alice Andersen"]), ("sn", ["Andersen"]),
    ("mail", ["alice@ald.test"]), ("krbPrincipalName", ["alice@ALD.TEST"]),
    ("ipaUniqueID", ["00112233-4455-6677-8899-aabbccddeeff"]), ("nsAccountLock", ["FALSE"]),
    ("memberOf", ["cn=portal-users," + GROUPS, "cn=admins,cn=roles,cn=accounts,dc=ald,dc=test",
                  "ipaUniqueID=1,cn=hbac,dc=ald,dc=test"]),
    ("manager", ["uid=bob," + USERS]),
    ("userPassword", ["{SSHA}abc"]), ("krbPrincipalKey", ["\x00\x01"]),
    ("pwdHistory", ["x"]),
]

ENTRIES = {
    "alice": entry(3, "uid=alice," + USERS, ALICE),
    "bob-locked": entry(3, "uid=bob," + USERS, [("objectClass", ["person"]), ("uid", ["bob"]), ("cn", ["Bob"]),
                                                ("nsAccountLock", ["TRUE"]), ("memberOf", ["cn=other," + GROUPS])]),
    "group": entry(4, "cn=portal-users," + GROUPS, [("objectClass", ["groupOfNames", "posixGroup"]),
                                                    ("cn", ["portal-users"]),
                                                    ("member", ["uid=alice," + USERS, "uid=bob," + USERS]),
                                                    ("memberUid", ["alice", "bob"])]),
    "container": entry(5, "cn=accounts,dc=ald,dc=test", [("objectClass", ["nsContainer"]), ("cn", ["accounts"])]),
    "compat": entry(6, "uid=alice,cn=users,cn=compat,dc=ald,dc=test", [("uid", ["alice"])]),
    "empty-attrs": entry(7, "dc=ald,dc=test", []),
    "no-values": entry(8, "uid=carol," + USERS, [("objectClass", []), ("cn", [])]),
    "escaped-dn": entry(9, "uid=a\\,b," + USERS, [("objectClass", ["person"]), ("uid", ["a,b"])]),
}


# ---------------------------------------------------------------- policy

ATTR_NAMES = {
    "a-cn": "cn", "a-options": "cn;lang-ru;binary", "a-oid": "2.5.4.35", "a-secret": "userPassword",
    "a-alias": "pwdHistory", "a-bad-space": "c n", "a-bad-zero": "01.2", "a-11": "1.1",
    "a-long": "a" * 129, "a-dash": "ms-DS-x", "a-empty-opt": "cn;", "a-upper": "USERPASSWORD;X",
}

SCHEMA = (
    "( 2.5.4.35 NAME 'userPassword' EQUALITY octetStringMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.40 )\n"
    "( 2.16.840.1.113730.3.1.96 NAME ( 'passwordHistory' 'pwdHistory' ) DESC 'x' )\n"
    "( 1.3.6.1.4.1.99.1 NAME 'myPassword' SUP userPassword )\n"
    "( 2.5.4.41 NAME 'name' SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )\n"
    "( 2.5.4.3 NAME ( 'cn' 'commonName' ) SUP name )\n"
    "( 0.9.2342.19200300.100.1.1 NAME ( 'uid' 'userid' ) )\n"
    "( 1.3.6.1.4.1.99.2 NAME 'secretParent' )\n"
    "( 1.3.6.1.4.1.99.3 NAME 'krbPrincipalKey2' SUP secretParent )\n"
)

# ---------------------------------------------------------------- DNs

DNS = {
    "dn-user": "uid=alice," + USERS,
    "dn-virtual": "CN=Alice,CN=Users,DC=example,DC=com",
    "dn-spaces": "  CN = Alice , CN=Users ,DC=example;DC=com  ",
    "dn-escapes": "cn=a\\,b\\ ,CN=Users,DC=example,DC=com",
    "dn-hex": "cn=\\41\\2C,dc=ald,dc=test",
    "dn-multi": "cn=a+sn=b,cn=groups,cn=accounts,dc=ald,dc=test",
    "dn-upn": "alice@EXAMPLE.COM",
    "dn-netbios": "EXAMPLE\\alice",
    "dn-login": "alice",
    "dn-svc": "CN=svc-portal,CN=Users,DC=example,DC=com",
    "dn-compat": "uid=alice,cn=users,cn=compat,dc=ald,dc=test",
}


# ---------------------------------------------------------------- DNS answers

def dns_name(name):
    b = b""
    for label in name.split("."):
        if label:
            b += bytes([len(label)]) + label.encode()
    return b + b"\x00"


def srv_answer(records, qname="_ldap._tcp.ald.test"):
    msg = struct.pack(">HHHHHH", 0x1234, 0x8180, 1, len(records), 0, 0)
    msg += dns_name(qname) + struct.pack(">HH", 33, 1)
    for prio, weight, port, target, rtype in records:
        rdata = struct.pack(">HHH", prio, weight, port) + (dns_name(target) if target is not None else b"\xc0\x0c")
        msg += b"\xc0\x0c" + struct.pack(">HHIH", rtype, 1, 300, len(rdata)) + rdata
    return msg


# ---------------------------------------------------------------- configurations

def configs():
    ref = open(os.path.join(TOP, "conf", "aldproxy.yaml")).read()
    # a password file that exists with mode 0400 (regular, readable by the owner only) everywhere:
    # the harness runs without the files the reference names
    simple = ref.replace("/etc/aldproxy/backend.password", "/proc/self/environ")
    uncommented = re.sub(r"(?m)^(\s*)# (\S+:)", r"\1\2", simple)
    gssapi = ("listeners:\n  - ldap://127.0.0.1:3389\n  - { url: \"ldap://[::1]:3390\", profile: zabbix }\n"
              "backend:\n  servers:\n    - ldap://dc1.ald.test\n    - { url: \"ldaps://dc2.ald.test:636\", priority: 10 }\n"
              "  srv_domain: ald.test\n  starttls: true\n  ca_dir: /etc/ssl/certs\n  auth: gssapi\n"
              "  principal: ldap-proxy/aldproxy.ald.test@ALD.TEST\n  keytab: /dev/null\n"
              "limits: { max_pdu_size: 4m, max_client_output: 1g, idle_timeout: 1.5s, unbound_timeout: 0 }\n"
              "profiles_dir: /etc/aldproxy/profiles\n"
              "control: { socket: /run/aldproxy/control.sock, mode: \"0660\", group: root, readonly_socket: /run/ro.sock }\n"
              "metrics: { listen: \"[::1]:9489\" }\n"
              "audit: { target: file, file: /var/log/aldproxy/audit.log, format: cef, facility: local3 }\n"
              "log: { level: debug, target: stderr, facility: daemon }\n")
    minimal = ("listeners: [ldap://127.0.0.1:389]\nbackend:\n  servers: ldap://127.0.0.1:1389\n  starttls: false\n"
               "  bind_dn: cn=x\n  password_file: /proc/self/environ\nprofiles_dir: /tmp\n")
    return {"ref": ref, "ref-simple": simple, "ref-all-keys": uncommented, "gssapi": gssapi, "minimal": minimal}


def main():
    clean()
    for name, data in requests().items():
        out("request", name, data)
    for name, f in BER_FILTERS.items():
        out("filter", name, f)
    for name, f in STRING_FILTERS.items():
        out("filter", name, f)
    for name in ("search-user", "search-controls", "search-deref", "search-bad-attr", "bind-ppolicy",
                 "passwd", "modify", "compare-secret", "search-paged-cookie"):
        out("policy", name, requests()[name])
    for name, a in ATTR_NAMES.items():
        out("policy", name, a)
    out("policy", "schema", SCHEMA)
    out("policy", "schema-broken", "( 1.1 NAME ( 'a' 'b'\n( 1.2 SUP\n( x NAME 'y' )\n")
    for name, e in ENTRIES.items():
        out("entry", name, e)
    for name, d in DNS.items():
        out("dn", name, d)
    out("srv", "two", srv_answer([(10, 50, 389, "dc2.ald.test", 33), (0, 100, 636, "dc1.ald.test", 33)]))
    out("srv", "none", srv_answer([(0, 0, 0, ".", 33)]))
    out("srv", "mixed", srv_answer([(0, 0, 0, None, 33), (1, 1, 389, "dc.ald.test", 1), (5, 5, 389, "x.y", 33)]))
    for name, c in configs().items():
        out("config", name, c)
    # profiles: the shipped ones are read from profiles/ by run.sh; a few edge cases here
    out("profile", "minimal", "name: p\nservice_accounts: uid=p,cn=sysaccounts,cn=etc,dc=ald,dc=test\n"
                              "search_base: dc=ald,dc=test\nattributes: [cn, uid]\n")


if __name__ == "__main__":
    main()
