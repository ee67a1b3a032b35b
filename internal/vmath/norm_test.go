package vmath

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestNormPasses compares SumSquares, Normalize and Affine with float64
// references over lengths 0-70 (every tail), offsets into larger slices,
// in place and not, large offsets from zero (where a one-pass variance
// needs float64), and infinities and NaN passing through.
func TestNormPasses(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for n := 0; n <= 70; n++ {
		for _, off := range []int{0, 1, 5} {
			for _, special := range []string{"", "offset", "inf", "nan"} {
				name := fmt.Sprintf("n%d_off%d_%s", n, off, special)
				vals := func() []float32 {
					b := make([]float32, n+off+3)
					for i := range b {
						b[i] = rng.Float32()*4 - 2
						if special == "offset" {
							b[i] += 1e4
						}
					}
					return b[off : off+n]
				}
				x, scale, bias := vals(), vals(), vals()
				if n > 0 && (special == "inf" || special == "nan") {
					x[rng.IntN(n)] = map[string]float32{"inf": float32(math.Inf(1)), "nan": float32(math.NaN())}[special]
				}
				var ws, wq float64
				for _, v := range x {
					ws += float64(v)
					wq += float64(v) * float64(v)
				}
				s, q := SumSquares(x)
				for _, c := range [][2]float64{{s, ws}, {q, wq}} {
					if !(c[0] == c[1] || math.IsNaN(c[0]) && math.IsNaN(c[1]) || math.Abs(c[0]-c[1]) <= 1e-12*math.Abs(c[1])) {
						t.Fatalf("%s: SumSquares %v, %v; want %v, %v", name, s, q, ws, wq)
					}
				}
				m, a, b := float32(0.3), float32(1.7), float32(-0.2)
				for _, inPlace := range []bool{false, true} {
					src := append([]float32(nil), x...)
					dst := make([]float32, n)
					if inPlace {
						dst = src
					}
					Normalize(dst, src, scale, bias, m, a)
					for i, v := range x {
						want := (float64(v)-float64(m))*float64(a)*float64(scale[i]) + float64(bias[i])
						if !close32(dst[i], want) {
							t.Fatalf("%s in place %v: Normalize element %d %v, want %v", name, inPlace, i, dst[i], want)
						}
					}
					src = append(src[:0], x...)
					if !inPlace {
						dst = make([]float32, n)
					}
					Affine(dst, src, m, a, b)
					for i, v := range x {
						want := (float64(v)-float64(m))*float64(a) + float64(b)
						if !close32(dst[i], want) {
							t.Fatalf("%s in place %v: Affine element %d %v, want %v", name, inPlace, i, dst[i], want)
						}
					}
				}
			}
		}
	}
}

// close32 reports whether got is want to float32 rounding (1e-6 of its
// magnitude, at least 1e-6), or both NaN, or the same infinity.
func close32(got float32, want float64) bool {
	g := float64(got)
	switch {
	case math.IsNaN(want):
		return math.IsNaN(g)
	case math.IsInf(want, 0):
		return g == want
	}
	return math.Abs(g-want) <= 1e-6*math.Max(1, math.Abs(want))
}
