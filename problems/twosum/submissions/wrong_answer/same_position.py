# Allows i == j: wrong whenever a value is exactly half the target and comes first (sample 2: 3 + 3 = 6 at position 1).
import sys

data = sys.stdin.buffer.read().split()
n, target = int(data[0]), int(data[1])
values = list(map(int, data[2:2 + n]))
index = {}
for j, v in enumerate(values):
    index.setdefault(v, j)
for j, v in enumerate(values):
    if target - v in index:
        print(j + 1, index[target - v] + 1)
        break
