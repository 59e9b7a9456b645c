<?php
function divide($a, $b) {
    return intdiv($a, $b);
}

echo divide(1, 0), "\n";
