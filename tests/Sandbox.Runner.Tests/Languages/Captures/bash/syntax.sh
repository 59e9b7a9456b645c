echo start
if [ 1 -eq 1 ]; then
  echo inside
fi fi
