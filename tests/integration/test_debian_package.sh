#!/usr/bin/env bash
# test_debian_package.sh — the Debian package and its systemd unit, end to end:
#   1. builds aldproxy_*.deb from the source tree with scripts/build-deb.sh
#      (into $RIG_DIR/dist; independent of build/ and of $ALDPROXYD),
#   2. checks its contents with dpkg-deb (binaries, unit, configuration as
#      conffiles, every product profile as an example under
#      /usr/share/aldproxy/profiles and none under /etc/aldproxy/profiles —
#      the quick start's demo.yaml nowhere —, the four man pages, Depends),
#   3. installs it on this machine with dpkg -i: the system user and group
#      aldproxy, /etc/aldproxy root:aldproxy 0750 / 0640, the unit not enabled,
#   4. checks the installed unit statically: systemd-analyze verify, and
#      systemd-analyze security --offline=yes exposure <= 2.5 (no systemd
#      runs as PID 1 here, so Type=notify itself is not exercised),
#   5. runs the INSTALLED aldproxyd -t on a configuration whose profiles_dir
#      is the installed /usr/share/aldproxy/profiles (>= 38 profiles must load),
#   6. starts the installed /usr/sbin/aldproxyd as the aldproxy user
#      (setpriv, like User=aldproxy) against the rig's slapd: an ldapsearch,
#      /usr/bin/aldproxyctl health and reload (the unit's ExecReload form),
#      then SIGTERM must end it with status 0,
#   7. on exit (trap), stops every process it started and purges the package
#      (dpkg --purge aldproxy: files, user and group gone), leaving the machine
#      as it was.
#
# Installs dpkg-dev, debhelper, fakeroot, systemd (systemd-analyze) and
# man-db with apt-get when missing (tests/rig/apt.sh).  It refuses to run
# when the aldproxy package or an aldproxy user is already present (its purge
# would remove them), except for a package left behind by an interrupted run
# of this test, which it purges first.  Runs hold a lock, so the two ctest
# rounds of scripts/test.sh never install at the same time.
#
# Building the package takes about 15 s (two cores), so each run — including
# the ASan round of scripts/test.sh, whose $ALDPROXYD this test does not use —
# builds its own package; nothing is cached.  The whole test takes well under
# a minute.
set -euo pipefail
. "$(dirname "$0")/../rig/rig.sh"
. "$REPO/tests/rig/apt.sh"

PKG=aldproxy
MARKER=/var/tmp/aldproxy-test-debian-package.installed
LOCK=/tmp/aldproxy-test-debian-package.lock

[ "$(id -u)" -eq 0 ] || fail "needs root: it installs and purges the aldproxy package"
command -v dpkg >/dev/null || fail "not a Debian system (no dpkg)"

. "$REPO/tests/rig/packages.sh"
apt_install_missing test_debian_package "${PKGS_PACKAGING[@]}" "${PKGS_BUILD[@]}" ||
	fail "cannot install the packaging tools"
need dpkg-buildpackage dh fakeroot systemd-analyze man

rig_init
rig_certs
rig_slapd_start --users 20

exec 9>"$LOCK"
flock -w 300 9 || fail "another test_debian_package run holds $LOCK"

pkg_status() { dpkg-query -W -f='${db:Status-Status}' "$PKG" 2>/dev/null || true; }

if [ -n "$(pkg_status)" ] && [ "$(pkg_status)" != not-installed ]; then
	if [ -e "$MARKER" ]; then
		rig_log "purging $PKG left behind by an interrupted run of this test"
		dpkg --purge "$PKG" >/dev/null 2>&1 || fail "cannot purge the $PKG left behind"
		rm -f "$MARKER"
	else
		fail "the $PKG package is installed on this machine; this test installs and purges it (dpkg --purge $PKG first)"
	fi
fi
if getent passwd aldproxy >/dev/null || getent group aldproxy >/dev/null; then
	fail "a user or group 'aldproxy' exists without the package; the package's purge would delete it"
fi

INSTALLED=0
_pkg_cleanup() {
	local rc=$?
	set +e
	if [ -n "${PROXY_PID:-}" ]; then
		_rig_kill "$PROXY_PID" 5
		PROXY_PID=
	fi
	if [ "$INSTALLED" = 1 ]; then
		local out
		if ! out=$(dpkg --purge "$PKG" 2>&1); then
			echo "$out" >&2
			echo "FAIL: dpkg --purge $PKG failed" >&2
			[ "$rc" != 0 ] || rc=1
		elif getent passwd aldproxy >/dev/null || getent group aldproxy >/dev/null ||
			[ -e /etc/aldproxy ] || [ -e /usr/sbin/aldproxyd ]; then
			echo "FAIL: after dpkg --purge: the aldproxy user/group or /etc/aldproxy or /usr/sbin/aldproxyd remains" >&2
			[ "$rc" != 0 ] || rc=1
		else
			rm -f "$MARKER"
			echo "ok - dpkg --purge removed the package, its files, the user and the group" >&2
		fi
		INSTALLED=0
	fi
	(exit "$rc")
	rig_cleanup
	exit "$rc"
}
trap '_pkg_cleanup' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

t0=$SECONDS

# ---------------------------------------------------------------- 1. build
# the profiles the package must carry: those of the tree build-deb.sh copies
# now (a file added to profiles/ while the package builds is not in it)
shipped_profiles=("$REPO"/profiles/*.yaml)
deb=$(bash "$REPO/scripts/build-deb.sh" "$RIG_DIR/dist" 2>"$RIG_DIR/build-deb.err" | grep "/${PKG}_[^/]*\.deb\$") ||
	{ cat "$RIG_DIR/build-deb.err" >&2; fail "scripts/build-deb.sh failed"; }
[ -f "$deb" ] || fail "no package: $deb"
echo "ok - scripts/build-deb.sh built $(basename "$deb") in $((SECONDS - t0)) s"

# ---------------------------------------------------------------- 2. contents
list=$(dpkg-deb -c "$deb" | awk '{print $NF}' | sed 's|^\./|/|')
# (grep -q reads here-strings below, not a pipe from printf: under pipefail a
# grep -q that matches in the first buffer and exits would fail the pipeline
# with printf's SIGPIPE once the list outgrows one write)
unit=$(printf '%s\n' "$list" | grep -E '^(/usr)?/lib/systemd/system/aldproxy\.service$' || true)
[ -n "$unit" ] || fail "the systemd unit is not in the package"
want=(/usr/sbin/aldproxyd /usr/bin/aldproxyctl /etc/aldproxy/aldproxy.yaml
	/usr/share/man/man8/aldproxyd.8.gz /usr/share/man/man8/aldproxyctl.8.gz
	/usr/share/man/man5/aldproxy.yaml.5.gz /usr/share/man/man5/aldproxy-profile.5.gz
	/usr/share/doc/aldproxy/copyright)
for p in "${shipped_profiles[@]}"; do
	[ "$(basename "$p")" = demo.yaml ] && continue
	want+=("/usr/share/aldproxy/profiles/$(basename "$p")")
done
for f in "${want[@]}" /etc/aldproxy/profiles/; do
	grep -qxF -- "$f" <<<"$list" || fail "$f is not in $(basename "$deb")"
done
# The profiles are examples: every *.yaml in /etc/aldproxy/profiles is loaded,
# so the package ships that directory empty — above all without the quick
# start's demo.yaml (a test suffix, no product), which it does not ship at all.
if active=$(printf '%s\n' "$list" | grep -E '^/etc/aldproxy/profiles/.+'); then
	fail "the package installs active profiles into /etc/aldproxy/profiles: $(echo $active)"
fi
if demo=$(printf '%s\n' "$list" | grep -E '/demo\.yaml$'); then
	fail "the package ships the quick start's demo profile: $(echo $demo)"
fi
conffiles=$(dpkg-deb --ctrl-tarfile "$deb" | tar -xOf - ./conffiles)
for f in "${want[@]}"; do
	case "$f" in /etc/*) grep -qxF -- "$f" <<<"$conffiles" || fail "$f is not a conffile" ;; esac
done
depends=$(dpkg-deb -f "$deb" Depends)
assert_contains "$depends" "adduser"
assert_contains "$depends" "libsasl2-modules-gssapi-mit"
assert_contains "$depends" "libldap-2"
nprof=$(printf '%s\n' "$list" | grep -c '^/usr/share/aldproxy/profiles/.*\.yaml$')
echo "ok - dpkg-deb -c: binaries, $unit, aldproxy.yaml (conffile), $nprof example profiles in /usr/share/aldproxy/profiles, /etc/aldproxy/profiles empty, no demo.yaml, 4 man pages; Depends: adduser, gssapi module"

# ---------------------------------------------------------------- 3. install
touch "$MARKER"
INSTALLED=1
if ! out=$(DEBIAN_FRONTEND=noninteractive dpkg -i "$deb" 2>&1); then
	out2=$(DEBIAN_FRONTEND=noninteractive apt-get -f install -y -qq -o DPkg::Lock::Timeout=120 2>&1) ||
		{ printf '%s\n%s\n' "$out" "$out2" >&2; fail "dpkg -i / apt-get -f install failed"; }
fi
assert_eq installed "$(pkg_status)" "package status after dpkg -i"
for f in /usr/sbin/aldproxyd /usr/bin/aldproxyctl; do
	[ -x "$f" ] || fail "$f not installed"
done
[ -f "$unit" ] || fail "$unit not installed"

getent passwd aldproxy >/dev/null || fail "no user aldproxy after install"
IFS=: read -r _ _ uid gid _ home shell < <(getent passwd aldproxy)
[ "$uid" -lt 1000 ] || fail "aldproxy is not a system user (uid $uid)"
assert_eq "$(getent group aldproxy | cut -d: -f3)" "$gid" "aldproxy's primary group is not aldproxy"
assert_eq /nonexistent "$home" "aldproxy's home"
case "$shell" in */nologin | */false) ;; *) fail "aldproxy's shell is $shell" ;; esac
assert_eq "750 root:aldproxy" "$(stat -c '%a %U:%G' /etc/aldproxy)" "/etc/aldproxy mode/owner"
assert_eq "640 root:aldproxy" "$(stat -c '%a %U:%G' /etc/aldproxy/aldproxy.yaml)" "aldproxy.yaml mode/owner"
assert_eq "750 root:aldproxy" "$(stat -c '%a %U:%G' /etc/aldproxy/profiles)" "profiles/ mode/owner"
[ -z "$(find /etc/aldproxy/profiles -mindepth 1 -print -quit)" ] ||
	fail "/etc/aldproxy/profiles is not empty after install: $(ls /etc/aldproxy/profiles)"
assert_eq "644 root:root" "$(stat -c '%a %U:%G' /usr/share/aldproxy/profiles/zabbix.yaml)" "example profile mode/owner"
[ ! -e /etc/systemd/system/multi-user.target.wants/aldproxy.service ] ||
	fail "the unit was enabled on install"
for m in aldproxyd.8 aldproxyctl.8 aldproxy.yaml.5 aldproxy-profile.5; do
	sec=${m##*.}
	p=$(man -w "$sec" "${m%.*}" 2>/dev/null) || p=
	[ -n "$p" ] || p=$(ls /usr/share/man/man"$sec"/"$m"* 2>/dev/null || true)
	[ -f "$p" ] || fail "man page $m not installed"
done
echo "ok - dpkg -i: system user/group aldproxy (uid $uid, /nonexistent, $shell), /etc/aldproxy root:aldproxy 0750/0640, /etc/aldproxy/profiles empty, unit not enabled, man -w aldproxy-profile: $(man -w aldproxy-profile 2>/dev/null || echo present)"

# ---------------------------------------------------------------- 4. the unit
out=$(systemd-analyze verify "$unit" 2>&1) || { echo "$out" >&2; fail "systemd-analyze verify $unit"; }
# warnings about this unit fail the test; anything else the host's own
# units make systemd-analyze say is only shown
if grep -qi aldproxy <<<"$out"; then
	echo "$out" >&2
	fail "systemd-analyze verify warns about $unit"
fi
[ -z "$out" ] || printf 'systemd-analyze verify (not about aldproxy): %s\n' "$out" >&2
sec=$(systemd-analyze security --offline=yes --no-pager "$unit" 2>&1) ||
	{ echo "$sec" >&2; fail "systemd-analyze security --offline=yes $unit"; }
score=$(printf '%s\n' "$sec" | sed -n 's/.*Overall exposure level for aldproxy.service: \([0-9.]*\).*/\1/p')
[ -n "$score" ] || { echo "$sec" | tail -n 5 >&2; fail "no exposure level in systemd-analyze security output"; }
awk -v s="$score" 'BEGIN { exit !(s <= 2.5) }' || { echo "$sec" | grep '✗' >&2; fail "exposure $score > 2.5"; }
for d in "Type=notify" "NotifyAccess=main" "WatchdogSec=30s" \
	"ExecStartPre=/usr/sbin/aldproxyd -t -c /etc/aldproxy/aldproxy.yaml" \
	"ExecStart=/usr/sbin/aldproxyd -f -c /etc/aldproxy/aldproxy.yaml" \
	"ExecReload=/usr/bin/aldproxyctl -s /run/aldproxy/control.sock reload" \
	"User=aldproxy" "Group=aldproxy" "RuntimeDirectory=aldproxy" "LogsDirectory=aldproxy" \
	"AmbientCapabilities=CAP_NET_BIND_SERVICE" "ProtectSystem=strict" "TimeoutStopSec=15s"; do
	grep -qxF -- "$d" "$unit" || fail "$unit lacks '$d'"
done
! grep -q "^PrivateUsers=" "$unit" || fail "$unit sets PrivateUsers= (breaks binding ports < 1024)"
echo "ok - $unit: systemd-analyze verify clean, security --offline exposure $score (<= 2.5)"

# ---------------------------------------------------------------- 5. installed profiles
rig_proxy_config
sed "s|^profiles_dir: .*|profiles_dir: /usr/share/aldproxy/profiles|" "$PROXY_CONFIG" >"$RIG_DIR/installed-profiles.yaml"
assert_contains "$RIG_DIR/installed-profiles.yaml" "profiles_dir: /usr/share/aldproxy/profiles"
out=$(/usr/sbin/aldproxyd -t -c "$RIG_DIR/installed-profiles.yaml" 2>&1) || { echo "$out" >&2; fail "aldproxyd -t with /usr/share/aldproxy/profiles"; }
assert_contains "$out" "configuration OK"
n=$(printf '%s\n' "$out" | sed -n 's/.* \([0-9][0-9]*\) profile(s).*/\1/p')
[ "${n:-0}" -ge 38 ] || fail "expected >= 38 profiles from /usr/share/aldproxy/profiles: $out"
echo "ok - installed aldproxyd -t loads the $n example profiles: $out"

# ---------------------------------------------------------------- 6. run it as aldproxy
# Like User=aldproxy under systemd: its own directory (RuntimeDirectory-like)
# with the configuration, TLS material and password readable by aldproxy only.
SVC="$RIG_DIR/svc"
chmod 0711 "$RIG_DIR"
install -d -m 0750 -o aldproxy -g aldproxy "$SVC" "$SVC/tls" "$SVC/profiles"
install -m 0644 -o aldproxy -g aldproxy "$SERVER_CERT" "$CA_FILE" "$SVC/tls/"
install -m 0600 -o aldproxy -g aldproxy "$SERVER_KEY" "$SVC/tls/"
install -m 0600 -o aldproxy -g aldproxy "$RIG_DIR/backend.password" "$SVC/backend.password"
install -m 0640 -o root -g aldproxy "$RIG_DIR/profiles/demo.yaml" "$SVC/profiles/demo.yaml"
# every rig path moves to $SVC: the inputs copied above, the outputs
# (control socket, audit file) written there by aldproxy
sed -e "s|$RIG_DIR/|$SVC/|g" "$PROXY_CONFIG" >"$SVC/aldproxy.yaml"
chown root:aldproxy "$SVC/aldproxy.yaml"
chmod 0640 "$SVC/aldproxy.yaml"
assert_contains "$SVC/aldproxy.yaml" "profiles_dir: $SVC/profiles"
assert_contains "$SVC/aldproxy.yaml" "password_file: $SVC/backend.password"
cat >"$RIG_DIR/as-aldproxy" <<'EOF'
#!/bin/sh
# run a command as aldproxy:aldproxy (the unit's User=/Group=), umask 0027
umask 0027
exec setpriv --reuid=aldproxy --regid=aldproxy --init-groups --inh-caps=-all -- "$@"
EOF
cat >"$RIG_DIR/aldproxyd-as-aldproxy" <<EOF
#!/bin/sh
exec "$RIG_DIR/as-aldproxy" /usr/sbin/aldproxyd "\$@"
EOF
chmod 0755 "$RIG_DIR/as-aldproxy" "$RIG_DIR/aldproxyd-as-aldproxy"

# ExecStartPre, as the unit runs it
out=$("$RIG_DIR/as-aldproxy" /usr/sbin/aldproxyd -t -c "$SVC/aldproxy.yaml" 2>&1) ||
	{ echo "$out" >&2; fail "aldproxyd -t as aldproxy"; }
assert_contains "$out" "configuration OK"

PROXY_CONFIG="$SVC/aldproxy.yaml" ALDPROXYD="$RIG_DIR/aldproxyd-as-aldproxy" rig_proxy_start
assert_eq aldproxy "$(ps -o user= -p "$PROXY_PID" | tr -d ' ')" "aldproxyd's user"
assert_eq "$(readlink -f /usr/sbin/aldproxyd)" "$(readlink -f "/proc/$PROXY_PID/exe")" "running binary"
SOCK="$SVC/control.sock"
[ -S "$SOCK" ] || fail "no control socket $SOCK"
assert_eq aldproxy "$(stat -c %U "$SOCK")" "control socket owner"

res=$(ldapsearch -x -LLL -H "$PROXY_URL" -D "$SVC_DN" -w "$SVC_PW" -b "$USERS_DN" "(uid=alice)" uid 2>&1) ||
	fail "ldapsearch through the installed aldproxyd: $res"
assert_contains "$res" "uid: alice"
out=$(/usr/bin/aldproxyctl -s "$SOCK" health 2>&1) || fail "aldproxyctl health exit $?: $out"
assert_contains "$out" "healthy"
# ExecReload, as the unit runs it (as aldproxy, over the admin socket)
out=$("$RIG_DIR/as-aldproxy" /usr/bin/aldproxyctl -s "$SOCK" reload 2>&1) ||
	fail "aldproxyctl -s SOCKET reload as aldproxy exit $?: $out"
res=$(ldapsearch -x -LLL -H "$PROXY_URL" -D "$SVC_DN" -w "$SVC_PW" -b "$USERS_DN" "(uid=bob)" uid 2>&1) ||
	fail "ldapsearch after reload: $res"
assert_contains "$res" "uid: bob"
if grep -q "^audit:" "$SVC/aldproxy.yaml" && grep -q "^  file: $SVC/" "$SVC/aldproxy.yaml"; then
	af=$(sed -n "s|^  file: \($SVC/.*\)|\1|p" "$SVC/aldproxy.yaml" | head -n 1)
	[ -f "$af" ] || fail "no audit file $af written by aldproxyd as aldproxy"
	assert_eq aldproxy "$(stat -c %U "$af")" "audit file owner"
fi
rig_proxy_stop || fail "the installed aldproxyd did not exit 0 on SIGTERM"
echo "ok - installed aldproxyd as user aldproxy: ldapsearch, aldproxyctl health and reload, SIGTERM exit 0"

echo "PASS test_debian_package ($((SECONDS - t0)) s after the rig was up)"
