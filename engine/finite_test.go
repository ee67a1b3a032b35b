package engine

import (
	"math"
	"strings"
	"testing"
)

// TestFirstNonFinite checks that FirstNonFinite names the node that first
// produced a NaN or an infinity, or the input that held one, and finds
// nothing in a finite run (#19 item 19: a model that outputs NaN was
// scored as a wrong class with no word).
func TestFirstNonFinite(t *testing.T) {
	m := newBuilder(13).input("x", 1, 4).init("b", []float32{1, 1, 1, 1}, 1, 4).
		node("Add", []string{"x", "b"}, []string{"a"}).
		node("Log", []string{"a"}, []string{"l"}).
		node("Mul", []string{"l", "b"}, []string{"y"}).
		output("y").load(t, Options{})
	s := m.NewSession()
	defer s.Close()
	nan := float32(math.NaN())
	for _, tc := range []struct {
		name string
		x    []float32
		want string // "" finite
	}{
		{"finite", []float32{0, 1, 2, 3}, ""},
		{"log of a negative", []float32{0, -3, 2, 3}, "node l_node (Log, step 1) output l[1] is NaN"},
		{"log of zero", []float32{0, 1, -1, 3}, "output l[2] is -Inf"},
		{"NaN input", []float32{0, 1, 2, nan}, "input x[3] is NaN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := &Tensor{DType: Float32, Shape: []int{1, 4}, F: tc.x}
			nf, err := s.FirstNonFinite([]*Tensor{x}, nil)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.want == "" && nf != nil:
				t.Fatalf("found %v in a finite run", nf)
			case tc.want != "" && (nf == nil || !strings.Contains(nf.String(), tc.want)):
				t.Fatalf("found %v, want %q", nf, tc.want)
			}
		})
	}
}
