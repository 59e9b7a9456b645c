"""Writes the test data of this package (run from the package folder; deterministic)."""
import random

random.seed(2024)


def write(path, values):
    with open(path + ".in", "w") as f:
        f.write(f"{len(values)}\n{' '.join(map(str, values))}\n")
    with open(path + ".ans", "w") as f:
        f.write(f"{sum(values)}\n")


write("data/sample/1", [1, 2, 3])
write("data/sample/2", [-5, 10])
for i, n in enumerate([1, 10, 1000, 50000], 1):
    write(f"data/secret/1-small/{i:02}", [random.randint(-10000, 10000) for _ in range(n)])
for i, n in enumerate([2, 1000, 100000], 1):
    write(f"data/secret/2-large/{i:02}", [random.randint(-10**12, 10**12) for _ in range(n)])
write("data/secret/2-large/04", [10**12] * 100000)
