#include <iostream>
#include <string>

int main() {
    std::ios::sync_with_stdio(false);
    int n;
    std::cin >> n;
    std::string out;
    for (int i = 1; i <= n; i++) {
        out += i % 15 == 0 ? "FizzBuzz" : i % 3 == 0 ? "Fizz" : i % 5 == 0 ? "Buzz" : std::to_string(i);
        out += '\n';
    }
    std::cout << out;
}
