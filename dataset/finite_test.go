package dataset

import (
	"math"
	"testing"
)

// TestNonFiniteOutputs checks that windows whose outputs hold a NaN or an
// infinity are counted, name no class and score wrong (#19 item 19: a
// NaN model was scored 11% as if it predicted a class).
func TestNonFiniteOutputs(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for _, tc := range []struct {
		name      string
		outs      []float32 // 2 classes per window
		y         []int
		n, first  int
		accuracy  float64
		argmaxOf0 int
	}{
		{"finite", []float32{1, 0, 0, 1}, []int{0, 1}, 0, -1, 1, 0},
		{"NaN window", []float32{nan, 0, 0, 1}, []int{0, 1}, 1, 0, 0.5, -1},
		{"infinite window", []float32{1, 0, 0, inf}, []int{0, 1}, 1, 1, 0.5, 0},
		{"all NaN", []float32{nan, nan, nan, nan}, []int{0, 0}, 2, 0, 0, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, first := NonFinite(tc.outs, 2)
			if n != tc.n || first != tc.first {
				t.Errorf("NonFinite = %d, %d, want %d, %d", n, first, tc.n, tc.first)
			}
			if a := Accuracy(tc.outs, tc.y, 2); a != tc.accuracy {
				t.Errorf("accuracy %v, want %v", a, tc.accuracy)
			}
			if c := Argmax(tc.outs[:2]); c != tc.argmaxOf0 {
				t.Errorf("argmax of window 0 = %d, want %d", c, tc.argmaxOf0)
			}
		})
	}
}
