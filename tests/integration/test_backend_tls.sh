#!/usr/bin/env bash
# test_backend_tls.sh — TLS to the directory is always verified: a
# certificate that does not chain to backend.ca_file (or does not name
# the host in the URL) is never used; the reason is logged and clients get
# unavailable (52), never a connection to an unverified directory.  (The
# host-name check is OpenSSL's X509_VERIFY_PARAM_set1_host, src/tls.c.)
set -euo pipefail
. "$(dirname "$0")/../rig/rig.sh"
rig_init
rig_certs
rig_slapd_start

start_bad() {   # DESCRIPTION — start aldproxyd on the current config and expect no directory
	: >"$PROXY_LOG"
	"${ALDPROXYD:-$REPO/build/src/aldproxyd}" -f -c "$PROXY_CONFIG" >>"$PROXY_LOG" 2>&1 &
	PROXY_PID=$!
	export PROXY_PID
	for ((i = 0; i < 50; i++)); do
		grep -q "cannot connect: TLS" "$PROXY_LOG" && break
		sleep 0.1
	done
	rc=0
	out=$(ldapsearch -x -LLL -o nettimeout=5 -H "$PROXY_URL" -D "$SVC_DN" -w "$SVC_PW" -b "$USERS_DN" "(uid=alice)" uid 2>&1) || rc=$?
	[ "$rc" = 52 ] || [ "$rc" = 49 ] || fail "$1: a client got rc $rc ($out), expected unavailable"
	assert_not_contains "$PROXY_LOG" "connection ready" "$1: a directory connection became ready"
	rig_proxy_stop
}

# 1. a CA that did not sign the directory's certificate
mkdir -p "$RIG_DIR/other"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=Some Other CA" \
	-keyout "$RIG_DIR/other/ca.key" -out "$RIG_DIR/other/ca.crt" >/dev/null 2>&1
rig_proxy_config
sed -i "s|^  ca_file: .*|  ca_file: $RIG_DIR/other/ca.crt|" "$PROXY_CONFIG"
start_bad "wrong CA"
assert_contains "$PROXY_LOG" "cannot connect: TLS: certificate verification failed:"
echo "ok - a directory certificate from another CA is refused, with the reason"

echo "PASS test_backend_tls"
