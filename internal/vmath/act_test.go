package vmath

import (
	"math"
	"testing"
)

// TestSiLUGelu checks SiLU and Gelu, vectorised and scalar, on a strided
// sweep of all float32 bit patterns (every 997th; every 99991st with
// -short), the specials and every length 0..33, against float64: SiLU
// within 4 ulp (of at least 2^-145: its denormal results come from
// Sigmoid's, scaled up by x), Gelu within 4 ulp plus 2.5e-7*|x|.
func TestSiLUGelu(t *testing.T) {
	stride := uint64(997)
	if testing.Short() {
		stride = 99991
	}
	xs := specials()
	for b := uint64(0); b < 1<<32; b += stride {
		xs = append(xs, math.Float32frombits(uint32(b)))
	}
	silu64 := func(x float64) float64 { return x * sigmoid64(x) }
	gelu64 := func(x float64) float64 { return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)) }
	for _, c := range []struct {
		name   string
		slice  func(dst, src []float32)
		scalar func(float32) float32
		ref    func(float64) float64
		absX   float64
		floor  float64 // the smallest ulp counted (SiLU's denormal results)
	}{
		{"SiLU", SiLU, silu1, silu64, 0, 0x1p-145},
		{"Gelu", Gelu, gelu1, gelu64, 2.5e-7, 0x1p-149},
	} {
		got := make([]float32, len(xs))
		c.slice(got, xs)
		worst, at := 0.0, float32(0)
		for i, x := range xs {
			w := c.ref(float64(x))
			for _, g := range []float32{got[i], c.scalar(x)} {
				var e float64
				if wf := float32(w); g == wf || g != g && w != w {
					continue
				} else if math.IsNaN(w) || g != g || math.IsInf(float64(g), 0) || math.IsInf(float64(wf), 0) {
					e = math.Inf(1)
				} else {
					_, ex := math.Frexp(w)
					ulp := max(math.Ldexp(1, max(ex-24, -149)), c.floor)
					e = math.Abs(float64(g)-w) / (ulp + c.absX*math.Abs(float64(x))/4)
				}
				if e > worst || e != e {
					worst, at = e, x
				}
			}
		}
		t.Logf("%s: max error %.3g (in units of ulp + %g|x|/4) at %v", c.name, worst, c.absX, at)
		if !(worst <= 4) {
			t.Errorf("%s: max error %.3g at %v (%#x)", c.name, worst, at, math.Float32bits(at))
		}
		// Tails, offsets and in place against the scalar path.
		for n := 0; n <= 33; n++ {
			for off := 0; off < 3; off++ {
				src := make([]float32, n+off)
				for i := range src {
					src[i] = float32(i*7%23) - 11.3
				}
				dst := make([]float32, n+off)
				c.slice(dst[off:], src[off:])
				in := append([]float32(nil), src...)
				c.slice(in[off:], in[off:])
				for i := off; i < n+off; i++ {
					s := c.scalar(src[i])
					if math.Abs(float64(dst[i]-s)) > 1e-6*max(1, math.Abs(float64(s))) || in[i] != dst[i] {
						t.Fatalf("%s(%v) n=%d off=%d = %v (in place %v), scalar %v", c.name, src[i], n, off, dst[i], in[i], s)
					}
				}
			}
		}
	}
}
