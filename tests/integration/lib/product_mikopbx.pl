#!/usr/bin/perl
# product_mikopbx.pl — MikoPBX's LDAP login (PHP LdapRecord, FreeIPA model)
# replayed through aldproxy with Perl Net::LDAP (libldap-like behaviour, as
# PHP's ext/ldap), for test_product_mikopbx.sh.
#
# Usage: product_mikopbx.pl PROFILE SERVICE_PASSWORD LOGIN_GROUP
#
# LdapRecord, as MikoPBX configures it (profiles/mikopbx.yaml): one
# connection, StartTLS (use_tls), bind as the configured user; the FreeIPA
# User model's query
#   (&(objectclass=top)(objectclass=person)(objectclass=inetorgperson)
#     (objectclass=organizationalperson)(uid=<ldap_escape'd login>))
# for [*, ipauniqueid], size limit 1 (first()); auth()->attempt(): a bind as
# the found DN on the same connection, the diagnostic message read on
# failure (getDetailedError), then a bind as the configured user again.
# MikoPBX tells the user why from AD's "data NNN" codes in that message.
#
# Checks what MikoPBX would conclude: alice, carol (nested) and dave log in;
# a wrong password is "data 52e"; the locked eve (in the group) is refused
# with "data 52e" on slapd (which answers 49) and "data 533" (disabled) on
# 389-ds (53 "Account inactivated"); user0015 outside the login group is not
# found; the GUID key ipaUniqueID comes back as the directory has it; the
# connection is usable as the service account after every attempt; escaping;
# a paged listing of the model as long as the directory's own list.
use strict;
use warnings;
use Net::LDAP;
use Net::LDAP::Util qw(escape_filter_value);
use Net::LDAP::Control::Paged;
use Net::LDAP::Constant qw(LDAP_CONTROL_PAGED);
use FindBin;
require "$FindBin::Bin/product_common.pl";    # prod_case (the product matrix)

my ($PROFILE, $SVC_PW, $GROUP) = @ARGV;
my %E = %ENV;
my $SVC = "uid=$PROFILE,cn=sysaccounts,cn=etc,$E{BASE_DN}";
my ($USERS, $GROUPS) = ($E{USERS_DN}, $E{GROUPS_DN});
my $KIND = $E{DIRECTORY_KIND} // 'slapd';
my $PW = 'Secret123';
my $MODEL = '(&(objectclass=top)(objectclass=person)(objectclass=inetorgperson)(objectclass=organizationalperson)%s)';
my $AD = qr/^80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data (\w+), v4563$/;

sub fail { die "FAIL (product_mikopbx.pl): @_\n"; }
sub ok { print "ok - @_\n"; }

sub lr_connect {
	my $l = Net::LDAP->new($E{PROXY_URL}, timeout => 10, version => 3) or fail("connect: $@");
	my $m = $l->start_tls(verify => 'require', cafile => $E{CA_FILE}, sslversion => 'tlsv1_2');
	fail("StartTLS: ", $m->code, " ", $m->error) if $m->code;
	$m = $l->bind($SVC, password => $SVC_PW);
	fail("LdapRecord bind as the configured user: ", $m->code, " ", $m->error) if $m->code;
	return $l;
}

sub find_user {
	my ($l, $login) = @_;
	my $f = sprintf($MODEL, '(uid=' . escape_filter_value($login) . ')');
	my $m = $l->search(base => $USERS, filter => $f, attrs => ['*', 'ipauniqueid'], sizelimit => 1);
	fail("model query $f: ", $m->code, " ", $m->error) if $m->code;
	return $m->count ? $m->entry(0) : undef;
}

# attempt(): (ok, code, AD data code or '', message); rebinds as the configured user after
sub attempt {
	my ($l, $dn, $pw) = @_;
	my $m = $l->bind($dn, password => $pw);
	my ($code, $msg) = ($m->code, $m->error);
	my $r = $l->bind($SVC, password => $SVC_PW);
	fail("rebind as the configured user after ${dn}'s attempt: ", $r->code, " ", $r->error) if $r->code;
	my $data = ($code && $msg =~ $AD) ? $1 : '';
	return ($code == 0, $code, $data, $msg);
}

# what MikoPBX's login page says
sub mikopbx_login {
	my ($login, $pw) = @_;
	my $l = lr_connect();
	my $e = find_user($l, $login);
	unless ($e) { $l->unbind; return ('not-found'); }
	my ($okay, $code, $data, $msg) = attempt($l, $e->dn, $pw);
	# the connection serves the configured user again
	my $again = find_user($l, 'alice');
	fail("after ${login}'s attempt the service account cannot search") unless $again;
	$l->unbind;
	return ('ok', $e) if $okay;
	my %why = ('52e' => 'invalid-credentials', '533' => 'account-disabled', '775' => 'locked-out',
		'532' => 'password-expired', '701' => 'account-expired');
	return ($why{$data} // "unknown ($code $msg)", $code, $msg);
}

sub direct_dns {
	my ($base, $filter) = @_;
	my $d = Net::LDAP->new($E{SLAPD_URL}, timeout => 10) or fail("direct connect: $@");
	my $m = $d->bind($E{PROXY_BIND_DN}, password => $E{PROXY_BIND_PW});
	fail("direct bind: ", $m->error) if $m->code;
	$m = $d->search(base => $base, filter => $filter, attrs => ['1.1']);
	fail("direct search $filter: ", $m->error) if $m->code;
	my @dns = sort map { lc $_->dn } $m->entries;
	$d->unbind;
	return @dns;
}

# ---- who logs in
for my $who (qw(alice carol dave)) {
	my ($out, $e) = mikopbx_login($who, $PW);
	fail("$who: $out") unless $out eq 'ok';
	fail("${who}'s DN ", $e->dn) unless lc($e->dn) eq lc("uid=$who,$USERS");
	fail("${who} has no uid/mail") unless ($e->get_value('uid') // '') eq $who && $e->get_value('mail');
}
my $l = lr_connect();
my $a = find_user($l, 'alice');
$l->unbind;
my $d = Net::LDAP->new($E{SLAPD_URL}, timeout => 10) or fail("direct connect: $@");
$d->bind($E{PROXY_BIND_DN}, password => $E{PROXY_BIND_PW});
my $m = $d->search(base => "uid=alice,$USERS", scope => 'base', filter => '(objectClass=*)', attrs => ['ipaUniqueID']);
my $guid = $m->count ? ($m->entry(0)->get_value('ipaUniqueID') // '') : '';
$d->unbind;
fail("alice's GUID key: '", ($a->get_value('ipauniqueid') // ''), "' vs directory '$guid'")
	unless $guid ne '' && ($a->get_value('ipauniqueid') // '') eq $guid;
fail("userPassword returned") if $a->exists('userPassword');
ok("MikoPBX logins: alice, carol (nested), dave; GUID key ipaUniqueID as in the directory");

# the groups of the logged-in user: the model's memberOf, nesting included, = the directory's
for my $who (qw(alice carol)) {
	my ($out, $e) = mikopbx_login($who, $PW);
	fail("$who: $out") unless $out eq 'ok';
	my @got = sort grep { /,\Q${\ lc $GROUPS}\E$/ } map { lc } $e->get_value('memberOf');
	my $dd = Net::LDAP->new($E{SLAPD_URL}, timeout => 10) or fail("direct connect: $@");
	$dd->bind($E{PROXY_BIND_DN}, password => $E{PROXY_BIND_PW});
	my $r = $dd->search(base => "uid=$who,$USERS", scope => 'base', filter => '(objectClass=*)', attrs => ['memberOf']);
	fail("direct read of $who: ", $r->error) if $r->code || !$r->count;
	my @want = sort grep { /,\Q${\ lc $GROUPS}\E$/ } map { lc } $r->entry(0)->get_value('memberOf');
	$dd->unbind;
	fail("${who}'s groups through the model: [@got], the directory's: [@want]") unless @want && "@got" eq "@want";
	fail("$who is not in $GROUP by memberOf") unless grep { $_ eq lc("cn=$GROUP,$GROUPS") } @got;
}
ok("alice's and carol's (nested) memberOf through the model = their groups in the directory");
prod_case('member_login_groups', 'alice, carol (nested), dave log in; memberOf = the directory\'s groups');

# ---- escaping (LdapRecord escapes where() values)
$l = lr_connect();
for my $bad ('*', 'al*', 'alice)(uid=*', '*)(objectclass=*') {
	fail("login '$bad' matched ", find_user($l, $bad)->dn) if find_user($l, $bad);
}
$l->unbind;
ok("escaped logins (*, al*, injections) match nothing");

# ---- a paged listing of the model (LdapRecord paginate())
$l = lr_connect();
my $page = Net::LDAP::Control::Paged->new(size => 4);
my (@got, $pages);
while (1) {
	$m = $l->search(base => $USERS, filter => sprintf($MODEL, ''), attrs => ['uid'], control => [$page]);
	fail("paged model listing: ", $m->code, " ", $m->error) if $m->code;
	$pages++;
	push @got, map { lc $_->dn } $m->entries;
	my ($resp) = $m->control(LDAP_CONTROL_PAGED) or fail("page $pages without the paged control");
	my $cookie = $resp->cookie;
	last unless defined $cookie && length $cookie;
	$page->cookie($cookie);
	fail("paging never ends") if $pages > 100;
}
$l->unbind;
@got = sort @got;
my @want = direct_dns($USERS, "(&(objectClass=inetOrgPerson)(memberOf=cn=$GROUP,$GROUPS))");
fail("the directory lists only ", scalar(@want), " members") unless @want >= 15;
fail("paged listing: ", scalar(@got), " through the proxy, ", scalar(@want), " in the directory")
	unless "@got" eq "@want";
ok("paged model listing (4 per page, $pages pages): " . scalar(@got) . " users = the members of $GROUP");

# ---- who does not, and why MikoPBX says so.  The users' binds run on
# MikoPBX's connection; the rig's demo profile also accepts their DNs (no
# login groups, no AD diagnostics), so the answers below are this profile's
# only if the connection's current profile (the service account's) chooses
# for a rebind, as docs/profiles.md says.  Last, so that everything else is
# checked first.
my ($out, $code, $msg) = mikopbx_login('alice', 'wrong-password');
fail("alice with a wrong password: $out ($code $msg), expected invalid-credentials (49, data 52e)") unless $out eq 'invalid-credentials' && $code == 49;
($out) = mikopbx_login('user0015', $PW);
fail("user0015 (outside $GROUP) was found: $out") unless $out eq 'not-found';
($out) = mikopbx_login('admin', 'AdminPass1');
fail("admin was found: $out") unless $out eq 'not-found';
($out) = mikopbx_login('nosuchuser', $PW);
fail("nosuchuser was found: $out") unless $out eq 'not-found';
($out, $code, $msg) = mikopbx_login('eve', $PW);
my $want = $KIND eq '389ds' ? 'account-disabled' : 'invalid-credentials';
fail("locked eve: $out ($code $msg), expected $want on $KIND") unless $out eq $want && $code == 49;
ok("refused: wrong password (49, data 52e), user0015, admin and nosuchuser not found, locked eve (49, $want)");
prod_case('wrong_password', '49 data 52e');
prod_case('locked_account', "eve (in the group): 49, $want");
prod_case('unknown_user', 'nosuchuser: not found');

# locked out by failed attempts (389-ds with passwordMaxFailure 2: the bind
# after the second failure answers 19, which MikoPBX must see as data 775)
if ($E{MIKO_LOCKOUT}) {
	for my $i (1, 2) {
		($out, $code, $msg) = mikopbx_login('user0003', 'wrong-password');
		fail("user0003's failed attempt $i: $out ($code $msg)") unless $out eq 'invalid-credentials';
	}
	for my $pw ('wrong-password', $PW) {
		($out, $code, $msg) = mikopbx_login('user0003', $pw);
		fail("user0003 after 2 failures: $out ($code $msg), expected locked-out (49, data 775)")
			unless $out eq 'locked-out' && $code == 49;
	}
	ok("locked out after 2 failures: data 775 (49), even with the right password");
} else {
	print "note - no password lockout policy on $KIND in the rig: data 775 not exercised\n";
}

# a user outside the group cannot log in by binding either: attempt()'s bind
# on MikoPBX's own connection is refused like a wrong password, data 52e
$l = lr_connect();
my ($okay, $c2, $data, $msg2) = attempt($l, "uid=user0015,$USERS", $PW);
$l->unbind;
fail("user0015's attempt on MikoPBX's connection: code $c2 '$msg2' (expected 49 with data 52e: the "
	. "profile's login group, not another profile's, must decide)") unless !$okay && $c2 == 49 && $data eq '52e';
ok("user0015's attempt on the connector's connection: 49, data 52e");
prod_case('outside_groups', 'user0015: not found; her bind 49 data 52e');
