#!/usr/bin/env bash
# test_config_check.sh — `aldproxyd -t -c FILE` and `aldproxyctl -c FILE check`:
# the rig's configuration passes (even while the proxy runs on its ports);
# broken configurations fail with exit status 1 and a message naming the
# file, the line and the key: unknown keys in aldproxy.yaml and in a profile,
# a bad listener URL, a missing or group/world-readable password file, and
# more; a real start with such a file fails the same way.
# directories: slapd 389ds
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../rig/rig.sh"
. "$here/lib/common.sh"

test_begin test_config_check
rig_init
rig_certs
rig_slapd_start
rig_proxy_config
rig_proxy_start

D=${ALDPROXYD:-$REPO/build/src/aldproxyd}
CTL=${ALDPROXYCTL:-$(dirname "$D")/aldproxyctl}
[ -x "$CTL" ] || fail "aldproxyctl not found at $CTL (set ALDPROXYCTL)"
C="$RIG_DIR/cfgtest"
mkdir -p "$C/profiles" "$C/badprofiles"
PW="$C/backend.password"
(umask 077; echo "$PROXY_BIND_PW" >"$PW")
cat >"$C/profiles/demo.yaml" <<EOF
name: demo
service_accounts:
  - $SVC_DN
user_bases:
  - $USERS_DN
search_base: $BASE_DN
attributes: ["*"]
EOF

# mkcfg FILE [--listener URL] [--password-file F] [--profiles DIR] [--backend-line L]... [--top-line L]...
mkcfg() {
	local f=$1 url="ldap://127.0.0.1:$PROXY_PORT2" pwf=$PW prof="$C/profiles" bl=() tl=()
	shift
	while [ $# -gt 0 ]; do
		case "$1" in
		--listener) url=$2 ;;
		--password-file) pwf=$2 ;;
		--profiles) prof=$2 ;;
		--backend-line) bl+=("$2") ;;
		--top-line) tl+=("$2") ;;
		*) fail "mkcfg: $1" ;;
		esac
		shift 2
	done
	{
		echo "# written by test_config_check.sh"
		echo "listeners:"
		echo "  - url: $url"
		echo "backend:"
		echo "  servers:"
		echo "    - ldap://127.0.0.1:$SLAPD_PORT"
		echo "  starttls: true"
		echo "  ca_file: $CA_FILE"
		echo "  bind_dn: $PROXY_BIND_DN"
		echo "  password_file: $pwf"
		for l in ${bl[@]+"${bl[@]}"}; do echo "$l"; done
		echo "limits:"
		echo "  max_pdu_size: 1m"
		echo "profiles_dir: $prof"
		echo "log:"
		echo "  level: info"
		echo "  target: stderr"
		for l in ${tl[@]+"${tl[@]}"}; do echo "$l"; done
	} >"$f"
}

# check_ok FILE — both tools accept FILE
check_ok() {
	local out rc=0
	out=$("$D" -t -c "$1" 2>&1) || rc=$?
	[ "$rc" = 0 ] || fail "aldproxyd -t -c $1 exited $rc: $out"
	assert_contains "$out" "configuration OK" "aldproxyd -t output"
	rc=0
	out=$("$CTL" -c "$1" check 2>&1) || rc=$?
	[ "$rc" = 0 ] || fail "aldproxyctl -c $1 check exited $rc: $out"
	assert_contains "$out" "OK" "aldproxyctl check output"
}

# check_bad FILE NEEDLE... — both tools refuse FILE with exit 1, every NEEDLE
# in the message.  aldproxyd failing the check stops the test at once;
# aldproxyctl disagreeing with aldproxyd -t is collected in CTL_MISMATCH and
# reported at the end, so the other checks still run.
CTL_MISMATCH=()
check_bad() {
	local f=$1 out rc n
	shift
	rc=0
	out=$("$D" -t -c "$f" 2>&1) || rc=$?
	[ "$rc" = 1 ] || fail "'aldproxyd -t -c $f' exited $rc, expected 1: $out"
	for n in "$@"; do
		assert_contains "$out" "$n" "'aldproxyd -t -c $f': message lacks '$n'"
	done
	LAST_MSG=$out
	rc=0
	out=$("$CTL" -c "$f" check 2>&1) || rc=$?
	if [ "$rc" != 1 ]; then
		CTL_MISMATCH+=("aldproxyctl -c $f check exited $rc (aldproxyd -t: 1: $LAST_MSG); output: $out")
		return 0
	fi
	for n in "$@"; do
		case "$out" in
		*"$n"*) ;;
		*) CTL_MISMATCH+=("aldproxyctl -c $f check: message lacks '$n': $out") ;;
		esac
	done
	LAST_MSG=$out
}

# line number of the first line of FILE containing TEXT
line_of() { grep -nF -- "$2" "$1" | head -n1 | cut -d: -f1; }

# ---- the rig's configuration, while the proxy holds its ports
out=$("$D" -t -c "$PROXY_CONFIG" 2>&1) || fail "aldproxyd -t -c $PROXY_CONFIG failed: $out"
assert_contains "$out" "configuration OK"
assert_contains "$out" "1 profile(s)"
out=$("$CTL" -c "$PROXY_CONFIG" check 2>&1) || fail "aldproxyctl check failed: $out"
assert_contains "$out" "$PROXY_CONFIG: OK, 1 profile(s)"
out=$("$CTL" -c "$PROXY_CONFIG" profiles 2>&1) || fail "aldproxyctl profiles failed: $out"
assert_contains "$out" "demo"
assert_contains "$out" "search_base=$BASE_DN"
kill -0 "$PROXY_PID" || fail "the running proxy died during -t"
ok "rig configuration: aldproxyd -t and aldproxyctl check/profiles pass (proxy running)"
# the reference configuration at least parses up to its password file
out=$("$D" -t -c "$REPO/conf/aldproxy.yaml" 2>&1) || true
assert_not_contains "$out" "unknown key" "conf/aldproxy.yaml has unknown keys"

mkcfg "$C/good.yaml"
check_ok "$C/good.yaml"
ok "a hand-written small configuration passes"

# ---- unknown key under backend
mkcfg "$C/bogus.yaml" --backend-line "  bogus_key: 1"
ln=$(line_of "$C/bogus.yaml" "bogus_key")
check_bad "$C/bogus.yaml" "$C/bogus.yaml:$ln:" "backend.bogus_key" "unknown key"
ok "unknown backend key: $LAST_MSG"

# ---- unknown top-level key, duplicate key
mkcfg "$C/top.yaml" --top-line "frontend:" --top-line "  x: 1"
ln=$(line_of "$C/top.yaml" "frontend:")
check_bad "$C/top.yaml" "$C/top.yaml:$ln:" "frontend" "unknown key"
mkcfg "$C/dup.yaml" --backend-line "  pool_size: 2" --backend-line "  pool_size: 3"
ln=$(grep -n 'pool_size: 3' "$C/dup.yaml" | cut -d: -f1)
check_bad "$C/dup.yaml" "$C/dup.yaml:$ln:" "backend.pool_size" "twice"
ok "unknown top-level key and duplicate key refused"

# ---- a profile with an unknown key
cp "$C/profiles/demo.yaml" "$C/badprofiles/demo.yaml"
echo "bogus_profile_key: yes" >>"$C/badprofiles/demo.yaml"
ln=$(line_of "$C/badprofiles/demo.yaml" "bogus_profile_key")
mkcfg "$C/badprof.yaml" --profiles "$C/badprofiles"
check_bad "$C/badprof.yaml" "$C/badprofiles/demo.yaml:$ln:" "bogus_profile_key" "unknown key"
ok "unknown profile key: $LAST_MSG"
# a profile that lists a secret attribute
sed -i -e '/bogus_profile_key/d' -e 's/^attributes: .*/attributes: [uid, userPassword]/' "$C/badprofiles/demo.yaml"
check_bad "$C/badprof.yaml" "$C/badprofiles/demo.yaml:" "attributes" "userPassword"
# two profiles claiming the same service account
sed -i 's/^attributes: .*/attributes: ["*"]/' "$C/badprofiles/demo.yaml"
sed 's/^name: demo/name: other/' "$C/badprofiles/demo.yaml" >"$C/badprofiles/other.yaml"
check_bad "$C/badprof.yaml" "service_accounts" "$SVC_DN"
rm -f "$C/badprofiles/other.yaml"
# an empty profile directory
mkdir -p "$C/noprofiles"
mkcfg "$C/noprof.yaml" --profiles "$C/noprofiles"
check_bad "$C/noprof.yaml" "$C/noprofiles" "no profiles"
ok "bad profiles refused (secret attribute, shared service account, none at all)"

# ---- bad listener URLs
for u in "http://127.0.0.1:389" "ldap://127.0.0.1:99999" "ldap://[::1" "ldap://:389"; do
	mkcfg "$C/url.yaml" --listener "$u"
	ln=$(line_of "$C/url.yaml" "$u")
	check_bad "$C/url.yaml" "$C/url.yaml:$ln:" "listeners[0]"
done
ok "bad listener URLs name listeners[0]: $LAST_MSG"
mkcfg "$C/srv.yaml"
sed -i "s#    - ldap://127.0.0.1:$SLAPD_PORT#    - ftp://dc1#" "$C/srv.yaml"
check_bad "$C/srv.yaml" "backend.servers" "ftp://dc1"
# a listener dedicated to a profile that does not exist
mkcfg "$C/lprof.yaml"
sed -i "s#^  - url: .*#&\n    profile: nosuch#" "$C/lprof.yaml"
check_bad "$C/lprof.yaml" "listeners[0].profile" "nosuch"
ok "bad backend server URL and unknown listener profile refused"

# ---- password file: missing, world/group readable, empty
mkcfg "$C/nopw.yaml" --password-file "$C/does-not-exist"
ln=$(line_of "$C/nopw.yaml" "password_file:")
check_bad "$C/nopw.yaml" "$C/nopw.yaml:$ln:" "backend.password_file" "$C/does-not-exist"
ok "missing password file: $LAST_MSG"
for mode in 644 640 604; do
	cp "$PW" "$C/pw.$mode"
	chmod "$mode" "$C/pw.$mode"
	mkcfg "$C/pwmode.yaml" --password-file "$C/pw.$mode"
	check_bad "$C/pwmode.yaml" "backend.password_file" "$C/pw.$mode" "readable by group or others"
done
ok "group/world-readable password files refused: $LAST_MSG"
(umask 077; : >"$C/pw.empty")
mkcfg "$C/pwempty.yaml" --password-file "$C/pw.empty"
check_bad "$C/pwempty.yaml" "backend.password_file" "no password"
mkcfg "$C/pwdir.yaml" --password-file "$C"
check_bad "$C/pwdir.yaml" "backend.password_file"
ok "empty password file and a directory refused"

# ---- other values
mkcfg "$C/lvl.yaml"
sed -i 's/^  level: info/  level: chatty/' "$C/lvl.yaml"
check_bad "$C/lvl.yaml" "$C/lvl.yaml:$(line_of "$C/lvl.yaml" "level: chatty"):" "log.level"
mkcfg "$C/num.yaml" --backend-line "  pool_size: many"
check_bad "$C/num.yaml" "$C/num.yaml:$(line_of "$C/num.yaml" "pool_size: many"):" "backend.pool_size"
mkcfg "$C/size.yaml"
sed -i 's/max_pdu_size: 1m/max_pdu_size: 12 parsecs/' "$C/size.yaml"
check_bad "$C/size.yaml" "limits.max_pdu_size"
mkcfg "$C/tlsl.yaml" --listener "ldaps://127.0.0.1:$PROXY_PORT2"
check_bad "$C/tlsl.yaml" "tls.certificate"
printf 'listeners:\n  - url: ldap://127.0.0.1:1\n backend: [\n' >"$C/syntax.yaml"
check_bad "$C/syntax.yaml" "$C/syntax.yaml:" "YAML"
check_bad "$C/missing-file.yaml" "$C/missing-file.yaml"
# TLS material that cannot be loaded
mkcfg "$C/nocert.yaml" --top-line "tls:" --top-line "  certificate: $C/no-such.crt" --top-line "  key: $SERVER_KEY"
check_bad "$C/nocert.yaml" "$C/no-such.crt"
mkcfg "$C/keymismatch.yaml" --top-line "tls:" --top-line "  certificate: $SERVER_CERT" --top-line "  key: $RIG_DIR/tls/ca.key"
check_bad "$C/keymismatch.yaml" "tls"
ok "bad log level, number, size, ldaps without a certificate, unloadable TLS files, YAML syntax, missing file refused"

# ---- metrics, audit, control, log: the operations sections
mkcfg "$C/metrics.yaml" --top-line "metrics:" --top-line "  listen: 0.0.0.0:9489"
ln=$(line_of "$C/metrics.yaml" "listen: 0.0.0.0")
check_bad "$C/metrics.yaml" "$C/metrics.yaml:$ln:" "metrics.listen" "not a loopback address"
mkcfg "$C/metrics2.yaml" --top-line "metrics:" --top-line "  listen: localhost"
check_bad "$C/metrics2.yaml" "metrics.listen" "HOST:PORT"
mkcfg "$C/audit1.yaml" --top-line "audit:" --top-line "  target: file"
ln=$(line_of "$C/audit1.yaml" "target: file")
check_bad "$C/audit1.yaml" "$C/audit1.yaml:$ln:" "audit.file" "needs the path"
mkcfg "$C/audit2.yaml" --top-line "audit:" --top-line "  format: xml"
ln=$(line_of "$C/audit2.yaml" "format: xml")
check_bad "$C/audit2.yaml" "$C/audit2.yaml:$ln:" "audit.format" "json or cef"
mkcfg "$C/audit3.yaml" --top-line "audit:" --top-line "  facility: kern"
check_bad "$C/audit3.yaml" "audit.facility" "authpriv"
mkcfg "$C/audit4.yaml" --top-line "audit:" --top-line "  target: file" --top-line "  file: relative.log"
check_bad "$C/audit4.yaml" "audit.file" "absolute path"
mkcfg "$C/ctl.yaml" --top-line "control:" --top-line "  socket: $C/c.sock" --top-line "  readonly_socket: $C/c.sock"
check_bad "$C/ctl.yaml" "control.readonly_socket" "must differ"
mkcfg "$C/ctl3.yaml" --top-line "control:" --top-line "  group: no-such-group-here"
check_bad "$C/ctl3.yaml" "control.group" "no group named 'no-such-group-here'"
mkcfg "$C/ctl2.yaml" --top-line "control:" --top-line "  readonly_mode: rw"
check_bad "$C/ctl2.yaml" "control.readonly_mode" "octal"
mkcfg "$C/opsok.yaml" --top-line "metrics:" --top-line "  listen: 127.0.0.1:9489" --top-line "audit:" \
	--top-line "  target: file" --top-line "  format: cef" --top-line "  file: $C/audit.log" \
	--top-line "control:" --top-line "  socket: $C/c.sock" --top-line "  readonly_socket: $C/r.sock"
check_ok "$C/opsok.yaml"
# an audit file that cannot be opened stops the start with the key named
mkcfg "$C/auditdir.yaml" --top-line "audit:" --top-line "  target: file" --top-line "  file: $C/no/such/dir/a.log"
rc=0
out=$(timeout 10 "$D" -f -c "$C/auditdir.yaml" 2>&1) || rc=$?
assert_eq 1 "$rc" "aldproxyd with an audit file it cannot open"
ln=$(line_of "$C/auditdir.yaml" "file: $C/no/such")
assert_contains "$out" "$C/auditdir.yaml:$ln: key 'audit.file': cannot open"
ok "metrics, audit, control and log sections: errors name file, line and key"

# ---- a real start with a broken file fails the same way, at once
rc=0
out=$(timeout 10 "$D" -f -c "$C/bogus.yaml" 2>&1) || rc=$?
assert_eq 1 "$rc" "aldproxyd -f with an unknown key: exit status"
assert_contains "$out" "backend.bogus_key"
ok "aldproxyd refuses to start with a broken configuration"

rig_proxy_stop || fail "aldproxyd did not stop cleanly"

if [ ${#CTL_MISMATCH[@]} -gt 0 ]; then
	printf '  %s\n' "${CTL_MISMATCH[@]}" >&2
	fail "aldproxyctl check accepted ${#CTL_MISMATCH[@]} configuration(s) that aldproxyd -t refuses (above)"
fi
ok "aldproxyctl check agrees with aldproxyd -t on every broken configuration"
test_pass
