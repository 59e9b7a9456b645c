"""Writes the test data of this package (run from the package folder; deterministic).
The answer files hold one valid pair; the validator accepts any."""
import random

random.seed(99)


def write(path, values, target):
    seen = {}
    answer = None
    for j, v in enumerate(values, 1):
        if target - v in seen:
            answer = (seen[target - v], j)
            break
        seen.setdefault(v, j)
    assert answer
    with open(path + ".in", "w") as f:
        f.write(f"{len(values)} {target}\n{' '.join(map(str, values))}\n")
    with open(path + ".ans", "w") as f:
        f.write(f"{answer[0]} {answer[1]}\n")


write("data/sample/1", [2, 7, 11, 15], 9)
write("data/sample/2", [3, 3, 4, 2], 6)
for i, n in enumerate([2, 10, 1000, 100000, 100000], 1):
    values = [random.randint(-10**9, 10**9) for _ in range(n)]
    a, b = random.sample(range(n), 2)
    target = values[a] + values[b]
    if i == 5:
        values = [5] * n  # every pair is valid
        target = 10
    write(f"data/secret/{i:02}", values, target)
