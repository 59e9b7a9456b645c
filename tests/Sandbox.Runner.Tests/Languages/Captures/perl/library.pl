use strict;
use warnings;
use Storable qw(thaw);

my $data = thaw("not a storable image");
