<?php
$n = (int) trim(fgets(STDIN));
for ($i = 1; $i <= $n; $i++) {
    echo $i % 15 == 0 ? "FizzBuzz" : ($i % 3 == 0 ? "Fizz" : ($i % 5 == 0 ? "Buzz" : $i)), "\n";
}
