#!/usr/bin/env bash
# deps.sh — install what the integration rig needs (Debian/Ubuntu), quietly
# and idempotently: nothing is done when every package is installed already.
#
#   tests/rig/deps.sh            # as root (or with sudo available)
#
# The slapd package must not start a system slapd on port 389: debconf is
# told to skip its default configuration, service starts are forbidden during
# the install (tests/rig/apt.sh), and any slapd the package did start is
# stopped afterwards (by its pid file only, so test slapds running in
# parallel are left alone).
set -euo pipefail
. "$(dirname "$0")/apt.sh"

PKGS=(slapd ldap-utils openssl python3 python3-ldap3 libnet-ldap-perl
      libio-socket-ssl-perl psmisc procps)

# No default database / configuration for slapd: the rig builds its own.
if ! dpkg-query -W -f='${db:Status-Status}' slapd 2>/dev/null | grep -qx installed; then
	echo "slapd slapd/no_configuration boolean true" | { [ "$(id -u)" -eq 0 ] && debconf-set-selections || sudo -n debconf-set-selections; }
fi
apt_install_missing deps.sh "${PKGS[@]}"
if [ "$APT_INSTALLED" = 1 ]; then
	${APT_SUDO:-} service slapd stop >/dev/null 2>&1 || true
	apt_stop_by_pidfile slapd /run/slapd/slapd.pid /var/run/slapd/slapd.pid
fi
