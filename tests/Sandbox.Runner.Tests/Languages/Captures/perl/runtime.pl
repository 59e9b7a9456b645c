use strict;
use warnings;

sub check {
    my ($n) = @_;
    die "negative input: $n\n" if $n < 0;
    die "zero input" if $n == 0;
    return $n;
}

check(0);
