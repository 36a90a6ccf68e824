#!/usr/bin/env bash
# depskdc.sh — install what the rig needs to run a private MIT KDC and SASL/
# GSSAPI binds to slapd (tests/rig/kdc.sh) on Debian/Ubuntu, quietly and
# idempotently: nothing is done when every package is installed already.
#
#   tests/rig/depskdc.sh         # as root (or with sudo available)
#
# No system KDC may start: a temporary /usr/sbin/policy-rc.d forbids service
# starts during the install, and any system krb5kdc / kadmind a package script
# started anyway is stopped by its pid file only (/run/krb5kdc.pid, /run/kadmind.pid), so rig KDCs running in
# parallel (krb5kdc -n -P /tmp/aldrig.*/kdc/krb5kdc.pid) are left alone.
set -euo pipefail

# krb5-kdc: krb5kdc, kdb5_util; krb5-admin-server: kadmin.local;
# krb5-user: kinit, klist, kdestroy;
# libsasl2-modules-gssapi-mit: the GSSAPI mechanism for slapd and ldap-utils.
PKGS=(krb5-kdc krb5-admin-server krb5-user libsasl2-modules-gssapi-mit)

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
	command -v sudo >/dev/null || { echo "depskdc.sh: need root to install: ${missing[*]}" >&2; exit 1; }
	SUDO="sudo -n"
fi
export DEBIAN_FRONTEND=noninteractive

echo "depskdc.sh: installing ${missing[*]}" >&2

policy=/usr/sbin/policy-rc.d
created_policy=0
cleanup() {
	if [ "$created_policy" = 1 ]; then $SUDO rm -f "$policy"; fi
}
trap cleanup EXIT
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\n# depskdc.sh: no service starts during package installs\nexit 101\n' |
		$SUDO tee "$policy" >/dev/null
	$SUDO chmod 0755 "$policy"
	created_policy=1
fi

# krb5-config asks for a default realm and servers: the noninteractive
# frontend takes its defaults, which do not matter — the rig brings its own
# krb5.conf / kdc.conf (KRB5_CONFIG, KRB5_KDC_PROFILE) and never reads
# /etc/krb5.conf or /etc/krb5kdc.  No realm database is created by the
# packages, so the system KDC could not serve anyway.

log=$(mktemp /tmp/depskdc-apt.XXXXXX)
if ! { $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
       $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
		--no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
	cat "$log" >&2
	rm -f "$log"
	echo "depskdc.sh: apt-get failed" >&2
	exit 1
fi
rm -f "$log"

# Stop a system KDC / kadmind the packages may have started anyway: by pid
# file, and only if the pid really is that daemon.
$SUDO service krb5-kdc stop >/dev/null 2>&1 || true
$SUDO service krb5-admin-server stop >/dev/null 2>&1 || true
for pf in /run/krb5kdc.pid /var/run/krb5kdc.pid /run/kadmind.pid /var/run/kadmind.pid; do
	[ -r "$pf" ] || continue
	want=$(basename "$pf" .pid)
	pid=$(cat "$pf" 2>/dev/null || true)
	if [ -n "$pid" ] && [ "$(cat /proc/"$pid"/comm 2>/dev/null || true)" = "$want" ]; then
		$SUDO kill "$pid" 2>/dev/null || true
	fi
done
exit 0
