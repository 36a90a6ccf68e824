#!/usr/bin/env bash
# test_product_gitflic.sh — GitFlic (GitLab-like) through aldproxy with the
# shipped profiles/gitflic.yaml (native ALD Pro tree plus sAMAccountName and
# a computed userAccountControl): lib/product_gitflic.py replays GitFlic's
# logins (service bind, (uid=...) or (sAMAccountName=...) search, the user's
# bind on the same connection, the AD-mode disabled-bit check), the group
# sync and a paged user sync, and checks who logs in, the UID, the disabled
# bit, and counts against the directory's own.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../rig/rig.sh"
. "$here/lib/common.sh"
. "$here/lib/product.sh"

P=gitflic
P_PW=GitflicSvc-Pass1
GROUP=zabbix-users        # stands for gitflic-users: alice, bob, carol (nested), dave, user0001-0010
test_begin test_product_$P
rig_init
rig_certs
rig_slapd_start
prod_sysaccount "$P" "$P_PW"
# eve (locked) joins the group: her lock, not the group, must refuse her
prod_add_members "$GROUP" "$(udn eve)"
rig_proxy_config
prod_profile "$P" "s/$P-users/$GROUP/g"
rig_proxy_start

py product_$P.py "$P" "$P_PW" "$GROUP" || fail "lib/product_$P.py failed"

rig_proxy_stop || fail "aldproxyd did not stop cleanly"
test_pass
