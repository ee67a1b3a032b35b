package tuning

import (
	"math"
	"strings"
	"testing"

	"github.com/kagen-ai/kagen/policy"
)

func TestLossUncertainty(t *testing.T) {
	if n := Windows(policy.ConfidenceStats{CorrectN: []int{10, 5}, WrongN: []int{3, 1}}); n != 19 {
		t.Errorf("Windows = %d, want 19", n)
	}
	for _, tc := range []struct {
		exact, acc float64
		n          int
		want       float64 // pp
	}{
		{0.8, 0.8, 19, 100 * 1.96 * math.Sqrt(2*0.16/19)}, // the demo's split: ±25 pp
		{0.9, 0.88, 513, 100 * 1.96 * math.Sqrt(0.09/513+0.88*0.12/513)},
		{1, 1, 19, 100.0 / 19}, // no spread: one window
		{0.8, 0.8, 0, math.Inf(1)},
	} {
		if got := LossHalfWidthPP(tc.exact, tc.acc, tc.n); math.Abs(got-tc.want) > 1e-9 && !(math.IsInf(got, 1) && math.IsInf(tc.want, 1)) {
			t.Errorf("LossHalfWidthPP(%v, %v, %d) = %v, want %v", tc.exact, tc.acc, tc.n, got, tc.want)
		}
	}
	if w := SplitWarning(19, 0.8, 1); !strings.Contains(w, "19 calibration windows") || !strings.Contains(w, "1 pp threshold") {
		t.Errorf("19 windows at 1 pp: %q", w)
	}
	if w := SplitWarning(100000, 0.9, 1); w != "" {
		t.Errorf("100000 windows at 1 pp: %q, want no warning", w)
	}
}
