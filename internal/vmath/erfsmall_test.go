package vmath

import (
	"math"
	"testing"
)

// TestErfSmallRelative checks the documented relative accuracy of Erf
// near 0 (|x| < 0.5, where an absolute bound says little): within
// erfSmallULP ulp, on every 997th float32 of (0, 0.5) and its negatives.
func TestErfSmallRelative(t *testing.T) {
	step := uint32(997)
	if testing.Short() {
		step = 99991
	}
	var xs []float32
	for b := uint32(1); b < math.Float32bits(0.5); b += step {
		xs = append(xs, math.Float32frombits(b), -math.Float32frombits(b))
	}
	got := make([]float32, len(xs))
	Erf(got, xs)
	worst, at := 0.0, float32(0)
	for i, x := range xs {
		for _, g := range []float32{got[i], erf1(x)} {
			if e := ulpErr(g, math.Erf(float64(x))); e > worst {
				worst, at = e, x
			}
		}
	}
	t.Logf("Erf on |x| < 0.5: max error %.3g ulp at %v", worst, at)
	if worst > erfSmallULP {
		t.Errorf("Erf on |x| < 0.5: max error %.3g ulp at %v, bound %v", worst, at, erfSmallULP)
	}
}
