package vmath

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestSoftmaxPasses compares ExpShiftSum, Max, Min and Scale with scalar
// references over lengths 0-70 (every tail), offsets into a larger slice,
// in place and not, with infinities and NaN.
func TestSoftmaxPasses(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for n := 0; n <= 70; n++ {
		for _, off := range []int{0, 1, 3} {
			for _, special := range []string{"", "-inf", "+inf", "nan", "denormal"} {
				name := fmt.Sprintf("n%d_off%d_%s", n, off, special)
				back := make([]float32, n+off+5)
				for i := range back {
					back[i] = rng.Float32()*40 - 20
				}
				x := back[off : off+n]
				if n > 0 {
					j := rng.IntN(n)
					switch special {
					case "-inf":
						x[j] = float32(math.Inf(-1))
					case "+inf":
						x[j] = float32(math.Inf(1))
					case "nan":
						x[j] = float32(math.NaN())
					case "denormal":
						x[j] = math.Float32frombits(5)
					}
				}
				// Max and Min: the builtins' answers (NaN if one is NaN).
				want, wantMin := float32(math.Inf(-1)), float32(math.Inf(1))
				for _, v := range x {
					want, wantMin = max(want, v), min(wantMin, v)
				}
				for _, c := range []struct {
					name      string
					got, want float32
				}{{"Max", Max(x), want}, {"Min", Min(x), wantMin}} {
					if math.Float32bits(c.got) != math.Float32bits(c.want) && !(math.IsNaN(float64(c.got)) && math.IsNaN(float64(c.want))) {
						t.Errorf("%s: %s %v, want %v", name, c.name, c.got, c.want)
					}
				}
				// ExpShiftSum: e^(x - shift) with Exp's bits, the sum within
				// float32 rounding of a float64 sum of them.
				shift := want
				if math.IsInf(float64(shift), 0) || math.IsNaN(float64(shift)) {
					shift = 3
				}
				ref := make([]float32, n)
				for i, v := range x {
					ref[i] = v - shift
				}
				Exp(ref, ref)
				var refSum float64
				for _, v := range ref {
					refSum += float64(v)
				}
				for _, inPlace := range []bool{false, true} {
					src := append([]float32(nil), x...)
					dst := make([]float32, n)
					if inPlace {
						dst = src
					}
					s := ExpShiftSum(dst, src, shift)
					for i := range ref {
						if math.Float32bits(dst[i]) != math.Float32bits(ref[i]) && !(math.IsNaN(float64(dst[i])) && math.IsNaN(float64(ref[i]))) {
							t.Fatalf("%s in place %v: element %d %v, want Exp's %v", name, inPlace, i, dst[i], ref[i])
						}
					}
					switch {
					case math.IsNaN(refSum) || math.IsInf(refSum, 0):
						if float64(s) != refSum && !(math.IsNaN(float64(s)) && math.IsNaN(refSum)) {
							t.Errorf("%s: sum %v, want %v", name, s, refSum)
						}
					case math.Abs(float64(s)-refSum) > 1e-6*math.Abs(refSum)+1e-30:
						t.Errorf("%s: sum %v, want %v", name, s, refSum)
					}
				}
				// Scale: the same bits as a scalar multiply.
				y := append([]float32(nil), x...)
				Scale(y, 0.37)
				for i, v := range x {
					if w := v * 0.37; math.Float32bits(y[i]) != math.Float32bits(w) && !(math.IsNaN(float64(w)) && math.IsNaN(float64(y[i]))) {
						t.Fatalf("%s: Scale element %d %v, want %v", name, i, y[i], w)
					}
				}
			}
		}
	}
}
