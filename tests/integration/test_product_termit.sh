#!/usr/bin/env bash
# test_product_termit.sh — Termit's logins through SSSD's ldap provider with
# the shipped profiles/termit.yaml, on a listener pinned to the profile (SSSD
# authenticates on connections of its own, so the DN alone would let the
# first profile by name accepting it decide; termit.yaml recommends a
# listener of its own): lib/product_termit.py replays getpwnam with SSSD's
# POSIX filter, rfc2307bis initgroups with nesting, the user's simple bind
# over StartTLS on a new connection, and paged enumeration, and checks the
# results against the same searches straight on the directory.
# directories: slapd 389ds
set -euo pipefail
. "$(dirname "$0")/lib/product.sh"    # rig.sh, common.sh, prod_setup

P=termit
P_PW=TermitSvc-Pass1
GROUP=zabbix-users        # stands for termit-users: alice, bob, carol (nested), dave, user0001-0010
# eve (locked) joins the group: her lock, not the group, must refuse her
directory() { prod_add_members "$GROUP" "$(udn eve)"; }
prod_setup "$P" "$P_PW" --directory directory --pin ldap --sed "s/$P-users/$GROUP/g"

py product_$P.py "$P" "$P_PW" "$GROUP" || fail "lib/product_$P.py failed"

rig_proxy_stop || fail "aldproxyd did not stop cleanly"
prod_pass
