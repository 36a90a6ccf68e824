#!/usr/bin/env bash
# test_profile_selection.sh — which profile an end user's bind gets on a
# listener shared by several profiles (issue 13, item 4).  Two profiles, alpha
# and beta, take the same users (cn=users) with different login groups; alice
# is in alpha's group only, bob in beta's only.
#   (i)   no selector: aldproxyd warns at start (naming the listeners and both
#         files) and `aldproxyctl check` prints the warning; a fresh bind gets
#         alpha, the first by name, so bob is refused; with profiles_strict:
#         true the same configuration is an error (aldproxyctl check, -t).
#   (ii)  clients: alpha 127.0.0.1/32, beta ::1/128 (the rig listens on both):
#         the source address chooses — alice logs in over 127.0.0.1 and is
#         refused over [::1] (beta's login group), bob the other way round;
#         alpha's service account from ::1 is refused with the audit reason
#         client_address_not_allowed; no warning after the reload.
#   (iii) server_names: alpha [localhost]: over ldaps://localhost (and StartTLS
#         to ldap://localhost) libldap sends the server name and alpha is
#         chosen; over ldaps://127.0.0.1 no name is sent and beta is; aldproxyctl
#         explain --from/--sni shows the same choice.
# Real clients (ldapwhoami from ldap-utils); the rig stops what it started.
# directories: slapd 389ds
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/product.sh
. "$here/lib/product.sh"    # rig.sh, common.sh, prod_* helpers

export RIG_LOG_LEVEL=debug
test_begin test_profile_selection
rig_init
rig_certs
rig_slapd_start

CTL=${ALDPROXYCTL:-$REPO/build/src/aldproxyctl}
D=${ALDPROXYD:-$REPO/build/src/aldproxyd}
[ -x "$CTL" ] || fail "aldproxyctl not found at $CTL (build first, or set ALDPROXYCTL)"
ALICE=$(udn alice)
BOB=$(udn bob)
ALPHA_SVC="uid=sel-alpha,cn=sysaccounts,cn=etc,$BASE_DN"
ALPHA_PW="AlphaPass1"

prod_sysaccount sel-alpha "$ALPHA_PW"
prod_group sel-alpha-users "$ALICE"
prod_group sel-beta-users "$BOB"

rig_proxy_config
P="$RIG_DIR/profiles"
# the rig's demo profile keeps its service account (the rig's readiness check)
# but takes no end users, so only alpha and beta compete for them
cat >"$P/demo.yaml" <<EOF
name: demo
service_accounts: ["$SVC_DN"]
search_base: "$BASE_DN"
attributes: ["*"]
EOF

# profile NAME GROUP [EXTRA YAML LINE...] — profiles/NAME.yaml
profile() {
	local name=$1 group=$2 line
	shift 2
	{
		echo "name: $name"
		if [ "$name" = alpha ]; then
			echo "service_accounts: [\"$ALPHA_SVC\"]"
		fi
		echo "user_bases: [\"$USERS_DN\"]"
		echo "search_base: \"$BASE_DN\""
		echo "groups: {login: [$group]}"
		echo 'attributes: ["*"]'
		for line in "$@"; do
			echo "$line"
		done
	} >"$P/$name.yaml"
}

# whoami URL DN PW [ldapwhoami options] — prints output, returns the exit status
whoami() {
	local url=$1 dn=$2 pw=$3
	shift 3
	timeout 20 ldapwhoami -x -o nettimeout=10 -H "$url" -D "$dn" -w "$pw" "$@" 2>&1
}

# logs_in URL DN [options] / refused URL DN [options] — alice's and bob's password is Secret123
logs_in() {
	local url=$1 dn=$2 out
	shift 2
	out=$(whoami "$url" "$dn" Secret123 "$@") || fail "$dn over $url $*: bind refused: $out"
	assert_eq "dn:$dn" "$out" "whoami of $dn over $url $*"
}
refused() {
	local url=$1 dn=$2 rc=0 out
	shift 2
	out=$(whoami "$url" "$dn" Secret123 "$@") || rc=$?
	assert_eq 49 "$rc" "$dn over $url $*: expected invalidCredentials, got: $out"
}


reload() {
	local out
	out=$("$CTL" -c "$PROXY_CONFIG" reload 2>&1) || fail "reload refused: $out"
}

LDAP4="ldap://127.0.0.1:$PROXY_PORT"
LDAP6="ldap://[::1]:$PROXY_PORT"
LDAPS_NAME="ldaps://localhost:$PROXY_TLS_PORT"
LDAPS_IP="ldaps://127.0.0.1:$PROXY_TLS_PORT"

# ---- (i) two profiles, the same users, different login groups, nothing to choose
profile alpha sel-alpha-users
profile beta sel-beta-users
out=$("$CTL" -c "$PROXY_CONFIG" check 2>&1) || fail "aldproxyctl check refused the configuration: $out"
assert_contains "$out" "$PROXY_CONFIG: OK, 3 profile(s)"
assert_contains "$out" "warning: listeners ldap://127.0.0.1:$PROXY_PORT, ldaps://127.0.0.1:$PROXY_TLS_PORT"
assert_contains "$out" "profiles 'alpha' ($P/alpha.yaml) and 'beta' ($P/beta.yaml) both take users under $USERS_DN"
assert_contains "$out" "Give one of them clients: or server_names:, or a listener of its own"
assert_eq 1 "$(grep -c '^warning:' <<<"$out")" "one warning (demo takes no users)"
if [ -x "$D" ]; then
	out=$("$D" -t -c "$PROXY_CONFIG" 2>&1) || fail "aldproxyd -t refused the configuration: $out"
	assert_contains "$out" "warning: listeners ldap://127.0.0.1:$PROXY_PORT"
	assert_contains "$out" "configuration OK"
fi
# profiles_strict: the same configuration is an error
cp "$PROXY_CONFIG" "$RIG_DIR/strict.yaml"
echo "profiles_strict: true" >>"$RIG_DIR/strict.yaml"
line=$(grep -n '^profiles_strict:' "$RIG_DIR/strict.yaml" | cut -d: -f1)
rc=0; out=$("$CTL" -c "$RIG_DIR/strict.yaml" check 2>&1) || rc=$?
assert_eq 1 "$rc" "aldproxyctl check with profiles_strict: exit status ($out)"
assert_contains "$out" "$RIG_DIR/strict.yaml:$line: key 'profiles_strict': listeners ldap://127.0.0.1:$PROXY_PORT"
assert_contains "$out" "'alpha' ($P/alpha.yaml) and 'beta' ($P/beta.yaml)"
if [ -x "$D" ]; then
	rc=0; out=$("$D" -t -c "$RIG_DIR/strict.yaml" 2>&1) || rc=$?
	assert_eq 1 "$rc" "aldproxyd -t with profiles_strict: exit status ($out)"
	assert_contains "$out" "key 'profiles_strict'"
fi
rig_proxy_start
assert_contains "$PROXY_LOG" "warning: listeners ldap://127.0.0.1:$PROXY_PORT"
assert_contains "$PROXY_LOG" "profiles 'alpha' ($P/alpha.yaml) and 'beta' ($P/beta.yaml)"
# the order of names decides: alpha's login group judges bob too
logs_in "$LDAP4" "$ALICE"
refused "$LDAP4" "$BOB"
audit_has bind_failure "r['user']=='$BOB' and r['profile']=='alpha' and r['reason']=='not_in_login_group'"
ok "(i) no selector: warned at start, by aldproxyctl check and aldproxyd -t; an error with profiles_strict; alpha judges everyone"

# ---- (ii) clients: the source address chooses
if [ "${RIG_IPV6:-0}" = 1 ]; then
	profile alpha sel-alpha-users "clients: [127.0.0.1/32]"
	profile beta sel-beta-users 'clients: ["::1/128"]'
	out=$("$CTL" -c "$PROXY_CONFIG" check 2>&1) || fail "aldproxyctl check: $out"
	assert_not_contains "$out" "warning:" "aldproxyctl check with clients"
	from=$(log_lines)
	reload
	logs_in "$LDAP4" "$ALICE"
	refused "$LDAP6" "$ALICE"
	logs_in "$LDAP6" "$BOB"
	refused "$LDAP4" "$BOB"
	audit_has bind_success "r['user']=='$ALICE' and r['profile']=='alpha' and r['src_ip']=='127.0.0.1'"
	audit_has bind_failure "r['user']=='$ALICE' and r['profile']=='beta' and r['src_ip']=='::1' and r['reason']=='not_in_login_group'"
	audit_has bind_success "r['user']=='$BOB' and r['profile']=='beta' and r['src_ip']=='::1'"
	# a profile's clients restrict it whatever selects it: here its service account
	out=$(whoami "$LDAP4" "$ALPHA_SVC" "$ALPHA_PW") || fail "alpha's service account over 127.0.0.1: $out"
	rc=0; out=$(whoami "$LDAP6" "$ALPHA_SVC" "$ALPHA_PW") || rc=$?
	assert_eq 49 "$rc" "alpha's service account over ::1: $out"
	audit_has bind_failure "r['user']=='$ALPHA_SVC' and r['profile']=='alpha' and r['src_ip']=='::1' and r['result']==49 and r['reason']=='client_address_not_allowed'"
	assert_contains "$PROXY_LOG" "does not allow clients from ::1 (clients)"
	# the reload's new set is unambiguous: no new warning
	tail -n +"$from" "$PROXY_LOG" | grep -q 'warning: listener' && fail "a warning after the reload with clients"
	out=$("$CTL" -c "$PROXY_CONFIG" explain alpha '(uid=alice)' --bind "$BOB" --from ::1 2>&1) ||
		fail "explain --from: $out"
	assert_contains "$out" "-> refused: clients does not hold ::1"
	assert_contains "$out" "-> profile beta, by (c) clients holds the source address"
	ok "(ii) clients: alice in over 127.0.0.1 (alpha) and refused over ::1 (beta), bob the other way; alpha's service account refused from ::1 (client_address_not_allowed)"
else
	ok "(ii) skipped: no IPv6 loopback here"
fi

# ---- (iii) server_names: the TLS server name chooses
profile alpha sel-alpha-users "server_names: [LOCALHOST]"
profile beta sel-beta-users
out=$("$CTL" -c "$PROXY_CONFIG" check 2>&1) || fail "aldproxyctl check: $out"
assert_not_contains "$out" "warning:" "aldproxyctl check with server_names"
reload
logs_in "$LDAPS_NAME" "$ALICE"
refused "$LDAPS_NAME" "$BOB"
logs_in "$LDAPS_IP" "$BOB"
refused "$LDAPS_IP" "$ALICE"
# StartTLS: the name sent in its handshake counts the same
logs_in "ldap://localhost:$PROXY_PORT" "$ALICE" -ZZ
refused "ldap://localhost:$PROXY_PORT" "$BOB" -ZZ
# without TLS no name is sent: beta
logs_in "$LDAP4" "$BOB"
audit_has bind_success "r['user']=='$ALICE' and r['profile']=='alpha' and r['tls'] is True"
audit_has bind_failure "r['user']=='$BOB' and r['profile']=='alpha' and r['tls'] is True and r['reason']=='not_in_login_group'"
audit_has bind_success "r['user']=='$BOB' and r['profile']=='beta' and r['tls'] is True"
assert_contains "$PROXY_LOG" "BIND: profile alpha by (b) server_names holds the TLS server name; server name localhost"
out=$("$CTL" -c "$PROXY_CONFIG" explain beta '(uid=alice)' --bind "$ALICE" --from 127.0.0.1 --sni LocalHost 2>&1) ||
	fail "explain --sni: $out"
assert_contains "$out" "shared      from 127.0.0.1, server name localhost:"
assert_contains "$out" "-> profile alpha, by (b) server_names holds the TLS server name"
out=$("$CTL" -c "$PROXY_CONFIG" explain beta '(uid=alice)' --bind "$ALICE" --from 127.0.0.1 2>&1) ||
	fail "explain without --sni: $out"
assert_contains "$out" "-> profile beta, by (e) first by name"
ok "(iii) server_names: over ldaps://localhost and StartTLS alpha judges, over ldaps://127.0.0.1 beta; explain agrees"

rig_proxy_stop || fail "aldproxyd did not stop cleanly"
test_pass
