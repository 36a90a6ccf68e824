#!/usr/bin/env bash
# deps389.sh — install what the rig needs to run the directory as a real 389
# Directory Server (RIG_BACKEND=389ds, tests/rig/ds389.sh) on Debian/Ubuntu,
# quietly and idempotently: nothing is done when every package is installed.
# The list is PKGS_389 in tests/rig/packages.sh: 389-ds-base (ns-slapd,
# dscreate, dsconf), python3-lib389 (what dscreate runs), libnss3-tools
# (certutil, pk12util for the instance's NSS database).
#
#   tests/rig/deps389.sh         # as root (or with sudo available)
#
# The Debian package creates no instance by itself (dscreate does that), but
# service starts are forbidden during the install (tests/rig/apt.sh), and any
# system ns-slapd running from /etc/dirsrv afterwards is stopped by its pid
# file only, so rig instances running in parallel are left alone.
set -euo pipefail
. "$(dirname "$0")/packages.sh"
. "$(dirname "$0")/apt.sh"

apt_install_missing deps389.sh "${PKGS_389[@]}"
if [ "$APT_INSTALLED" = 1 ]; then
	apt_stop_package_daemons
fi
