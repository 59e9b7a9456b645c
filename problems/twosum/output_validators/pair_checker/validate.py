"""Output validator (Kattis format): validate.py input judge_answer feedback_dir < team_output.

Accepts any pair of distinct positions whose values add up to the target; exits 42 (accepted) or 43 (wrong answer).
"""
import sys


def reject(message):
    with open(sys.argv[3] + "judgemessage.txt", "w") as feedback:
        feedback.write(message + "\n")
    print(message)
    sys.exit(43)


def main():
    with open(sys.argv[1]) as f:
        tokens = f.read().split()
    n, target = int(tokens[0]), int(tokens[1])
    values = [int(v) for v in tokens[2:2 + n]]
    with open(sys.argv[2]) as f:
        if len(f.read().split()) != 2:
            sys.exit(1)  # a broken answer file is the problem's fault, not the team's

    team = sys.stdin.read().split()
    if len(team) != 2:
        reject(f"expected two positions, got {len(team)} tokens")
    try:
        i, j = int(team[0]), int(team[1])
    except ValueError:
        reject("positions must be integers")
    if not (1 <= i <= n and 1 <= j <= n):
        reject("position out of range")
    if i == j:
        reject("the two positions must differ")
    if values[i - 1] + values[j - 1] != target:
        reject("the values at those positions do not add up to the target")
    sys.exit(42)


main()
