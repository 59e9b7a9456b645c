#include <iostream>
#include <vector>

int main() {
    std::vector<int> v = {1, 2, 3};
    std::cout << v.size() << std::endl
    std::string s = 5;
    return 0;
}
