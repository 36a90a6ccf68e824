#!/usr/bin/env bash
# test_policy_differential.sh — differential test of aldproxy's policy: it
# "only narrows" (docs/security.md, threat model 1).  Every shipped profile
# (profiles/*.yaml, installed with product.sh's prod_profile: only the suffix
# its header says to replace is changed) is loaded into one aldproxyd; for
# each, lib/differential.py sends a seeded random stream of search requests
# (bases inside, outside and at the edge of the profile's tree, the compat
# tree, cn=etc, missing and malformed DNs; every scope; every filter type with
# aliases, OIDs, options, secrets, DN values, escapes and invalid UTF-8;
# attribute lists with *, +, 1.1, secrets and malformed names; 40 known
# controls, critical or not; a few malformed BER requests) through aldproxy
# bound as the profile's service account, and the same request in real terms
# straight to the directory as aldproxy's own identity.  An oracle written in
# the test applies the profile's rules to the direct answer; aldproxy's answer
# must stay inside it (entries, attribute names, values), answer 12 to
# critical controls other than paged results and 2 to malformed attribute
# descriptions, answer an invisible base like a missing one, carry no control
# but paged results, never hang (10 s) and close a connection only after a
# Notice of Disconnection for malformed BER.  Stricter answers are fine.
# lib/differential.py's header describes the oracle in full.
#
# Knobs:
#   DIFF_SEED=N        the seed (default: random, printed); replays a run
#   DIFF_REQUESTS=N    requests in all, spread over the profiles (default 40000 on
#                      slapd, 10000 on 389-ds: the whole test takes ~25-35 s on
#                      slapd, ~45-60 s on 389-ds, two restarts of it included)
#   DIFF_PROFILES=a,b  only these profiles
#   DIFF_ONLY=P:I      only request I of profile P, printed in full with both answers
#   DIFF_REPORT=FILE   every violation as JSON
#   RIG_BACKEND=389ds  against 389 Directory Server instead of slapd
#   DIFF_MAX_RESTARTS  how often the directory may die and be restarted (default 6)
# A long run (~2 min per 200000 requests on slapd, per 40000 on 389-ds):
#   DIFF_REQUESTS=200000 DIFF_SEED=20250101 bash tests/integration/test_policy_differential.sh
#   DIFF_REQUESTS=200000 DIFF_SEED=20250101 RIG_BACKEND=389ds bash tests/integration/test_policy_differential.sh
# A failure prints, per kind of violation, one example with its replay line:
#   DIFF_SEED=... DIFF_ONLY=zabbix:17 RIG_BACKEND=slapd bash tests/integration/test_policy_differential.sh
# directories: slapd 389ds
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../rig/rig.sh"
. "$here/lib/common.sh"
. "$here/lib/product.sh"

test_begin test_policy_differential
need py:yaml py:ldap3
export DIFF_SEED=${DIFF_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
# the defaults fit well within 90 s per server (389-ds answers ~5x slower than slapd)
if [ "$RIG_BACKEND" = 389ds ]; then
	export DIFF_REQUESTS=${DIFF_REQUESTS:-10000}
else
	export DIFF_REQUESTS=${DIFF_REQUESTS:-40000}
fi
export DIFF_USERS=40     # a small tree: subtree answers stay cheap to compare
echo "# test_policy_differential: DIFF_SEED=$DIFF_SEED DIFF_REQUESTS=$DIFF_REQUESTS RIG_BACKEND=$RIG_BACKEND"

rig_init
rig_certs
# 389-ds shows aldproxy's identity its own userPassword, as slapd's ACL does:
# a secret the proxy could leak
export RIG_389_SELF_READS_PASSWORD=1
rig_slapd_start --users "$DIFF_USERS"
rig_proxy_config
shopt -s nullglob
shipped=("$REPO"/profiles/*.yaml)
shopt -u nullglob
[ ${#shipped[@]} -gt 0 ] || fail "no shipped profiles in $REPO/profiles"
for f in "${shipped[@]}"; do
	prod_profile "$(basename "$f" .yaml)"
done
ok "${#shipped[@]} shipped profiles installed"
py differential.py setup || fail "lib/differential.py setup failed"
rig_proxy_start

# The oracle's self-test: the same stream sent straight to the directory (which
# applies no profile) must draw its objections, or the oracle proves nothing.
if [ -z "${DIFF_ONLY:-}" ]; then
	DIFF_SELFTEST=1 DIFF_SEED=20250101 DIFF_REQUESTS=900 DIFF_PROFILES=zabbix,foreman,keycloak-freeipa,freeipa-native,mikopbx \
		DIFF_SELFTEST_EXPECT="secret attribute returned,invisible entry returned,attribute the profile does not allow,entry despite a refusal,entry outside search_base,memberOf not cleaned (groups_only),invisible base answers unlike a missing one,DN value names an invisible entry,entry selected by a hidden value" \
		py differential.py run | grep -E '^(ok|not ok|# self-test)' || fail "the oracle's self-test failed (above)"
fi

export DIFF_REPORT=${DIFF_REPORT:-$RIG_DIR/differential.json}
# A request that kills the directory (aldproxy forwarded it) makes differential.py
# exit 4 with its state saved: the directory is restarted and the run resumes
# (the request is reported, and requests of the same kind are not sent again).
export DIFF_STATE="$RIG_DIR/differential.state"
restarts=0
while :; do
	rc=0
	py differential.py run || rc=$?
	[ "$rc" = 4 ] || break
	restarts=$((restarts + 1))
	[ "$restarts" -le "${DIFF_MAX_RESTARTS:-6}" ] || { rc=3; echo "# the directory died $restarts times: run stopped"; break; }
	rig_log "the directory died: restarting it ($restarts) and resuming"
	rig_slapd_restart
	for ((i = 0; i < 150; i++)); do   # aldproxy reconnects with backoff (reconnect_max 1 s)
		timeout 3 ldapwhoami -x -H "$PROXY_URL" -D "$SVC_DN" -w "$SVC_PW" -o nettimeout=2 >/dev/null 2>&1 && break
		sleep 0.1
	done
	sleep 1.5   # the shared pool too
done
if [ "$rc" != 0 ]; then
	rig_proxy_stop || true
	[ "$rc" = 3 ] || fail "lib/differential.py run failed (exit $rc)"
	fail "aldproxy's answers went beyond the oracle's (above; seed $DIFF_SEED; every violation in $DIFF_REPORT, kept with RIG_KEEP=1)"
fi
rig_proxy_stop || fail "aldproxyd did not stop cleanly"
test_pass
