/* Prints in scientific notation (e.g. 5.000000000e+00): accepted, since any float format is. */
#include <math.h>
#include <stdio.h>

int main(void) {
    double x1, y1, x2, y2;
    if (scanf("%lf %lf %lf %lf", &x1, &y1, &x2, &y2) != 4) return 1;
    printf("%.9e\n", hypot(x2 - x1, y2 - y1));
    return 0;
}
