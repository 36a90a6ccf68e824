# shellcheck shell=bash
# packages.sh — every Debian 12 package that building aldproxy and running its
# tests needs, declared here and nowhere else.  Sourced by scripts/deps.sh
# (which installs all of them), by tests/rig/deps*.sh (each installs its own
# group when a test runs alone) and by tests/integration/lib/common.sh, whose
# `need` refuses to run a test when a tool it uses is missing and names the
# package to add here.
#
# A test that starts using a new command, Python or Perl module adds it to
# TOOL_PKG, PYMOD_PKG or PERLMOD_PKG (→ package) and its
# package to the group that installs it, then runs
# ../shared/tools/fresh-machine.sh (see docs/testing.md) to prove a fresh
# Debian 12 machine gets it.

# Building aldproxy and its unit tests; clang with libFuzzer's runtime and the
# symbolizer for the fuzz harnesses (tests/fuzz/run.sh, test_fuzz).
PKGS_BUILD=(build-essential cmake pkg-config libldap2-dev libevent-dev libssl-dev
	libkrb5-dev libsasl2-dev libyaml-dev libcmocka-dev clang libclang-rt-dev llvm)

# The integration rig with slapd (tests/rig/rig.sh) and the clients the tests drive.
PKGS_RIG=(slapd ldap-utils openssl python3 python3-ldap3 python3-yaml libnet-ldap-perl
	libio-socket-ssl-perl psmisc procps curl util-linux coreutils)

# A real 389 Directory Server (RIG_BACKEND=389ds, tests/rig/ds389.sh).
PKGS_389=(389-ds-base python3-lib389 libnss3-tools openssl ldap-utils python3)

# A private MIT KDC and SASL/GSSAPI (tests/rig/kdc.sh).
PKGS_KDC=(krb5-kdc krb5-admin-server krb5-user libsasl2-modules-gssapi-mit)

# Products' own programs that the tests run (tests/integration/test_zabbix_template.sh),
# Java's own LDAP client, JNDI, as Keycloak uses it (test_product_keycloak-freeipa.sh),
# and SSSD with its NSS and PAM modules and pamtester (test_sssd.sh).
PKGS_PRODUCTS=(zabbix-agent zabbix-agent2 openjdk-17-jdk-headless
	sssd-ldap sssd-common libnss-sss libpam-sss pamtester)

# Building and installing the Debian package (tests/integration/test_debian_package.sh).
PKGS_PACKAGING=(dpkg-dev debhelper fakeroot systemd man-db util-linux)

PKGS_ALL=("${PKGS_BUILD[@]}" "${PKGS_RIG[@]}" "${PKGS_389[@]}" "${PKGS_KDC[@]}"
	"${PKGS_PRODUCTS[@]}" "${PKGS_PACKAGING[@]}")

# Commands the tests run → the package that provides them.
declare -A TOOL_PKG=(
	[cc]=build-essential [make]=build-essential [cmake]=cmake
	[clang]=clang [llvm-symbolizer]=llvm
	[slapd]=slapd [slapadd]=slapd [slappasswd]=slapd [slaptest]=slapd
	[ldapsearch]=ldap-utils [ldapwhoami]=ldap-utils [ldapmodify]=ldap-utils [ldapadd]=ldap-utils
	[ldapcompare]=ldap-utils [ldappasswd]=ldap-utils [ldapexop]=ldap-utils
	[openssl]=openssl [python3]=python3 [perl]=perl-base [curl]=curl
	[killall]=psmisc [fuser]=psmisc [pkill]=procps [ps]=procps
	[unshare]=util-linux [setpriv]=util-linux [flock]=util-linux [setsid]=util-linux
	[timeout]=coreutils [base64]=coreutils [sha256sum]=coreutils
	[ns-slapd]=389-ds-base [dscreate]=389-ds-base [dsconf]=389-ds-base [certutil]=libnss3-tools
	[krb5kdc]=krb5-kdc [kdb5_util]=krb5-kdc [kadmin.local]=krb5-admin-server
	[kinit]=krb5-user [klist]=krb5-user [kdestroy]=krb5-user
	[zabbix_agentd]=zabbix-agent [zabbix_agent2]=zabbix-agent2
	[java]=openjdk-17-jdk-headless [javac]=openjdk-17-jdk-headless
	[sssd]=sssd-common [pamtester]=pamtester
	[dpkg-buildpackage]=dpkg-dev [dh]=debhelper [fakeroot]=fakeroot
	[systemd-analyze]=systemd [man]=man-db
)

# Python modules the tests import → the package that provides them.
declare -A PYMOD_PKG=(
	[ldap3]=python3-ldap3 [yaml]=python3-yaml [lib389]=python3-lib389
)

# Perl modules the tests use → the package that provides them.
declare -A PERLMOD_PKG=(
	[Net::LDAP]=libnet-ldap-perl [IO::Socket::SSL]=libio-socket-ssl-perl
)
