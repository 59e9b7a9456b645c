"""Writes the test data of this package (run from the package folder)."""


def count_primes(n):
    if n < 2:
        return 0
    sieve = bytearray([1]) * (n + 1)
    sieve[0] = sieve[1] = 0
    for p in range(2, int(n ** 0.5) + 1):
        if sieve[p]:
            sieve[p * p::p] = bytearray(len(range(p * p, n + 1, p)))
    return sum(sieve)


def write(path, n):
    with open(path + ".in", "w") as f:
        f.write(f"{n}\n")
    with open(path + ".ans", "w") as f:
        f.write(f"{count_primes(n)}\n")


write("data/sample/1", 10)
write("data/sample/2", 100)
for i, n in enumerate([1, 2, 1000, 99991, 1000000, 5000000, 10000000], 1):
    write(f"data/secret/{i:02}", n)
