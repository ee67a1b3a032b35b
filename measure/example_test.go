package measure_test

import (
	"fmt"
	"time"

	"github.com/kagen-ai/kagen/measure"
)

// Two functions timed in interleaved rounds: each round calls both, the
// order rotating, so that machine noise hits them alike.
func ExampleInterleaved() {
	var order []string
	a := func() error { order = append(order, "a"); return nil }
	b := func() error { order = append(order, "b"); return nil }
	s, err := measure.Interleaved(measure.Options{Warmup: 1, Runs: 3}, a, b)
	if err != nil {
		panic(err)
	}
	fmt.Println(order, len(s[0]), len(s[1]))
	// Output: [a b a b b a a b] 3 3
}

// A sample's order statistics and its spread.
func ExampleSample_Summary() {
	s := measure.Sample{90 * time.Microsecond, 100 * time.Microsecond, 110 * time.Microsecond, 400 * time.Microsecond}
	sum := s.Summary()
	fmt.Println(sum.N, sum.Median, sum.Max, sum.Spread())
	// Output: 4 110µs 400µs 2.727272727272727
}
