#!/usr/bin/env bash
# test_paged.sh — paged results (RFC 2696) through aldproxy: python3-ldap3
# checks in lib/paged.py (complete and identical results, interleaved
# clients, the paged connection pool, abandoning with size 0), then
# `ldapsearch -E pr=50/noprompt` against a direct count.
# directories: slapd 389ds
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../rig/rig.sh"
. "$here/lib/common.sh"

export RIG_PAGED_POOL_SIZE=${RIG_PAGED_POOL_SIZE:-4}
test_begin test_paged
rig_init
rig_certs
rig_slapd_start
rig_proxy_config
rig_proxy_start

py paged.py || fail "lib/paged.py failed"

# ---- ldapsearch's own paging
W="$RIG_DIR/paged"
mkdir -p "$W"
proxy_search -b "$USERS_DN" -E pr=50/noprompt '(objectClass=person)' 1.1 >"$W/proxy" ||
	fail "ldapsearch -E pr=50/noprompt through the proxy failed"
direct_search -b "$USERS_DN" '(objectClass=person)' 1.1 >"$W/direct" || fail "direct search failed"
np=$(grep -c '^dn: ' "$W/proxy" || true)
nd=$(grep -c '^dn: ' "$W/direct" || true)
[ "$nd" -ge 1000 ] || fail "slapd returned only $nd users"
assert_eq "$nd" "$np" "ldapsearch -E pr=50 entry count through the proxy"
diff <(grep '^dn: ' "$W/direct" | sort) <(grep '^dn: ' "$W/proxy" | sort) >/dev/null ||
	fail "ldapsearch -E pr=50: DNs differ from slapd's"
# pr=50 really paged (the ldapsearch trailer shows the control per page)
proxy_search -b "$USERS_DN" -E pr=50/noprompt '(objectClass=person)' 1.1 -LL >"$W/proxy_ll" 2>&1 || true
# (389-ds adds "estimate=N" before the cookie)
npages=$(grep -c '^# pagedresults:.*cookie=' "$W/proxy_ll" || true)
[ "$npages" -ge 20 ] || fail "ldapsearch -E pr=50 saw $npages page cookies, expected >= 20"
ok "ldapsearch -E pr=50/noprompt: $np entries, $npages pages, same as slapd"

rig_proxy_stop || fail "aldproxyd did not stop cleanly"
test_pass
