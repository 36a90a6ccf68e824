#!/usr/bin/env bash
# depskdc.sh — install what the rig needs to run a private MIT KDC and SASL/
# GSSAPI binds to slapd (tests/rig/kdc.sh) on Debian/Ubuntu, quietly and
# idempotently: nothing is done when every package is installed already.
# The list is PKGS_KDC in tests/rig/packages.sh: krb5-kdc (krb5kdc,
# kdb5_util), krb5-admin-server (kadmin.local), krb5-user (kinit, klist,
# kdestroy), libsasl2-modules-gssapi-mit (the GSSAPI mechanism for slapd,
# ldap-utils and aldproxy).
#
#   tests/rig/depskdc.sh         # as root (or with sudo available)
#
# No system KDC may start: service starts are forbidden during the install
# (tests/rig/apt.sh), and a system krb5kdc / kadmind a package script started
# anyway is stopped by its pid file only, so rig KDCs are left alone.
set -euo pipefail
. "$(dirname "$0")/packages.sh"
. "$(dirname "$0")/apt.sh"

apt_install_missing depskdc.sh "${PKGS_KDC[@]}"
if [ "$APT_INSTALLED" = 1 ]; then
	apt_stop_package_daemons
fi
