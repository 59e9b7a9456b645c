/* Adds in 32-bit ints: right on the small group, wrong on the large one. */
#include <stdio.h>

int main(void) {
    int n, total = 0;
    long long value;
    if (scanf("%d", &n) != 1) return 1;
    for (int i = 0; i < n; i++) {
        if (scanf("%lld", &value) != 1) return 1;
        total += (int) value;
    }
    printf("%d\n", total);
    return 0;
}
