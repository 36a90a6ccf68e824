#!/usr/bin/env bash
# test_abandon_restart.sh —
#  (a) AbandonRequest (lib/abandon.py, raw sockets): abandoning a big search
#      keeps the connection usable, frees paged connections, stray abandons are
#      ignored; the proxy logs no error or warning;
#  (b) the directory restarts while clients search: searches fail promptly
#      with unavailable (52) during the outage — never hang — and succeed again
#      within 10 s of slapd being back, on new connections (ldapsearch loop)
#      and on a client connection opened before the outage (lib/persist.py).
# directories: slapd 389ds
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../rig/rig.sh"
. "$here/lib/common.sh"

export RIG_PAGED_POOL_SIZE=${RIG_PAGED_POOL_SIZE:-4}
test_begin test_abandon_restart
rig_init
rig_certs
rig_slapd_start
rig_proxy_config
rig_proxy_start

# ---- (a) abandon
start_line=$(log_lines)
timeout 60 bash -c '. "$1/lib/common.sh"; py abandon.py' _ "$here" || fail "lib/abandon.py failed"
no_log_problems "$start_line"
ok "proxy log clean after the abandons"

# ---- (b) directory restart mid-run
W="$RIG_DIR/restart"
mkdir -p "$W"
STOP="$W/stop"
: >"$W/loop"
(
	while [ ! -e "$STOP" ]; do
		t0=$(date +%s.%N)
		rc=0
		timeout 15 ldapsearch -LLL -x -o nettimeout=10 -H "$PROXY_URL" -D "$SVC_DN" -w "$SVC_PW" \
			-b "$USERS_DN" '(uid=alice)' uid >"$W/last.out" 2>&1 || rc=$?
		if [ "$rc" = 0 ] && ! grep -q "^dn: uid=alice," "$W/last.out"; then rc=1000; fi
		echo "$t0 $(date +%s.%N) $rc" >>"$W/loop"
		sleep 0.1
	done
) &
loop_pid=$!
rig_track_pid "$loop_pid"
timeout 180 bash -c '. "$1/lib/common.sh"; py persist.py "$2" "$3"' _ "$here" "$W/persist" "$STOP" &
persist_pid=$!
rig_track_pid "$persist_pid"

sleep 1.5
[ -s "$W/loop" ] && [ -s "$W/persist" ] || fail "the search loops did not start"
t_stop=$(date +%s.%N)
rig_slapd_stop
# The outage lasts until both clients have seen it (3 searches each that
# started and ended while slapd was down), however slow the machine is.
outage_seen() { awk -v ts="$t_stop" -v now="$(date +%s.%N)" \
	'$1 > ts + 0.5 && $2 < now - 0.6 && $3 == 52 { n++ } END { exit !(n >= 3) }' "$1"; }
for ((i = 0; i < 600; i++)); do
	outage_seen "$W/loop" && outage_seen "$W/persist" && break
	sleep 0.1
done
t_back0=$(date +%s.%N)
rig_slapd_restart                         # slapd was stopped: this starts it, waits until it answers
t_back=$(date +%s.%N)
rig_log "slapd down $(awk -v a="$t_stop" -v b="$t_back0" 'BEGIN{printf "%.1f", b-a}') s, back at +$(awk -v a="$t_stop" -v b="$t_back" 'BEGIN{printf "%.1f", b-a}') s"
# run on until both loops have succeeded three times since slapd came back
# (the check below wants the first within 10 s and none failing after it)
recovered() { awk -v tb="$t_back" '$1 >= tb && $3 == 0 { n++ } END { exit !(n >= 3) }' "$1"; }
for ((i = 0; i < 600; i++)); do
	recovered "$W/loop" && recovered "$W/persist" && break
	sleep 0.1
done
touch "$STOP"
wait "$loop_pid" || true
rc=0
wait "$persist_pid" || rc=$?
[ "$rc" = 0 ] || { cat "$W/persist" >&2; fail "lib/persist.py: the long-lived connection broke (status $rc)"; }

# analyse.py-style checks in awk: FILE NAME
check_loop() {
	awk -v ts="$t_stop" -v tb="$t_back" -v name="$2" '
	{ s = $1; e = $2; rc = $3; n++
	  if (e - s > 5) { printf "%s: a search took %.1f s (rc %s)\n", name, e - s, rc; bad = 1 }
	  if (rc != 0 && rc != 52) { printf "%s: search at %.1f s gave rc %s (only 0 or 52 allowed)\n", name, s - ts, rc; bad = 1 }
	  if (e < ts && rc != 0) { printf "%s: search before the outage failed (rc %s)\n", name, rc; bad = 1 }
	  if (s > ts + 0.5 && e < tb - 0.5) { during++; if (rc == 52) fail52++; else if (rc == 0) { printf "%s: search at +%.1f s succeeded while slapd was down\n", name, s - ts; bad = 1 } }
	  if (s >= tb && rc == 0 && first_ok == "") first_ok = s
	  if (first_ok != "" && s > first_ok && rc != 0) { printf "%s: search at +%.1f s failed (rc %s) after recovery\n", name, s - ts, rc; bad = 1 }
	}
	END {
	  if (during < 3) { printf "%s: only %d searches during the outage\n", name, during; bad = 1 }
	  if (fail52 < 3) { printf "%s: only %d unavailable (52) answers during the outage\n", name, fail52; bad = 1 }
	  if (first_ok == "") { printf "%s: no successful search after slapd came back\n", name; bad = 1 }
	  else if (first_ok - tb > 10) { printf "%s: first success %.1f s after slapd came back\n", name, first_ok - tb; bad = 1 }
	  if (!bad) printf "%s: %d searches, %d during the outage all 52, first success %.1f s after slapd was back\n", name, n, during, first_ok - tb
	  exit bad
	}' "$1"
}
out=$(check_loop "$W/loop" "ldapsearch loop") || { echo "$out" >&2; fail "directory restart: new connections misbehaved"; }
ok "$out"
out=$(check_loop "$W/persist" "persistent connection") || { echo "$out" >&2; fail "directory restart: the long-lived connection misbehaved"; }
ok "$out"
assert_contains "$PROXY_LOG" "connection lost" "the proxy did not notice the directory going away"

# everything works again, paged searches too
out=$(proxy_search -b "$USERS_DN" -E pr=200/noprompt '(objectClass=person)' 1.1) || fail "paged search after the restart"
n=$(grep -c '^dn: ' <<<"$out" || true)
[ "$n" -ge 1000 ] || fail "paged search after the restart: $n entries"
out=$(ldapwhoami -x -H "$PROXY_URL" -D "uid=bob,$USERS_DN" -w Secret123) || fail "bind after the restart: $out"
ok "paged search and binds after the restart"

rig_proxy_stop || fail "aldproxyd did not stop cleanly"
test_pass
