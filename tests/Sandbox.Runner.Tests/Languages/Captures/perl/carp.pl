use strict;
use warnings;
use Carp qw(confess);

sub inner {
    confess "inner failed";
}

sub outer {
    inner();
}

outer();
