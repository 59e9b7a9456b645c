# Computes the Manhattan distance instead of the Euclidean one.
x1, y1, x2, y2 = map(float, input().split())
print(abs(x2 - x1) + abs(y2 - y1))
