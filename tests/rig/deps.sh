#!/usr/bin/env bash
# deps.sh — install what the integration rig needs (Debian/Ubuntu), quietly
# and idempotently: nothing is done when every package is installed already.
# The list is PKGS_RIG in tests/rig/packages.sh.
#
#   tests/rig/deps.sh            # as root (or with sudo available)
#
# The slapd package must not start a system slapd on port 389: debconf is
# told to skip its default configuration, service starts are forbidden during
# the install (tests/rig/apt.sh), and any slapd the package did start is
# stopped afterwards (by its pid file only, so test slapds running in
# parallel are left alone).
set -euo pipefail
. "$(dirname "$0")/packages.sh"
. "$(dirname "$0")/apt.sh"

apt_slapd_preseed
apt_install_missing deps.sh "${PKGS_RIG[@]}"
if [ "$APT_INSTALLED" = 1 ]; then
	apt_stop_package_daemons
fi
