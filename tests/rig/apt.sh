# shellcheck shell=bash
# apt.sh — installing the packages a rig part needs, shared by deps.sh,
# deps389.sh and depskdc.sh.  Source it, then:
#
#   apt_install_missing NAME PKG...   # returns 0 at once when all are installed
#
# Quiet and idempotent; as root (or with sudo).  A temporary
# /usr/sbin/policy-rc.d forbids service starts during the install, so no
# package starts a system daemon on the ports the rig uses; the caller stops
# anything a package script started anyway.  Sets APT_INSTALLED=1 when it
# installed something.

apt_install_missing() {
	local name=$1 p s
	shift
	local missing=()
	APT_INSTALLED=0
	for p in "$@"; do
		s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
		[ "$s" = installed ] || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0

	APT_SUDO=
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null || { echo "$name: need root to install: ${missing[*]}" >&2; return 1; }
		APT_SUDO="sudo -n"
	fi
	echo "$name: installing ${missing[*]}" >&2
	local policy=/usr/sbin/policy-rc.d created=0 log rc=0
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\n# %s: no service starts during package installs\nexit 101\n' "$name" |
			$APT_SUDO tee "$policy" >/dev/null
		$APT_SUDO chmod 0755 "$policy"
		created=1
	fi
	log=$(mktemp /tmp/apt-install.XXXXXX)
	if ! { $APT_SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
	       $APT_SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
			--no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
		cat "$log" >&2
		echo "$name: apt-get failed" >&2
		rc=1
	fi
	rm -f "$log"
	[ "$created" = 1 ] && $APT_SUDO rm -f "$policy"
	APT_INSTALLED=1
	return $rc
}

# Kills a daemon a package started, found by its pid file, only if its
# command name matches (rig daemons running in parallel are left alone).
apt_stop_by_pidfile() {   # COMM PIDFILE...
	local comm=$1 pidfile pid
	shift
	for pidfile in "$@"; do
		[ -r "$pidfile" ] || continue
		pid=$(cat "$pidfile" 2>/dev/null || true)
		if [ -n "$pid" ] && [ "$(cat /proc/"$pid"/comm 2>/dev/null || true)" = "$comm" ]; then
			${APT_SUDO:-} kill "$pid" 2>/dev/null || true
		fi
	done
}

# slapd's package must not build its default database (the rig builds its own).
apt_slapd_preseed() {
	dpkg-query -W -f='${db:Status-Status}' slapd 2>/dev/null | grep -qx installed && return 0
	echo "slapd slapd/no_configuration boolean true" |
		{ [ "$(id -u)" -eq 0 ] && debconf-set-selections || sudo -n debconf-set-selections; }
}

# Stops every daemon a package of tests/rig/packages.sh may have started
# despite policy-rc.d: by pid file only, so rig daemons are left alone.
apt_stop_package_daemons() {
	local s
	for s in slapd krb5-kdc krb5-admin-server zabbix-agent zabbix-agent2; do
		${APT_SUDO:-} service "$s" stop >/dev/null 2>&1 || true
	done
	apt_stop_by_pidfile slapd /run/slapd/slapd.pid /var/run/slapd/slapd.pid
	apt_stop_by_pidfile ns-slapd /run/dirsrv/slapd-*.pid /var/run/dirsrv/slapd-*.pid
	apt_stop_by_pidfile krb5kdc /run/krb5kdc.pid /var/run/krb5kdc.pid
	apt_stop_by_pidfile kadmind /run/kadmind.pid /var/run/kadmind.pid
	apt_stop_by_pidfile zabbix_agentd /run/zabbix/zabbix_agentd.pid
	apt_stop_by_pidfile zabbix_agent2 /run/zabbix/zabbix_agent2.pid
}
