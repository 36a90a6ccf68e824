#!/usr/bin/env bash
# test_product_gitflic.sh — GitFlic (GitLab-like) through aldproxy with the
# shipped profiles/gitflic.yaml (native ALD Pro tree plus sAMAccountName and
# a computed userAccountControl): lib/product_gitflic.py replays GitFlic's
# logins (service bind, (uid=...) or (sAMAccountName=...) search, the user's
# bind on the same connection, the AD-mode disabled-bit check), the group
# sync and a paged user sync, and checks who logs in, the UID, the disabled
# bit, and counts against the directory's own.
# directories: slapd 389ds
set -euo pipefail
. "$(dirname "$0")/lib/product.sh"    # rig.sh, common.sh, prod_setup

P=gitflic
P_PW=GitflicSvc-Pass1
GROUP=zabbix-users        # stands for gitflic-users: alice, bob, carol (nested), dave, user0001-0010
# eve (locked) joins the group: her lock, not the group, must refuse her
directory() { prod_add_members "$GROUP" "$(udn eve)"; }
prod_setup "$P" "$P_PW" --directory directory --sed "s/$P-users/$GROUP/g"

py product_$P.py "$P" "$P_PW" "$GROUP" || fail "lib/product_$P.py failed"

rig_proxy_stop || fail "aldproxyd did not stop cleanly"
prod_pass
