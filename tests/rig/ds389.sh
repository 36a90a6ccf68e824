# shellcheck shell=bash
# ds389.sh — the rig's directory as a real 389 Directory Server (ns-slapd,
# Debian's 389-ds-base: what ALD Pro / FreeIPA runs) instead of OpenLDAP's
# slapd.  Sourced by tests/rig/rig.sh; used when RIG_BACKEND=389ds, through
# the same public functions (rig_slapd_start / stop / restart / pause /
# resume), the same ports (SLAPD_PORT: plain + StartTLS, SLAPD_TLS_PORT:
# ldaps), the same suffix, tree (gen_tree.py), accounts and passwords.
#
# Everything lives in $RIG_DIR/389 (lib389's PREFIX install: no systemd, no
# /etc, /var or /run writes); ns-slapd runs in the foreground (-d 0) as the
# rig's child, so SLAPD_PID is its pid and the rig's trap stops it.  (In the
# foreground ns-slapd writes nothing to its errors log unless
# nsslapd-errorlog-level holds the severity bits EMERG..INFO, 0x07F00000:
# they are set, so the errors log and $RIG_DIR/slapd.log show what it says.)
#
#   $RIG_DIR/389/root/etc/dirsrv/slapd-rig   config dir: dse.ldif, NSS db, schema/
#   $RIG_DIR/389/root/log/slapd-rig          access and errors logs
#   $RIG_DIR/slapd.log                       ns-slapd's stdout/stderr
#
# What it sets up, FreeIPA-like:
#   * schema: tests/rig/schema/freeipa-lite.schema converted to LDIF
#     (schema/65freeipa-lite.ldif), minus what 389 already defines (memberOf,
#     nsAccountLock, inetUser, nsContainer, mep*, nsHost, serverHostName, ...);
#   * data: gen_tree.py output imported offline (ldif2db) with its memberOf
#     values; the MemberOf plugin is on (memberOfGroupAttr member + memberUser,
#     memberOfAttr memberOf), so run-time changes recompute memberOf, nesting
#     included;
#   * root DN "cn=Directory Manager" (DM_DN), password DMPass123; eve has
#     nsAccountLock: TRUE, which 389 answers with 53 (unwillingToPerform,
#     "Account inactivated") on bind; passwords are stored in clear, as
#     imported (389 binds against {CLEAR} values);
#   * nsslapd-allow-anonymous-access: rootdse — anonymous may read the root
#     DSE only (also not cn=schema: 389 refuses it with 48), like a FreeIPA with
#     anonymous access disabled; ACI on the suffix: every authenticated identity
#     (uid=aldproxy included) may read/search/compare everything but
#     userPassword and krbPrincipalKey; an entry may change its own password;
#   * limits: nsslapd-sizelimit 2000, lookthrough 5000 (389 / FreeIPA
#     defaults; a paged search is limited per page, so any user can page
#     through everything); uid=aldproxy has nsSizeLimit, nsLookThroughLimit,
#     nsPagedSizeLimit, nsPagedLookThroughLimit and nsTimeLimit -1 (unlimited);
#     nsslapd-maxthreadsperconn stays 5 (389's default, as in FreeIPA): at most
#     5 operations of one connection run at once, the rest wait unread;
#   * TLS: the rig's own server certificate ($SERVER_CERT, $SERVER_KEY) as
#     "Server-Cert" and its CA ($CA_FILE, trusted "CT,,") in the instance's NSS
#     database; StartTLS on SLAPD_PORT, ldaps on SLAPD_TLS_PORT, both on
#     127.0.0.1 only, like the slapd rig.
#
# Knobs: RIG_389_CACHE=0 disables the pristine-instance cache (below);
# RIG_389_CACHE_DIR (default /tmp/aldrig-389-cache);
# RIG_389_SELF_READS_PASSWORD=1 adds an ACI that lets every entry read its
# own userPassword, as the slapd rig does ("by self write" implies read);
# without it (the default, as in FreeIPA) no one but Directory Manager ever
# reads userPassword, and the tests that need a directory showing aldproxy
# its own password to prove the proxy strips it cannot prove anything.
#
# Cache: building an instance (dscreate + schema + ldif2db) takes ~8-10 s,
# the start ~1 s.  The built instance, before certificates and ports are
# applied, is kept as a tarball (~16 MB) under RIG_389_CACHE_DIR, keyed by a
# hash of gen_tree.py, the schema, this file, the user count, the knobs
# above, the accounts and the 389-ds-base version; a later run on the same
# machine unpacks it and rewrites the paths (start ~1.5 s).  Nothing else is
# shared between runs; a missing or broken cache means a build from scratch.

RIG_389_INSTANCE=rig

# _rig_389_paths — RIG_389_ROOT (the PREFIX), RIG_389_CFG (config dir)
_rig_389_paths() {
	RIG_389_ROOT="$RIG_DIR/389/root"
	RIG_389_CFG="$RIG_389_ROOT/etc/dirsrv/slapd-$RIG_389_INSTANCE"
	RIG_389_LOGDIR="$RIG_389_ROOT/log/slapd-$RIG_389_INSTANCE"
	RIG_389_PIDFILE="$RIG_389_ROOT/run/slapd-$RIG_389_INSTANCE.pid"
	export RIG_389_ROOT RIG_389_CFG RIG_389_LOGDIR
}

# _rig_389_prefix — defaults.inf for lib389's PREFIX install: every path
# under $RIG_389_ROOT, no systemd.
_rig_389_prefix() {
	local P=$RIG_389_ROOT
	mkdir -p "$P/share/dirsrv/inf" "$P/etc/dirsrv" "$P/tmp"
	cp -a /etc/dirsrv/schema /etc/dirsrv/config "$P/etc/dirsrv/"
	"$RIG_PYTHON" - "$P" <<'EOF' || fail "ds389: cannot write defaults.inf"
import configparser, sys
P = sys.argv[1]
c = configparser.ConfigParser(interpolation=None)
c.read("/usr/share/dirsrv/inf/defaults.inf")
s = c["slapd"]
s["with_systemd"] = "0"
i = "slapd-{instance_name}"
for k, v in dict(
        sysconf_dir="etc", initconfig_dir="etc/default", config_dir="etc/dirsrv/" + i,
        schema_dir="etc/dirsrv/%s/schema" % i, cert_dir="etc/dirsrv/" + i,
        local_state_dir="var", run_dir="run", ldapi="run/%s.socket" % i,
        pid_file="run/%s.pid" % i, inst_dir="lib/" + i, tmpfiles_d="etc/tmpfiles.d",
        lock_dir="lock/" + i, log_dir="log/" + i, access_log="log/%s/access" % i,
        audit_log="log/%s/audit" % i, error_log="log/%s/errors" % i,
        security_log="log/%s/security" % i, db_dir="db/%s/db" % i,
        db_home_dir="db/%s/db" % i, backup_dir="db/%s/bak" % i,
        ldif_dir="db/%s/ldif" % i, tmp_dir="tmp").items():
    s[k] = P + "/" + v
with open(P + "/share/dirsrv/inf/defaults.inf", "w") as f:
    c.write(f)
EOF
}

# _rig_389_schema OUT — freeipa-lite.schema (OpenLDAP syntax) as a 389 schema
# LDIF, without the names 389's own schema already defines.
_rig_389_schema() {
	"$RIG_PYTHON" - "$RIG_LIB_DIR/schema/freeipa-lite.schema" >"$1" <<'EOF' || fail "ds389: schema conversion failed"
import glob, re, sys
known = set()
for f in glob.glob("/usr/share/dirsrv/schema/*.ldif"):
    txt = re.sub(r"\r?\n[ \t]", "", open(f, encoding="utf-8", errors="replace").read())
    for m in re.finditer(r"NAME\s+(\(\s*(?:'[^']*'\s*)+\)|'[^']*')", txt):
        known.update(n.lower() for n in re.findall(r"'([^']*)'", m.group(1)))
defs, cur = [], None
for line in open(sys.argv[1], encoding="utf-8"):
    line = line.rstrip("\n")
    if not line.strip() or line.lstrip().startswith("#"):
        continue
    if line[0] in " \t":
        cur[1] += " " + line.strip()
        continue
    kw, rest = line.split(None, 1)
    cur = [kw.lower(), rest.strip()]
    defs.append(cur)
out = ["# Generated by tests/rig/ds389.sh from tests/rig/schema/freeipa-lite.schema",
       "dn: cn=schema", "objectClass: top", "objectClass: ldapSubentry",
       "objectClass: subschema", "cn: schema"]
for kw, body in defs:
    names = re.findall(r"'([^']*)'", re.search(r"NAME\s+(\([^)]*\)|'[^']*')", body).group(1))
    if any(n.lower() in known for n in names):
        continue
    body = re.sub(r"\s+", " ", body)
    body = body[:body.rindex(")")].rstrip() + " X-ORIGIN 'aldproxy rig freeipa-lite' )"
    key = {"attributetype": "attributeTypes", "objectclass": "objectClasses"}[kw]
    out.append("%s: %s" % (key, body))
print("\n".join(out))
EOF
}

# _rig_389_dse FILE KEY=VALUE... — offline edits of dse.ldif (server stopped).
# Each argument is "DN|attr|value[|value...]" (replace attr) or
# "+DN|attr|value|attr|value..." (add the entry if missing).
_rig_389_dse() {
	local f=$1
	shift
	"$RIG_PYTHON" - "$f" "$@" <<'EOF' || fail "ds389: cannot edit $f"
import sys
path, ops = sys.argv[1], sys.argv[2:]
raw = open(path, encoding="utf-8").read().replace("\r\n", "\n")
lines = []
for l in raw.split("\n"):
    if l.startswith(" ") and lines:
        lines[-1] += l[1:]
    else:
        lines.append(l)
entries, cur = [], []
for l in lines:
    if l == "":
        if cur: entries.append(cur); cur = []
    else:
        cur.append(l)
if cur: entries.append(cur)
def dn_of(e):
    return e[0].split(":", 1)[1].strip().lower() if e and e[0].lower().startswith("dn:") else None
index = {dn_of(e): e for e in entries}
for op in ops:
    add = op.startswith("+")
    parts = op.lstrip("+").split("|")
    dn = parts[0]
    e = index.get(dn.lower())
    if add:
        if e is None:
            e = ["dn: " + dn] + ["%s: %s" % (parts[i], parts[i + 1]) for i in range(1, len(parts), 2)]
            entries.append(e)
            index[dn.lower()] = e
        continue
    if e is None:
        sys.exit("dse edit: no entry %s" % dn)
    attr, vals = parts[1], parts[2:]
    e[:] = [l for l in e if not (l.split(":", 1)[0].lower() == attr.lower())]
    e.extend("%s: %s" % (attr, v) for v in vals)
with open(path + ".new", "w", encoding="utf-8") as out:
    for e in entries:
        out.write("\n".join(e) + "\n\n")
import os
os.replace(path + ".new", path)
EOF
}

# _rig_389_data IN OUT — gen_tree.py output plus the FreeIPA-like ACIs on the
# suffix and unlimited limits on uid=aldproxy.
_rig_389_data() {
	"$RIG_PYTHON" - "$1" "$2" "$BASE_DN" "$PROXY_BIND_DN" "${RIG_389_SELF_READS_PASSWORD:-0}" <<'EOF' ||
import sys
src, dst, base, proxy, self_read = sys.argv[1:6]
extra = {
    base.lower(): [
        'aci: (targetattr != "userPassword || krbPrincipalKey")(version 3.0; '
        'acl "rig: authenticated users read all but secrets"; '
        'allow (read, search, compare) userdn = "ldap:///all";)',
        'aci: (targetattr = "userPassword")(version 3.0; '
        'acl "rig: self may change its password"; allow (write) userdn = "ldap:///self";)',
        'aci: (targetattr = "telephoneNumber || mobile")(version 3.0; '
        'acl "rig: self may change its phone numbers"; allow (write) userdn = "ldap:///self";)',
        'aci: (targetattr = "*")(version 3.0; acl "rig: aldproxy acts as the bound user"; '
        'allow (proxy) userdn = "ldap:///' + proxy + '";)',
    ] + ([
        'aci: (targetattr = "userPassword")(version 3.0; '
        'acl "rig: self may read its password (RIG_389_SELF_READS_PASSWORD)"; '
        'allow (read, search, compare) userdn = "ldap:///self";)'] if self_read == "1" else []),
    proxy.lower(): ["nsSizeLimit: -1", "nsLookThroughLimit: -1", "nsPagedSizeLimit: -1",
                    "nsPagedLookThroughLimit: -1", "nsTimeLimit: -1"],
}
text = open(src, encoding="utf-8").read()
out = []
for block in text.split("\n\n"):
    lines = [l for l in block.strip("\n").split("\n") if l and not l.startswith("#")]
    if not lines:
        continue   # ldif2db warns about comment-only blocks
    dn = None
    for l in lines:
        if l.lower().startswith("dn: "):
            dn = l[4:].strip().lower()
    if dn in extra:
        lines += extra[dn]
    out.append("\n".join(lines))
open(dst, "w", encoding="utf-8").write("\n\n".join(out) + "\n")
EOF
		fail "ds389: cannot prepare the data LDIF"
}

# _rig_389_run LOG CMD... — run, output to LOG; on failure show it and fail.
_rig_389_run() {
	local log=$1
	shift
	echo "+ $*" >>"$log"
	if ! "$@" >>"$log" 2>&1; then
		echo "--- $log" >&2; tail -n 40 "$log" >&2
		[ -f "$RIG_389_LOGDIR/errors" ] && { echo "--- $RIG_389_LOGDIR/errors" >&2; tail -n 30 "$RIG_389_LOGDIR/errors" >&2; }
		fail "ds389: $1 failed"
	fi
}

_rig_389_cache_key() {
	local users=$1
	{
		cat "$RIG_LIB_DIR/gen_tree.py" "$RIG_LIB_DIR/schema/freeipa-lite.schema" "$RIG_LIB_DIR/ds389.sh"
		echo "users=$users self_reads_password=${RIG_389_SELF_READS_PASSWORD:-0}"
		echo "base=$BASE_DN dm=$DM_PW proxy=$PROXY_BIND_DN"
		dpkg-query -W -f='${Version}' 389-ds-base 2>/dev/null || ns-slapd -v 2>&1
		id -u
	} | sha256sum | cut -c1-24
}

# _rig_389_build USERS — create the instance in $RIG_DIR/389 with the tree
# loaded (server stopped), then apply this run's certificate and ports.
_rig_389_build() {
	local users=$1 d="$RIG_DIR/389" log="$RIG_DIR/389/build.log"
	if ! command -v dscreate >/dev/null || ! command -v ns-slapd >/dev/null ||
		! command -v pk12util >/dev/null; then
		fail "ds389: 389-ds-base / libnss3-tools not installed (tests/rig/deps389.sh)"
	fi
	_rig_389_paths
	mkdir -p "$d"
	: >"$log"
	local cache_dir=${RIG_389_CACHE_DIR:-/tmp/aldrig-389-cache} key tarball
	key=$(_rig_389_cache_key "$users")
	tarball="$cache_dir/pristine-$key.tar"
	if [ "${RIG_389_CACHE:-1}" = 1 ] && [ -s "$tarball" ] && _rig_389_unpack "$tarball"; then
		echo "ds389: pristine instance from $tarball" >>"$log"
	else
		rm -rf "$RIG_389_ROOT"
		_rig_389_create "$users"
		if [ "${RIG_389_CACHE:-1}" = 1 ]; then
			_rig_389_pack "$cache_dir" "$tarball" || rig_log "ds389: could not cache the instance in $cache_dir (ignored)"
		fi
	fi
	_rig_389_configure
}

# _rig_389_create USERS — dscreate + schema + offline settings + ldif2db.
_rig_389_create() {
	local users=$1 d="$RIG_DIR/389" log="$RIG_DIR/389/build.log" P=$RIG_389_ROOT
	_rig_389_prefix
	# Ports for dscreate's own temporary start; the real ones come later.
	local p
	p=$(_rig_free_ports 2) || fail "ds389: no free ports"
	read -r p _ _ <<<"$p"
	cat >"$d/instance.inf" <<EOF
[general]
full_machine_name = localhost
start = False
strict_host_checking = False
selinux = False
[slapd]
instance_name = $RIG_389_INSTANCE
port = $p
secure_port = 0
root_dn = cn=Directory Manager
root_password = $DM_PW
self_sign_cert = False
user = $(id -un)
group = $(id -gn)
[backend-userroot]
suffix = $BASE_DN
create_suffix_entry = False
EOF
	_rig_389_run "$log" env PREFIX="$P" dscreate from-file "$d/instance.inf"
	# dscreate leaves its pid file and ldapi socket behind.
	rm -f "$RIG_389_PIDFILE" "$P/run/slapd-$RIG_389_INSTANCE.socket"

	_rig_389_schema "$RIG_389_CFG/schema/65freeipa-lite.ldif"

	local C=cn=config L="cn=config,cn=ldbm database,cn=plugins,cn=config"
	local B="cn=bdb,cn=config,cn=ldbm database,cn=plugins,cn=config"
	local U="cn=userroot,cn=ldbm database,cn=plugins,cn=config"
	local I="cn=index,cn=userroot,cn=ldbm database,cn=plugins,cn=config"
	local M="cn=MemberOf Plugin,cn=plugins,cn=config"
	local idx=() a
	for a in krbPrincipalName krbCanonicalName ipaUniqueID memberUser memberHost; do
		idx+=("+cn=$a,$I|objectClass|top|objectClass|nsIndex|cn|$a|nsSystemIndex|false|nsIndexType|eq|nsIndexType|pres")
	done
	_rig_389_dse "$RIG_389_CFG/dse.ldif" \
		"$C|nsslapd-listenhost|127.0.0.1" \
		"$C|nsslapd-securelistenhost|127.0.0.1" \
		"$C|nsslapd-ldapilisten|off" \
		"$C|nsslapd-allow-anonymous-access|rootdse" \
		"$C|nsslapd-sizelimit|2000" \
		"$C|nsslapd-timelimit|3600" \
		"$C|nsslapd-accesslog-logbuffering|off" \
		"$C|nsslapd-errorlog-level|$((0x07F04000))" \
		"$L|nsslapd-lookthroughlimit|5000" \
		"$B|nsslapd-db-durable-transaction|off" \
		"$B|nsslapd-cache-autosize|0" \
		"$B|nsslapd-dbcachesize|67108864" \
		"$U|nsslapd-cachememsize|268435456" \
		"$U|nsslapd-dncachememsize|67108864" \
		"$M|nsslapd-pluginEnabled|on" \
		"$M|memberOfGroupAttr|member|memberUser" \
		"$M|memberOfAttr|memberOf" \
		"${idx[@]}"

	"$RIG_PYTHON" "$RIG_LIB_DIR/gen_tree.py" --suffix "$BASE_DN" --users "$users" >"$d/tree.ldif" ||
		fail "gen_tree.py failed"
	_rig_389_data "$d/tree.ldif" "$d/data.ldif"
	_rig_389_run "$log" ns-slapd ldif2db -D "$RIG_389_CFG" -n userRoot -i "$d/data.ldif"
	rm -f "$RIG_389_PIDFILE"
	# ldif2db logs to the errors log; every entry must have gone in.
	local want got
	want=$(grep -c '^dn: ' "$d/data.ldif")
	got=$(sed -n 's/.*Import complete.  Processed \([0-9]*\) entries.*/\1/p' "$RIG_389_LOGDIR/errors" | tail -n 1)
	if [ "$got" != "$want" ] || grep -qE ' - (ERR|WARN) - .*import' "$RIG_389_LOGDIR/errors"; then
		echo "--- $RIG_389_LOGDIR/errors" >&2
		grep -E ' - (ERR|WARN) - ' "$RIG_389_LOGDIR/errors" | head -n 20 >&2
		fail "ds389: ldif2db imported ${got:-no} of $want entries of $d/data.ldif"
	fi
}

# The cache holds $RIG_389_ROOT with the build-time prefix recorded in
# prefix.txt; unpacking rewrites that prefix in every text file that names it.
_rig_389_pack() {
	local cache_dir=$1 tarball=$2 tmp
	mkdir -p "$cache_dir" || return 1
	# leftovers of interrupted runs (not another rig's tarball in progress)
	find "$cache_dir" -maxdepth 1 -name 'pristine-*.tar.tmp.*' -mmin +30 -delete 2>/dev/null || true
	printf '%s\n' "$RIG_389_ROOT" >"$RIG_DIR/389/prefix.txt"
	tmp="$tarball.tmp.$$"
	# Not the database environment's region files (__db.*): recreated at start.
	tar -C "$RIG_DIR/389" --exclude='__db.*' -cf "$tmp" root prefix.txt tree.ldif 2>/dev/null ||
		{ rm -f "$tmp"; return 1; }
	mv -f "$tmp" "$tarball"
	# Only the newest few pristine instances are kept.
	ls -1t "$cache_dir"/pristine-*.tar 2>/dev/null | tail -n +4 | xargs -r rm -f
}

_rig_389_unpack() {
	local tarball=$1 old f
	rm -rf "$RIG_389_ROOT"
	tar -C "$RIG_DIR/389" -xf "$tarball" 2>/dev/null || { rm -rf "$RIG_389_ROOT"; return 1; }
	old=$(cat "$RIG_DIR/389/prefix.txt" 2>/dev/null) || return 1
	[ -n "$old" ] && [ -d "$RIG_389_ROOT" ] || return 1
	if [ "$old" != "$RIG_389_ROOT" ]; then
		grep -rlF --binary-files=without-match -- "$old" "$RIG_389_ROOT" 2>/dev/null |
			while IFS= read -r f; do
				OLD=$old NEW=$RIG_389_ROOT "$RIG_PYTHON" -c '
import os, sys
p = sys.argv[1]
t = open(p, encoding="utf-8", errors="surrogateescape").read()
open(p, "w", encoding="utf-8", errors="surrogateescape").write(t.replace(os.environ["OLD"], os.environ["NEW"]))
' "$f" || exit 1
			done || return 1
	fi
	# A database region written under another path is not reused.
	rm -f "$RIG_389_ROOT"/db/slapd-*/db/__db.* "$RIG_389_PIDFILE"
	[ -f "$RIG_389_CFG/dse.ldif" ]
}

# _rig_389_configure — this run's ports and TLS material (server stopped).
_rig_389_configure() {
	local log="$RIG_DIR/389/build.log" cfg=$RIG_389_CFG p12="$RIG_DIR/389/server.p12" pw
	pw=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
	# NSS database: our CA (trusted for TLS servers and clients) and the
	# server certificate + key as "Server-Cert" (cn=RSA,cn=encryption names it).
	certutil -D -d "sql:$cfg" -n Server-Cert -f "$cfg/pwdfile.txt" >/dev/null 2>&1 || true
	certutil -D -d "sql:$cfg" -n "rig CA" -f "$cfg/pwdfile.txt" >/dev/null 2>&1 || true
	_rig_389_run "$log" certutil -A -d "sql:$cfg" -f "$cfg/pwdfile.txt" -n "rig CA" -t "CT,," -a -i "$CA_FILE"
	_rig_389_run "$log" openssl pkcs12 -export -in "$SERVER_CERT" -inkey "$SERVER_KEY" \
		-name Server-Cert -out "$p12" -passout "pass:$pw"
	_rig_389_run "$log" pk12util -i "$p12" -d "sql:$cfg" -k "$cfg/pwdfile.txt" -W "$pw"
	rm -f "$p12"
	_rig_389_dse "$cfg/dse.ldif" \
		"cn=config|nsslapd-port|$SLAPD_PORT" \
		"cn=config|nsslapd-securePort|$SLAPD_TLS_PORT" \
		"cn=config|nsslapd-security|on" \
		"cn=RSA,cn=encryption,cn=config|nsSSLPersonalitySSL|Server-Cert" \
		"cn=RSA,cn=encryption,cn=config|nsSSLActivation|on" \
		"cn=RSA,cn=encryption,cn=config|nsSSLToken|internal (software)" \
		"cn=encryption,cn=config|sslVersionMin|TLS1.2"
}

# _rig_389_launch — start ns-slapd in the foreground (-d 0) as our child and
# wait until it answers a root DSE search.
_rig_389_launch() {
	_rig_389_paths
	local log="$RIG_DIR/slapd.log" i
	echo "=== ns-slapd start $(date '+%F %T')" >>"$log"
	rm -f "$RIG_389_PIDFILE"
	ns-slapd -D "$RIG_389_CFG" -i "$RIG_389_PIDFILE" -d 0 </dev/null >>"$log" 2>&1 &
	SLAPD_PID=$!
	export SLAPD_PID
	for ((i = 0; i < 400; i++)); do   # 40 s
		if ! _rig_alive "$SLAPD_PID"; then
			wait "$SLAPD_PID" 2>/dev/null || true
			SLAPD_PID=
			echo "--- $log" >&2; tail -n 30 "$log" >&2
			echo "--- $RIG_389_LOGDIR/errors" >&2; tail -n 40 "$RIG_389_LOGDIR/errors" >&2
			fail "ns-slapd exited during startup"
		fi
		if timeout 3 ldapsearch -x -H "$SLAPD_URL" -b '' -s base -o nettimeout=2 \
			>/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	echo "--- $RIG_389_LOGDIR/errors" >&2; tail -n 40 "$RIG_389_LOGDIR/errors" >&2
	fail "ns-slapd did not answer on $SLAPD_URL within 40 s"
}

# _rig_389_cleanup — (from rig_cleanup, after SLAPD_PID) stop any ns-slapd
# still running from this rig's instance, e.g. the one dscreate starts for
# its own setup when the test was interrupted during a build: by the pid
# files under $RIG_DIR/389 only, and only if its command line names this rig.
_rig_389_cleanup() {
	local f pid
	[ -n "${RIG_DIR:-}" ] && [ -d "$RIG_DIR/389/root/run" ] || return 0
	for f in "$RIG_DIR"/389/root/run/*.pid; do
		[ -r "$f" ] || continue
		pid=$(cat "$f" 2>/dev/null) || continue
		case "$pid" in '' | *[!0-9]*) continue ;; esac
		if { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -qF -- "$RIG_DIR/389/"; then
			_rig_kill "$pid" 30 || true
		fi
	done
}

# _rig_389_start USERS — build (first call only) and launch.
_rig_389_start() {
	_rig_389_paths
	[ -f "$RIG_389_CFG/dse.ldif" ] || _rig_389_build "$1"
	_rig_389_launch
}
