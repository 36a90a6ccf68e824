#!/usr/bin/env bash
# test_kdc_rig.sh — checks the rig's private MIT KDC (tests/rig/kdc.sh) and
# slapd's SASL/GSSAPI (RIG_GSSAPI=1), straight against slapd (no proxy):
# aldproxy's keytab and alice's password give the mapped DNs over StartTLS,
# a stale keytab is refused by the KDC, RIG_KDC_TICKET_LIFETIME=60 yields
# one-minute tickets even when more is asked for, and rig_cleanup stops
# krb5kdc and slapd.  Takes a few seconds.
set -euo pipefail

. "$(cd "$(dirname "$0")/../rig" && pwd)/rig.sh"

[ "$RIG_BACKEND" = slapd ] || { echo "skip - test_kdc_rig.sh: slapd backend only"; exit 0; }

ok() { echo "ok - $*"; }

# ticket_secs — lifetime (end - start, seconds) of the TGT in $KRB5CCNAME
ticket_secs() {
	local line s e f
	line=$(LC_ALL=C klist | grep -m1 "krbtgt/$KRB_REALM@$KRB_REALM") ||
		fail "no TGT in $KRB5CCNAME"
	read -r -a f <<<"$line"
	s=$(LC_ALL=C date -d "${f[0]} ${f[1]}" +%s) || fail "cannot parse klist start '${f[0]} ${f[1]}'"
	e=$(LC_ALL=C date -d "${f[2]} ${f[3]}" +%s) || fail "cannot parse klist end '${f[2]} ${f[3]}'"
	echo $((e - s))
}

gss_whoami() { ldapwhoami -Y GSSAPI -Q -H "ldap://localhost:$SLAPD_PORT" -ZZ -o nettimeout=5; }

rig_init
rig_certs
t0=$(date +%s%N)
rig_kdc_start
t1=$(date +%s%N)
RIG_GSSAPI=1 rig_slapd_start --users 20
ok "rig_kdc_start took $(( (t1 - t0) / 1000000 )) ms (KDC on 127.0.0.1:$KDC_PORT)"

# 1. Everything Kerberos lives in $RIG_DIR/kdc.
for v in KRB5_CONFIG KRB5_KDC_PROFILE KRB5CCNAME ALDPROXY_KEYTAB WRONG_KEYTAB LDAP_KEYTAB; do
	case "${!v}" in *"$RIG_DIR/kdc/"*) ;; *) fail "$v=${!v} is outside $RIG_DIR/kdc" ;; esac
done
assert_eq "ALD.TEST" "$KRB_REALM"
assert_eq "aldproxy/localhost@ALD.TEST" "$ALDPROXY_PRINCIPAL"
[ "$(stat -c %a "$ALDPROXY_KEYTAB")" = 600 ] || fail "$ALDPROXY_KEYTAB is not mode 0600"
ok "realm $KRB_REALM under $RIG_DIR/kdc"

# 2. aldproxy's keytab → its sysaccount, over StartTLS (SASL SSF on top).
kinit -k -t "$ALDPROXY_KEYTAB" "$ALDPROXY_PRINCIPAL" || fail "kinit with ALDPROXY_KEYTAB"
secs=$(ticket_secs)
[ "$secs" -gt 3600 ] || fail "default ticket lifetime is ${secs}s, expected 10h"
assert_eq "dn:$PROXY_BIND_DN" "$(gss_whoami)" "GSSAPI whoami as $ALDPROXY_PRINCIPAL"
ok "aldproxy keytab -> dn:$PROXY_BIND_DN (ticket ${secs}s)"

# 3. alice's password → her user entry, in a separate cache.
out=$(echo Secret123 | KRB5CCNAME="FILE:$RIG_DIR/kdc/alice.cc" kinit "alice@$KRB_REALM" 2>&1) ||
	fail "kinit alice: $out"
out=$(KRB5CCNAME="FILE:$RIG_DIR/kdc/alice.cc" gss_whoami)
assert_eq "dn:uid=alice,$USERS_DN" "$out" "GSSAPI whoami as alice"
ok "alice password -> dn:uid=alice,$USERS_DN"

# 4. The stale keytab (an older kvno of aldproxy/localhost) is refused by the
#    KDC; no ticket, no GSSAPI bind.
kdestroy -q
rc=0
out=$(kinit -k -t "$WRONG_KEYTAB" "$ALDPROXY_PRINCIPAL" 2>&1) || rc=$?
[ "$rc" != 0 ] || fail "kinit with WRONG_KEYTAB succeeded"
case "$out" in
*"Preauthentication failed"* | *"Password incorrect"* | *"Key version"*) ;;
*) fail "kinit with WRONG_KEYTAB: unexpected error: $out" ;;
esac
assert_contains "$RIG_DIR/kdc/kdc.log" "PREAUTH_FAILED: $ALDPROXY_PRINCIPAL"
rc=0
gss_whoami >/dev/null 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "GSSAPI bind without a ticket succeeded"
ok "WRONG_KEYTAB refused: ${out##*: }"

# 5. GSSAPI survives a slapd restart (same keytab, same mappings).
rig_slapd_restart
kinit -k -t "$ALDPROXY_KEYTAB" "$ALDPROXY_PRINCIPAL"
assert_eq "dn:$PROXY_BIND_DN" "$(gss_whoami)" "GSSAPI whoami after slapd restart"
ok "GSSAPI after rig_slapd_restart"

# 6. One-minute tickets: restart the KDC (same realm, port and keys) with
#    RIG_KDC_TICKET_LIFETIME=60; asking for 10h still gives <= 60 s.
old_pid=$KDC_PID
rig_kdc_stop
_rig_alive "$old_pid" && fail "krb5kdc $old_pid still running after rig_kdc_stop"
RIG_KDC_TICKET_LIFETIME=60 rig_kdc_start
kdestroy -q
kinit -l 10h -k -t "$ALDPROXY_KEYTAB" "$ALDPROXY_PRINCIPAL"
secs=$(ticket_secs)
if [ "$secs" -le 0 ] || [ "$secs" -gt 60 ]; then
	fail "ticket lifetime ${secs}s with RIG_KDC_TICKET_LIFETIME=60"
fi
assert_eq "dn:$PROXY_BIND_DN" "$(gss_whoami)" "GSSAPI whoami with a 60 s ticket"
ok "RIG_KDC_TICKET_LIFETIME=60 -> ${secs}s ticket (asked for 10h)"

# 7. rig_cleanup stops krb5kdc and slapd.
kpid=$KDC_PID spid=$SLAPD_PID
rig_cleanup
_rig_alive "$kpid" && fail "krb5kdc $kpid survived rig_cleanup"
_rig_alive "$spid" && fail "slapd $spid survived rig_cleanup"
ok "rig_cleanup stopped krb5kdc and slapd"
