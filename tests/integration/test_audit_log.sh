#!/usr/bin/env bash
# test_audit_log.sh — what an operator and a SIEM see.
#   * the access log: one info line per operation (conn=, op=, profile=,
#     result=, etime=) and one per connection close;
#   * the audit trail (docs/audit.md): bind success and failure with the
#     reason, the login-group denial, denied searches and compares, writes,
#     config reloads, controller down/up — as JSON, then as CEF;
#   * no password, old or new, right or wrong, in the log (at debug level)
#     or in the audit file.
set -euo pipefail
. "$(dirname "$0")/../rig/rig.sh"
. "$(dirname "$0")/lib/common.sh"
rig_init
rig_certs
rig_slapd_start
RIG_LOG_LEVEL=debug rig_proxy_config
cat >"$RIG_DIR/profiles/portal.yaml" <<YAML
name: portal
description: a sales portal on its own port; only the sales group exists for it
listeners: ["ldap://127.0.0.1:$PROXY_PORT2"]
user_bases: ["$USERS_DN"]
search_base: "$BASE_DN"
groups:
  visible: [sales]
  login: [sales]
writes:
  password_modify: true
  modify: [telephoneNumber]
attributes: [uid, cn, mail, telephoneNumber, memberOf]
YAML
rig_proxy_start
test_begin test_audit_log
PORTAL="ldap://127.0.0.1:$PROXY_PORT2"
ALICE="uid=alice,$USERS_DN"
DAVE="uid=dave,$USERS_DN"
WRONG='Wr0ng-Passw0rd!'
NEWPW='N3w-Secret-789'


# ---- binds
ldapwhoami -x -H "$PROXY_URL" -D "$SVC_DN" -w "$SVC_PW" >/dev/null
ldapwhoami -x -H "$PORTAL" -D "$DAVE" -w Secret123 >/dev/null
rc=0; ldapwhoami -x -H "$PORTAL" -D "$DAVE" -w "$WRONG" >/dev/null 2>&1 || rc=$?
assert_eq 49 "$rc" "dave with a wrong password"
rc=0; ldapwhoami -x -H "$PORTAL" -D "$ALICE" -w Secret123 >/dev/null 2>&1 || rc=$?
assert_eq 49 "$rc" "alice is not in the portal's login group"
rc=0; ldapwhoami -x -H "$PROXY_URL" >/dev/null 2>&1 || rc=$?
rc=0; ldapwhoami -x -H "$PROXY_URL" -D "uid=nobody,cn=elsewhere" -w "$WRONG" >/dev/null 2>&1 || rc=$?
# hostile names: a forged log line, bytes that are not UTF-8
FORGED=$'uid=x"\n2099-01-01T00:00:00.000Z info: conn=999 op=1 BIND profile=demo dn="uid=admin" result=0'
ldapwhoami -x -H "$PROXY_URL" -D "$FORGED" -w "$WRONG" >/dev/null 2>&1 || true
ldapwhoami -x -H "$PROXY_URL" -D $'uid=\xff\xfe,cn=users' -w "$WRONG" >/dev/null 2>&1 || true
sleep 0.2
! grep -q '^2099-01-01' "$PROXY_LOG" || fail "a bind name forged a log line"
grep -qF 'dn="uid=x\"\x0a2099-01-01' "$PROXY_LOG" || fail "the hostile bind name is not logged escaped"
audit_has bind_failure "r['user']=='uid=\ufffd\ufffd,cn=users'"
audit_has bind_success "r['user']=='$SVC_DN' and r['role']=='service' and r['profile']=='demo' and r['src_ip']=='127.0.0.1' and r['src_port']>0 and r['tls'] is False and r['result']==0 and r['listener']=='$PROXY_URL'"
audit_has bind_success "r['user']=='$DAVE' and r['role']=='user' and r['profile']=='portal' and r['user_dn']=='$DAVE' and r['conn']>0 and r['op']==1"
audit_has bind_failure "r['user']=='$DAVE' and r['reason']=='invalid_credentials' and r['result']==49 and r['outcome']=='failure'"
audit_has bind_failure "r['user']=='$ALICE' and r['reason']=='not_in_login_group' and r['profile']=='portal'"
audit_has bind_failure "r['user'] is None and r['reason']=='anonymous_refused' and r['result']==48"
audit_has bind_failure "r['user']=='uid=nobody,cn=elsewhere' and r['reason']=='unknown_name'"
ok "audit: bind success (service, user) and failure with reasons: wrong password, login group, anonymous, unknown name"

# ---- denied searches and compares
rc=0; ldapsearch -x -LLL -H "$PROXY_URL" -D "$SVC_DN" -w "$SVC_PW" -b "dc=elsewhere" "(uid=alice)" uid >/dev/null 2>&1 || rc=$?
assert_eq 32 "$rc" "search outside the profile's tree"
rc=0; ldapsearch -x -LLL -H "$PORTAL" -D "$DAVE" -w Secret123 -b "$BASE_DN" "(krbPrincipalKey=*)" uid >/dev/null 2>&1 || rc=$?
assert_eq 50 "$rc" "a filter on a secret attribute"
rc=0; ldapcompare -x -H "$PORTAL" -D "$DAVE" -w Secret123 "$ALICE" uid:alice >/dev/null 2>&1 || rc=$?
assert_eq 32 "$rc" "compare on an entry outside the visible groups"
audit_has access_denied "r['operation']=='search' and r['result']==32 and r['reason']=='policy' and 'outside the subtree' in r['message'] and r['user']=='$SVC_DN'"
audit_has access_denied "r['operation']=='search' and r['result']==50 and 'krbPrincipalKey' in r['message'] and r['profile']=='portal'"
audit_has access_denied "r['operation']=='compare' and r['reason']=='not_visible' and r['target']=='$ALICE'"
# not every refusal is a policy decision: a bad paged-results cookie is a protocol error
"$RIG_PYTHON" - "$PROXY_URL" "$SVC_DN" "$SVC_PW" "$USERS_DN" <<'PY' || fail "paged search with a bogus cookie"
import sys
from ldap3 import Server, Connection
url, dn, pw, base = sys.argv[1:5]
c = Connection(Server(url), dn, pw, auto_bind=True, receive_timeout=10)
c.search(base, "(uid=*)", attributes=["uid"], paged_size=5, paged_cookie=b"bogus-cookie")
assert c.result["result"] == 53, c.result
PY
! grep -q 'paged results cookie' "$AUDIT_LOG" || fail "a bad paged-results cookie was audited as a denial"
ok "audit: denied searches (outside the tree, a secret attribute) and a compare hidden by the visible groups"

# ---- writes
ldapmodify -x -H "$PORTAL" -D "$DAVE" -w Secret123 >/dev/null <<LDIF
dn: $DAVE
changetype: modify
replace: telephoneNumber
telephoneNumber: +7 495 123 45 67
LDIF
rc=0; ldapmodify -x -H "$PORTAL" -D "$DAVE" -w Secret123 >/dev/null 2>&1 <<LDIF || rc=$?
dn: $DAVE
changetype: modify
replace: mail
mail: dave@evil.example
LDIF
assert_eq 50 "$rc" "modify of an attribute the profile does not list"
ldappasswd -x -H "$PORTAL" -D "$DAVE" -w Secret123 -s "$NEWPW" >/dev/null
ldapwhoami -x -H "$PORTAL" -D "$DAVE" -w "$NEWPW" >/dev/null || fail "dave's new password does not work"
ldappasswd -x -H "$PORTAL" -D "$DAVE" -w "$NEWPW" -s Secret123 >/dev/null
audit_has write "r['operation']=='modify' and r['target']=='$DAVE' and r['attributes']=='telephoneNumber' and r['outcome']=='success' and r['user']=='$DAVE'"
audit_has access_denied "r['operation']=='modify' and r['result']==50 and 'mail' in r['message']"
audit_has write "r['operation']=='password_modify' and r['target']=='$DAVE' and r['outcome']=='success' and r['result']==0"
ok "audit: writes (modify with its attributes, password change) and a refused modify"

# ---- reloads
kill -HUP "$PROXY_PID"
sleep 0.5
echo "bogus_key: 1" >>"$RIG_DIR/profiles/portal.yaml"
kill -HUP "$PROXY_PID"
sleep 0.5
sed -i '/^bogus_key/d' "$RIG_DIR/profiles/portal.yaml"
audit_has config_reload "r['outcome']=='success' and r['profiles']==2 and r['config']=='$PROXY_CONFIG'"
audit_has config_reload "r['outcome']=='failure' and 'bogus_key' in r['message'] and 'portal.yaml' in r['message']"
ok "audit: config reload success and failure (with the file and key)"

# ---- controller down and up
rig_slapd_stop
for _ in $(seq 50); do grep -q '"controller_down"' "$AUDIT_LOG" && break; sleep 0.1; done
audit_has controller_down "r['controller']=='ldap://localhost:$SLAPD_PORT' and r['outcome']=='failure' and r['message']"
rig_slapd_start
for _ in $(seq 100); do
	[ "$(grep -c '"controller_up"' "$AUDIT_LOG")" -ge 2 ] && break
	sleep 0.1
done
[ "$(grep -c '"controller_up"' "$AUDIT_LOG")" -ge 2 ] || fail "no controller_up after the directory came back"
ok "audit: controller down and back up"

# ---- the access log
"$RIG_PYTHON" - "$PROXY_LOG" "$DAVE" <<'PY' || fail "access log lines"
import re, sys
log, dave = open(sys.argv[1]).read(), sys.argv[2]
op = re.compile(r'info: conn=(\d+) op=(\d+) (BIND|SEARCH|COMPARE|MODIFY|EXTENDED|ADD|DELETE|MODRDN|OTHER) profile=(\S+)'
                r'(?: dn="((?:\\.|[^"\\])*)")? result=(\d+)(?: entries=(\d+))? etime=(\d+\.\d{6})'
                r'(?: diag="((?:\\.|[^"\\])*)")?$')
lines = [op.search(l) for l in log.splitlines() if " op=" in l and "info: conn=" in l]
assert lines and all(lines), "malformed access lines"
kinds = {(m.group(3), m.group(6)) for m in lines}
for want in [("BIND", "0"), ("BIND", "49"), ("BIND", "48"), ("SEARCH", "32"), ("SEARCH", "50"), ("COMPARE", "32"),
             ("MODIFY", "0"), ("MODIFY", "50"), ("EXTENDED", "0")]:
    assert want in kinds, "no access line for %s result=%s" % want
assert any(m.group(3) == "BIND" and m.group(5) == dave and m.group(4) == "portal" for m in lines)
assert any(m.group(3) == "SEARCH" and m.group(9) and "outside the subtree" in m.group(9) for m in lines)
closes = re.findall(r'info: conn=\d+ closed: (.+); peer=\S+ profile=\S+ requests=\d+ errors=\d+ duration=\d+\.\d{3}$',
                    log, re.M)
assert len(closes) >= 10 and "unbind" in closes, closes
print("ok - access log: %d operation lines, %d close lines, all well formed" % (len(lines), len(closes)))
PY

# ---- CEF
rig_proxy_stop
RIG_AUDIT_FORMAT=cef RIG_LOG_LEVEL=debug rig_proxy_config
cat >>"$RIG_DIR/profiles/portal.yaml" </dev/null
mv "$AUDIT_LOG" "$AUDIT_LOG.json"
rig_proxy_start
rc=0; ldapwhoami -x -H "$PORTAL" -D "$DAVE" -w "$WRONG" >/dev/null 2>&1 || rc=$?
assert_eq 49 "$rc"
"$RIG_PYTHON" - "$AUDIT_LOG" "$DAVE" <<'PY' || fail "CEF records: $(cat "$AUDIT_LOG")"
import re, sys
dave = sys.argv[2]
recs = [l.rstrip("\n") for l in open(sys.argv[1]) if l.strip()]
def parse(line):
    m = re.match(r'^CEF:0\|ALD\|aldproxy\|([^|]+)\|([a-z_]+)\|([^|]+)\|(\d+)\|(.*)$', line)
    assert m, "not a CEF record: %r" % line
    ext, fields = m.group(5), {}
    # key=value pairs; '=' and '\' inside values are escaped
    for km in re.finditer(r'(?:^| )([A-Za-z0-9]+)=((?:\\.|[^\\=])*?)(?= [A-Za-z0-9]+=|$)', ext):
        fields[km.group(1)] = re.sub(r'\\(.)', r'\1', km.group(2))
    return m.group(2), int(m.group(4)), fields
parsed = [parse(l) for l in recs]
fail = [f for e, sev, f in parsed if e == "bind_failure"]
assert fail, parsed
f = fail[0]
assert f["suser"] == dave and f["src"] == "127.0.0.1" and int(f["spt"]) > 0, f
assert f["outcome"] == "failure" and f["reason"] == "invalid_credentials" and f["cn3"] == "49", f
assert f["cs1Label"] == "profile" and f["cs1"] == "portal" and f["cn3Label"] == "ldapResult", f
assert int(f["rt"]) > 1700000000000 and f["dvchost"], f
assert "uid\\=dave" in [l for l in recs if "bind_failure" in l][0], "'=' in a value must be escaped"
assert any(e == "service_start" for e, _, _ in parsed)
print("ok - CEF: %d records parse; bind_failure carries suser, src, spt, outcome, reason, ldapResult" % len(parsed))
PY

# ---- no secret anywhere
rig_proxy_stop
for f in "$PROXY_LOG" "$AUDIT_LOG" "$AUDIT_LOG.json"; do
	for pw in Secret123 "$WRONG" "$NEWPW" "$SVC_PW" "$PROXY_BIND_PW" "$DM_PW"; do
		assert_not_contains "$(cat "$f")" "$pw" "a password appears in $f"
	done
done
assert_contains "$(cat "$PROXY_LOG")" " debug: " "the log ran at debug level"
ok "no password (right, wrong, new, the proxy's own) in the debug log or the audit trail"
test_pass
