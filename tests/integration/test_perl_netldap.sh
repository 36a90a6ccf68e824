#!/usr/bin/env bash
# test_perl_netldap.sh — Perl Net::LDAP / Net::LDAPS clients through aldproxy
# (lib/netldap.pl): StartTLS with certificate verification, service-account
# bind, searches, paging with Net::LDAP::Control::Paged, unbind; ldaps://.
# directories: slapd 389ds
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../rig/rig.sh"
. "$here/lib/common.sh"
need perl pl:Net::LDAP pl:IO::Socket::SSL

test_begin test_perl_netldap
rig_init
rig_certs
rig_slapd_start
rig_proxy_config
rig_proxy_start

timeout 60 perl "$here/lib/netldap.pl" || fail "lib/netldap.pl failed"
# the only TLS error the proxy saw is the client refusing its certificate
# (the deliberate wrong-CA attempt); every other session closed normally
bad=$(grep 'TLS error' "$PROXY_LOG" | grep -v 'alert unknown ca' || true)
[ -z "$bad" ] || fail "unexpected TLS errors in the proxy log:
$bad"
no_log_problems

rig_proxy_stop || fail "aldproxyd did not stop cleanly"
test_pass
