# Looks only among the first ten values and crashes when the pair is not there.
import sys

data = sys.stdin.buffer.read().split()
n, target = int(data[0]), int(data[1])
values = list(map(int, data[2:2 + min(n, 10)]))
pair = next((i, j) for i in range(len(values)) for j in range(i + 1, len(values)) if values[i] + values[j] == target)
print(pair[0] + 1, pair[1] + 1)
