#!/usr/bin/env bash
# test_starttls_limits.sh — limits.max_client_output holds under StartTLS too:
# the TLS layer may push only a bounded amount into the socket's buffer, so
# clients that upgraded with StartTLS and stop reading are cut off like plain
# ones, and a normal StartTLS client keeps getting answers meanwhile.
set -euo pipefail
. "$(dirname "$0")/../rig/rig.sh"
. "$(dirname "$0")/lib/common.sh"
export RIG_MAX_CLIENT_OUTPUT=256k
rig_init
rig_certs
rig_slapd_start
rig_proxy_config
rig_proxy_start
test_begin test_starttls_limits
py - "$PROXY_URL" "$SVC_DN" "$SVC_PW" "$USERS_DN" "$CA_FILE" "$PROXY_LOG" <<'PY' || fail "StartTLS slow readers"
import re, sys, time
import ldapwire as w
url, dn, pw, users, ca, log = sys.argv[1:7]
ALL = w.f_eq("objectClass", "person")
slow = []
for i in range(5):
    c = w.Conn(url, timeout=10, rcvbuf=4096)
    c.starttls(ca)
    assert c.bind(dn, pw).code == 0
    c.send(b"".join(w.search_req(c.msgid(), users, ALL, ["*", "+"]) for _ in range(5)))
    slow.append(c)
n = w.Conn(url, timeout=10)
n.starttls(ca)
assert n.bind(dn, pw).code == 0
t0 = time.monotonic()
for i in range(100):
    es, d = n.search(users, w.f_eq("uid", "alice"), ["uid"], timeout=5)
    assert d.code == 0 and len(es) == 1, (es, d)
took = time.monotonic() - t0
deadline = time.monotonic() + 15
cut = set()
while time.monotonic() < deadline:
    cut = set(re.findall(r"conn=(\d+) peer=\S+: cut off", open(log, errors="replace").read()))
    if len(cut) >= 5:
        break
    time.sleep(0.2)
assert len(cut) >= 5, "only %d of 5 StartTLS clients that stopped reading were cut off" % len(cut)
print("ok - 5 StartTLS clients that stopped reading were cut off; a normal StartTLS client's 100 searches took %.2f s" % took)
PY
test_pass
