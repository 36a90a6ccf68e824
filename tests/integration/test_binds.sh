#!/usr/bin/env bash
# test_binds.sh — client binds through aldproxy: right and wrong passwords, a
# locked account, DNs no profile accepts, anonymous / unauthenticated / SASL /
# LDAPv2 binds refused with the right codes, ldaps and StartTLS, a rebind on
# one connection switching (and a failed one dropping) the identity, and no
# password ever written to the log, even at log level debug.
# directories: slapd 389ds
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../rig/rig.sh"
. "$here/lib/common.sh"

export RIG_LOG_LEVEL=debug
test_begin test_binds
rig_init
rig_certs
rig_slapd_start
rig_proxy_config
rig_proxy_start

ALICE="uid=alice,$USERS_DN"
W="$RIG_DIR/binds"
mkdir -p "$W"

# whoami URL DN PW [ldapwhoami options] — prints output, returns the exit status
whoami() {
	local url=$1 dn=$2 pw=$3
	shift 3
	timeout 20 ldapwhoami -x -o nettimeout=10 -H "$url" -D "$dn" -w "$pw" "$@" 2>&1
}

# ---- right password
out=$(whoami "$PROXY_URL" "$ALICE" Secret123) || fail "alice's bind failed: $out"
assert_eq "dn:$ALICE" "$out" "whoami after alice's bind"
out=$(whoami "$PROXY_URL" "$SVC_DN" "$SVC_PW") || fail "service account bind failed: $out"
assert_eq "dn:$SVC_DN" "$out" "whoami after the service account's bind"
out=$(whoami "$PROXY_URL" "uid=user0042,$USERS_DN" Secret123) || fail "user0042's bind failed: $out"
assert_eq "dn:uid=user0042,$USERS_DN" "$out"
ok "simple binds with the right password"

# ---- invalidCredentials (49): wrong password, locked account, unknown DNs
rc=0; wrong=$(whoami "$PROXY_URL" "$ALICE" wrong-password) || rc=$?
assert_eq 49 "$rc" "wrong password: exit status"
rc=0; out=$(whoami "$PROXY_URL" "uid=eve,$USERS_DN" Secret123) || rc=$?
# slapd (ACL trick) answers 49; 389-ds, like ALD Pro, 53 "Account inactivated", passed through
if [ "$DIRECTORY_KIND" = 389ds ]; then
	assert_eq 53 "$rc" "locked eve on 389-ds: exit status"
else
	assert_eq 49 "$rc" "locked eve: exit status"
fi
rc=0; out=$(whoami "$PROXY_URL" "uid=nobody,$USERS_DN" Secret123) || rc=$?
assert_eq 49 "$rc" "unknown user under the user base: exit status"
rc=0; outside=$(whoami "$PROXY_URL" "cn=nobody,dc=other" Secret123) || rc=$?
assert_eq 49 "$rc" "DN outside every profile: exit status"
# the answer for a DN no profile accepts reveals nothing more than a bad password
assert_eq "$wrong" "$outside" "a foreign DN is answered differently from a wrong password"
rc=0; out=$(whoami "$PROXY_URL" "$DM_DN" "$DM_PW") || rc=$?
assert_eq 49 "$rc" "Directory Manager (not in any profile): exit status"
rc=0; out=$(whoami "$PROXY_URL" "$PROXY_BIND_DN" "$PROXY_BIND_PW") || rc=$?
assert_eq 49 "$rc" "aldproxy's own identity must not be usable by clients"
rc=0; out=$(whoami "$PROXY_URL" "$USERS_DN" Secret123) || rc=$?
assert_eq 49 "$rc" "the user base entry itself is not a user"
ok "wrong password, locked, unknown, foreign and privileged DNs: invalidCredentials"

# ---- anonymous: inappropriateAuthentication (48) with a clear message
rc=0; out=$(timeout 20 ldapwhoami -x -o nettimeout=10 -H "$PROXY_URL" 2>&1) || rc=$?
assert_eq 48 "$rc" "anonymous bind: exit status"
assert_contains "$out" "anonymous" "anonymous bind diagnostic"
# ldapsearch -x without -D binds anonymously too
rc=0; out=$(timeout 20 ldapsearch -x -o nettimeout=10 -H "$PROXY_URL" -b "$BASE_DN" uid=alice 2>&1) || rc=$?
assert_eq 48 "$rc" "ldapsearch -x without -D: exit status"
ok "anonymous bind refused (48)"

# ---- unauthenticated (DN, empty password) 53; LDAPv2 2 — Perl Net::LDAP
perl -MNet::LDAP -e '
	my $l = Net::LDAP->new($ENV{PROXY_URL}, timeout => 10) or die "connect: $@\n";
	my $m = $l->bind("uid=alice,$ENV{USERS_DN}", noauth => 1);   # simple, empty password
	$m->code == 53 or die "DN + empty password: got ", $m->code, " ", $m->error, ", expected 53\n";
	$m->error =~ /unauthenticated|empty password/i or die "empty-password diagnostic: ", $m->error, "\n";
	$m = $l->bind();                                              # anonymous
	$m->code == 48 or die "anonymous via Net::LDAP: ", $m->code, "\n";
	$l->unbind;
	$l = Net::LDAP->new($ENV{PROXY_URL}, version => 2, timeout => 10) or die "connect: $@\n";
	$m = $l->bind($ENV{SVC_DN}, password => $ENV{SVC_PW});
	$m->code == 2 or die "LDAPv2 bind: got ", $m->code, " ", $m->error, ", expected 2\n";
	$m->error =~ /version 3/ or die "LDAPv2 diagnostic: ", $m->error, "\n";
	$l->disconnect;
' || fail "Net::LDAP bind checks"
ok "DN with an empty password refused (53); LDAPv2 refused (2)"

# ---- SASL: authMethodNotSupported (7)
py - <<'PY' || fail "SASL bind checks"
import os
from ldap3 import Server, Connection, SASL, EXTERNAL, DIGEST_MD5, PLAIN, NONE
s = Server(os.environ["PROXY_URL"], get_info=NONE, connect_timeout=5)
alice = "uid=alice," + os.environ["USERS_DN"]
for mech, cred in [(EXTERNAL, None), (PLAIN, (None, "alice", "Secret123")),
                   (DIGEST_MD5, (None, "alice", "Secret123", None))]:
    c = Connection(s, authentication=SASL, sasl_mechanism=mech, sasl_credentials=cred, receive_timeout=10)
    c.open()
    try:
        c.bind()
    except Exception as e:   # some mechanisms raise on a refusal
        pass
    r = c.result
    assert r and r["result"] == 7, "SASL %s: %r" % (mech, r)
    assert "SASL" in r["message"], r
    c.unbind()
print("ok - SASL EXTERNAL, PLAIN, DIGEST-MD5: authMethodNotSupported (7)")
PY

# ---- ldaps and StartTLS, certificate checked against the rig CA
out=$(LDAPTLS_CACERT="$CA_FILE" LDAPTLS_REQCERT=demand whoami "$PROXY_LDAPS_URL" "$ALICE" Secret123) ||
	fail "ldaps bind failed: $out"
assert_eq "dn:$ALICE" "$out" "whoami over ldaps"
out=$(LDAPTLS_CACERT="$CA_FILE" LDAPTLS_REQCERT=demand whoami "$PROXY_URL" "$ALICE" Secret123 -ZZ) ||
	fail "StartTLS (-ZZ) bind failed: $out"
assert_eq "dn:$ALICE" "$out" "whoami after StartTLS"
out=$(LDAPTLS_CACERT="$CA_FILE" LDAPTLS_REQCERT=demand whoami "ldap://localhost:$PROXY_PORT" "$SVC_DN" "$SVC_PW" -ZZ) ||
	fail "StartTLS (-ZZ) to localhost failed: $out"
assert_eq "dn:$SVC_DN" "$out"
# a client that does not trust the rig CA must fail: the proxy presents the rig's cert
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
	rc=0
	out=$(LDAPTLS_CACERT=/etc/ssl/certs/ca-certificates.crt LDAPTLS_REQCERT=demand \
		whoami "$PROXY_LDAPS_URL" "$ALICE" Secret123) || rc=$?
	[ "$rc" != 0 ] || fail "ldaps succeeded without trusting the rig CA"
fi
ok "ldaps and StartTLS binds with the rig CA"

# ---- rebind on one connection (ldap3): identity switches; a failed bind drops it
py - <<'PY' || fail "rebind checks"
import os, ssl
from ldap3 import Server, Connection, Tls, SUBTREE, NONE
users = os.environ["USERS_DN"]
alice, bob = "uid=alice," + users, "uid=bob," + users
svc, svcpw = os.environ["SVC_DN"], os.environ["SVC_PW"]

def who(c):
    r = c.extend.standard.who_am_i()
    return r.decode() if isinstance(r, bytes) else (r or "")

for url, starttls in [(os.environ["PROXY_URL"], False), (os.environ["PROXY_URL"], True),
                      (os.environ["PROXY_LDAPS_URL"], False)]:
    tls = Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=os.environ["CA_FILE"])
    s = Server(url, get_info=NONE, tls=tls, connect_timeout=5)
    c = Connection(s, user=svc, password=svcpw, receive_timeout=10)
    c.open()
    if starttls:
        assert c.start_tls(), "StartTLS: %r" % c.result
    assert c.bind(), "service bind: %r" % c.result
    w = who(c)
    assert w == "dn:" + svc, "whoami after service bind: %r" % w
    assert c.rebind(user=alice, password="Secret123"), "rebind alice: %r" % c.result
    w = who(c)
    assert w == "dn:" + alice, "whoami after rebind as alice: %r" % w
    # alice (a user of the demo profile) may search too, inside the profile
    assert c.search(users, "(uid=bob)", SUBTREE, attributes=["uid"]), c.result
    assert len([e for e in c.response if e["type"] == "searchResEntry"]) == 1
    assert c.rebind(user=bob, password="Secret123"), "rebind bob: %r" % c.result
    assert who(c) == "dn:" + bob
    # a failed rebind leaves the connection anonymous (RFC 4511 4.2.1)
    try:
        okb = c.rebind(user=alice, password="wrong")
    except Exception:
        okb = False
    assert not okb and c.result["result"] == 49, "failed rebind: %r" % c.result
    w = who(c)
    assert w == "", "whoami after a failed rebind: %r (expected anonymous)" % w
    c.search(users, "(uid=bob)", SUBTREE, attributes=["uid"])
    assert c.result["result"] == 50, "search after a failed rebind: %r" % c.result
    assert c.rebind(user=svc, password=svcpw), c.result
    assert who(c) == "dn:" + svc
    c.unbind()
print("ok - rebinds switch identity (ldap, StartTLS, ldaps); a failed rebind drops it")
PY

# ---- no password in the log (level debug)
assert_contains "$PROXY_LOG" " debug: " "log level debug did not take effect"
assert_contains "$PROXY_LOG" "dn=\"$ALICE\" result=0" "binds are not logged at all?"
for pw in Secret123 ProxyPass1 DemoPass1 AdminPass1 wrong-password "$DM_PW"; do
	assert_not_contains "$PROXY_LOG" "$pw" "password '$pw' appears in the proxy log"
done
# ... nor base64 of them (LDIF-style dumps)
for pw in Secret123 ProxyPass1 DemoPass1; do
	b64=$(printf '%s' "$pw" | base64)
	assert_not_contains "$PROXY_LOG" "$b64" "base64 of '$pw' appears in the proxy log"
done
ok "no password in the proxy log at level debug"

rig_proxy_stop || fail "aldproxyd did not stop cleanly"
test_pass
