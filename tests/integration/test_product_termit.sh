#!/usr/bin/env bash
# test_product_termit.sh — Termit's logins through SSSD's ldap provider with
# the shipped profiles/termit.yaml, on a listener pinned to the profile (SSSD
# authenticates on connections of its own, so the DN alone would let the
# first profile by name accepting it decide; termit.yaml recommends a
# listener of its own): lib/product_termit.py replays getpwnam with SSSD's
# POSIX filter, rfc2307bis initgroups with nesting, the user's simple bind
# over StartTLS on a new connection, and paged enumeration, and checks the
# results against the same searches straight on the directory.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../rig/rig.sh"
. "$here/lib/common.sh"
. "$here/lib/product.sh"

P=termit
P_PW=TermitSvc-Pass1
GROUP=zabbix-users        # stands for termit-users: alice, bob, carol (nested), dave, user0001-0010
test_begin test_product_$P
rig_init
rig_certs
rig_slapd_start
prod_sysaccount "$P" "$P_PW"
# eve (locked) joins the group: her lock, not the group, must refuse her
prod_add_members "$GROUP" "$(udn eve)"
export RIG_EXTRA_LISTENERS
RIG_EXTRA_LISTENERS=$(prod_listener "$P" "ldap://127.0.0.1:$PROXY_PORT2")
export PINNED_URL="ldap://127.0.0.1:$PROXY_PORT2"
rig_proxy_config
prod_profile "$P" "s/$P-users/$GROUP/g"
rig_proxy_start

py product_$P.py "$P" "$P_PW" "$GROUP" || fail "lib/product_$P.py failed"

rig_proxy_stop || fail "aldproxyd did not stop cleanly"
test_pass
