#!/usr/bin/perl
# product_proxmox.pl — Proxmox VE's LDAP realm replayed through aldproxy with
# Perl Net::LDAP, the library Proxmox itself uses (PVE::LDAP, PVE::Auth::LDAP),
# for test_product_proxmox.sh.
#
# Usage: product_proxmox.pl SERVICE_PASSWORD LOGIN_GROUP OUT_DIR
#
#   login  ldap+starttls: connect, StartTLS (verify require, rig CA), bind as
#          bind_dn, search base_dn "uid=<login>" (no parentheses, unescaped)
#          for [dn], bind as the first entry's DN on the same connection
#   sync   ldaps: paged (900) user query with Proxmox's filter and attribute
#          list, then a paged (100) group query on group_dn; a stopped sync
#          sends the cookie once more with size 0
# Writes OUT_DIR/users (synced user DNs, lower case), OUT_DIR/users.attrs
# (dn|uid|email|firstname|lastname) and OUT_DIR/groups (group|member DN per
# line, members restricted to synced users as Proxmox does) for the shell
# test to compare with the directory; checks logins, refusals, paging and
# the size-0 abandon itself.
use strict;
use warnings;
use Net::LDAP;
use Net::LDAP::Control::Paged;
use Net::LDAP::Constant qw(LDAP_CONTROL_PAGED);
use FindBin;
require "$FindBin::Bin/product_common.pl";    # prod_case (the product matrix)

my ($SVC_PW, $GROUP, $OUT) = @ARGV;
my %E = %ENV;
my $SUFFIX = $E{BASE_DN};
my $SVC = "uid=proxmox,cn=sysaccounts,cn=etc,$SUFFIX";
my $BASE = $E{USERS_DN};                     # Base Domain Name
my $GROUP_DN = $E{GROUPS_DN};                # Groups Base DN
my $KIND = $E{DIRECTORY_KIND} || 'slapd';
my ($port) = ($E{PINNED_URL} // $E{PROXY_URL}) =~ /:(\d+)$/;   # the realm's server: a listener pinned to the profile
my ($tls_port) = $E{PROXY_LDAPS_URL} =~ /:(\d+)$/;

sub fail { print STDERR "FAIL (product_proxmox.pl): @_\n"; exit 1 }
sub ok { print "ok - @_\n" }

# PVE::LDAP::ldap_connect with verify => 'require', cafile => the rig CA
sub pve_connect {
	my ($mode) = @_;
	my %o = (timeout => 10, verify => 'require', cafile => $E{CA_FILE});
	my $ldap;
	if ($mode eq 'ldaps') {
		$ldap = Net::LDAP->new(['localhost'], scheme => 'ldaps', port => $tls_port,
			sslversion => 'tlsv1_2', %o) or fail("ldaps connect: $@");
	} else {
		$ldap = Net::LDAP->new(['127.0.0.1'], scheme => 'ldap', port => $port, timeout => 10)
			or fail("connect: $@");
		my $r = $ldap->start_tls(%o);
		fail("start_tls: ", $r->error) if $r->code;
	}
	return $ldap;
}

sub pve_bind {
	my ($ldap, $dn, $pw) = @_;
	my $r = $ldap->bind($dn, password => $pw);
	return ($r->code, $r->error);
}

# PVE::Auth::LDAP::authenticate_user: (outcome, detail)
sub pve_login {
	my ($login, $pw) = @_;
	my $ldap = pve_connect('ldap+starttls');
	my ($code, $err) = pve_bind($ldap, $SVC, $SVC_PW);
	fail("bind as bind_dn: $code $err") if $code;
	my $res = $ldap->search(base => $BASE, scope => 'sub', filter => "uid=$login", attrs => ['dn']);
	if ($res->code) {
		$ldap->unbind;
		return ('search-error', $res->code . ' ' . $res->error);
	}
	my @e = $res->entries;
	if (!@e) {
		$ldap->unbind;
		return ('no-dn', 'user dn is empty');
	}
	my $dn = $e[0]->dn;
	($code, $err) = pve_bind($ldap, $dn, $pw);
	$ldap->unbind;
	return $code ? ('bind-failed', "$code|$err") : ('ok', $dn);
}

# ---- logins
for my $u (qw(alice bob carol dave user0001 user0040)) {
	my ($out, $d) = pve_login($u, 'Secret123');
	fail("$u should log in to Proxmox: $out $d") unless $out eq 'ok';
	fail("$u logged in as $d") unless lc($d) eq lc("uid=$u,$BASE");
}
ok("alice, bob, carol (nested), dave, user0001, user0040 log in (ldap+starttls, verify require)");

my ($out, $wrong) = pve_login('alice', 'wrong');
fail("alice wrong password: $out $wrong") unless $out eq 'bind-failed' && $wrong =~ /^49\|/;
my ($wcode, $wmsg) = split /\|/, $wrong, 2;
($out, my $d) = pve_login('user0015', 'Secret123');
fail("user0015 (outside $GROUP) must not be found: $out $d") unless $out eq 'no-dn';
# were she found, her bind on the realm's connection must read as a wrong password
{
	my $ldap = pve_connect('ldap+starttls');
	my ($c, $e) = pve_bind($ldap, $SVC, $SVC_PW);
	fail("bind_dn: $c $e") if $c;
	($c, $e) = pve_bind($ldap, "uid=user0015,$BASE", 'Secret123');
	fail("user0015's bind after the realm's bind_dn: $c '$e', expected 49 (see the proxy log for the profile that took it)")
		unless $c == 49;
	fail("user0015's refusal '$e' differs from a wrong password '$wmsg'") unless $e eq $wmsg;
	$ldap->unbind;
}
($out, $d) = pve_login('eve', 'Secret123');
my $want_eve = $KIND eq '389ds' ? 53 : 49;
fail("locked eve: $out $d, expected bind result $want_eve") unless $out eq 'bind-failed' && $d =~ /^$want_eve\|/;
($out, $d) = pve_login('admin', 'AdminPass1');
fail("admin (not in $GROUP) must not be found: $out $d") unless $out eq 'no-dn';
($out, $d) = pve_login('nosuchuser', 'Secret123');
fail("nosuchuser must not be found: $out $d") unless $out eq 'no-dn';
ok("refused: wrong password (49), user0015 not found (and her bind 49 like a wrong password), "
	. "locked eve ($want_eve), admin and nosuchuser not found");
prod_case('wrong_password', 'bind 49');
prod_case('locked_account', "eve (in the group): bind $want_eve");
prod_case('unknown_user', 'nosuchuser: user dn is empty');
prod_case('outside_groups', 'user0015: not found; her bind 49 like a wrong password');

# an unescaped "*" in the login is a substring filter in Net::LDAP: it may
# only ever find visible users
($out, $d) = pve_login('user001*', 'Secret123');
fail("user001* found someone outside $GROUP: $d") if $out eq 'ok' && $d =~ /uid=user001[1-9],/i;
ok("unescaped wildcard login finds only visible users ($out)");

# ---- user sync (PVE::LDAP::query_users) over ldaps
my @uattrs = qw(uid enable expire firstname lastname email comment keys);
my $tmp = '(|' . join('', map { "($_=*)" } @uattrs) . ')';
$tmp = "(&$tmp(|" . join('', map { "(objectclass=$_)" } qw(inetorgperson posixaccount person user)) . '))';
my $ldap = pve_connect('ldaps');
my ($c, $e) = pve_bind($ldap, $SVC, $SVC_PW);
fail("sync bind: $c $e") if $c;
my $page = Net::LDAP::Control::Paged->new(size => 900);
my @args = (base => $BASE, scope => 'subtree', filter => $tmp, control => [$page], attrs => [@uattrs, 'memberOf']);
my (@users, $cookie, $pages);
while (1) {
	my $m = $ldap->search(@args);
	fail("user sync page ", $pages + 1, ": ", $m->code, ' ', $m->error) if $m->code;
	$pages++;
	for my $en ($m->entries) {
		my %a = (dn => $en->dn, groups => [$en->get_value('memberOf')]);
		for my $at (@uattrs) {
			my @v = $en->get_value($at);
			$a{$at} = $v[0] if @v;
		}
		push @users, \%a;
	}
	my ($resp) = $m->control(LDAP_CONTROL_PAGED) or fail("page $pages: no paged results control in the response");
	$cookie = $resp->cookie;
	last if !defined($cookie) || !length($cookie);
	$page->cookie($cookie);
	fail("paging never ends") if $pages > 1000;
}
fail("user sync: only $pages page(s) of 900 for ", scalar(@users), " users; the test needs more than 900")
	unless $pages >= 2;
my %dnmap;
open(my $fu, '>', "$OUT/users") or die;
open(my $fa, '>', "$OUT/users.attrs") or die;
for my $u (@users) {
	fail("duplicate user $u->{dn}") if $dnmap{lc $u->{dn}};
	$dnmap{lc $u->{dn}} = $u->{uid};
	print $fu lc($u->{dn}), "\n";
	print $fa join('|', lc($u->{dn}), map { $u->{$_} // '' } qw(uid email firstname lastname)), "\n";
	for my $g (@{ $u->{groups} }) {
		fail("$u->{dn}: memberOf $g is not a group") unless lc($g) =~ /,\Q${\ lc $GROUP_DN}\E$/;
	}
}
close $fu;
close $fa;
ok("user sync: " . scalar(@users) . " users in $pages pages of 900 (ldaps, paged), memberOf clean");

# ---- a sync that stops early: the cookie once more with size 0 (abandon)
for my $i (1 .. 6) {              # more than the proxy's paged pool
	$page = Net::LDAP::Control::Paged->new(size => 900);
	@args = (base => $BASE, scope => 'subtree', filter => $tmp, control => [$page], attrs => [@uattrs, 'memberOf']);
	my $m = $ldap->search(@args);
	fail("abandon run $i: first page ", $m->code, ' ', $m->error) if $m->code;
	my ($resp) = $m->control(LDAP_CONTROL_PAGED);
	fail("abandon run $i: no cookie after the first page") unless $resp && length($resp->cookie // '');
	$page->cookie($resp->cookie);
	$page->size(0);
	$m = $ldap->search(@args);
	fail("abandon run $i: size 0 answered ", $m->code, ' ', $m->error) if $m->code;
	fail("abandon run $i: size 0 returned ", scalar($m->entries), " entries") if $m->entries;
}
# and a full paged sync still works afterwards, with the same result
$page = Net::LDAP::Control::Paged->new(size => 900);
@args = (base => $BASE, scope => 'subtree', filter => $tmp, control => [$page], attrs => ['uid']);
my ($n2, $p2) = (0, 0);
while (1) {
	my $m = $ldap->search(@args);
	fail("sync after the abandons, page ", $p2 + 1, ": ", $m->code, ' ', $m->error) if $m->code;
	$p2++;
	$n2 += scalar($m->entries);
	my ($resp) = $m->control(LDAP_CONTROL_PAGED) or last;
	last unless length($resp->cookie // '');
	$page->cookie($resp->cookie);
}
fail("sync after the abandons: $n2 users, first sync had " . scalar(@users)) unless $n2 == @users;
$ldap->unbind;
ok("6 syncs stopped after page 1 (cookie + size 0): each answered 0 with no entries; a full sync then returns $n2 again");

# ---- group sync (PVE::LDAP::query_groups) on group_dn, paged 100
$ldap = pve_connect('ldap+starttls');
($c, $e) = pve_bind($ldap, $SVC, $SVC_PW);
fail("group sync bind: $c $e") if $c;
my $gf = '(|' . join('', map { "(objectclass=$_)" } qw(groupOfNames group univentionGroup ipausergroup)) . ')';
$page = Net::LDAP::Control::Paged->new(size => 100);
@args = (base => $GROUP_DN, scope => 'subtree', filter => $gf, control => [$page], attrs => ['member', 'uniqueMember', 'cn']);
my @groups;
while (1) {
	my $m = $ldap->search(@args);
	fail("group sync: ", $m->code, ' ', $m->error) if $m->code;
	for my $en ($m->entries) {
		my @mem = $en->get_value('member');
		@mem = $en->get_value('uniqueMember') unless @mem;
		push @groups, { dn => $en->dn, name => scalar($en->get_value('cn')), members => \@mem };
	}
	my ($resp) = $m->control(LDAP_CONTROL_PAGED) or last;
	last unless length($resp->cookie // '');
	$page->cookie($resp->cookie);
}
$ldap->unbind;
open(my $fg, '>', "$OUT/groups") or die;
my %seen;
for my $g (@groups) {
	my $name = $g->{name};
	$name = $1 if !$name && $g->{dn} =~ m/^[^=]+=([^,]+),/;
	fail("group sync returned a non-group $g->{dn}") unless lc($g->{dn}) =~ /,\Q${\ lc $GROUP_DN}\E$/;
	$seen{lc $name} = 1;
	for my $mem (@{ $g->{members} }) {
		print $fg lc($name), '|', lc($mem), "\n" if $dnmap{lc $mem};
	}
}
close $fg;
for my $want ('engineering', 'developers', lc($GROUP)) {
	fail("group sync missed $want") unless $seen{$want};
}
for my $upg (qw(alice admin)) {
	fail("group sync returned the user private group $upg") if $seen{$upg};
}
ok("group sync: " . scalar(@groups) . " groups (paged 100), no user private groups");
