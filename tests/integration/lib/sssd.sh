# shellcheck shell=bash
# sssd.sh — a real SSSD (Debian's sssd-ldap) for tests/integration/test_sssd.sh,
# run as root in the foreground of a background job with a config file of
# its own in $RIG_DIR.  SSSD keeps its sockets and caches in fixed places
# (/var/lib/sss/pipes, /var/lib/sss/db, /var/lib/sss/mc, /run/sssd.pid), so:
# one test SSSD at a time on the machine (a lock), none may be running already
# (a system SSSD is never touched: the test fails naming it), and what was
# in those directories before is put back at exit.  The machine's
# /etc/nsswitch.conf is not used: queries go through `getent -s sss`.
#
#   sssd_begin                lock, refuse a running sssd, save /var/lib/sss
#                             state, install the exit trap (before rig_cleanup)
#   sssd_conf FILE KEY=VALUE...   write FILE (0600, root) with [sssd], [nss],
#                             [pam] and [domain/aldtest] made of the pairs
#   sssd_start FILE           empty caches, start sssd -i -c FILE, wait for
#                             the nss and pam sockets
#   sssd_stop                 stop it (and its responders/providers)
#   sssd_pam_service          /etc/pam.d/$SSSD_PAM_SERVICE: auth + account pam_sss
#   sssd_login USER PASSWORD  pamtester SERVICE USER authenticate acct_mgmt,
#                             the password on stdin; pamtester's output on
#                             stdout, its exit status returned
#
# Set: SSSD_PID SSSD_LOG ($RIG_DIR/sssd.log) SSSD_PAM_SERVICE.

SSSD_LOCK=/run/lock/aldproxy-test-sssd.lock
SSSD_PAM_SERVICE=aldproxy-sssd-test
SSSD_STATE_DIRS=(/var/lib/sss/db /var/lib/sss/mc)
SSSD_PID=
SSSD_PAM_CREATED=0
SSSD_STATE_SAVED=0

sssd_begin() {
	[ "$(id -u)" = 0 ] || fail "test_sssd needs root: sssd and its PAM and NSS sockets are the machine's"
	SSSD_LOG="$RIG_DIR/sssd.log"
	exec {SSSD_LOCK_FD}>"$SSSD_LOCK"
	flock -w 300 "$SSSD_LOCK_FD" || fail "another test's sssd held $SSSD_LOCK for 300 s"
	local p
	p=$(pgrep -x sssd || true)
	if [ -n "$p" ]; then
		fail "an sssd already runs on this machine (pid ${p//$'\n'/ }): it owns /var/lib/sss/pipes, where this" \
			"test's sssd would answer; stop it (service sssd stop) and run the test again"
	fi
	if [ -e /etc/pam.d/$SSSD_PAM_SERVICE ]; then
		fail "/etc/pam.d/$SSSD_PAM_SERVICE exists (left by a killed run?): check and remove it"
	fi
	local d
	mkdir -p "$RIG_DIR/sss-state"
	for d in "${SSSD_STATE_DIRS[@]}"; do
		mkdir -p "$d"
		tar -C "$d" -cf "$RIG_DIR/sss-state/$(basename "$d").tar" . || fail "cannot save $d"
	done
	find /var/lib/sss/pipes -mindepth 1 \( -type s -o -type l \) | sort >"$RIG_DIR/sss-state/pipes.before"
	SSSD_STATE_SAVED=1
	# ours first, then the rig's (which stops the proxy and the directory and
	# removes RIG_DIR); rig_cleanup reads the exit status from $?
	# shellcheck disable=SC2154  # _sssd_rc is set inside the trap
	# errexit off in the trap: sssd_cleanup and `(exit RC)` return RC, and
	# under set -e that ended the trap before rig_cleanup, leaving slapd and
	# aldproxyd running after a failed test
	trap '_sssd_rc=$?; set +e; sssd_cleanup $_sssd_rc; (exit $_sssd_rc); rig_cleanup' EXIT
	trap 'set +e; sssd_cleanup 130; (exit 130); rig_cleanup; trap - EXIT; exit 130' INT
	trap 'set +e; sssd_cleanup 143; (exit 143); rig_cleanup; trap - EXIT; exit 143' TERM
}

sssd_cleanup() {   # EXIT_STATUS
	local rc=${1:-0} d
	sssd_stop || true
	if [ "$SSSD_PAM_CREATED" = 1 ]; then
		rm -f "/etc/pam.d/$SSSD_PAM_SERVICE"
		SSSD_PAM_CREATED=0
	fi
	if [ "$SSSD_STATE_SAVED" = 1 ]; then
		for d in "${SSSD_STATE_DIRS[@]}"; do
			find "$d" -mindepth 1 -delete 2>/dev/null || true
			tar -C "$d" -xf "$RIG_DIR/sss-state/$(basename "$d").tar" 2>/dev/null ||
				echo "test_sssd: could not restore $d" >&2
		done
		# the sockets and links our sssd left (it does not remove them)
		find /var/lib/sss/pipes -mindepth 1 \( -type s -o -type l \) | sort |
			comm -23 - "$RIG_DIR/sss-state/pipes.before" | xargs -r rm -f
		SSSD_STATE_SAVED=0
	fi
	if [ "$rc" != 0 ] && [ -s "${SSSD_LOG:-}" ]; then
		echo "--- $SSSD_LOG (last 80 lines)" >&2
		tail -n 80 "$SSSD_LOG" >&2
	fi
	return "$rc"
}

# sssd_conf FILE KEY=VALUE... — the pairs go to [domain/aldtest].
sssd_conf() {
	local f=$1 kv
	shift
	(
		umask 077
		{
			echo "# written by tests/integration/test_sssd.sh"
			echo "[sssd]"
			echo "config_file_version = 2"
			echo "services = nss, pam"
			echo "domains = aldtest"
			echo
			echo "[nss]"
			echo "debug_level = 3"
			echo "memcache_timeout = 0"
			echo
			echo "[pam]"
			echo "debug_level = 3"
			echo
			echo "[domain/aldtest]"
			echo "debug_level = 6"
			for kv in "$@"; do
				echo "${kv%%=*} = ${kv#*=}"
			done
		} >"$f"
	)
	chown root:root "$f"
	chmod 0600 "$f"
}

_sssd_empty_state() {
	local d
	for d in "${SSSD_STATE_DIRS[@]}"; do
		find "$d" -mindepth 1 -delete
	done
	# a socket left by a stopped sssd would look like a ready one
	find /var/lib/sss/pipes -mindepth 1 \( -type s -o -type l \) -delete
}

sssd_start() {
	local conf=$1 i
	[ -z "$SSSD_PID" ] || fail "sssd_start: sssd already running (pid $SSSD_PID)"
	[ -z "$(pgrep -x sssd || true)" ] || fail "sssd_start: an sssd that is not this test's runs"
	_sssd_empty_state
	echo "=== sssd start $(date '+%F %T') $conf" >>"$SSSD_LOG"
	sssd -i -c "$conf" --logger=stderr --debug-timestamps=1 --debug-microseconds=1 \
		</dev/null >>"$SSSD_LOG" 2>&1 &
	SSSD_PID=$!
	for ((i = 0; i < 200; i++)); do   # 20 s
		if ! kill -0 "$SSSD_PID" 2>/dev/null; then
			wait "$SSSD_PID" 2>/dev/null || true
			SSSD_PID=
			tail -n 40 "$SSSD_LOG" >&2
			fail "sssd exited during startup (log above)"
		fi
		if [ -S /var/lib/sss/pipes/nss ] && [ -S /var/lib/sss/pipes/pam ]; then
			return 0
		fi
		sleep 0.1
	done
	tail -n 40 "$SSSD_LOG" >&2
	fail "sssd's nss and pam sockets did not appear within 20 s"
}

sssd_stop() {
	[ -n "${SSSD_PID:-}" ] || return 0
	local pid=$SSSD_PID kids c i
	SSSD_PID=
	kids=$(pgrep -P "$pid" || true)
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	# sssd_be, sssd_nss, sssd_pam: the monitor stops them; any left over
	for c in $kids; do
		for ((i = 0; i < 30; i++)); do
			kill -0 "$c" 2>/dev/null || break
			if [ "$i" -lt 20 ]; then kill -TERM "$c" 2>/dev/null || true; else kill -KILL "$c" 2>/dev/null || true; fi
			sleep 0.1
		done
	done
	rm -f /run/sssd.pid /var/run/sssd.pid 2>/dev/null || true
}

sssd_pam_service() {
	printf '%s\n' "# tests/integration/test_sssd.sh (removed at exit)" \
		"auth     required pam_sss.so" \
		"account  required pam_sss.so" >"/etc/pam.d/$SSSD_PAM_SERVICE"
	SSSD_PAM_CREATED=1
}

sssd_login() {
	local rc=0
	printf '%s\n' "$2" | timeout 60 pamtester -v "$SSSD_PAM_SERVICE" "$1" authenticate acct_mgmt 2>&1 || rc=$?
	return "$rc"
}
