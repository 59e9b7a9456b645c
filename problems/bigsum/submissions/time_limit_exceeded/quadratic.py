# Re-adds the whole prefix for every element: quadratic, fine on tiny tests, far too slow on big ones.
import sys

data = sys.stdin.buffer.read().split()
n = int(data[0])
values = list(map(int, data[1:1 + n]))
total = 0
for i in range(n):
    total = sum(values[:i + 1])
print(total)
