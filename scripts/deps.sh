#!/usr/bin/env bash
# deps.sh — install what building and testing aldproxy needs on Debian 12,
# idempotently (nothing happens when everything is present).  As root.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

PKGS=(build-essential cmake pkg-config libldap2-dev libevent-dev libssl-dev
      libkrb5-dev libsasl2-dev libyaml-dev libcmocka-dev)
missing=()
for p in "${PKGS[@]}"; do
	s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$s" = installed ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	[ "$(id -u)" -eq 0 ] || { echo "deps.sh: run as root to install: ${missing[*]}" >&2; exit 1; }
	echo "deps.sh: installing ${missing[*]}" >&2
	log=$(mktemp /tmp/aldproxy-apt.XXXXXX)
	if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
	       DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } \
	       >"$log" 2>&1; then
		cat "$log" >&2
		rm -f "$log"
		exit 1
	fi
	rm -f "$log"
fi
# the test rig's own packages: slapd, ldap-utils, python3-ldap3, Net::LDAP ...,
# 389 Directory Server (ALD Pro's server) and an MIT KDC
bash "$here/../tests/rig/deps.sh"
bash "$here/../tests/rig/deps389.sh"
bash "$here/../tests/rig/depskdc.sh"
