<?php
echo $undefined;
$arr = [1, 2];
echo $arr[5];
echo "done\n";
