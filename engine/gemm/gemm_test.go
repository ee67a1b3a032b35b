package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
)

// config is one test case: a shape and the way every operand is given.
type config struct {
	m, n, k        int
	transA, transB bool
	packA, packB   bool
	padA, padB     int // leading dimension minus stored width
	padC           int
	offA, offB     int // offset of the matrix in its slice
	offC           int
	acc            bool
	bias           BiasMode
	clamp          bool
	relu           bool // with clamp: lo = 0, hi = +Inf
	tasks          int  // > 1: run through a Parallel
	parallel       Parallel

	packA16, packB16 bool // half-precision packed operands
	half             bool // Args.Half: per-call operands rounded to half
	bsrc             bool // B given through a BSource
	grid             bool // values on a grid (multiples of 1/8) that half-precision arithmetic sums exactly
	epi              bool // an Epilogue (2x+1) on every finished block
}

// affineEpilogue maps each element v of a finished block to 2v+1: an
// element finished twice, or one outside C, shows in the comparison.
type affineEpilogue struct{}

func (affineEpilogue) Finish(c []float32, ldc, m, n int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		for j := range row {
			row[j] = 2*row[j] + 1
		}
	}
}

func (c config) String() string {
	s := fmt.Sprintf("%dx%dx%d", c.m, c.n, c.k)
	flag := func(b bool, name string) {
		if b {
			s += " " + name
		}
	}
	flag(c.transA, "transA")
	flag(c.epi, "epilogue")
	flag(c.transB, "transB")
	flag(c.packA, "packA")
	flag(c.packB, "packB")
	flag(c.packA16, "packA16")
	flag(c.packB16, "packB16")
	flag(c.half, "half")
	flag(c.bsrc, "bsource")
	flag(c.grid, "grid")
	flag(c.acc, "acc")
	flag(c.bias == BiasPerRow, "rowbias")
	flag(c.bias == BiasPerCol, "colbias")
	flag(c.clamp && !c.relu, "clamp")
	flag(c.clamp && c.relu, "relu")
	if c.padA|c.padB|c.padC|c.offA|c.offB|c.offC != 0 {
		s += fmt.Sprintf(" pad=%d,%d,%d off=%d,%d,%d", c.padA, c.padB, c.padC, c.offA, c.offB, c.offC)
	}
	if c.tasks > 1 {
		s += fmt.Sprintf(" tasks=%d", c.tasks)
	}
	return s
}

const sentinel = 12345.5

// storage returns a slice holding a rows x cols matrix with leading
// dimension ld at offset off, filled with uniform values in [-1, 1); every
// other element is fill.
func storage(rng *rand.Rand, rows, cols, ld, off int, fill float32) []float32 {
	s := make([]float32, off+span(rows, cols, ld)+3)
	for i := range s {
		s[i] = fill
	}
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			s[off+r*ld+c] = rng.Float32()*2 - 1
		}
	}
	return s
}

// reference computes the expected C (over the whole C slice) in float64,
// and for each element the bound of its rounding error.
//
// Tolerance: a float32 dot product of length K computed in any order with
// any mix of fused and unfused multiply-adds differs from the exact value
// by at most about K*u*sum_k |a_ik*b_kj| (u = 2^-24, the unit roundoff);
// adding C and the bias adds a few more roundings, and clamping does not
// increase the error. The tests allow 2*(K+4)*u*(sum_k |a_ik*b_kj| +
// |C_ij| + |bias|), twice the worst-case bound, which is still tight
// enough to catch any wrong or missing term (each term is ~1e-1 while the
// bound is ~1e-7*K).
func reference(c config, a []float32, lda int, b []float32, ldb int, cin []float32, ldc int, bias []float32, lo, hi float32) (want, tol []float64) {
	want = make([]float64, len(cin))
	tol = make([]float64, len(cin))
	for i := range cin {
		want[i] = float64(cin[i])
	}
	const u = 1.0 / (1 << 24)
	for i := 0; i < c.m; i++ {
		for j := 0; j < c.n; j++ {
			var sum, mag float64
			for k := 0; k < c.k; k++ {
				var av, bv float64
				if c.transA {
					av = float64(a[c.offA+k*lda+i])
				} else {
					av = float64(a[c.offA+i*lda+k])
				}
				if c.transB {
					bv = float64(b[c.offB+j*ldb+k])
				} else {
					bv = float64(b[c.offB+k*ldb+j])
				}
				sum += av * bv
				mag += math.Abs(av * bv)
			}
			idx := c.offC + i*ldc + j
			if c.acc {
				sum += float64(cin[idx])
				mag += math.Abs(float64(cin[idx]))
			}
			switch c.bias {
			case BiasPerRow:
				sum += float64(bias[i])
				mag += math.Abs(float64(bias[i]))
			case BiasPerCol:
				sum += float64(bias[j])
				mag += math.Abs(float64(bias[j]))
			}
			if c.clamp {
				sum = math.Max(sum, float64(lo))
				sum = math.Min(sum, float64(hi))
			}
			want[idx] = sum
			tol[idx] = 2 * float64(c.k+4) * u * mag
		}
	}
	return want, tol
}

// runCase runs c with kernel kern and compares with the reference.
func runCase(t *testing.T, kern *kernel, c config, rng *rand.Rand) {
	t.Helper()
	nan := float32(math.NaN())
	// Stored shapes.
	ar, ac := c.m, c.k
	if c.transA {
		ar, ac = c.k, c.m
	}
	br, bc := c.k, c.n
	if c.transB {
		br, bc = c.n, c.k
	}
	lda, ldb, ldc := ac+c.padA, bc+c.padB, c.n+c.padC
	// Elements outside the operands are NaN: reading them would show.
	a := storage(rng, ar, ac, lda, c.offA, nan)
	b := storage(rng, br, bc, ldb, c.offB, nan)
	cs := storage(rng, c.m, c.n, ldc, c.offC, sentinel)
	var bias []float32
	switch c.bias {
	case BiasPerRow:
		bias = storage(rng, 1, c.m, c.m, 0, 0)
	case BiasPerCol:
		bias = storage(rng, 1, c.n, c.n, 0, 0)
	}
	var lo, hi float32
	if c.clamp {
		lo, hi = -0.3*float32(math.Sqrt(float64(c.k))), 0.4*float32(math.Sqrt(float64(c.k)))
		if c.relu {
			lo, hi = 0, float32(math.Inf(1))
		}
	}
	if c.grid {
		onGrid(a)
		onGrid(b)
	}
	// The reference multiplies the operands as the call holds them: the
	// half-precision ones rounded.
	ra, rb := a, b
	if c.packA16 || c.half && !c.packA {
		ra = roundedCopy(a)
	}
	if c.packB16 || c.half && !c.packB {
		rb = roundedCopy(b)
	}
	want, tol := reference(c, ra, lda, rb, ldb, cs, ldc, bias, lo, hi)

	args := Args{
		M: c.m, N: c.n, K: c.k,
		A: a[c.offA:], LDA: lda, TransA: c.transA,
		B: b[c.offB:], LDB: ldb, TransB: c.transB,
		C: cs[c.offC:], LDC: ldc,
		Accumulate: c.acc,
		Bias:       bias, BiasMode: c.bias,
		Clamp: c.clamp, Lo: lo, Hi: hi,
		Tasks: c.tasks, Parallel: c.parallel,
	}
	if c.packA {
		args.PackedA = packA(kern, nil, c.m, c.k, a[c.offA:], lda, c.transA)
		args.A = nil
	}
	if c.packB {
		args.PackedB = packB(kern, nil, c.k, c.n, b[c.offB:], ldb, c.transB)
		args.B = nil
	}
	if c.packA16 {
		args.PackedA16 = packAHalf(kern, nil, c.m, c.k, a[c.offA:], lda, c.transA)
		args.A = nil
	}
	if c.packB16 {
		args.PackedB16 = packBHalf(kern, nil, c.k, c.n, b[c.offB:], ldb, c.transB)
		args.B = nil
	}
	if c.bsrc {
		args.BSource = &rawSource{b: b[c.offB:], ldb: ldb, trans: c.transB}
		args.B = nil
	}
	args.Half = c.half
	if c.epi {
		args.Epilogue = affineEpilogue{}
		for i := 0; i < c.m; i++ {
			for j := 0; j < c.n; j++ {
				e := c.offC + i*ldc + j
				want[e] = 2*want[e] + 1
				tol[e] = 2*tol[e] + math.Abs(want[e])/(1<<22) // the epilogue rounds too
			}
		}
	}
	if c.k > 0 && isHalf(&args) && planHalf(kern, &args).math16 && !c.grid {
		// Half-precision arithmetic: products and partial sums of up to
		// halfChunk steps are rounded with unit roundoff 2^-11 (twice the
		// worst-case bound, as above), plus the absolute error of
		// half-precision subnormals.
		scale := float64(halfChunk+4) * (1 << 13) / float64(c.k+4)
		for i := range tol {
			tol[i] += tol[i]*scale + float64(c.k)/(1<<24)
		}
	}
	args.Scratch = make([]float32, scratchSize(kern, &args))
	sgemm(kern, &args)

	bad := 0
	for i, w := range want {
		g := float64(cs[i])
		if d := math.Abs(g - w); !(d <= tol[i]) {
			if bad < 5 {
				t.Errorf("%s %s: C[%d] = %v, want %v (diff %g, tol %g)", kern.name, c, i, g, w, d, tol[i])
			}
			bad++
		}
	}
	if bad > 0 {
		t.Fatalf("%s %s: %d wrong elements", kern.name, c, bad)
	}
}

// goParallel runs the tasks on goroutines.
func goParallel(n int, run func(int)) {
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run(i)
		}()
	}
	wg.Wait()
}

// reverseParallel runs the tasks in turn, last first.
func reverseParallel(n int, run func(int)) {
	for i := n - 1; i >= 0; i-- {
		run(i)
	}
}

func kernelNames() []string {
	var s []string
	for _, k := range allKernels() {
		s = append(s, k.name)
	}
	return s
}

func TestKernelSelection(t *testing.T) {
	t.Logf("active kernel %s; available %v", KernelName(), kernelNames())
	if KernelName() != allKernels()[0].name {
		t.Errorf("active kernel %s is not the best available %s", KernelName(), allKernels()[0].name)
	}
}

// TestShapes runs every kernel over a grid of small shapes, with every way
// of giving the operands rotating through the grid.
func TestShapes(t *testing.T) {
	dims := []int{1, 2, 3, 5, 6, 7, 8, 9, 13, 16, 17, 31, 33}
	for _, kern := range allKernels() {
		t.Run(kern.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			n := 0
			for _, m := range dims {
				for _, nn := range dims {
					for _, k := range dims {
						v := n
						n++
						c := config{m: m, n: nn, k: k,
							transA: v&1 != 0, transB: v&2 != 0,
							packA: v%3 == 1, packB: v%5 == 2,
							acc: v%7 < 3, bias: BiasMode(v % 3),
							clamp: v%4 == 3, relu: v%8 == 7,
						}
						if v%6 == 5 {
							c.padA, c.padB, c.padC = 3, 5, 2
							c.offA, c.offB, c.offC = 7, 1, 4
						}
						runCase(t, kern, c, rng)
					}
				}
			}
		})
	}
}

// TestVariants runs every combination of operand forms and epilogues on a
// few ragged shapes.
func TestVariants(t *testing.T) {
	shapes := [][3]int{{1, 1, 1}, {1, 37, 19}, {7, 23, 11}, {13, 35, 29}, {20, 16, 8}, {6, 16, 4}}
	for _, kern := range allKernels() {
		t.Run(kern.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 4))
			for _, s := range shapes {
				for v := 0; v < 1<<8; v++ {
					c := config{m: s[0], n: s[1], k: s[2],
						transA: v&1 != 0, transB: v&2 != 0,
						packA: v&4 != 0, packB: v&8 != 0,
						acc: v&16 != 0, clamp: v&32 != 0,
						bias: BiasMode((v >> 6) % 3),
					}
					if v>>6 == 3 {
						c.relu, c.clamp = true, true
						c.padA, c.padB, c.padC, c.offA, c.offB, c.offC = 1, 2, 3, 4, 5, 6
					}
					runCase(t, kern, c, rng)
				}
			}
		})
	}
}

// TestBlocking crosses the cache-blocking boundaries (K > kc, M > mc,
// N > nc), where C is accumulated over several K blocks.
func TestBlocking(t *testing.T) {
	for _, kern := range allKernels() {
		t.Run(kern.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(5, 6))
			shapes := [][3]int{
				{5, 19, kern.kc + 1},
				{kern.mr + 1, 2*kern.nr + 3, 2*kern.kc + 7},
				{kern.mc + kern.mr + 1, 2*kern.nr + 1, 9},
				{kern.mc*2 + 3, 3, kern.kc + 5},
				{3, kern.nc + kern.nr + 5, 4},
				{kern.mr + 2, kern.nc + 1, kern.kc + 3},
				{1, 2*gemvBlock + 13, 9},
				{1, gemvBlock + 8, kern.kc + 2},
				{4 * kern.mr, 3*kern.nr + 1, kern.kc + 1},
				{4*kern.mr + 1, 3*kern.nr + 1, 3},
				{kern.mc + 5, 30, 160}, // B in L1, read in place (directFloats)
				{5*kern.mr + 3, 2*kern.nr - 3, kern.kc},
				{kern.mc + 7, 75, 200}, // B past L1, read in place (rows not 1 KB apart)
			}
			for i, s := range shapes {
				c := config{m: s[0], n: s[1], k: s[2], acc: true, bias: BiasMode(1 + i%2), clamp: true}
				runCase(t, kern, c, rng)
				c.packA, c.transB = true, true
				runCase(t, kern, c, rng)
				c.packA, c.packB, c.transA, c.transB = false, true, true, false
				runCase(t, kern, c, rng)
			}
		})
	}
}

// TestRandom runs random configurations.
func TestRandom(t *testing.T) {
	iters := 300
	if testing.Short() {
		iters = 60
	}
	for _, kern := range allKernels() {
		t.Run(kern.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, 8))
			dim := func() int {
				if rng.IntN(4) == 0 {
					return 1 + rng.IntN(3)
				}
				return 1 + rng.IntN(70)
			}
			for it := 0; it < iters; it++ {
				c := config{m: dim(), n: dim(), k: dim(),
					transA: rng.IntN(2) == 0, transB: rng.IntN(2) == 0,
					packA: rng.IntN(3) == 0, packB: rng.IntN(3) == 0,
					padA: rng.IntN(3), padB: rng.IntN(3), padC: rng.IntN(3),
					offA: rng.IntN(5), offB: rng.IntN(5), offC: rng.IntN(5),
					acc: rng.IntN(2) == 0, bias: BiasMode(rng.IntN(3)),
					clamp: rng.IntN(3) == 0, relu: rng.IntN(2) == 0,
				}
				if rng.IntN(4) == 0 {
					c.tasks = 2 + rng.IntN(4)
					c.parallel = goParallel
				}
				c.epi = it%3 == 0
				runCase(t, kern, c, rng)
			}
		})
	}
}

// TestParallel splits products into tasks along N and along M.
func TestParallel(t *testing.T) {
	for _, kern := range allKernels() {
		t.Run(kern.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(9, 10))
			shapes := [][3]int{{3, 100, 20}, {100, 3, 20}, {37, 41, 300}, {1, 200, 33}, {50, 50, 5}}
			for _, s := range shapes {
				for _, tasks := range []int{2, 3, 7, 1000} {
					for v := 0; v < 4; v++ {
						c := config{m: s[0], n: s[1], k: s[2], tasks: tasks,
							packA: v&1 != 0, packB: v&2 != 0, transB: v == 1,
							acc: true, bias: BiasMode(1 + v%2), clamp: true, parallel: goParallel}
						runCase(t, kern, c, rng)
						c.parallel = reverseParallel
						runCase(t, kern, c, rng)
						c.epi = true
						runCase(t, kern, c, rng)
						c.parallel = goParallel
						runCase(t, kern, c, rng)
					}
				}
			}
		})
	}
}

// TestZeroK checks K == 0: C becomes (C if accumulating) + bias, clamped.
func TestZeroK(t *testing.T) {
	for _, kern := range allKernels() {
		rng := rand.New(rand.NewPCG(11, 12))
		for v := 0; v < 12; v++ {
			c := config{m: 5, n: 7, k: 0, acc: v&1 != 0, bias: BiasMode(v >> 1 % 3), clamp: v >= 6, packA: v&2 != 0, packB: v&4 != 0}
			runCase(t, kern, c, rng)
			c.epi = true
			runCase(t, kern, c, rng)
		}
	}
	// M or N zero: nothing to do, nothing touched.
	Sgemm(&Args{M: 0, N: 5, K: 3, B: make([]float32, 15)})
	Sgemm(&Args{M: 4, N: 0, K: 3, A: make([]float32, 12)})
}

// TestPublicAPI goes through the exported functions with the active kernel.
func TestPublicAPI(t *testing.T) {
	const m, n, k = 19, 45, 70
	rng := rand.New(rand.NewPCG(13, 14))
	a := storage(rng, m, k, k, 0, 0)
	b := storage(rng, k, n, n, 0, 0)
	bias := storage(rng, 1, n, n, 0, 0)
	c := config{m: m, n: n, k: k, bias: BiasPerCol}
	want, tol := reference(c, a, k, b, n, make([]float32, m*n+3), n, bias, 0, 0)

	pa := PackA(make([]float32, PackedASize(m, k)), m, k, a, 0, false)
	pb := PackB(nil, k, n, b, 0, false)
	if pa.Rows() != m || pa.Cols() != k || pb.Rows() != k || pb.Cols() != n {
		t.Fatalf("packed dimensions %dx%d %dx%d", pa.Rows(), pa.Cols(), pb.Rows(), pb.Cols())
	}
	for _, v := range []struct {
		name   string
		pa     *PackedA
		pb     *PackedB
		nilScr bool
	}{{"raw", nil, nil, false}, {"packedA", pa, nil, false}, {"packedB", nil, pb, false}, {"both", pa, pb, true}} {
		cs := make([]float32, m*n+3)
		args := Args{M: m, N: n, K: k, A: a, B: b, C: cs, Bias: bias, BiasMode: BiasPerCol, PackedA: v.pa, PackedB: v.pb}
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
}

// TestPanics checks that inconsistent arguments are refused.
func TestPanics(t *testing.T) {
	pa := PackA(nil, 2, 3, make([]float32, 6), 0, false)
	for name, args := range map[string]Args{
		"short A":      {M: 2, N: 2, K: 3, A: make([]float32, 5), B: make([]float32, 6), C: make([]float32, 4)},
		"short B":      {M: 2, N: 2, K: 3, A: make([]float32, 6), B: make([]float32, 5), C: make([]float32, 4)},
		"short C":      {M: 2, N: 2, K: 3, A: make([]float32, 6), B: make([]float32, 6), C: make([]float32, 3)},
		"small lda":    {M: 2, N: 2, K: 3, A: make([]float32, 60), LDA: 2, B: make([]float32, 6), C: make([]float32, 4)},
		"short bias":   {M: 2, N: 2, K: 3, A: make([]float32, 6), B: make([]float32, 6), C: make([]float32, 4), Bias: make([]float32, 1), BiasMode: BiasPerRow},
		"bad packed A": {M: 3, N: 2, K: 3, PackedA: pa, B: make([]float32, 6), C: make([]float32, 6)},
		"negative":     {M: -1, N: 2, K: 3},
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
}

// TestNaN checks that NaN inputs propagate through the clamp.
func TestNaN(t *testing.T) {
	for _, kern := range allKernels() {
		for _, n := range []int{kern.nr, kern.nr - 1} {
			a := []float32{float32(math.NaN()), 1}
			b := make([]float32, 2*n)
			c := make([]float32, 2*n)
			sgemm(kern, &Args{M: 2, N: n, K: 1, A: a, B: b, C: c, Clamp: true, Lo: 0, Hi: float32(math.Inf(1))})
			if !math.IsNaN(float64(c[0])) || c[n] != 0 {
				t.Errorf("%s n=%d: got %v, %v; want NaN, 0", kern.name, n, c[0], c[n])
			}
		}
	}
}

// TestAllocs checks that steady-state calls with scratch allocate nothing.
func TestAllocs(t *testing.T) {
	const m, n, k = 33, 70, 300
	a := make([]float32, m*k)
	b := make([]float32, k*n)
	c := make([]float32, m*n)
	bias := make([]float32, n)
	pa := PackA(nil, m, k, a, 0, false)
	pb := PackB(nil, k, n, b, 0, false)
	for _, v := range []struct {
		name string
		args Args
	}{
		{"raw", Args{M: m, N: n, K: k, A: a, B: b, C: c}},
		{"gemv", Args{M: 1, N: n, K: k, A: a, B: b, C: c, Bias: bias, BiasMode: BiasPerCol}},
		{"trans", Args{M: m, N: n, K: k, A: a, TransA: true, B: b, TransB: true, C: c, Accumulate: true}},
		{"packedA", Args{M: m, N: n, K: k, PackedA: pa, B: b, C: c, Bias: bias, BiasMode: BiasPerRow, Clamp: true, Hi: 1}},
		{"packedB", Args{M: m, N: n, K: k, A: a, PackedB: pb, C: c}},
		{"parallel", Args{M: m, N: n, K: k, A: a, B: b, C: c, Parallel: reverseParallel, Tasks: 3}},
	} {
		args := v.args
		args.Scratch = make([]float32, ScratchSize(&args))
		Sgemm(&args)
		if allocs := testing.AllocsPerRun(20, func() { Sgemm(&args) }); allocs != 0 {
			t.Errorf("%s: %v allocations per call", v.name, allocs)
		}
	}
}

// TestConcurrentPacked shares packed weights between goroutines.
func TestConcurrentPacked(t *testing.T) {
	const m, n, k = 20, 50, 40
	rng := rand.New(rand.NewPCG(15, 16))
	w := storage(rng, m, k, k, 0, 0)
	pa := PackA(nil, m, k, w, 0, false)
	x := storage(rng, k, n, n, 0, 0)
	want := make([]float32, m*n)
	Sgemm(&Args{M: m, N: n, K: k, A: w, B: x, C: want})
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := make([]float32, m*n)
			args := Args{M: m, N: n, K: k, PackedA: pa, B: x, C: c}
			args.Scratch = make([]float32, ScratchSize(&args))
			for it := 0; it < 20; it++ {
				Sgemm(&args)
				for i := range c {
					if c[i] != want[i] {
						t.Errorf("goroutine %d: C[%d] = %v, want %v", g, i, c[i], want[i])
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}

// TestWideMatchesNarrowBits checks that a kernel's 2*nr-column tiles give
// the same bits as its nr-column ones, for every row count, odd K and both
// forms of A and B, row tables included, and last blocks of nr+1 to
// 2*nr-1 columns (wideEdge): a product split between threads
// computes a column with either, and sessions promise the same output
// whatever their threads.
func TestWideMatchesNarrowBits(t *testing.T) {
	for _, kern := range archKernels() {
		if kern.wide == nil {
			continue
		}
		narrow := withoutWide(kern)
		t.Run(kern.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(11, 12))
			for m := 1; m <= kern.mr+1; m++ {
				for _, k := range []int{1, 2, 3, 5, 7, 9, kern.kc + 3} {
					for v := 0; v < 8; v++ {
						n := 2*kern.nr + v*5
						if v >= 4 {
							// A last block of nr+1 to 2*nr-1 columns
							// (wideEdge), alone and after a wide tile.
							n = []int{kern.nr + 1, 2*kern.nr - 2, 3*kern.nr + 4, 3*kern.nr - 1}[v-4]
						}
						a := storage(rng, m, k, k, 0, 0)
						bm := storage(rng, k, n+32, n+32, 0, 0)
						rows := make([]int32, k)
						for i := range rows {
							rows[i] = int32(i * (n + 32))
						}
						run := func(kn *kernel) []float32 {
							c := make([]float32, m*n)
							args := Args{M: m, N: n, K: k, A: a, LDA: k, B: bm, LDB: n + 32, C: c, LDC: n,
								Bias: bm[:max(m, n)], BiasMode: BiasMode(v % 3), Clamp: v%4 == 3, Lo: -1, Hi: 1}
							switch v % 4 {
							case 1:
								args.PackedA = packA(kn, nil, m, k, a, k, false)
							case 2:
								args.PackedB = packB(kn, nil, k, n, bm, n+32, false)
							case 3:
								args.PackedA = packA(kn, nil, m, k, a, k, false)
								args.BRows, args.LDB = rows, 0
							}
							args.Scratch = make([]float32, scratchSize(kn, &args))
							sgemm(kn, &args)
							return c
						}
						got, want := run(kern), run(narrow)
						for i := range got {
							if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
								t.Fatalf("m %d k %d n %d form %d: C[%d] = %v wide, %v narrow", m, k, n, v, i, got[i], want[i])
							}
						}
					}
				}
			}
		})
	}
}
