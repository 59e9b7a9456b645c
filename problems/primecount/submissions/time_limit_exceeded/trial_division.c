/* Tests every number by trial division up to its square root, without skipping even divisors or
   stopping early in a clever way: correct, but about 10^9 divisions for n = 10^7. */
#include <stdio.h>

int main(void) {
    int n, count = 0;
    if (scanf("%d", &n) != 1) return 1;
    for (int k = 2; k <= n; k++) {
        int prime = 1;
        for (int d = 2; (long long) d * d <= k; d++) {
            if (k % d == 0) { prime = 0; break; }
        }
        count += prime;
    }
    printf("%d\n", count);
    return 0;
}
