#!/usr/bin/env bash
# deps.sh — install what the integration rig needs (Debian/Ubuntu), quietly
# and idempotently: nothing is done when every package is installed already.
#
#   tests/rig/deps.sh            # as root (or with sudo available)
#
# The slapd package must not start a system slapd on port 389: debconf is
# told to skip its default configuration, a temporary /usr/sbin/policy-rc.d
# forbids service starts during the install, and any slapd the package did
# start is stopped afterwards (by its pid file only, so test slapds running
# in parallel are left alone).
set -euo pipefail

PKGS=(slapd ldap-utils openssl python3 python3-ldap3 libnet-ldap-perl
      libio-socket-ssl-perl psmisc procps)

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
	command -v sudo >/dev/null || { echo "deps.sh: need root to install: ${missing[*]}" >&2; exit 1; }
	SUDO="sudo -n"
fi
export DEBIAN_FRONTEND=noninteractive

echo "deps.sh: installing ${missing[*]}" >&2

policy=/usr/sbin/policy-rc.d
created_policy=0
cleanup() {
	if [ "$created_policy" = 1 ]; then $SUDO rm -f "$policy"; fi
}
trap cleanup EXIT
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\n# deps.sh: no service starts during package installs\nexit 101\n' |
		$SUDO tee "$policy" >/dev/null
	$SUDO chmod 0755 "$policy"
	created_policy=1
fi

# No default database / configuration for slapd: the rig builds its own.
if ! dpkg-query -W -f='${db:Status-Status}' slapd 2>/dev/null | grep -qx installed; then
	echo "slapd slapd/no_configuration boolean true" | $SUDO debconf-set-selections
fi

log=$(mktemp /tmp/deps-apt.XXXXXX)
if ! { $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
       $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
		--no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
	cat "$log" >&2
	rm -f "$log"
	echo "deps.sh: apt-get failed" >&2
	exit 1
fi
rm -f "$log"

# Stop a system slapd the package may have started anyway.
$SUDO service slapd stop >/dev/null 2>&1 || true
for pidfile in /run/slapd/slapd.pid /var/run/slapd/slapd.pid; do
	if [ -r "$pidfile" ]; then
		pid=$(cat "$pidfile" 2>/dev/null || true)
		if [ -n "$pid" ] && [ "$(cat /proc/"$pid"/comm 2>/dev/null || true)" = slapd ]; then
			$SUDO kill "$pid" 2>/dev/null || true
		fi
	fi
done
exit 0
