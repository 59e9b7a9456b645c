echo start
nosuchcommand --flag
x=$((1 / 0))
echo done
