#!/usr/bin/perl
# netldap.pl — Perl Net::LDAP through aldproxy (run by test_perl_netldap.sh
# under the rig): StartTLS with verify => 'require', service-account bind,
# searches (bob's mail, group members), paging with Net::LDAP::Control::Paged,
# unbind; then the same over ldaps:// with Net::LDAPS.  Exits non-zero with
# a message on the first failure.
use strict;
use warnings;
use Net::LDAP;
use Net::LDAPS;
use Net::LDAP::Control::Paged;
use Net::LDAP::Constant qw(LDAP_CONTROL_PAGED LDAP_SUCCESS);

my %E = %ENV;
for my $v (qw(PROXY_URL PROXY_TLS_PORT CA_FILE SVC_DN SVC_PW USERS_DN GROUPS_DN BASE_DN)) {
	die "FAIL (netldap.pl): $v is not set\n" unless defined $E{$v} && $E{$v} ne '';
}
my ($users, $groups) = ($E{USERS_DN}, $E{GROUPS_DN});

sub fail { die "FAIL (netldap.pl): @_\n"; }
sub ok { print "ok - @_\n"; }
sub need {
	my ($mesg, $what) = @_;
	fail("$what: ", $mesg->code, " ", $mesg->error) if $mesg->code != LDAP_SUCCESS;
	return $mesg;
}

# exercises one bound connection; $how names it in messages
sub exercise {
	my ($ldap, $how) = @_;
	need($ldap->bind($E{SVC_DN}, password => $E{SVC_PW}), "$how: bind as the service account");

	# bob's mail
	my $m = need($ldap->search(base => $E{BASE_DN}, filter => '(uid=bob)', attrs => ['mail', 'uid', 'userPassword']),
		"$how: search uid=bob");
	fail("$how: uid=bob gave ", $m->count, " entries") unless $m->count == 1;
	my $e = $m->entry(0);
	fail("$how: bob's DN is ", $e->dn) unless lc($e->dn) eq lc("uid=bob,$users");
	my $mail = $e->get_value('mail') // '';
	fail("$how: bob's mail is '$mail'") unless $mail eq 'bob@ald.test';
	fail("$how: userPassword returned") if $e->exists('userPassword');

	# groups and their members
	$m = need($ldap->search(base => $groups, filter => '(cn=engineering)', attrs => ['member', 'cn']),
		"$how: search cn=engineering");
	fail("$how: cn=engineering gave ", $m->count, " entries") unless $m->count == 1;
	my %members = map { lc($_) => 1 } $m->entry(0)->get_value('member');
	for my $want ("uid=alice,$users", "uid=bob,$users", "cn=developers,$groups") {
		fail("$how: engineering lacks member $want") unless $members{lc $want};
	}
	fail("$how: engineering has ", scalar(keys %members), " members, expected 3") unless keys %members == 3;
	$m = need($ldap->search(base => $groups, filter => '(&(objectClass=groupOfNames)(member=*))', attrs => ['member']),
		"$how: search groups with members");
	fail("$how: only ", $m->count, " groups with members") unless $m->count >= 25;
	my $dev = 0;
	for my $g ($m->entries) {
		$dev = () = $g->get_value("member") if lc($g->dn) eq lc("cn=developers,$groups");
	}
	fail("$how: developers has $dev members, expected 11") unless $dev == 11;

	# paging
	my $page = Net::LDAP::Control::Paged->new(size => 100);
	my ($total, $pages, %seen) = (0, 0);
	while (1) {
		my $r = $ldap->search(base => $users, filter => '(objectClass=person)', attrs => ['1.1'],
			control => [$page]);
		need($r, "$how: paged search page " . ($pages + 1));
		$pages++;
		fail("$how: page $pages has ", $r->count, " entries (size 100)") if $r->count > 100;
		for my $x ($r->entries) {
			fail("$how: duplicate ", $x->dn) if $seen{lc $x->dn}++;
		}
		$total += $r->count;
		my ($resp) = $r->control(LDAP_CONTROL_PAGED) or fail("$how: no paged control in page $pages");
		my $cookie = $resp->cookie;
		last unless defined $cookie && length $cookie;
		$page->cookie($cookie);
		fail("$how: paging never ends") if $pages > 1000;
	}
	fail("$how: paged through $total users, expected >= 1000") unless $total >= 1000;
	fail("$how: only $pages pages") unless $pages >= 10;

	# abandon a paged search half way (size 0 + cookie), then page again
	$page = Net::LDAP::Control::Paged->new(size => 50);
	my $r = need($ldap->search(base => $users, filter => '(uid=user*)', attrs => ['1.1'], control => [$page]),
		"$how: paged search to abandon");
	my ($resp) = $r->control(LDAP_CONTROL_PAGED);
	fail("$how: no cookie after the first page") unless $resp && length($resp->cookie // '');
	$page->cookie($resp->cookie);
	$page->size(0);
	need($ldap->search(base => $users, filter => '(uid=user*)', attrs => ['1.1'], control => [$page]),
		"$how: paged search abandon (size 0)");
	$page = Net::LDAP::Control::Paged->new(size => 500);
	$r = need($ldap->search(base => $users, filter => '(uid=user*)', attrs => ['1.1'], control => [$page]),
		"$how: paged search after the abandon");
	fail("$how: page after abandon has ", $r->count, " entries") unless $r->count == 500;

	# whoami
	my $dse = $ldap->root_dse(attrs => ['supportedExtension', 'namingContexts']);
	fail("$how: rootDSE unreadable") unless $dse;
	fail("$how: namingContexts") unless lc($dse->get_value('namingContexts') // '') eq lc($E{BASE_DN});

	need($ldap->unbind, "$how: unbind");
	ok("$how: bind, uid=bob mail, group members, $total users in $pages pages, abandon, unbind");
}

# ---- StartTLS, certificate required
{
	my $ldap = Net::LDAP->new($E{PROXY_URL}, timeout => 10, onerror => undef)
		or fail("connect to $E{PROXY_URL}: $@");
	my $m = $ldap->start_tls(verify => 'require', cafile => $E{CA_FILE}, sslversion => 'tlsv1_2');
	need($m, "start_tls (verify => require)");
	fail("start_tls: not encrypted") unless $ldap->cipher;
	exercise($ldap, "StartTLS");
}

# ---- StartTLS with a CA that did not sign the proxy's cert fails
if (-f '/etc/ssl/certs/ca-certificates.crt') {
	my $ldap = Net::LDAP->new($E{PROXY_URL}, timeout => 10) or fail("connect: $@");
	my $m = $ldap->start_tls(verify => 'require', cafile => '/etc/ssl/certs/ca-certificates.crt');
	fail("start_tls accepted the proxy's certificate without the rig CA") if $m->code == LDAP_SUCCESS;
	ok("StartTLS with the wrong CA fails: ", $m->error);
}

# ---- ldaps:// with Net::LDAPS
{
	my $ldap = Net::LDAPS->new('localhost', port => $E{PROXY_TLS_PORT}, verify => 'require',
		cafile => $E{CA_FILE}, timeout => 10)
		or fail("Net::LDAPS to localhost:$E{PROXY_TLS_PORT}: $@");
	exercise($ldap, "ldaps");
	my $l2 = Net::LDAP->new("ldaps://127.0.0.1:$E{PROXY_TLS_PORT}", verify => 'require',
		cafile => $E{CA_FILE}, timeout => 10)
		or fail("Net::LDAP ldaps://127.0.0.1: $@");
	need($l2->bind("uid=alice,$users", password => 'Secret123'), "ldaps: alice's bind");
	need($l2->unbind, "ldaps: unbind");
	ok("ldaps://127.0.0.1 (IP SAN) bind as alice");
}
exit 0;
