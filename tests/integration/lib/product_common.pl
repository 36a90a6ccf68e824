# product_common.pl — shared by the Perl replays (lib/product_*.pl):
#   prod_case(CASE, DETAIL)   record one of the product matrix's five
#                             standard cases as passed (scripts/product-matrix.sh;
#                             tests/integration/lib/product.sh's prod_case writes
#                             the same line) in $PRODUCT_CASES_FILE, with the
#                             library "Net::LDAP (libnet-ldap-perl)"
# Load with: require "$INTEG_LIB/product_common.pl";
use strict;
use warnings;

our @PROD_CASES = qw(member_login_groups wrong_password locked_account unknown_user outside_groups);

sub prod_case {
	my ($case, $detail) = @_;
	die "prod_case: unknown case $case\n" unless grep { $_ eq $case } @PROD_CASES;
	my $path = $ENV{PRODUCT_CASES_FILE} or return;
	my @f = ($ENV{PRODUCT_NAME} // '?', 'Net::LDAP (libnet-ldap-perl)', $ENV{DIRECTORY_KIND} || 'slapd',
		$case, 'ok', $detail // '');
	s/[\t\n]/ /g for @f;
	open(my $fh, '>>', $path) or die "prod_case: $path: $!\n";
	print $fh join("\t", 'case', @f), "\n";
	close $fh;
}

1;
