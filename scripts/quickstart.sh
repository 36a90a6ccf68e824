#!/usr/bin/env bash
# quickstart.sh — see aldproxy working in a minute on a fresh Debian 12 machine.
#
# Installs what it needs, builds aldproxy, starts a local ALD-Pro-like
# domain — an MIT KDC (realm ALD.TEST) and a directory (OpenLDAP slapd with
# a FreeIPA tree: cn=users/cn=groups under cn=accounts, cn=sysaccounts,cn=etc,
# nested groups, memberOf, a locked user, ~1000 generated users) — on free
# loopback ports, and runs aldproxyd in the foreground on
# ldap://127.0.0.1:3389 and ldaps://127.0.0.1:3636, authenticating to the
# directory the production way: SASL/GSSAPI from its keytab, over TLS.
# Ctrl-C stops everything it started.
#
#   QUICKSTART_PORT=3389 QUICKSTART_TLS_PORT=3636 ./scripts/quickstart.sh
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

bash scripts/deps.sh --run
echo "== building aldproxy"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" >/dev/null

export RIG_SKIP_DEPS=1
# shellcheck source=../tests/rig/rig.sh
. "$top/tests/rig/rig.sh"
rig_init
PROXY_PORT=${QUICKSTART_PORT:-3389}
PROXY_TLS_PORT=${QUICKSTART_TLS_PORT:-3636}
RIG_IPV6=0
export PROXY_PORT PROXY_TLS_PORT RIG_IPV6
echo "== starting the demo domain (MIT KDC + slapd, ${RIG_USERS:-1000} users)"
rig_certs
rig_kdc_start
export RIG_GSSAPI=1
rig_slapd_start
rig_proxy_config
# aldproxy's own identity: its Kerberos principal and keytab, not a password
sed -i "s|^backend:$|backend:\n  auth: gssapi\n  principal: $ALDPROXY_PRINCIPAL\n  keytab: $ALDPROXY_KEYTAB|" "$PROXY_CONFIG"

cat <<TXT

aldproxy demo — directory $SLAPD_URL (suffix $BASE_DN), KDC 127.0.0.1:$KDC_PORT
(realm $KRB_REALM); aldproxy binds to the directory as $ALDPROXY_PRINCIPAL
with SASL/GSSAPI over StartTLS. The proxy is below.
Paste into another terminal:

  # the product's service account searches a user and its groups
  ldapsearch -x -H ldap://127.0.0.1:$PROXY_PORT -D '$SVC_DN' -w '$SVC_PW' \\
      -b '$USERS_DN' '(uid=alice)' uid cn mail memberOf

  # the same over StartTLS and over ldaps (verified against the demo CA)
  LDAPTLS_CACERT=$CA_FILE ldapsearch -x -ZZ -H ldap://localhost:$PROXY_PORT \\
      -D '$SVC_DN' -w '$SVC_PW' -b '$GROUPS_DN' '(cn=engineering)' member
  LDAPTLS_CACERT=$CA_FILE ldapwhoami -x -H ldaps://localhost:$PROXY_TLS_PORT \\
      -D 'uid=alice,$USERS_DN' -w Secret123

  # paged results through the proxy (1000+ users)
  ldapsearch -x -H ldap://127.0.0.1:$PROXY_PORT -D '$SVC_DN' -w '$SVC_PW' \\
      -b '$USERS_DN' -E pr=200/noprompt '(objectClass=person)' dn | grep -c '^dn:'

  # refused: a locked user, a wrong password, an anonymous bind
  ldapwhoami -x -H ldap://127.0.0.1:$PROXY_PORT -D 'uid=eve,$USERS_DN' -w Secret123
  ldapwhoami -x -H ldap://127.0.0.1:$PROXY_PORT -D 'uid=alice,$USERS_DN' -w wrong
  ldapwhoami -x -H ldap://127.0.0.1:$PROXY_PORT

  # how aldproxy is doing, over its control socket
  $top/build/src/aldproxyctl -s $RIG_DIR/control.sock status
  $top/build/src/aldproxyctl -s $RIG_DIR/control.sock stats       # operations by type and profile, latency
  $top/build/src/aldproxyctl -s $RIG_DIR/control.sock metrics     # the same for Prometheus

  # the audit trail a SIEM would read (binds, refusals, writes, reloads)
  tail -f $AUDIT_LOG

  # how a profile rewrites a request
  $top/build/src/aldproxyctl -c $PROXY_CONFIG explain demo '(&(objectClass=person)(uid=alice))'

Configuration: $PROXY_CONFIG (profile: $RIG_DIR/profiles/demo.yaml)
aldproxyd runs in the foreground below; Ctrl-C stops it and the directory.

TXT
"${ALDPROXYD:-$top/build/src/aldproxyd}" -f -c "$PROXY_CONFIG" || true
