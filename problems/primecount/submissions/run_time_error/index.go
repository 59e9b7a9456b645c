package main

import "fmt"

// Sizes the sieve for n = 10^6 at most: index out of range (panic) on larger inputs.
func main() {
	var n int
	fmt.Scan(&n)
	composite := make([]bool, 1000001)
	count := 0
	for i := 2; i <= n; i++ {
		if composite[i] {
			continue
		}
		count++
		for j := i * i; j <= n; j += i {
			composite[j] = true
		}
	}
	fmt.Println(count)
}
