# Spins forever after reading the input: always over the time limit.
n = int(input())
while True:
    n = (n * 7 + 1) % 1000003
