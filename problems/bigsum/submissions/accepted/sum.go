package main

import (
	"bufio"
	"fmt"
	"os"
)

func main() {
	in := bufio.NewReader(os.Stdin)
	var n int
	fmt.Fscan(in, &n)
	var total, v int64
	for i := 0; i < n; i++ {
		fmt.Fscan(in, &v)
		total += v
	}
	fmt.Println(total)
}
