use strict;
use warnings;

my $name;
print "Hello, $name\n";
my $n = 1 / 0;
