# Counts recursively, one stack frame per number: exceeds Python's recursion limit past n = 1000.
import sys


def count(k):
    if k < 2:
        return 0
    return count(k - 1) + all(k % d for d in range(2, int(k ** 0.5) + 1))


print(count(int(sys.stdin.readline())))
