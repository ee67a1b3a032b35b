package vmath

import (
	"math"
	"math/rand/v2"
	"testing"
)

// fn is one function under test: the exported slice form, the scalar
// portable form, the float64 reference and the stated bound (ulps, or an
// absolute error when abs is set).
type fn struct {
	name   string
	slice  func(dst, src []float32)
	scalar func(float32) float32
	ref    func(float64) float64
	bound  float64
	abs    bool
}

var fns = []fn{
	{"Exp", Exp, exp1, math.Exp, expULP, false},
	{"Log", Log, log1, math.Log, logULP, false},
	{"Tanh", Tanh, tanh1, math.Tanh, tanhULP, false},
	{"Sigmoid", Sigmoid, sigmoid1, sigmoid64, sigmoidULP, false},
	{"Erf", Erf, erf1, math.Erf, erfAbs, true},
}

func sigmoid64(x float64) float64 {
	if x < 0 {
		e := math.Exp(x)
		return e / (1 + e)
	}
	return 1 / (1 + math.Exp(-x))
}

// ulpErr is the error of got against the exact want in units of the last
// place of float32 at want's magnitude (denormal spacing at the bottom).
// NaN must match NaN, and a want that rounds to ±Inf must be matched
// exactly.
func ulpErr(got float32, want float64) float64 {
	wf := float32(want)
	switch {
	case math.IsNaN(want) || math.IsNaN(float64(got)):
		if math.IsNaN(want) && math.IsNaN(float64(got)) {
			return 0
		}
		return math.Inf(1)
	case math.IsInf(float64(wf), 0) || math.IsInf(float64(got), 0):
		if got == wf {
			return 0
		}
		return math.Inf(1)
	}
	_, e := math.Frexp(want)
	ulp := math.Ldexp(1, max(e-24, -149))
	return math.Abs(float64(got)-want) / ulp
}

// errOf is got's error against want in the function's unit.
func (f fn) errOf(got float32, x float32) float64 {
	want := f.ref(float64(x))
	if f.abs {
		if math.IsNaN(want) != math.IsNaN(float64(got)) {
			return math.Inf(1)
		}
		if math.IsNaN(want) {
			return 0
		}
		return math.Abs(float64(got) - want)
	}
	return ulpErr(got, want)
}

// specials are the inputs every function is checked on by name.
func specials() []float32 {
	v := []float32{0, float32(math.Copysign(0, -1)), 1, -1, 0.5, -0.5, 2, -2,
		0x1p-149, -0x1p-149, 0x1p-127, -0x1p-127, 0x1.fffffcp-127, 0x1p-126, -0x1p-126,
		math.MaxFloat32, -math.MaxFloat32, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()),
		88.72283, 88.72284, 88.7229, 89, -87.33654, -87.3366, -103.27893, -103.9720, -103.9721, -104, -104.1,
		0.625, -0.625, 0.62499994, 9, -9, 10, -10, 44, -44, 45, -45, 3.9999998, 4, -4, 4.0000005, 1e-20, -1e-20,
		float32(math.Float32frombits(0x7fc00001)), float32(math.Float32frombits(0xffc00000)), float32(math.Float32frombits(0x7f800001)),
	}
	return v
}

func checkAll(t *testing.T, f fn, xs []float32, worst *float64, worstX *float32) {
	t.Helper()
	got := make([]float32, len(xs))
	f.slice(got, xs)
	for i, x := range xs {
		e := f.errOf(got[i], x)
		s := f.errOf(f.scalar(x), x)
		if s > e {
			e = s
		}
		if e > *worst || math.IsNaN(e) {
			*worst, *worstX = e, x
		}
	}
}

// TestSweep checks every function on a strided sweep of all 2^32 float32
// bit patterns (every 97th; every 9973rd with -short) and the specials,
// through both the exported (vectorised) path and the scalar one.
func TestSweep(t *testing.T) {
	stride := uint64(97)
	if testing.Short() {
		stride = 9973
	}
	for _, f := range fns {
		t.Run(f.name, func(t *testing.T) {
			worst, worstX := 0.0, float32(0)
			checkAll(t, f, specials(), &worst, &worstX)
			buf := make([]float32, 0, 1<<14)
			for b := uint64(0); b < 1<<32; b += stride {
				buf = append(buf, math.Float32frombits(uint32(b)))
				if len(buf) == cap(buf) {
					checkAll(t, f, buf, &worst, &worstX)
					buf = buf[:0]
				}
			}
			checkAll(t, f, buf, &worst, &worstX)
			t.Logf("%s: max error %.3g at %v (%#x)", f.name, worst, worstX, math.Float32bits(worstX))
			if !(worst <= f.bound) {
				t.Errorf("%s: max error %.3g at %v (%#x), bound %v", f.name, worst, worstX, math.Float32bits(worstX), f.bound)
			}
		})
	}
}

// TestDense checks every function on every third float32 in the ranges where
// the reductions switch branch or the result changes regime.
func TestDense(t *testing.T) {
	ranges := map[string][][2]float32{
		"Exp":     {{0.5, 1}, {-1, -0.5}, {87, 89}, {-104, -86}},
		"Log":     {{0.5, 2}, {0, 0x1p-125}},
		"Tanh":    {{0.5, 0.75}, {-0.75, -0.5}, {8, 10}},
		"Sigmoid": {{0.5, 1}, {-1, -0.5}, {-104, -86}, {15, 18}},
		"Erf":     {{0.05, 0.1}, {3.5, 4.5}, {0.5, 1.5}},
	}
	for _, f := range fns {
		worst, worstX := 0.0, float32(0)
		for _, r := range ranges[f.name] {
			step := uint32(3)
			if testing.Short() {
				step = 101
			}
			var buf []float32
			for x := r[0]; x < r[1]; {
				buf = append(buf, x)
				b := math.Float32bits(x)
				if x < 0 {
					if b-step < 0x80000000 {
						x = 0
						continue
					}
					x = math.Float32frombits(b - step)
				} else {
					x = math.Float32frombits(b + step)
				}
				if len(buf) == 1<<14 {
					checkAll(t, f, buf, &worst, &worstX)
					buf = buf[:0]
				}
			}
			checkAll(t, f, buf, &worst, &worstX)
		}
		t.Logf("%s: max error %.3g at %v", f.name, worst, worstX)
		if !(worst <= f.bound) {
			t.Errorf("%s: max error %.3g at %v (%#x), bound %v", f.name, worst, worstX, math.Float32bits(worstX), f.bound)
		}
	}
}

// TestSpecials checks the exact values the documentation promises.
func TestSpecials(t *testing.T) {
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	negz := float32(math.Copysign(0, -1))
	cases := []struct {
		name string
		f    func(dst, src []float32)
		x    float32
		want float32
	}{
		{"Exp", Exp, inf, inf}, {"Exp", Exp, -inf, 0}, {"Exp", Exp, 89, inf}, {"Exp", Exp, 1e30, inf},
		{"Exp", Exp, -104, 0}, {"Exp", Exp, -1e30, 0}, {"Exp", Exp, 0, 1}, {"Exp", Exp, negz, 1}, {"Exp", Exp, nan, nan},
		{"Log", Log, 0, -inf}, {"Log", Log, negz, -inf}, {"Log", Log, -1, nan}, {"Log", Log, -inf, nan},
		{"Log", Log, inf, inf}, {"Log", Log, 1, 0}, {"Log", Log, nan, nan}, {"Log", Log, 0x1p-149, -103.27893},
		{"Tanh", Tanh, inf, 1}, {"Tanh", Tanh, -inf, -1}, {"Tanh", Tanh, 1e30, 1}, {"Tanh", Tanh, -1e30, -1},
		{"Tanh", Tanh, 0, 0}, {"Tanh", Tanh, negz, negz}, {"Tanh", Tanh, 0x1p-149, 0x1p-149}, {"Tanh", Tanh, nan, nan},
		{"Sigmoid", Sigmoid, inf, 1}, {"Sigmoid", Sigmoid, -inf, 0}, {"Sigmoid", Sigmoid, 1e30, 1}, {"Sigmoid", Sigmoid, -1e30, 0},
		{"Sigmoid", Sigmoid, 0, 0.5}, {"Sigmoid", Sigmoid, 100, 1}, {"Sigmoid", Sigmoid, nan, nan},
		{"Erf", Erf, inf, 1}, {"Erf", Erf, -inf, -1}, {"Erf", Erf, 10, 1}, {"Erf", Erf, 0, 0}, {"Erf", Erf, negz, negz}, {"Erf", Erf, nan, nan},
	}
	for _, c := range cases {
		for n := 1; n <= 17; n += 8 { // scalar tail and vector body
			src := make([]float32, n)
			for i := range src {
				src[i] = c.x
			}
			dst := make([]float32, n)
			c.f(dst, src)
			for _, g := range dst {
				if math.Float32bits(g) != math.Float32bits(c.want) && !(g != g && c.want != c.want) {
					t.Errorf("%s(%v) = %v, want %v (length %d)", c.name, c.x, g, c.want, n)
					break
				}
			}
		}
	}
}

// TestTails checks every length 0..33 at offsets 0..3, in place and not,
// against the scalar path (within one ulp, Erf within its absolute
// bound: the assembly fuses multiply-adds), and that nothing outside dst is written.
func TestTails(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, f := range fns {
		for n := 0; n <= 33; n++ {
			for off := 0; off < 4; off++ {
				src := make([]float32, n+off+4)
				for i := range src {
					src[i] = float32(rng.NormFloat64() * 4)
				}
				if f.name == "Log" {
					for i := range src {
						src[i] = float32(math.Abs(float64(src[i])))
					}
				}
				dst := make([]float32, n+off+4)
				for i := range dst {
					dst[i] = 12345
				}
				f.slice(dst[off:off+n], src[off:off+n+4])
				inplace := append([]float32(nil), src...)
				f.slice(inplace[off:off+n], inplace[off:off+n])
				for i := range dst {
					if i < off || i >= off+n {
						if dst[i] != 12345 {
							t.Fatalf("%s n=%d off=%d wrote dst[%d]", f.name, n, off, i)
						}
						if inplace[i] != src[i] {
							t.Fatalf("%s n=%d off=%d in place wrote [%d]", f.name, n, off, i)
						}
						continue
					}
					want := f.scalar(src[i])
					e := ulpErr(dst[i], float64(want))
					if f.abs {
						e = math.Abs(float64(dst[i]-want)) / erfAbs
					}
					if e > 1 {
						t.Fatalf("%s(%v) n=%d off=%d = %v, scalar %v", f.name, src[i], n, off, dst[i], want)
					}
					if inplace[i] != dst[i] {
						t.Fatalf("%s(%v) n=%d off=%d in place = %v, want %v", f.name, src[i], n, off, inplace[i], dst[i])
					}
				}
			}
		}
	}
}

// TestHard checks HardSigmoid and HardSwish against the Go expressions
// they document, bit for bit but for the sign of zero, on every length
// 0..33 and offset 0..3 with NaN, infinities and the clamp edges.
func TestHard(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	special := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0, float32(math.Copysign(0, -1)),
		3, -3, 2.5, -2.5, 1e30, -1e30, 0x1p-149}
	same := func(g, w float32) bool { return g == w || g != g && w != w }
	for n := 0; n <= 33; n++ {
		for off := 0; off < 4; off++ {
			src := make([]float32, n+off)
			for i := range src {
				if rng.IntN(4) == 0 {
					src[i] = special[rng.IntN(len(special))]
				} else {
					src[i] = float32(rng.NormFloat64() * 4)
				}
			}
			dst := make([]float32, n+off)
			for _, ab := range [][2]float32{{0.2, 0.5}, {1.0 / 6, 0.5}, {-0.7, 0.1}} {
				HardSigmoid(dst[off:], src[off:], ab[0], ab[1])
				for i := off; i < n+off; i++ {
					if w := max(0, min(1, float32(ab[0]*src[i])+ab[1])); !same(dst[i], w) {
						t.Fatalf("HardSigmoid(%v; %v) = %v, want %v", src[i], ab, dst[i], w)
					}
				}
			}
			HardSwish(dst[off:], src[off:])
			for i := off; i < n+off; i++ {
				x := src[i]
				if w := x * max(0, min(1, x/6+0.5)); !same(dst[i], w) {
					t.Fatalf("HardSwish(%v) = %v, want %v", x, dst[i], w)
				}
			}
		}
	}
}
