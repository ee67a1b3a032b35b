package vec

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestMatchesScalar compares the routines, at every length and offset
// around the vector width, with the scalar definitions, NaN, infinities
// and signed zeros included.
func TestMatchesScalar(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	special := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0, float32(math.Copysign(0, -1)), 1e30, -1e30}
	val := func() float32 {
		if rng.IntN(5) == 0 {
			return special[rng.IntN(len(special))]
		}
		return float32(rng.NormFloat64())
	}
	for _, r := range []struct{ lo, hi float32 }{{0, float32(math.Inf(1))}, {0, 6}, {-1, 1}, {float32(math.Inf(-1)), float32(math.Inf(1))}} {
		for n := 0; n < 40; n++ {
			for off := 0; off < 3; off++ {
				a, b := make([]float32, n+off), make([]float32, n+off)
				for i := range a {
					a[i], b[i] = val(), val()
				}
				got := make([]float32, n+off)
				Clamp(got[off:], a[off:], r.lo, r.hi)
				for i := off; i < n+off; i++ {
					if want := clamp1(a[i], r.lo, r.hi); math.Float32bits(got[i]) != math.Float32bits(want) {
						t.Fatalf("Clamp(%v) to [%v, %v] = %v, want %v", a[i], r.lo, r.hi, got[i], want)
					}
				}
				AvgClamp(got[off:], a[off:], b[off:], r.lo, r.hi)
				for i := off; i < n+off; i++ {
					if want := clamp1((a[i]+b[i])*0.5, r.lo, r.hi); math.Float32bits(got[i]) != math.Float32bits(want) {
						t.Fatalf("AvgClamp(%v, %v) to [%v, %v] = %v, want %v", a[i], b[i], r.lo, r.hi, got[i], want)
					}
				}
			}
		}
	}
	if got := clamp1(float32(math.Copysign(0, -1)), 0, 1); !math.Signbit(float64(got)) {
		t.Fatal("clamp1(-0) lost the sign")
	}
}
