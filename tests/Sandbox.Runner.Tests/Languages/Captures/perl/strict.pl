use strict;
use warnings;

$y = 5;
print "$y\n";
