# shellcheck shell=bash
# rig.sh — integration test rig for aldproxy: a private slapd with an
# ALD Pro / FreeIPA-like tree, TLS material, and aldproxyd in front of it.
# Everything runs on loopback, on free ports, in a private temp dir, and every
# process started here is stopped on exit.  Source it from a test:
#
#   #!/usr/bin/env bash
#   set -euo pipefail
#   . "$(dirname "$0")/../rig/rig.sh"
#   rig_init; rig_certs; rig_slapd_start; rig_proxy_config; rig_proxy_start
#   ldapsearch -x -H "$PROXY_URL" -D "$SVC_DN" -w "$SVC_PW" -b "$BASE_DN" uid=alice
#   rig_proxy_stop          # fails on a crash, non-zero exit or sanitizer report
#
# Functions
#   rig_init                  RIG_DIR, cleanup trap, free ports
#   rig_certs                 private CA + server cert in $RIG_DIR/tls
#   rig_slapd_start [--users N]   build (once) and start the directory, wait for it
#                             (slapd, or 389-ds ns-slapd with RIG_BACKEND=389ds)
#   rig_slapd_stop | rig_slapd_restart | rig_slapd_pause | rig_slapd_resume
#   rig_proxy_config [LINE...]    write aldproxy.yaml (+ LINEs appended) and profiles/demo.yaml
#   rig_proxy_start | rig_proxy_stop
#   rig_kdc_start | rig_kdc_stop  private MIT KDC, realm ALD.TEST (tests/rig/kdc.sh)
#   rig_track_pid PID         have rig_cleanup stop a helper process too
#   rig_cleanup               (the trap) stop everything, remove RIG_DIR unless RIG_KEEP=1
#   fail MSG | assert_eq EXP ACT [MSG] | assert_contains FILE|STRING NEEDLE [MSG]
#   assert_not_contains FILE|STRING NEEDLE [MSG] | assert_rc RC CMD... | rig_log MSG
#
# Exported variables
#   REPO RIG_PYTHON RIG_BACKEND DIRECTORY_KIND RIG_DIR RIG_IPV6 SLAPD_PORT SLAPD_TLS_PORT PROXY_PORT PROXY_TLS_PORT PROXY_PORT2
#   CA_FILE SERVER_CERT SERVER_KEY LDAPTLS_CACERT
#   SLAPD_URL SLAPD_LDAPS_URL SLAPD_PID BASE_DN USERS_DN GROUPS_DN DM_DN DM_PW
#   PROXY_BIND_DN PROXY_BIND_PW SVC_DN SVC_PW
#   PROXY_URL PROXY_LDAPS_URL PROXY_PID PROXY_CONFIG PROXY_LOG (control socket: $RIG_DIR/control.sock)
#
# Knobs (environment)
#   RIG_BACKEND           slapd (default) or 389ds: the directory is then a real
#                         389 Directory Server (tests/rig/ds389.sh); DIRECTORY_KIND
#                         says which one runs, DM_DN is "cn=Directory Manager"
#                         and a locked account binds with 53 instead of 49.
#                         SLAPD_* names then mean "the directory".
#   RIG_KEEP=1            keep $RIG_DIR (logs, configs) after exit
#   RIG_SKIP_DEPS=1       do not run tests/rig/deps.sh (deps389.sh) from rig_init
#   RIG_USERS             generated users (default 1000; --users wins)
#   RIG_SLAPD_DEBUG       slapd -d level, logged to $RIG_DIR/slapd.log (default stats)
#   RIG_GSSAPI=1          slapd accepts SASL/GSSAPI binds (rig_kdc_start first;
#                         set when the directory is first built; see kdc.sh)
#   ALDPROXYD             proxy binary (default $REPO/build/src/aldproxyd)
#   aldproxy.yaml values: RIG_POOL_SIZE(2) RIG_BIND_POOL_SIZE(2) RIG_PAGED_POOL_SIZE(4)
#     RIG_MAX_OPS_PER_CONNECTION(256) RIG_CONNECT_TIMEOUT(5) RIG_OP_TIMEOUT(10)
#     RIG_RECONNECT_MIN(0.1) RIG_RECONNECT_MAX(1) RIG_MAX_PDU(1m)
#     RIG_MAX_CLIENT_OUTPUT(8m) RIG_MAX_OPS_PER_CLIENT(256) RIG_MAX_CONNECTIONS(10000)
#     RIG_MAX_OPS_PER_IDENTITY(512) RIG_MAX_OPS_PER_ADDRESS(1024)
#     RIG_IDLE_TIMEOUT(900) RIG_BIND_TIMEOUT(10) RIG_REQUIRE_TLS(false)
#     RIG_MAX_TOTAL_OUTPUT(64m) RIG_MAX_UNBOUND_PDU(256k) RIG_UNBOUND_TIMEOUT(60) RIG_MAX_CONNECTIONS_PER_ADDRESS(1000)
#     RIG_ACCOUNT_FAILURES_DELAY(5) RIG_ADDRESS_FAILURES_DELAY(50) RIG_ADDRESS_FAILURES_BLOCK(500)
#     RIG_ADDRESS_BLOCK_TIME(300) RIG_MAX_BINDS_PER_SECOND(0)
#     RIG_TLS_MIN_VERSION(1.2) RIG_LOG_LEVEL(info); emitted only when set:
#     RIG_TLS_CIPHERS (tls.ciphers), RIG_TLS_VERIFY (backend.tls_verify)
#     RIG_BACKEND_SERVERS   space-separated URLs (default ldap://localhost:$SLAPD_PORT)
#     RIG_BACKEND_STARTTLS  backend.starttls (default true)
#     RIG_EXTRA_LISTENERS   YAML lines added to the listeners: list verbatim
#     RIG_CONTROL_EXTRA     YAML lines added under control: verbatim
#     RIG_AUDIT_TARGET      audit.target (default file: $AUDIT_LOG); RIG_AUDIT_FORMAT json or cef
#
# Accounts (tests/rig/gen_tree.py): users alice bob carol dave user0001..
# password Secret123; eve (Secret123) is locked; admin AdminPass1.

if [ -z "${BASH_VERSION:-}" ]; then
	echo "rig.sh: needs bash" >&2
	return 1 2>/dev/null || exit 1
fi

RIG_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$RIG_LIB_DIR/../.." && pwd)
export REPO
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH="$PATH:/usr/sbin:/sbin" ;; esac
export PATH

RIG_BACKEND=${RIG_BACKEND:-slapd}
case "$RIG_BACKEND" in
slapd | 389ds) ;;
*)
	echo "rig.sh: RIG_BACKEND must be slapd or 389ds, not '$RIG_BACKEND'" >&2
	return 1 2>/dev/null || exit 1
	;;
esac
DIRECTORY_KIND=$RIG_BACKEND
export RIG_BACKEND DIRECTORY_KIND
# Debian's python3-ldap3 lives in the system interpreter; a pyenv/venv python3
# earlier on PATH would not see it.  Tests: run ldap3 scripts with $RIG_PYTHON.
if [ -x /usr/bin/python3 ]; then RIG_PYTHON=/usr/bin/python3; else RIG_PYTHON=python3; fi
export RIG_PYTHON

export BASE_DN="dc=ald,dc=test"
export USERS_DN="cn=users,cn=accounts,$BASE_DN"
export GROUPS_DN="cn=groups,cn=accounts,$BASE_DN"
if [ "$RIG_BACKEND" = 389ds ]; then
	export DM_DN="cn=Directory Manager"
else
	export DM_DN="cn=Directory Manager,$BASE_DN"
fi
export DM_PW="DMPass123"
export PROXY_BIND_DN="uid=aldproxy,cn=sysaccounts,cn=etc,$BASE_DN"
export PROXY_BIND_PW="ProxyPass1"
export SVC_DN="uid=demo,cn=sysaccounts,cn=etc,$BASE_DN"
export SVC_PW="DemoPass1"

SLAPD_PID=
PROXY_PID=
RIG_EXTRA_PIDS=()

# RIG_BACKEND=389ds: the directory as a real 389 Directory Server.
# shellcheck source-path=SCRIPTDIR source=ds389.sh
. "$RIG_LIB_DIR/ds389.sh"
# A private MIT KDC (realm ALD.TEST) for SASL/GSSAPI binds: rig_kdc_start.
# shellcheck source-path=SCRIPTDIR source=kdc.sh
. "$RIG_LIB_DIR/kdc.sh"

# ------------------------------------------------------------------ helpers

rig_log() { echo "rig: $*" >&2; }

fail() {
	local where="${BASH_SOURCE[1]:-?}:${BASH_LINENO[0]:-?}"
	echo "FAIL ($where): $*" >&2
	exit 1
}

assert_eq() {  # EXPECTED ACTUAL [MSG]
	if [ "$1" != "$2" ]; then
		local where="${BASH_SOURCE[1]:-?}:${BASH_LINENO[0]:-?}"
		echo "FAIL ($where): ${3:-values differ}" >&2
		echo "  expected: $1" >&2
		echo "  actual:   $2" >&2
		exit 1
	fi
}

# assert_contains HAYSTACK NEEDLE [MSG] — HAYSTACK is a file name when such a
# file exists, a string otherwise; NEEDLE is a fixed string.
assert_contains() {
	local where="${BASH_SOURCE[1]:-?}:${BASH_LINENO[0]:-?}"
	if [ -f "$1" ]; then
		grep -qF -- "$2" "$1" && return 0
		echo "FAIL ($where): ${3:-file $1 does not contain '$2'}" >&2
		echo "--- $1 (last 40 lines)" >&2; tail -n 40 "$1" >&2
	else
		case "$1" in *"$2"*) return 0 ;; esac
		echo "FAIL ($where): ${3:-string does not contain '$2'}" >&2
		printf '%s\n' "--- string:" "$1" | head -n 60 >&2
	fi
	exit 1
}

assert_not_contains() {
	local where="${BASH_SOURCE[1]:-?}:${BASH_LINENO[0]:-?}"
	if [ -f "$1" ]; then
		grep -qF -- "$2" "$1" || return 0
		echo "FAIL ($where): ${3:-file $1 contains '$2'}" >&2
		grep -nF -- "$2" "$1" | head -n 10 >&2
	else
		case "$1" in *"$2"*) ;; *) return 0 ;; esac
		echo "FAIL ($where): ${3:-string contains '$2'}" >&2
		printf '%s\n' "--- string:" "$1" | head -n 60 >&2
	fi
	exit 1
}

# assert_rc RC CMD [ARG...] — run CMD, require exit status RC; output is
# shown only on failure.
assert_rc() {
	local want=$1 rc=0 out
	shift
	out=$("$@" 2>&1) || rc=$?
	if [ "$rc" != "$want" ]; then
		local where="${BASH_SOURCE[1]:-?}:${BASH_LINENO[0]:-?}"
		echo "FAIL ($where): '$*' exited $rc, expected $want" >&2
		printf '%s\n' "$out" | head -n 40 >&2
		exit 1
	fi
}

_rig_need_init() {
	if [ -z "${RIG_DIR:-}" ] || [ ! -d "$RIG_DIR" ]; then
		fail "call rig_init first"
	fi
}

# _rig_alive PID — running (a zombie counts as gone)
_rig_alive() {
	local st
	kill -0 "$1" 2>/dev/null || return 1
	st=$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null || true)
	[ "$st" != Z ] && [ "$st" != X ]
}

# _rig_wait_gone PID SECONDS — wait until PID exits; 0 if it did
_rig_wait_gone() {
	local pid=$1 n=$(( $2 * 20 ))
	while [ "$n" -gt 0 ]; do
		_rig_alive "$pid" || return 0
		sleep 0.05
		n=$((n - 1))
	done
	return 1
}

# _rig_reap PID — exit status of our child PID into RIG_REAP_STATUS
# (127: not our child).  Not usable inside $(...): that is a subshell.
_rig_reap() {
	RIG_REAP_STATUS=0
	wait "$1" 2>/dev/null || RIG_REAP_STATUS=$?
}

# _rig_kill PID [SECONDS] — SIGTERM, bounded wait, SIGKILL; reaps the child.
# Returns 0 if it exited after SIGTERM, 1 if SIGKILL was needed.
_rig_kill() {
	local pid=$1 secs=${2:-10} rc=0
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	kill -CONT "$pid" 2>/dev/null || true
	if ! _rig_wait_gone "$pid" "$secs"; then
		kill -KILL "$pid" 2>/dev/null || true
		_rig_wait_gone "$pid" 5 || true
		rc=1
	fi
	wait "$pid" 2>/dev/null || true
	return $rc
}

rig_track_pid() { RIG_EXTRA_PIDS+=("$1"); }

# Ports free on 127.0.0.1 (and ::1 when IPv6 loopback works), below the
# ephemeral range so outgoing connections do not grab them meanwhile.
_rig_free_ports() {
	"$RIG_PYTHON" - "$1" <<'EOF'
import random, socket, sys
n = int(sys.argv[1])
v6 = True
try:
    s = socket.socket(socket.AF_INET6); s.bind(("::1", 0)); s.close()
except OSError:
    v6 = False
held, ports, tries = [], [], 0
while len(ports) < n:
    tries += 1
    p = random.randint(20000, 32000) if tries < 500 else 0
    socks = []
    try:
        s = socket.socket(socket.AF_INET); s.bind(("127.0.0.1", p)); socks.append(s)
        p = s.getsockname()[1]
        if v6:
            t = socket.socket(socket.AF_INET6); socks.append(t); t.bind(("::1", p))
    except OSError:
        for s in socks: s.close()
        continue
    held += socks
    ports.append(p)
print(" ".join(map(str, ports)), int(v6))
EOF
}

# need TOOL... — fail unless every command (py:MODULE, pl:MODULE for a Python
# or Perl module) is there, naming the Debian package that provides it.  Packages are
# declared in tests/rig/packages.sh; scripts/deps.sh installs them all.
need() {
	# shellcheck source=packages.sh
	. "$RIG_LIB_DIR/packages.sh"
	local t pkg missing=()
	for t in "$@"; do
		case $t in
		py:*)
			"${RIG_PYTHON:-python3}" -c "import ${t#py:}" 2>/dev/null && continue
			pkg=${PYMOD_PKG[${t#py:}]:-}
			missing+=("Python module ${t#py:} (package ${pkg:-unknown: declare it in PYMOD_PKG})") ;;
		pl:*)
			perl -M"${t#pl:}" -e 1 2>/dev/null && continue
			pkg=${PERLMOD_PKG[${t#pl:}]:-}
			missing+=("Perl module ${t#pl:} (package ${pkg:-unknown: declare it in PERLMOD_PKG})") ;;
		*)
			PATH="$PATH:/usr/sbin:/sbin" command -v "$t" >/dev/null && continue
			pkg=${TOOL_PKG[$t]:-}
			missing+=("command $t (package ${pkg:-unknown: declare it in TOOL_PKG})") ;;
		esac
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	local m
	for m in "${missing[@]}"; do
		echo "${TEST_NAME:-test}: missing $m — tests/rig/packages.sh declares what scripts/deps.sh installs" >&2
	done
	exit 1
}

# ------------------------------------------------------------------ init

rig_init() {
	if [ "${RIG_SKIP_DEPS:-0}" != 1 ]; then
		bash "$RIG_LIB_DIR/deps.sh" || { echo "rig: deps.sh failed" >&2; return 1; }
		if [ "$RIG_BACKEND" = 389ds ]; then
			bash "$RIG_LIB_DIR/deps389.sh" || { echo "rig: deps389.sh failed" >&2; return 1; }
		fi
	fi
	# what every test of the rig runs
	need slapd slapadd ldapsearch ldapwhoami ldapmodify openssl timeout py:ldap3
	[ "$RIG_BACKEND" != 389ds ] || need ns-slapd dscreate dsconf certutil py:lib389
	RIG_DIR=$(mktemp -d /tmp/aldrig.XXXX)
	export RIG_DIR
	chmod 0700 "$RIG_DIR"
	trap 'rig_cleanup' EXIT
	trap 'rig_cleanup; trap - EXIT; exit 130' INT
	trap 'rig_cleanup; trap - EXIT; exit 143' TERM

	local p
	p=$(_rig_free_ports 5) || fail "cannot pick free ports"
	read -r SLAPD_PORT SLAPD_TLS_PORT PROXY_PORT PROXY_TLS_PORT PROXY_PORT2 RIG_IPV6 <<<"$p"
	export SLAPD_PORT SLAPD_TLS_PORT PROXY_PORT PROXY_TLS_PORT PROXY_PORT2 RIG_IPV6
	export SLAPD_URL="ldap://127.0.0.1:$SLAPD_PORT"
	export SLAPD_LDAPS_URL="ldaps://localhost:$SLAPD_TLS_PORT"
	export PROXY_URL="ldap://127.0.0.1:$PROXY_PORT"
	export PROXY_LDAPS_URL="ldaps://localhost:$PROXY_TLS_PORT"
	export PROXY_CONFIG="$RIG_DIR/aldproxy.yaml"
	export PROXY_LOG="$RIG_DIR/aldproxy.log"
	export AUDIT_LOG="$RIG_DIR/audit.log"
	# Sanitizer reports go to the proxy's stderr (its log); keep defaults sane.
	export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
}

rig_cleanup() {
	local rc=$?
	[ -n "${RIG_DIR:-}" ] || return $rc
	local pid
	if [ -n "${PROXY_PID:-}" ]; then
		_rig_kill "$PROXY_PID" 5 || true
		PROXY_PID=
	fi
	for pid in "${RIG_EXTRA_PIDS[@]}"; do
		_rig_kill "$pid" 5 || true
	done
	RIG_EXTRA_PIDS=()
	if [ -n "${SLAPD_PID:-}" ]; then
		_rig_kill "$SLAPD_PID" "$(_rig_slapd_stop_secs)" || true
		SLAPD_PID=
	fi
	[ "$RIG_BACKEND" != 389ds ] || _rig_389_cleanup
	if [ "$rc" != 0 ] && [ -s "$RIG_DIR/aldproxy.log" ]; then
		echo "--- $RIG_DIR/aldproxy.log (last 40 lines)" >&2
		tail -n 40 "$RIG_DIR/aldproxy.log" >&2
	fi
	if [ "${RIG_KEEP:-0}" = 1 ]; then
		echo "rig: kept $RIG_DIR" >&2
	else
		rm -rf "$RIG_DIR"
	fi
	RIG_DIR=
	return $rc
}

# ------------------------------------------------------------------ TLS

rig_certs() {
	_rig_need_init
	local d="$RIG_DIR/tls" log="$RIG_DIR/tls/openssl.log"
	mkdir -p "$d"
	# libldap (ldap-utils) checks a "localhost" URL against the machine's own
	# host name, not "localhost": put those names in the SAN too.
	local san="DNS:localhost" h
	for h in $( (hostname; hostname -f; "$RIG_PYTHON" -c 'import socket; print(socket.getfqdn())') \
			2>/dev/null | sort -u); do
		case "$h" in localhost|*[!A-Za-z0-9.-]*) ;; *) san="$san, DNS:$h" ;; esac
	done
	san="$san, IP:127.0.0.1, IP:::1"
	cat >"$d/server.ext" <<EOF
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = $san
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
EOF
	if ! {
		openssl req -x509 -newkey rsa:2048 -nodes -days 30 -sha256 \
			-keyout "$d/ca.key" -out "$d/ca.crt" -subj "/O=aldproxy rig/CN=aldproxy rig CA" \
			-addext "basicConstraints=critical,CA:TRUE" \
			-addext "keyUsage=critical,keyCertSign,cRLSign" &&
		openssl req -newkey rsa:2048 -nodes -sha256 \
			-keyout "$d/server.key" -out "$d/server.csr" -subj "/O=aldproxy rig/CN=localhost" &&
		openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" \
			-CAcreateserial -days 30 -sha256 -extfile "$d/server.ext" -out "$d/server.crt"
	} >"$log" 2>&1; then
		cat "$log" >&2
		fail "rig_certs: openssl failed"
	fi
	chmod 0600 "$d"/*.key
	export CA_FILE="$d/ca.crt" SERVER_CERT="$d/server.crt" SERVER_KEY="$d/server.key"
	export LDAPTLS_CACERT="$CA_FILE"
}

# ------------------------------------------------------------------ slapd

_rig_slapd_build() {
	local users=$1 s="$RIG_DIR/slapd"
	mkdir -p "$s/slapd.d" "$s/data"
	"$RIG_PYTHON" "$RIG_LIB_DIR/gen_tree.py" --suffix "$BASE_DN" --users "$users" >"$s/tree.ldif" ||
		fail "gen_tree.py failed"
	# slapd's proxy rights for aldproxy (authz-policy to): it may act as any user
	"$RIG_PYTHON" - "$s/tree.ldif" "$PROXY_BIND_DN" "$BASE_DN" <<'PY' || fail "cannot add authzTo"
import sys
path, proxy, base = sys.argv[1:4]
blocks = open(path, encoding="utf-8").read().split("\n\n")
for i, b in enumerate(blocks):
    if b.lower().lstrip().startswith("dn: " + proxy.lower()) or ("\ndn: " + proxy.lower()) in b.lower():
        blocks[i] = b.rstrip("\n") + "\nauthzTo: dn.regex:^uid=[^,]+,cn=users,cn=accounts," + base + "$"
open(path, "w", encoding="utf-8").write("\n\n".join(blocks))
PY
	local gssapi_conf
	gssapi_conf=$(_rig_slapd_gssapi_conf) || exit 1
	cat >"$s/slapd.conf" <<EOF
# Generated by tests/rig/rig.sh; used by slapadd, then converted to cn=config
# ($RIG_DIR/slapd/slapd.d) by slaptest; slapd runs from slapd.d.
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
include $RIG_LIB_DIR/schema/freeipa-lite.schema

modulepath /usr/lib/ldap
moduleload back_mdb
pidfile $s/slapd.pid
argsfile $s/slapd.args
# Logging goes to stderr through slapd -d (\$RIG_DIR/slapd.log).
loglevel none

# aldproxy performs profile-allowed writes as the bound user with proxied
# authorization (RFC 4370): its entry carries authzTo for the users.
authz-policy to

TLSCACertificateFile $CA_FILE
TLSCertificateFile $SERVER_CERT
TLSCertificateKeyFile $SERVER_KEY
$gssapi_conf

# Frontend: anonymous may read the root DSE and the subschema only.
access to dn.base="" by * read
access to dn.base="cn=Subschema" by * read

database config
access to * by * none

database mdb
suffix "$BASE_DN"
rootdn "$DM_DN"
rootpw $DM_PW
directory $s/data
maxsize 1073741824
sizelimit 5000
limits dn.exact="$PROXY_BIND_DN" size=unlimited time=unlimited
index objectClass,uid,cn,member,memberOf,krbPrincipalName,ipaUniqueID eq
index uidNumber,gidNumber,mail,memberUid eq

# FreeIPA-like ACLs.  A locked account (nsAccountLock=TRUE) cannot bind.
access to filter=(nsAccountLock=TRUE) attrs=userPassword,krbPrincipalKey
	by * none
access to attrs=userPassword,krbPrincipalKey
	by anonymous auth
	by self write
	by * none
access to attrs=telephoneNumber,mobile
	by self write
	by dn.exact="$PROXY_BIND_DN" read
	by users read
	by * none
access to *
	by dn.exact="$PROXY_BIND_DN" read
	by users read
	by * none
EOF
	# Load the data through slapd.conf first, then convert the configuration
	# to cn=config: slaptest opens the database read-only and fails on an
	# empty one (and with -u it writes nothing).
	local log="$s/build.log"
	if ! slapadd -q -f "$s/slapd.conf" -b "$BASE_DN" -l "$s/tree.ldif" >"$log" 2>&1; then
		cat "$log" >&2
		fail "slapadd could not load $s/tree.ldif"
	fi
	if ! slaptest -f "$s/slapd.conf" -F "$s/slapd.d" >>"$log" 2>&1; then
		cat "$log" >&2
		fail "slaptest could not convert $s/slapd.conf to cn=config"
	fi
}

# RIG_GSSAPI=1 (tests/rig/kdc.sh, rig_kdc_start first): SASL/GSSAPI as
# ldap/localhost@ALD.TEST, principals mapped to DNs like FreeIPA does.
_rig_slapd_gssapi_conf() {
	[ "${RIG_GSSAPI:-0}" = 1 ] || return 0
	if [ -z "${KRB5_CONFIG:-}" ] || [ ! -f "${LDAP_KEYTAB:-}" ]; then
		fail "RIG_GSSAPI=1: call rig_kdc_start before rig_slapd_start"
	fi
	touch "$RIG_DIR/slapd/gssapi"
	local r
	r="cn=$(_rig_kdc_realm_lc),cn=gssapi,cn=auth"
	r=${r//./\\\\.}  # a literal dot: slapd.conf unescapes "\\." to "\."
	cat <<EOF

# SASL/GSSAPI (RIG_GSSAPI=1): the service principal is ldap/<sasl-host>.
sasl-host localhost
sasl-realm $KRB_REALM
authz-regexp "^uid=aldproxy(/localhost)?,$r\$" "$PROXY_BIND_DN"
authz-regexp "^uid=([^,/]+),$r\$" "uid=\$1,$USERS_DN"
EOF
}

_rig_slapd_launch() {
	local s="$RIG_DIR/slapd" log="$RIG_DIR/slapd.log" i
	local envv=()
	if [ -e "$s/gssapi" ]; then  # built with RIG_GSSAPI=1: slapd's keytab
		envv=("KRB5_KTNAME=FILE:$LDAP_KEYTAB" "KRB5_CONFIG=$KRB5_CONFIG" "KRB5RCACHEDIR=$KRB5RCACHEDIR")
	fi
	echo "=== slapd start $(date '+%F %T')" >>"$log"
	env "${envv[@]}" slapd -h "ldap://127.0.0.1:$SLAPD_PORT/ ldaps://127.0.0.1:$SLAPD_TLS_PORT/" \
		-F "$s/slapd.d" -d "${RIG_SLAPD_DEBUG:-stats}" </dev/null >>"$log" 2>&1 &
	SLAPD_PID=$!
	export SLAPD_PID
	for ((i = 0; i < 200; i++)); do   # 20 s
		if ! _rig_alive "$SLAPD_PID"; then
			wait "$SLAPD_PID" 2>/dev/null || true
			SLAPD_PID=
			echo "--- $log" >&2; tail -n 60 "$log" >&2
			fail "slapd exited during startup"
		fi
		if timeout 3 ldapsearch -x -H "$SLAPD_URL" -b '' -s base -o nettimeout=2 \
			>/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	echo "--- $log" >&2; tail -n 60 "$log" >&2
	fail "slapd did not answer on $SLAPD_URL within 20 s"
}

# rig_slapd_start [--users N] — build the directory (first call only) and
# start slapd on SLAPD_PORT (ldap) and SLAPD_TLS_PORT (ldaps).
rig_slapd_start() {
	_rig_need_init
	local users=${RIG_USERS:-1000}
	while [ $# -gt 0 ]; do
		case "$1" in
		--users) users=$2; shift 2 ;;
		--users=*) users=${1#--users=}; shift ;;
		*) fail "rig_slapd_start: unknown argument $1" ;;
		esac
	done
	[ -n "${CA_FILE:-}" ] || rig_certs
	export LDAPTLS_CACERT="$CA_FILE"
	if [ -n "${SLAPD_PID:-}" ] && _rig_alive "$SLAPD_PID"; then
		fail "rig_slapd_start: slapd already running (pid $SLAPD_PID)"
	fi
	if [ "$RIG_BACKEND" = 389ds ]; then
		[ "${RIG_GSSAPI:-0}" != 1 ] || fail "RIG_GSSAPI=1 is not supported with RIG_BACKEND=389ds yet"
		_rig_389_start "$users"
		return
	fi
	[ -d "$RIG_DIR/slapd/slapd.d/cn=config" ] || _rig_slapd_build "$users"
	_rig_slapd_launch
}

# ns-slapd flushes its database on SIGTERM: give it longer than slapd.
_rig_slapd_stop_secs() { if [ "$RIG_BACKEND" = 389ds ]; then echo 30; else echo 10; fi; }

rig_slapd_stop() {
	[ -n "${SLAPD_PID:-}" ] || return 0
	_rig_kill "$SLAPD_PID" "$(_rig_slapd_stop_secs)" || rig_log "$RIG_BACKEND needed SIGKILL"
	SLAPD_PID=
}

# Same ports, same data.
rig_slapd_restart() {
	_rig_need_init
	rig_slapd_stop
	if [ "$RIG_BACKEND" = 389ds ]; then
		_rig_389_launch
	else
		_rig_slapd_launch
	fi
}

# Freeze / thaw slapd (SIGSTOP / SIGCONT): connections stay open, nothing answers.
rig_slapd_pause() { [ -n "${SLAPD_PID:-}" ] && kill -STOP "$SLAPD_PID"; }
rig_slapd_resume() { [ -n "${SLAPD_PID:-}" ] && kill -CONT "$SLAPD_PID"; }

# ------------------------------------------------------------------ proxy

# rig_proxy_config [LINE...] — each LINE is appended verbatim to aldproxy.yaml.
# A key written here may not be appended again (the config reader refuses
# duplicate keys): use the RIG_* knobs to change values.

# shellcheck disable=SC2120
rig_proxy_config() {
	_rig_need_init
	[ -n "${CA_FILE:-}" ] || rig_certs
	[ -n "${SLAPD_PORT:-}" ] || fail "rig_proxy_config: no SLAPD_PORT"
	local cfg="$RIG_DIR/aldproxy.yaml" pw="$RIG_DIR/backend.password" u line
	mkdir -p "$RIG_DIR/profiles"
	(umask 077; printf '%s\n' "$PROXY_BIND_PW" >"$pw")
	chmod 0600 "$pw"
	{
		echo "# aldproxy.yaml — generated by tests/rig/rig.sh"
		echo "listeners:"
		echo "  - url: ldap://127.0.0.1:$PROXY_PORT"
		echo "  - url: ldaps://127.0.0.1:$PROXY_TLS_PORT"
		if [ "${RIG_IPV6:-0}" = 1 ]; then
			echo "  - url: ldap://[::1]:$PROXY_PORT"
		fi
		if [ -n "${RIG_EXTRA_LISTENERS:-}" ]; then
			printf '%s\n' "$RIG_EXTRA_LISTENERS"
		fi
		echo
		echo "tls:"
		echo "  certificate: $SERVER_CERT"
		echo "  key: $SERVER_KEY"
		echo "  min_version: \"${RIG_TLS_MIN_VERSION:-1.2}\""
		echo "  require_tls: ${RIG_REQUIRE_TLS:-false}"
		if [ -n "${RIG_TLS_CIPHERS:-}" ]; then
			echo "  ciphers: \"$RIG_TLS_CIPHERS\""
		fi
		echo
		echo "backend:"
		echo "  servers:"
		for u in ${RIG_BACKEND_SERVERS:-ldap://localhost:$SLAPD_PORT}; do
			echo "    - $u"
		done
		echo "  starttls: ${RIG_BACKEND_STARTTLS:-true}"
		echo "  ca_file: $CA_FILE"
		if [ -n "${RIG_TLS_VERIFY:-}" ]; then
			echo "  tls_verify: $RIG_TLS_VERIFY"
		fi
		echo "  bind_dn: $PROXY_BIND_DN"
		echo "  password_file: $pw"
		echo "  pool_size: ${RIG_POOL_SIZE:-2}"
		echo "  bind_pool_size: ${RIG_BIND_POOL_SIZE:-2}"
		echo "  paged_pool_size: ${RIG_PAGED_POOL_SIZE:-4}"
		echo "  max_ops_per_connection: ${RIG_MAX_OPS_PER_CONNECTION:-256}"
		echo "  connect_timeout: ${RIG_CONNECT_TIMEOUT:-5}"
		echo "  operation_timeout: ${RIG_OP_TIMEOUT:-10}"
		echo "  reconnect_min: ${RIG_RECONNECT_MIN:-0.1}"
		echo "  reconnect_max: ${RIG_RECONNECT_MAX:-1}"
		echo
		echo "limits:"
		echo "  max_pdu_size: ${RIG_MAX_PDU:-1m}"
		echo "  max_client_output: ${RIG_MAX_CLIENT_OUTPUT:-8m}"
		echo "  max_total_output: ${RIG_MAX_TOTAL_OUTPUT:-64m}"
		echo "  max_ops_per_client: ${RIG_MAX_OPS_PER_CLIENT:-256}"
		echo "  max_ops_per_identity: ${RIG_MAX_OPS_PER_IDENTITY:-512}"
		echo "  max_ops_per_address: ${RIG_MAX_OPS_PER_ADDRESS:-1024}"
		echo "  max_connections: ${RIG_MAX_CONNECTIONS:-10000}"
		echo "  idle_timeout: ${RIG_IDLE_TIMEOUT:-900}"
		echo "  bind_timeout: ${RIG_BIND_TIMEOUT:-10}"
		echo "  max_unbound_pdu_size: ${RIG_MAX_UNBOUND_PDU:-256k}"
		echo "  unbound_timeout: ${RIG_UNBOUND_TIMEOUT:-60}"
		echo "  max_connections_per_address: ${RIG_MAX_CONNECTIONS_PER_ADDRESS:-1000}"
		echo "  account_failures_delay: ${RIG_ACCOUNT_FAILURES_DELAY:-5}"
		echo "  address_failures_delay: ${RIG_ADDRESS_FAILURES_DELAY:-50}"
		echo "  address_failures_block: ${RIG_ADDRESS_FAILURES_BLOCK:-500}"
		echo "  address_block_time: ${RIG_ADDRESS_BLOCK_TIME:-300}"
		# the benchmarks measure bind throughput: no budget unless a test sets one
		echo "  max_binds_per_second: ${RIG_MAX_BINDS_PER_SECOND:-0}"
		echo "  max_bulk_searches: ${RIG_MAX_BULK:-0}"
		echo
		echo "profiles_dir: $RIG_DIR/profiles"
		echo
		echo "control:"
		echo "  socket: $RIG_DIR/control.sock"
		if [ -n "${RIG_CONTROL_EXTRA:-}" ]; then
			printf '%s\n' "$RIG_CONTROL_EXTRA"
		fi
		echo
		echo "audit:"
		echo "  target: ${RIG_AUDIT_TARGET:-file}"
		echo "  format: ${RIG_AUDIT_FORMAT:-json}"
		echo "  file: $AUDIT_LOG"
		echo
		echo "log:"
		echo "  level: ${RIG_LOG_LEVEL:-info}"
		echo "  target: stderr"
		for line in "$@"; do
			printf '%s\n' "$line"
		done
	} >"$cfg"

	cat >"$RIG_DIR/profiles/demo.yaml" <<EOF
# demo — generated by tests/rig/rig.sh
name: demo
description: Rig demo profile over the test directory
service_accounts:
  - $SVC_DN
user_bases:
  - $USERS_DN
search_base: $BASE_DN
attributes: ["*"]
EOF
}

# rig_proxy_start — start aldproxyd in the foreground (-f) in the background,
# stderr to $PROXY_LOG, and wait until it answers a root DSE search.
rig_proxy_start() {
	_rig_need_init
	local bin="${ALDPROXYD:-$REPO/build/src/aldproxyd}" i
	[ -x "$bin" ] || fail "rig_proxy_start: $bin not found or not executable (build first, or set ALDPROXYD)"
	[ -f "$PROXY_CONFIG" ] || rig_proxy_config
	if [ -n "${PROXY_PID:-}" ] && _rig_alive "$PROXY_PID"; then
		fail "rig_proxy_start: aldproxyd already running (pid $PROXY_PID)"
	fi
	echo "=== aldproxyd start $(date '+%F %T')" >>"$PROXY_LOG"
	"$bin" -f -c "$PROXY_CONFIG" </dev/null >>"$PROXY_LOG" 2>&1 &
	PROXY_PID=$!
	export PROXY_PID
	for ((i = 0; i < 150; i++)); do   # 15 s
		if ! _rig_alive "$PROXY_PID"; then
			_rig_reap "$PROXY_PID"
			PROXY_PID=
			echo "--- $PROXY_LOG" >&2; cat "$PROXY_LOG" >&2
			fail "aldproxyd exited during startup (status $RIG_REAP_STATUS)"
		fi
		# ldapsearch -x would bind anonymously, which aldproxy refuses;
		# a service-account whoami proves listener, bind pool and directory.
		if timeout 3 ldapwhoami -x -H "$PROXY_URL" -D "$SVC_DN" -w "$SVC_PW" -o nettimeout=2 \
			>/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	echo "--- $PROXY_LOG" >&2; cat "$PROXY_LOG" >&2
	fail "aldproxyd did not answer on $PROXY_URL within 15 s"
}

_rig_print_proxy_log() {
	local pat='AddressSanitizer|LeakSanitizer|ThreadSanitizer|MemorySanitizer|runtime error:'
	if grep -qE "$pat" "$PROXY_LOG" 2>/dev/null; then
		echo "--- $PROXY_LOG (from the first sanitizer report)" >&2
		sed -n "/${pat//|/\\|}/,\$p" "$PROXY_LOG" | head -n 400 >&2
	else
		echo "--- $PROXY_LOG (last 200 lines)" >&2
		tail -n 200 "$PROXY_LOG" >&2
	fi
}

# rig_proxy_stop — SIGTERM, bounded wait, SIGKILL.  Returns non-zero (after
# printing the log) if the proxy had died on its own, exited non-zero, needed
# SIGKILL, or its log holds a sanitizer report.
rig_proxy_stop() {
	local pid=${PROXY_PID:-} st=0 why=
	[ -n "$pid" ] || return 0
	if ! _rig_alive "$pid"; then
		_rig_reap "$pid"
		st=$RIG_REAP_STATUS
		why="aldproxyd (pid $pid) died on its own, exit status $st"
	else
		kill -TERM "$pid" 2>/dev/null || true
		if ! _rig_wait_gone "$pid" 10; then
			kill -KILL "$pid" 2>/dev/null || true
			_rig_wait_gone "$pid" 5 || true
			why="aldproxyd did not exit within 10 s of SIGTERM (killed)"
		fi
		_rig_reap "$pid"
		st=$RIG_REAP_STATUS
		if [ -z "$why" ] && [ "$st" != 0 ]; then
			why="aldproxyd exited with status $st after SIGTERM"
		fi
	fi
	PROXY_PID=
	if [ -z "$why" ] &&
		grep -qE 'AddressSanitizer|LeakSanitizer|ThreadSanitizer|MemorySanitizer|runtime error:' \
			"$PROXY_LOG" 2>/dev/null; then
		why="sanitizer report in $PROXY_LOG"
	fi
	if [ -n "$why" ]; then
		_rig_print_proxy_log
		echo "FAIL: $why" >&2
		return 1
	fi
	return 0
}
