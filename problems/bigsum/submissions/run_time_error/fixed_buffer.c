/* Refuses inputs longer than its fixed buffer of 1000 by aborting (SIGABRT) instead of growing it. */
#include <stdio.h>
#include <stdlib.h>

int main(void) {
    int n;
    if (scanf("%d", &n) != 1) return 1;
    if (n > 1000) abort();
    long long values[1000], total = 0;
    for (int i = 0; i < n; i++) {
        if (scanf("%lld", &values[i]) != 1) return 1;
        total += values[i];
    }
    printf("%lld\n", total);
    return 0;
}
