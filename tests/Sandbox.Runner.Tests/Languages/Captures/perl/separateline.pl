use strict;
use warnings;
use File::Find;

find(sub { }, "/nonexistent");
print "done\n";
