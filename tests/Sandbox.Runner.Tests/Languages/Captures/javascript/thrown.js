function check(n) {
  if (n < 0) {
    throw new Error("negative input: " + n);
  }
  return n;
}

check(-1);
