/* Never finishes: burns CPU until the time limit. */
int main(void) {
    volatile unsigned long x = 0;
    for (;;) x++;
}
