#!/usr/bin/env bash
# deps.sh — install everything building aldproxy and running every test
# needs on Debian 12, quietly and idempotently (nothing happens when all is
# present).  As root.  The packages are declared in one place,
# tests/rig/packages.sh; this installs all of its groups, or with
# `--run` only what building and running the demo directory needs
# (scripts/quickstart.sh, the benchmarks).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
rig=$here/../tests/rig
. "$rig/packages.sh"
. "$rig/apt.sh"

# No default database / configuration for slapd: the rig builds its own.
apt_slapd_preseed
if [ "${1:-}" = --run ]; then
	apt_install_missing deps.sh "${PKGS_BUILD[@]}" "${PKGS_RIG[@]}" "${PKGS_389[@]}" "${PKGS_KDC[@]}"
else
	apt_install_missing deps.sh "${PKGS_ALL[@]}"
fi
if [ "$APT_INSTALLED" = 1 ]; then
	apt_stop_package_daemons
fi
