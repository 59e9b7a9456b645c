/* Always answers "1 2". */
#include <stdio.h>

int main(void) {
    puts("1 2");
    return 0;
}
