#!/usr/bin/env bash
# depskdc.sh — install what the rig needs to run a private MIT KDC and SASL/
# GSSAPI binds to slapd (tests/rig/kdc.sh) on Debian/Ubuntu, quietly and
# idempotently: nothing is done when every package is installed already.
#
#   tests/rig/depskdc.sh         # as root (or with sudo available)
#
# No system KDC may start: service starts are forbidden during the install
# (tests/rig/apt.sh), and a system krb5kdc / kadmind a package script started
# anyway is stopped by its pid file only, so rig KDCs are left alone.
set -euo pipefail
. "$(dirname "$0")/apt.sh"

# krb5-kdc: krb5kdc, kdb5_util; krb5-admin-server: kadmin.local;
# krb5-user: kinit, klist, kdestroy;
# libsasl2-modules-gssapi-mit: the GSSAPI mechanism for slapd, ldap-utils and aldproxy.
apt_install_missing depskdc.sh krb5-kdc krb5-admin-server krb5-user libsasl2-modules-gssapi-mit
if [ "$APT_INSTALLED" = 1 ]; then
	${APT_SUDO:-} service krb5-kdc stop >/dev/null 2>&1 || true
	${APT_SUDO:-} service krb5-admin-server stop >/dev/null 2>&1 || true
	apt_stop_by_pidfile krb5kdc /run/krb5kdc.pid /var/run/krb5kdc.pid
	apt_stop_by_pidfile kadmind /run/kadmind.pid /var/run/kadmind.pid
fi
