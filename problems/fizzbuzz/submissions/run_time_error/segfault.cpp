#include <cstdio>

int main() {
    int n;
    if (std::scanf("%d", &n) != 1) return 0;
    volatile int *p = nullptr;
    *p = n;  // SIGSEGV
    return 0;
}
