<?php
function check($n) {
    if ($n < 0) {
        throw new InvalidArgumentException("negative input: $n");
    }
    return $n;
}

check(-1);
