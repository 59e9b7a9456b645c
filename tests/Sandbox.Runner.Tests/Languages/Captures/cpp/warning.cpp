#include <iostream>

int main() {
    int a[3] = {1, 2, 3};
    for (int i = 0; i < 3u; i++) {
        std::cout << a[i];
    }
    int unused = 0;
    return 0;
}
