#include <stdio.h>
#include <string.h>

int main(void) {
    char buf[4];
    strcpy(buf, 42);
    return 0;
}
