package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// arithRef is the plain loop arithVec and arithScalar must match bit for
// bit: the vector routines perform the same IEEE operation per element.
func arithRef(op byte, a, b float32) float32 {
	switch op {
	case '+':
		return a + b
	case '-':
		return a - b
	case '*':
		return a * b
	}
	return a / b
}

// TestArithMatchesReference checks arithVec and arithScalar against the
// scalar definition over every operation, both operand orders, lengths
// around the vector widths, unaligned offsets and special values.
func TestArithMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 1e-40, -3e38, 3e38}
	gen := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			if rng.IntN(5) == 0 {
				v[i] = special[rng.IntN(len(special))]
			} else {
				v[i] = rng.Float32()*4 - 2
			}
		}
		return v
	}
	same := func(a, b float32) bool {
		return math.Float32bits(a) == math.Float32bits(b) || a != a && b != b
	}
	for _, op := range []byte{'+', '-', '*', '/'} {
		for _, swap := range []bool{false, true} {
			for _, n := range []int{0, 1, 7, 8, 9, 31, 32, 33, 40, 67} {
				for _, off := range []int{0, 1, 3} {
					name := fmt.Sprintf("%c/swap=%v/n=%d/off=%d", op, swap, n, off)
					x, y := gen(n + off)[off:], gen(n + off)[off:]
					o := make([]float32, n+off)[off:]
					arithVec(op, swap, o, x, y)
					for i := range x {
						want := arithRef(op, x[i], y[i])
						if swap {
							want = arithRef(op, y[i], x[i])
						}
						if !same(o[i], want) {
							t.Fatalf("arithVec %s: element %d: got %g, want %g", name, i, o[i], want)
						}
					}
					s := special[rng.IntN(len(special))]
					if rng.IntN(2) == 0 {
						s = rng.Float32()*4 - 2
					}
					arithScalar(op, swap, o, x, s)
					for i := range x {
						want := arithRef(op, x[i], s)
						if swap {
							want = arithRef(op, s, x[i])
						}
						if !same(o[i], want) {
							t.Fatalf("arithScalar %s (s=%g): element %d: got %g, want %g", name, s, i, o[i], want)
						}
					}
				}
			}
		}
	}
}
