package measure

import (
	"fmt"
	"math"
	"testing"
)

// TestWilson checks Wilson's interval against the worked examples of
// Newcombe (1998), "Two-sided confidence intervals for the single
// proportion", Table II (method 3), to four decimals.
func TestWilson(t *testing.T) {
	for _, c := range []struct {
		k, n   int
		lo, hi float64
	}{
		{81, 263, 0.2553, 0.3662},
		{15, 148, 0.0624, 0.1605},
		{0, 20, 0, 0.1611},
		{1, 29, 0.0061, 0.1718},
		{0, 0, 0, 1}, // no trials: anything
	} {
		lo, hi := Wilson(c.k, c.n, Z95)
		if math.Abs(lo-c.lo) > 5e-5 || math.Abs(hi-c.hi) > 5e-5 {
			t.Errorf("Wilson(%d, %d) = %.4f..%.4f, want %.4f..%.4f", c.k, c.n, lo, hi, c.lo, c.hi)
		}
	}
}

// TestLossInterval checks the paired loss interval: Newcombe's (1998,
// paired data) example (a), and the properties the tuner relies on.
func TestLossInterval(t *testing.T) {
	for _, c := range []struct {
		name   string
		p      Paired
		lo, hi float64 // pp, to 0.01 (after the first, pinned from this implementation)
	}{
		{"Newcombe's example (a)", Paired{36, 12, 2, 0}, 5.69, 34.04},
		{"no window: anything", Paired{}, -100, 100},
		{"10 windows, no disagreement", Paired{8, 0, 0, 2}, -23.55, 23.55},
		{"1000 windows, no disagreement", Paired{900, 0, 0, 100}, -0.36, 0.36},
		{"1000 windows, 3 lost", Paired{897, 3, 0, 100}, -0.18, 0.81},
		{"19 windows, 1 gained (the demo's -5.26 pp)", Paired{17, 0, 1, 1}, -25.25, 13.28},
	} {
		lo, hi := c.p.LossInterval(Z95)
		if math.Abs(lo-c.lo) > 0.005 || math.Abs(hi-c.hi) > 0.005 {
			t.Errorf("%s: %+v: %.2f..%.2f pp, want %.2f..%.2f", c.name, c.p, lo, hi, c.lo, c.hi)
		}
		if l := c.p.LossPP(); c.p.N() > 0 && (l < lo || l > hi) {
			t.Errorf("%s: loss %.2f pp outside its interval %.2f..%.2f", c.name, l, lo, hi)
		}
	}
	// more windows, same rates: narrower; swapping lost and gained
	// mirrors the interval
	lo1, hi1 := Paired{90, 5, 2, 3}.LossInterval(Z95)
	lo2, hi2 := Paired{900, 50, 20, 30}.LossInterval(Z95)
	if hi2-lo2 >= hi1-lo1 {
		t.Errorf("10x the windows: width %.2f pp, not below %.2f", hi2-lo2, hi1-lo1)
	}
	lo3, hi3 := Paired{90, 2, 5, 3}.LossInterval(Z95)
	if math.Abs(lo3+hi1) > 1e-9 || math.Abs(hi3+lo1) > 1e-9 {
		t.Errorf("mirror: %.4f..%.4f, want %.4f..%.4f", lo3, hi3, -hi1, -lo1)
	}
	for _, c := range []struct {
		p      Paired
		max    float64
		decide bool
	}{
		{Paired{17, 0, 1, 1}, 1, false},     // 19 windows cannot decide 1 pp
		{Paired{900, 0, 0, 100}, 1, true},   // 1000 windows without disagreement can
		{Paired{880, 20, 0, 100}, 1, true},  // 2 pp lost: above 1 pp for sure
		{Paired{890, 10, 0, 100}, 1, false}, // 1 pp lost: on the threshold
		{Paired{450, 0, 0, 50}, 0.5, false}, // 500 windows cannot decide 0.5 pp
	} {
		if got := c.p.Decides(c.max, Z95); got != c.decide {
			lo, hi := c.p.LossInterval(Z95)
			t.Errorf("%+v at %v pp: decides %v (%.2f..%.2f), want %v", c.p, c.max, got, lo, hi, c.decide)
		}
	}
}

func ExamplePaired_LossInterval() {
	// 513 windows; the approximation lost 4 that exact got right and
	// gained 2 that exact got wrong.
	p := Paired{Both: 467, Lost: 4, Gained: 2, Neither: 40}
	lo, hi := p.LossInterval(Z95)
	fmt.Printf("loss %.2f pp, 95%% interval %.2f..%.2f pp on %d windows\n", p.LossPP(), lo, hi, p.N())
	// Output: loss 0.39 pp, 95% interval -0.77..1.60 pp on 513 windows
}
