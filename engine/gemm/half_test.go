package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
)

// roundedCopy returns s with every element rounded to half precision (NaN
// stays NaN).
func roundedCopy(s []float32) []float32 {
	r := make([]float32, len(s))
	for i, v := range s {
		r[i] = halfToFloat(floatToHalf(v))
	}
	return r
}

// onGrid moves every finite element of s to the nearest multiple of 1/8:
// products of such values are multiples of 1/64 of magnitude <= 1, and sums
// of up to halfChunk of them are exact in half precision.
func onGrid(s []float32) {
	for i, v := range s {
		if !math.IsNaN(float64(v)) && v != sentinel {
			s[i] = float32(math.Round(float64(v)*8)) / 8
		}
	}
}

// rawSource is a BSource over a (possibly transposed) matrix with leading
// dimension ldb.
type rawSource struct {
	b     []float32
	ldb   int
	trans bool
}

func (s *rawSource) PackB(dst []float32, k0, kc, j0, n, nr int) {
	for jr := 0; jr < n; jr += nr {
		panel := dst[jr*kc : (jr+nr)*kc]
		for k := 0; k < kc; k++ {
			for j := 0; j < nr; j++ {
				v := float32(0)
				if jr+j < n {
					if s.trans {
						v = s.b[(j0+jr+j)*s.ldb+k0+k]
					} else {
						v = s.b[(k0+k)*s.ldb+j0+jr+j]
					}
				}
				panel[k*nr+j] = v
			}
		}
	}
}

// halfKernels returns every kernel with each way it can run half-precision
// operands: its own (F16C, NEON FCVTL or FP16 arithmetic), without FP16
// arithmetic, and with the Go conversions.
func halfKernels() []*kernel {
	var ks []*kernel
	for _, k := range allKernels() {
		ks = append(ks, k)
		if k.halfMath {
			ks = append(ks, withoutHalfMath(k))
		}
		if k.halfB {
			ks = append(ks, withoutHalf(k))
		}
	}
	return ks
}

// refHalfToFloat converts binary16 bits with float64 arithmetic, as the
// definition reads.
func refHalfToFloat(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	man := float64(h & 0x3ff)
	switch exp {
	case 0x1f:
		if man != 0 {
			return math.NaN()
		}
		return sign * math.Inf(1)
	case 0:
		return sign * math.Ldexp(man, -24)
	}
	return sign * math.Ldexp(1+man/1024, exp-15)
}

// refFloatToHalf rounds f to the nearest binary16 value, ties to even, by
// float64 arithmetic: it returns the value, not the bits.
func refFloatToHalf(f float32) float64 {
	x := float64(f)
	if math.IsNaN(x) {
		return x
	}
	a := math.Abs(x)
	if a >= 65520 { // halfway between 65504 and 2^16 and beyond
		return math.Copysign(math.Inf(1), x)
	}
	ulp := math.Ldexp(1, -24) // subnormal spacing
	if a >= math.Ldexp(1, -14) {
		_, e := math.Frexp(a) // a = m * 2^e, m in [0.5, 1)
		ulp = math.Ldexp(1, e-1-10)
	}
	return math.Copysign(math.RoundToEven(a/ulp)*ulp, x)
}

func sameHalfValue(t *testing.T, what string, f float32, got uint16, want float64) bool {
	g := refHalfToFloat(got)
	if math.IsNaN(want) {
		if !math.IsNaN(g) || (got&0x8000 != 0) != math.Signbit(float64(f)) {
			t.Errorf("%s(%g = %#08x) = %#04x, want a NaN of the same sign", what, f, math.Float32bits(f), got)
			return false
		}
		return true
	}
	if g != want || math.Signbit(g) != math.Signbit(want) {
		t.Errorf("%s(%g = %#08x) = %#04x (%g), want %g", what, f, math.Float32bits(f), got, g, want)
		return false
	}
	return true
}

// TestHalfToFloatExhaustive checks the widening of all 65536 halves, in Go
// and with the vector routine, against the definition.
func TestHalfToFloatExhaustive(t *testing.T) {
	all := make([]uint16, 1<<16)
	for i := range all {
		all[i] = uint16(i)
	}
	vec := make([]float32, len(all))
	fromHalf(vec, all)
	for i, h := range all {
		want := refHalfToFloat(h)
		for _, got := range []float32{halfToFloat(h), vec[i]} {
			g := float64(got)
			if math.IsNaN(want) {
				if !math.IsNaN(g) || math.Signbit(g) != (h&0x8000 != 0) {
					t.Fatalf("half %#04x: got %g, want a NaN of the same sign", h, got)
				}
				continue
			}
			if g != want || math.Signbit(g) != math.Signbit(want) {
				t.Fatalf("half %#04x: got %g, want %g", h, got, want)
			}
		}
		// The Go widening keeps NaN payloads, as engine.HalfToFloat does.
		if math.IsNaN(want) && math.Float32bits(halfToFloat(h)) != uint32(h&0x8000)<<16|0x7f800000|uint32(h&0x3ff)<<13 {
			t.Fatalf("half %#04x: NaN payload not kept: %#08x", h, math.Float32bits(halfToFloat(h)))
		}
	}
}

// TestFloatToHalfBoundaries rounds every half, every midpoint between two
// adjacent halves (ties to even) and the floats just beside each midpoint,
// in Go and with the vector routines.
func TestFloatToHalfBoundaries(t *testing.T) {
	var fs []float32
	for h := 0; h < 0x7c00; h++ { // zero, subnormals, normals up to 65504
		lo := refHalfToFloat(uint16(h))
		hi := math.Ldexp(1, 16) // the next "half" after 65504
		if h+1 < 0x7c00 {
			hi = refHalfToFloat(uint16(h + 1))
		}
		mid := float32((lo + hi) / 2) // exact: 12 significant bits
		if float64(mid) != (lo+hi)/2 {
			t.Fatalf("midpoint of %#04x not exact", h)
		}
		fs = append(fs, float32(lo), mid, math.Nextafter32(mid, 0), math.Nextafter32(mid, float32(math.Inf(1))))
	}
	fs = append(fs, 0, float32(math.Inf(1)), float32(math.NaN()), math.Float32frombits(0x7f800001), math.Float32frombits(0x7fbfffff),
		math.MaxFloat32, math.SmallestNonzeroFloat32, 1e-8, 2.98e-8, 2.9802322e-08, 65519.998, 65520, 65535, 1e6)
	n := len(fs)
	for i := 0; i < n; i++ {
		fs = append(fs, -fs[i])
	}
	checkFloatToHalf(t, fs)
}

// TestFloatToHalfSampled rounds a spread of float32 bit patterns (every
// 251st, covering every exponent and sign) and random floats.
func TestFloatToHalfSampled(t *testing.T) {
	step := uint64(251)
	if testing.Short() || runtime.GOARCH != "amd64" {
		// The Go conversion is the same everywhere; elsewhere (arm64
		// under an emulator) a sparser spread checks the vector one.
		step = 4093
	}
	fs := make([]float32, 0, 1<<16)
	for b := uint64(0); b < 1<<32; b += step {
		fs = append(fs, math.Float32frombits(uint32(b)))
		if len(fs) == cap(fs) {
			if !checkFloatToHalf(t, fs) {
				return
			}
			fs = fs[:0]
		}
	}
	rng := rand.New(rand.NewPCG(31, 32))
	for i := 0; i < 1<<16; i++ {
		fs = append(fs, float32(rng.NormFloat64()*math.Pow(2, float64(rng.IntN(40)-30))))
	}
	checkFloatToHalf(t, fs)
}

// checkFloatToHalf checks floatToHalf, toHalf and roundToHalf on fs.
func checkFloatToHalf(t *testing.T, fs []float32) bool {
	t.Helper()
	vec := make([]uint16, len(fs))
	toHalf(vec, fs)
	rounded := append([]float32(nil), fs...)
	roundToHalf(rounded)
	bad := 0
	for i, f := range fs {
		want := refFloatToHalf(f)
		h := floatToHalf(f)
		ok := sameHalfValue(t, "floatToHalf", f, h, want) && sameHalfValue(t, "toHalf", f, vec[i], want)
		// Go matches engine.FloatToHalf: NaN becomes the quiet NaN 0x7e00.
		if math.IsNaN(want) && h&0x7fff != 0x7e00 {
			t.Errorf("floatToHalf(%#08x) = %#04x, want the quiet NaN 0x7e00 with its sign", math.Float32bits(f), h)
			ok = false
		}
		r := float64(rounded[i])
		if math.IsNaN(want) != math.IsNaN(r) || !math.IsNaN(want) && (r != want || math.Signbit(r) != math.Signbit(want)) {
			t.Errorf("roundToHalf(%g) = %g, want %g", f, r, want)
			ok = false
		}
		if !ok {
			if bad++; bad > 5 {
				return false
			}
		}
	}
	return bad == 0
}

// TestHalfConversionLengths runs the vector conversions on every length
// and offset around their 8- and 32-element steps.
func TestHalfConversionLengths(t *testing.T) {
	rng := rand.New(rand.NewPCG(33, 34))
	src := randMat(rng, 100)
	for off := 0; off < 9; off++ {
		for n := 0; off+n <= len(src); n++ {
			s := src[off : off+n]
			h := make([]uint16, n+3)
			toHalf(h, s)
			f := make([]float32, n+3)
			fromHalf(f, h[:n])
			r := append([]float32(nil), s...)
			roundToHalf(r)
			r2 := make([]float32, n+3)
			roundToHalfInto(r2, s)
			for i, v := range s {
				if h[i] != floatToHalf(v) || f[i] != halfToFloat(h[i]) || r[i] != f[i] || r2[i] != f[i] {
					t.Fatalf("off %d n %d: element %d of %g: %#04x %g %g %g", off, n, i, v, h[i], f[i], r[i], r2[i])
				}
			}
			if h[n] != 0 || f[n] != 0 || r2[n] != 0 {
				t.Fatalf("off %d n %d: wrote past the end", off, n)
			}
		}
	}
}

// forms of the operands in the half-precision tests.
var (
	aForms = []string{"raw", "trans", "packA", "packA16"}
	bForms = []string{"raw", "trans", "packB", "packB16", "bsource", "bsource-trans"}
)

// withForms sets the operand forms of c.
func withForms(c config, af, bf string, half bool) config {
	switch af {
	case "trans":
		c.transA = true
	case "packA":
		c.packA = true
	case "packA16":
		c.packA16 = true
	}
	switch bf {
	case "trans":
		c.transB = true
	case "packB":
		c.packB = true
	case "packB16":
		c.packB16 = true
	case "bsource":
		c.bsrc = true
	case "bsource-trans":
		c.bsrc, c.transB = true, true
	}
	c.half = half
	return c
}

// hasHalf reports whether c holds an operand in half precision.
func hasHalf(c config) bool {
	return c.packA16 || c.packB16 || c.half && !(c.packA && c.packB)
}

// TestHalfShapes runs every half-precision path over a grid of small
// shapes, the operand forms and epilogues rotating through the grid.
func TestHalfShapes(t *testing.T) {
	dims := []int{1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17, 33}
	for _, kern := range halfKernels() {
		t.Run(kern.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(41, 42))
			v := 0
			for _, m := range dims {
				for _, nn := range dims {
					for _, k := range dims {
						v++
						c := config{m: m, n: nn, k: k,
							acc: v%7 < 3, bias: BiasMode(v % 3),
							clamp: v%4 == 3, relu: v%8 == 7,
						}
						if v%6 == 5 {
							c.padA, c.padB, c.padC = 3, 5, 2
							c.offA, c.offB, c.offC = 7, 1, 4
						}
						c = withForms(c, aForms[v%len(aForms)], bForms[v/len(aForms)%len(bForms)], v%5 != 0)
						if !hasHalf(c) {
							c.half = true
							c.packA, c.packB = false, false
						}
						c.grid = kern.halfMath && v%2 == 0
						c.epi = v%5 == 2
						runCase(t, kern, c, rng)
					}
				}
			}
		})
	}
}

// TestHalfVariants runs every combination of operand forms, Half and
// epilogue on ragged shapes.
func TestHalfVariants(t *testing.T) {
	shapes := [][3]int{{1, 1, 1}, {1, 37, 19}, {3, 11, 40}, {7, 23, 11}, {13, 35, 29}, {20, 16, 8}, {6, 16, 4}, {9, 17, 70}}
	for _, kern := range halfKernels() {
		t.Run(kern.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(43, 44))
			for _, s := range shapes {
				for _, af := range aForms {
					for _, bf := range bForms {
						for v := 0; v < 8; v++ {
							c := withForms(config{m: s[0], n: s[1], k: s[2]}, af, bf, v&1 != 0)
							if !hasHalf(c) {
								continue
							}
							c.acc = v&2 != 0
							c.bias = BiasMode((v >> 1) % 3)
							c.clamp = v&4 != 0
							if v == 7 {
								c.relu = true
								c.padA, c.padB, c.padC, c.offA, c.offB, c.offC = 1, 2, 3, 4, 5, 6
							}
							runCase(t, kern, c, rng)
							if kern.halfMath {
								c.grid = true
								runCase(t, kern, c, rng)
							}
						}
					}
				}
			}
		})
	}
}

// TestHalfBlocking crosses the cache-blocking boundaries with
// half-precision operands.
func TestHalfBlocking(t *testing.T) {
	for _, kern := range halfKernels() {
		t.Run(kern.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(45, 46))
			shapes := [][3]int{
				{5, 19, kern.kc + 1},
				{kern.mr + 1, 2*kern.nr + 3, 2*kern.kc + 7},
				{kern.mc + kern.mr + 1, 2*kern.nr + 1, 9},
				{kern.mc*2 + 3, 3, kern.kc + 5},
				{3, kern.nc + kern.nr + 5, 4},
				{kern.mr + 2, kern.nc + 1, kern.kc + 3},
				{1, 2*kern.nr + 5, 3*kern.kc + 40},
				{4 * kern.mr, 3*kern.nr + 1, kern.kc + 1},
			}
			forms := [][2]string{{"packA16", "raw"}, {"packA16", "bsource"}, {"raw", "packB16"}, {"trans", "packB16"}, {"packA16", "packB16"}, {"raw", "trans"}, {"packA", "packB16"}}
			for i, s := range shapes {
				if s[1] > kern.nc && strings.Contains(kern.name, "/") {
					continue // the same blocking as the kernel's own variant
				}
				base := config{m: s[0], n: s[1], k: s[2], acc: true, bias: BiasMode(1 + i%2), clamp: true}
				if s[1] > kern.nc && s[2] > kern.kc {
					// The largest shape, crossing both block boundaries
					// (slow under an emulator): once per operand side.
					runCase(t, kern, withForms(base, "packA16", "bsource", true), rng)
					c := withForms(base, "raw", "packB16", true)
					c.grid = kern.halfMath
					runCase(t, kern, c, rng)
					continue
				}
				for j := 0; j < 3; j++ {
					f := forms[(3*i+j)%len(forms)]
					for _, half := range []bool{false, true} {
						c := withForms(base, f[0], f[1], half)
						if !hasHalf(c) {
							continue
						}
						// Half-precision arithmetic is checked exactly
						// (on the grid) and for its precision in turn.
						c.grid = kern.halfMath && (i+j)%2 == 0
						runCase(t, kern, c, rng)
					}
				}
			}
		})
	}
}

// TestHalfParallel splits half-precision products into tasks.
func TestHalfParallel(t *testing.T) {
	for _, kern := range halfKernels() {
		t.Run(kern.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(47, 48))
			for _, s := range [][3]int{{3, 100, 20}, {100, 3, 20}, {37, 41, 300}, {1, 200, 33}} {
				for _, tasks := range []int{3, 1000} {
					for v, f := range [][2]string{{"packA16", "bsource"}, {"raw", "packB16"}, {"packA16", "packB16"}, {"raw", "raw"}} {
						c := withForms(config{m: s[0], n: s[1], k: s[2], tasks: tasks, acc: true, bias: BiasMode(1 + v%2), clamp: true, parallel: goParallel}, f[0], f[1], v != 2)
						runCase(t, kern, c, rng)
						c.parallel = reverseParallel
						runCase(t, kern, c, rng)
					}
				}
			}
		})
	}
}

// TestHalfRandom runs random half-precision configurations.
func TestHalfRandom(t *testing.T) {
	iters := 200
	if testing.Short() {
		iters = 40
	}
	for _, kern := range halfKernels() {
		t.Run(kern.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(49, 50))
			dim := func() int {
				if rng.IntN(4) == 0 {
					return 1 + rng.IntN(3)
				}
				return 1 + rng.IntN(70)
			}
			for it := 0; it < iters; it++ {
				c := config{m: dim(), n: dim(), k: dim(),
					padA: rng.IntN(3), padB: rng.IntN(3), padC: rng.IntN(3),
					offA: rng.IntN(5), offB: rng.IntN(5), offC: rng.IntN(5),
					acc: rng.IntN(2) == 0, bias: BiasMode(rng.IntN(3)),
					clamp: rng.IntN(3) == 0, relu: rng.IntN(2) == 0,
					grid: kern.halfMath && rng.IntN(2) == 0,
				}
				c = withForms(c, aForms[rng.IntN(len(aForms))], bForms[rng.IntN(len(bForms))], rng.IntN(3) != 0)
				if !hasHalf(c) {
					c.half = true
					c.packA16, c.packA = c.packA, false
				}
				if rng.IntN(4) == 0 {
					c.tasks = 2 + rng.IntN(4)
					c.parallel = goParallel
				}
				runCase(t, kern, c, rng)
			}
		})
	}
}

// TestHalfZeroK checks K == 0 and empty products with half-precision
// operands.
func TestHalfZeroK(t *testing.T) {
	for _, kern := range halfKernels() {
		rng := rand.New(rand.NewPCG(51, 52))
		for v := 0; v < 12; v++ {
			c := config{m: 5, n: 7, k: 0, acc: v&1 != 0, bias: BiasMode(v >> 1 % 3), clamp: v >= 6, packA16: v&2 != 0, packB16: v&4 != 0, half: true}
			runCase(t, kern, c, rng)
		}
	}
	Sgemm(&Args{M: 0, N: 5, K: 3, PackedB16: PackB16(nil, 3, 5, make([]float32, 15), 0, false)})
	Sgemm(&Args{M: 4, N: 0, K: 3, A: make([]float32, 12), Half: true})
}

// TestHalfNaN checks that NaN operands propagate through the clamp.
func TestHalfNaN(t *testing.T) {
	for _, kern := range halfKernels() {
		for _, n := range []int{kern.nr, kern.nr - 1} {
			for _, m := range []int{2, 9} {
				a := make([]float32, m)
				a[0], a[1] = float32(math.NaN()), 1
				b := make([]float32, n)
				c := make([]float32, m*n)
				pa := packAHalf(kern, nil, m, 1, a, 0, false)
				sgemm(kern, &Args{M: m, N: n, K: 1, PackedA16: pa, B: b, Half: true, C: c, Clamp: true, Lo: 0, Hi: float32(math.Inf(1))})
				if !math.IsNaN(float64(c[0])) || c[n] != 0 {
					t.Errorf("%s m=%d n=%d: got %v, %v; want NaN, 0", kern.name, m, n, c[0], c[n])
				}
			}
		}
	}
}

// TestHalfArithmeticPrecision measures the error of half-precision
// arithmetic on random operands against the exact product of the rounded
// operands, relative to sum |a_ik*b_kj|, and checks it against the
// statistical size of the rounding (about sqrt(halfChunk) * 2^-12).
func TestHalfArithmeticPrecision(t *testing.T) {
	for _, kern := range halfKernels() {
		if !kern.halfMath {
			continue
		}
		const m, n, k = 16, 16, 2048
		rng := rand.New(rand.NewPCG(53, 54))
		a := roundedCopy(randMat(rng, m*k))
		b := roundedCopy(randMat(rng, k*n))
		c := make([]float32, m*n)
		sgemm(kern, &Args{M: m, N: n, K: k, PackedA16: packAHalf(kern, nil, m, k, a, 0, false), PackedB16: packBHalf(kern, nil, k, n, b, 0, false), C: c})
		var worst, rms float64
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				var s, mag float64
				for kk := 0; kk < k; kk++ {
					p := float64(a[i*k+kk]) * float64(b[kk*n+j])
					s += p
					mag += math.Abs(p)
				}
				e := math.Abs(float64(c[i*n+j])-s) / mag
				worst = max(worst, e)
				rms += e * e
			}
		}
		rms = math.Sqrt(rms / (m * n))
		t.Logf("%s: K=%d error / sum|ab|: rms %.2g, max %.2g (2^-11 = %.2g)", kern.name, k, rms, worst, 1.0/2048)
		if worst > 4*math.Sqrt(halfChunk)/4096 {
			t.Errorf("%s: relative error %g larger than expected", kern.name, worst)
		}
	}
}

// TestHalfAllocs checks that steady-state half-precision calls with scratch
// allocate nothing.
func TestHalfAllocs(t *testing.T) {
	const m, n, k = 33, 70, 300
	rng := rand.New(rand.NewPCG(55, 56))
	a := randMat(rng, m*k)
	b := randMat(rng, k*n)
	c := make([]float32, m*n)
	bias := make([]float32, n)
	pa := PackA16(nil, m, k, a, 0, false)
	pb := PackB16(nil, k, n, b, 0, false)
	src := &rawSource{b: b, ldb: n}
	for _, v := range []struct {
		name string
		args Args
	}{
		{"packedA16+B", Args{M: m, N: n, K: k, PackedA16: pa, B: b, C: c}},
		{"packedA16+B+half", Args{M: m, N: n, K: k, PackedA16: pa, B: b, Half: true, C: c, Bias: bias, BiasMode: BiasPerRow}},
		{"packedA16+bsource+half", Args{M: m, N: n, K: k, PackedA16: pa, BSource: src, Half: true, C: c, Clamp: true, Hi: 1}},
		{"A+packedB16", Args{M: m, N: n, K: k, A: a, PackedB16: pb, C: c}},
		{"A+packedB16+half", Args{M: m, N: n, K: k, A: a, PackedB16: pb, Half: true, C: c}},
		{"gemv+packedB16", Args{M: 1, N: n, K: k, A: a, PackedB16: pb, C: c, Bias: bias, BiasMode: BiasPerCol}},
		{"both16", Args{M: m, N: n, K: k, PackedA16: pa, PackedB16: pb, C: c, Accumulate: true}},
		{"raw+half", Args{M: m, N: n, K: k, A: a, TransA: true, B: b, TransB: true, Half: true, C: c}},
		{"parallel", Args{M: m, N: n, K: k, PackedA16: pa, B: b, Half: true, C: c, Parallel: reverseParallel, Tasks: 3}},
	} {
		if raceEnabled && v.args.Parallel != nil {
			continue // the race detector empties sync.Pool at random
		}
		args := v.args
		args.Scratch = make([]float32, ScratchSize(&args))
		Sgemm(&args)
		if allocs := testing.AllocsPerRun(5, func() { Sgemm(&args) }); allocs != 0 {
			t.Errorf("%s: %v allocations per call", v.name, allocs)
		}
	}
}

// TestHalfPublicAPI goes through the exported functions with the active
// kernel.
func TestHalfPublicAPI(t *testing.T) {
	t.Logf("active kernel %s; half precision %+v", KernelName(), HalfInfo())
	const m, n, k = 19, 45, 70
	rng := rand.New(rand.NewPCG(57, 58))
	a := storage(rng, m, k, k, 0, 0)
	b := storage(rng, k, n, n, 0, 0)
	bias := storage(rng, 1, n, n, 0, 0)
	c := config{m: m, n: n, k: k, bias: BiasPerCol}
	want, tol := reference(c, roundedCopy(a), k, roundedCopy(b), n, make([]float32, m*n+3), n, bias, 0, 0)
	if HalfInfo().Arithmetic {
		for i := range tol {
			tol[i] *= float64(halfChunk+4) * (1 << 13) / float64(k+4)
		}
	}

	pa := PackA16(make([]uint16, PackedA16Size(m, k)), m, k, a, 0, false)
	pb := PackB16(nil, k, n, b, 0, false)
	if pa.Rows() != m || pa.Cols() != k || pb.Rows() != k || pb.Cols() != n {
		t.Fatalf("packed dimensions %dx%d %dx%d", pa.Rows(), pa.Cols(), pb.Rows(), pb.Cols())
	}
	for _, v := range []struct {
		name   string
		pa     *PackedA16
		pb     *PackedB16
		nilScr bool
	}{{"half", nil, nil, false}, {"packedA16", pa, nil, false}, {"packedB16", nil, pb, false}, {"both", pa, pb, true}} {
		cs := make([]float32, m*n+3)
		args := Args{M: m, N: n, K: k, A: a, B: b, C: cs, Bias: bias, BiasMode: BiasPerCol, PackedA16: v.pa, PackedB16: v.pb, Half: true}
		if !v.nilScr {
			args.Scratch = make([]float32, ScratchSize(&args))
		}
		Sgemm(&args)
		for i := 0; i < m*n; i++ {
			if d := math.Abs(float64(cs[i]) - want[i]); !(d <= tol[i]) {
				t.Fatalf("%s: C[%d] = %v, want %v", v.name, i, cs[i], want[i])
			}
		}
	}
	// The packed halves are the rounded operand.
	if len(pb.data) != roundUp(n, active.nr)*k || len(pa.data) != roundUp(m, active.mr)*k {
		t.Errorf("packed lengths %d, %d", len(pa.data), len(pb.data))
	}
}

// TestHalfPanics checks that inconsistent half-precision arguments are
// refused.
func TestHalfPanics(t *testing.T) {
	pa := PackA(nil, 2, 3, make([]float32, 6), 0, false)
	pa16 := PackA16(nil, 2, 3, make([]float32, 6), 0, false)
	pb16 := PackB16(nil, 3, 2, make([]float32, 6), 0, false)
	other := packAHalf(withoutHalf(active), nil, 2, 3, make([]float32, 6), 0, false)
	for name, args := range map[string]Args{
		"both A":         {M: 2, N: 2, K: 3, PackedA: pa, PackedA16: pa16, B: make([]float32, 6), C: make([]float32, 4)},
		"bad packedA16":  {M: 3, N: 2, K: 3, PackedA16: pa16, B: make([]float32, 6), C: make([]float32, 6)},
		"bad packedB16":  {M: 2, N: 3, K: 3, A: make([]float32, 6), PackedB16: pb16, C: make([]float32, 6)},
		"kernels differ": {M: 2, N: 2, K: 3, PackedA16: other, PackedB16: pb16, C: make([]float32, 4)},
		"short A":        {M: 2, N: 2, K: 3, A: make([]float32, 5), PackedB16: pb16, C: make([]float32, 4), Half: true},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			Sgemm(&args)
		}()
	}
	for name, f := range map[string]func(){
		"PackA16 short dst": func() { PackA16(make([]uint16, 3), 2, 3, make([]float32, 6), 0, false) },
		"PackB16 short b":   func() { PackB16(nil, 3, 2, make([]float32, 5), 0, false) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

// TestHalfPackedLayout checks that PackA16 and PackB16 hold exactly the
// rounded float32 packing.
func TestHalfPackedLayout(t *testing.T) {
	rng := rand.New(rand.NewPCG(59, 60))
	for _, kern := range halfKernels() {
		for _, s := range [][2]int{{1, 1}, {7, 300}, {13, 513}} {
			for _, trans := range []bool{false, true} {
				m, k := s[0], s[1]
				a := randMat(rng, m*k)
				p32 := packA(kern, nil, m, k, a, 0, trans)
				p16 := packAHalf(kern, nil, m, k, a, 0, trans)
				q32 := packB(kern, nil, k, m, a, 0, trans)
				q16 := packBHalf(kern, nil, k, m, a, 0, trans)
				for i, v := range p32.data {
					if p16.data[i] != floatToHalf(v) {
						t.Fatalf("%s A %dx%d trans=%v: element %d", kern.name, m, k, trans, i)
					}
				}
				for i, v := range q32.data {
					if q16.data[i] != floatToHalf(v) {
						t.Fatalf("%s B %dx%d trans=%v: element %d", kern.name, k, m, trans, i)
					}
				}
			}
		}
	}
}

func TestHalfInfo(t *testing.T) {
	for _, kern := range halfKernels() {
		s := halfSupport(kern)
		t.Logf("%s: %+v", kern.name, s)
		if s.Arithmetic != kern.halfMath || s.NativeLoads != (kern.halfB || kern.halfMath) {
			t.Errorf("%s: %+v", kern.name, s)
		}
	}
	_ = fmt.Sprint(HalfInfo())
}
