def divide(a, b):
    return a / b


def main():
    print(divide(1, 0))


main()
