# Looks for the square root by bisection but never stops (the loop condition can never become false).
x1, y1, x2, y2 = map(float, input().split())
s = (x2 - x1) ** 2 + (y2 - y1) ** 2
lo, hi = 0.0, max(1.0, s)
while hi - lo >= 0:
    mid = (lo + hi) / 2
    if mid * mid < s:
        lo = mid
    else:
        hi = mid
print(lo)
