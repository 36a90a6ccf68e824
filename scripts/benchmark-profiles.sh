#!/usr/bin/env bash
# benchmark-profiles.sh — what rewriting costs: search throughput and
# aldproxyd CPU per search for plain pass-through (the demo profile), the
# shipped Zabbix profile (group filter, memberOf cleaning, allowlist) and
# the shipped AD-emulation profile (virtual tree, maps, computed AD
# attributes), in one run against the test directory.
#
#   BENCH_SECONDS=10 ./scripts/benchmark-profiles.sh
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash scripts/deps.sh --run
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" >/dev/null

export RIG_SKIP_DEPS=1 RIG_LOG_LEVEL=warning RIG_POOL_SIZE=4 RIG_SLAPD_DEBUG=0
# shellcheck source=../tests/rig/rig.sh
. "$top/tests/rig/rig.sh"
rig_init
rig_certs
rig_slapd_start
rig_proxy_config
for p in zabbix active-directory; do
	sed -e 's/dc=ald,dc=example/dc=ald,dc=test/g' -e "s/$p-users/zabbix-users/g" \
		"profiles/$p.yaml" >"$RIG_DIR/profiles/$p.yaml"
	ldapadd -x -H "$SLAPD_URL" -D "$DM_DN" -w "$DM_PW" >/dev/null <<LDIF
dn: uid=$p,cn=sysaccounts,cn=etc,$BASE_DN
objectClass: account
objectClass: simpleSecurityObject
uid: $p
userPassword: BenchPass1
LDIF
done
rig_proxy_start

secs=${BENCH_SECONDS:-10}
conns=${BENCH_CONNS:-16}
depth=${BENCH_DEPTH:-8}
bench=$top/build/bench/ldapbench
ticks=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# users user0001..user0010 are members of zabbix-users (nested), so every search finds one entry
run() {   # label binddn base filter attrs
	local label=$1 dn=$2 base=$3 filter=$4 attrs=$5 before after json ops
	before=$(cpu "$PROXY_PID")
	json=$("$bench" -H "$PROXY_URL" -m search -c "$conns" -d "$depth" -t "$secs" -D "$dn" -w "$6" \
		-b "$base" -f "$filter" -a "$attrs" -u 10 -o json)
	after=$(cpu "$PROXY_PID")
	ops=$(sed -n 's/.*"ops":\([0-9]*\).*/\1/p' <<<"$json")
	echo "$json" >&2
	"$RIG_PYTHON" - "$label" "$json" "$before" "$after" "$ticks" "$ops" <<'PY'
import json, sys
label, j, b, a, t, ops = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
cpu_us = (a - b) / t * 1e6 / max(ops, 1)
print(f"| {label} | {j['ops_per_sec']:.0f} | {j['p50_us']:.0f} | {j['p99_us']:.0f} | {cpu_us:.1f} | {j['errors']} |")
PY
}

echo "| profile | ops/s | p50 µs | p99 µs | aldproxyd CPU µs/search | errors |"
echo "|---|---:|---:|---:|---:|---:|"
run "pass-through (demo)" "$SVC_DN" "$USERS_DN" "(uid=user%04d)" "uid,cn,mail" "$SVC_PW"
run "zabbix" "uid=zabbix,cn=sysaccounts,cn=etc,$BASE_DN" "$USERS_DN" "(uid=user%04d)" \
	"uid,cn,mail,memberOf" BenchPass1
run "active-directory" "uid=active-directory,cn=sysaccounts,cn=etc,$BASE_DN" "DC=example,DC=com" \
	"(&(objectCategory=person)(objectClass=user)(sAMAccountName=user%04d))" \
	"sAMAccountName,userPrincipalName,mail,memberOf,objectGUID,userAccountControl" BenchPass1
rig_proxy_stop
