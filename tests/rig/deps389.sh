#!/usr/bin/env bash
# deps389.sh — install what the rig needs to run the directory as a real 389
# Directory Server (RIG_BACKEND=389ds, tests/rig/ds389.sh) on Debian/Ubuntu,
# quietly and idempotently: nothing is done when every package is installed.
#
#   tests/rig/deps389.sh         # as root (or with sudo available)
#
# The Debian package creates no instance by itself (dscreate does that), but
# to be safe a temporary /usr/sbin/policy-rc.d forbids service starts during
# the install, and any system ns-slapd that runs from /etc/dirsrv afterwards
# (one a package script may have started) is stopped by its pid file only, so
# rig instances running in parallel (ns-slapd -D /tmp/aldrig.*) are left alone.
set -euo pipefail

# 389-ds-base: ns-slapd, dscreate, dsconf; python3-lib389: what dscreate runs;
# libnss3-tools: certutil, pk12util (the instance's NSS database).
PKGS=(389-ds-base python3-lib389 libnss3-tools openssl ldap-utils python3)

missing=()
while read -r pkg status; do
	[ "$status" = installed ] || missing+=("$pkg")
done < <(for p in "${PKGS[@]}"; do
	s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	echo "$p ${s:-absent}"
done)
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || { echo "deps389.sh: need root to install: ${missing[*]}" >&2; exit 1; }
	SUDO="sudo -n"
fi
export DEBIAN_FRONTEND=noninteractive

echo "deps389.sh: installing ${missing[*]}" >&2

policy=/usr/sbin/policy-rc.d
created_policy=0
cleanup() {
	if [ "$created_policy" = 1 ]; then $SUDO rm -f "$policy"; fi
}
trap cleanup EXIT
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\n# deps389.sh: no service starts during package installs\nexit 101\n' |
		$SUDO tee "$policy" >/dev/null
	$SUDO chmod 0755 "$policy"
	created_policy=1
fi

log=$(mktemp /tmp/deps389-apt.XXXXXX)
if ! { $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
       $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
		--no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
	cat "$log" >&2
	rm -f "$log"
	echo "deps389.sh: apt-get failed" >&2
	exit 1
fi
rm -f "$log"

# Stop any system instance (ns-slapd run from /etc/dirsrv/slapd-*) that a
# package script may have started: by pid file, and only if it is ns-slapd.
for pidfile in /run/dirsrv/slapd-*.pid /var/run/dirsrv/slapd-*.pid; do
	[ -r "$pidfile" ] || continue
	pid=$(cat "$pidfile" 2>/dev/null || true)
	if [ -n "$pid" ] && [ "$(cat /proc/"$pid"/comm 2>/dev/null || true)" = ns-slapd ]; then
		$SUDO kill "$pid" 2>/dev/null || true
	fi
done
exit 0
