package qgemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
)

// config is one test case.
type config struct {
	m, n, k int
	dense   bool // C = X*W (PackedB) instead of C = W*X (PackedA)
	codes   bool // X given as XCodes
	dynamic bool // XQuant computed by Gemm
	padX    int  // LDX minus the width of X
	padC    int  // LDC minus N
	bias    BiasMode
	clamp   bool
	relu    bool // with clamp: Lo 0, Hi +Inf
	tasks   int  // > 1: run through a Parallel
	data    string
	layout  int // dense weights: 0 as PackB chooses, 1 panels, 2 transposed rows (N <= gemvMax)
}

func (c config) String() string {
	s := fmt.Sprintf("%dx%dx%d", c.m, c.n, c.k)
	flag := func(b bool, name string) {
		if b {
			s += " " + name
		}
	}
	flag(c.dense, "dense")
	flag(!c.dense, "conv")
	flag(c.codes, "codes")
	flag(c.dynamic, "dynamic")
	flag(c.bias == BiasPerRow, "rowbias")
	flag(c.bias == BiasPerCol, "colbias")
	flag(c.clamp && !c.relu, "clamp")
	flag(c.clamp && c.relu, "relu")
	if c.padX|c.padC != 0 {
		s += fmt.Sprintf(" pad=%d,%d", c.padX, c.padC)
	}
	if c.tasks > 1 {
		s += fmt.Sprintf(" tasks=%d", c.tasks)
	}
	if c.data != "" {
		s += " data=" + c.data
	}
	if c.layout != 0 {
		s += fmt.Sprintf(" layout=%d", c.layout)
	}
	return s
}

// sentinel fills every element of C outside the M x N result.
const sentinel = 12345.5

// operands holds the inputs of a case.
type operands struct {
	wq    []int8    // weight codes: M x K (conv) or K x N (dense), dense layout
	ws    []float32 // weight scales: per row (conv) or column (dense)
	x     []float32 // activations with leading dimension ldx (nil with codes)
	xq    []uint8   // activation codes with leading dimension ldx (codes only)
	ldx   int
	quant Quant
	bias  []float32
}

// makeOperands builds the inputs of c. data selects the values:
// "" random, "extreme" weights ±127 and codes 127 or 0 (the largest
// possible products, all of one sign), "nonfinite" activations sprinkled
// with NaN and ±Inf.
func makeOperands(c config, rng *rand.Rand) operands {
	var o operands
	xr, xc := c.k, c.n
	wr, wc := c.m, c.k
	if c.dense {
		xr, xc = c.m, c.k
		wr, wc = c.k, c.n
	}
	o.ldx = xc + c.padX
	w := make([]float32, wr*wc)
	for i := range w {
		w[i] = rng.Float32()*2 - 1
	}
	if c.dense {
		o.wq, o.ws = QuantizeWeightsPerCol(w, wr, wc)
	} else {
		o.wq, o.ws = QuantizeWeightsPerRow(w, wr, wc)
	}
	xs := make([]float32, max(0, (xr-1)*o.ldx+xc)+3)
	nan := float32(math.NaN())
	for i := range xs {
		xs[i] = nan // outside X: reading it would show
	}
	for r := 0; r < xr; r++ {
		for j := 0; j < xc; j++ {
			v := rng.Float32()*3 - 1
			if c.data == "nonfinite" {
				switch rng.IntN(8) {
				case 0:
					v = nan
				case 1:
					v = float32(math.Inf(1))
				case 2:
					v = float32(math.Inf(-1))
				case 3:
					v *= 1e30
				}
			}
			xs[r*o.ldx+j] = v
		}
	}
	o.quant = Quant{Scale: 2.0 / 127, Zero: 42}
	if c.data == "extreme" {
		// All products at the int16 limit of VPMADDUBSW's pairs: weight
		// codes of one sign (or alternating by row/column) times code 127.
		for i := range o.wq {
			o.wq[i] = 127
		}
		for r := 0; r < wr; r++ {
			for j := 0; j < wc; j++ {
				if (c.dense && j%2 == 1) || (!c.dense && r%2 == 1) {
					o.wq[r*wc+j] = -127
				}
			}
		}
		o.quant = Quant{Scale: 1.0 / 127, Zero: 0}
		for r := 0; r < xr; r++ {
			for j := 0; j < xc; j++ {
				xs[r*o.ldx+j] = 5 // saturates to 127
				if rng.IntN(16) == 0 {
					xs[r*o.ldx+j] = -1 // code 0
				}
			}
		}
	}
	if c.dynamic {
		o.quant = Quant{}
	}
	if c.codes {
		o.xq = make([]uint8, len(xs))
		for i := range o.xq {
			o.xq[i] = 200 // outside X, and not a valid code
		}
		if o.quant.Scale == 0 {
			o.quant = Quant{Scale: 0.01, Zero: 17}
		}
		inv, lo, hi, zp := o.quant.params()
		for r := 0; r < xr; r++ {
			for j := 0; j < xc; j++ {
				o.xq[r*o.ldx+j] = quantOne(xs[r*o.ldx+j], inv, lo, hi, zp)
			}
		}
	} else {
		o.x = xs
	}
	switch c.bias {
	case BiasPerRow:
		o.bias = randFloats(rng, c.m)
	case BiasPerCol:
		o.bias = randFloats(rng, c.n)
	}
	return o
}

func randFloats(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = rng.Float32()*2 - 1
	}
	return s
}

// refQuant is the quantization the reference uses: XQuant, or the dynamic
// one from an independent min/max scan.
func refQuant(c config, o operands) Quant {
	if o.quant.Scale != 0 {
		return o.quant
	}
	xr, xc := c.k, c.n
	if c.dense {
		xr, xc = c.m, c.k
	}
	var lo, hi float32
	for r := 0; r < xr; r++ {
		for _, v := range o.x[r*o.ldx : r*o.ldx+xc] {
			if !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) {
				lo, hi = min(lo, v), max(hi, v)
			}
		}
	}
	return QuantFor(lo, hi)
}

// reference computes the expected M x N result with naive int32 sums and
// the documented epilogue, and the exact (float64) value of each element.
func reference(c config, o operands, lo, hi float32) (want []float32, exact, mag []float64) {
	q := refQuant(c, o)
	inv, qlo, qhi, zp := q.params()
	code := func(r, j int) int32 { // code of X element (r, j)
		if o.xq != nil {
			return int32(o.xq[r*o.ldx+j])
		}
		return int32(quantOne(o.x[r*o.ldx+j], inv, qlo, qhi, zp))
	}
	want = make([]float32, c.m*c.n)
	exact = make([]float64, c.m*c.n)
	mag = make([]float64, c.m*c.n)
	for i := 0; i < c.m; i++ {
		for j := 0; j < c.n; j++ {
			var acc int32
			var ws float32
			for kk := 0; kk < c.k; kk++ {
				if c.dense {
					acc += (code(i, kk) - zp) * int32(o.wq[kk*c.n+j])
				} else {
					acc += int32(o.wq[i*c.k+kk]) * (code(kk, j) - zp)
				}
			}
			if c.dense {
				ws = o.ws[j]
			} else {
				ws = o.ws[i]
			}
			s := ws * q.Scale
			v := float32(float32(acc) * s)
			x := float64(acc) * float64(ws) * float64(q.Scale)
			var b float32
			switch c.bias {
			case BiasPerRow:
				b = o.bias[i]
			case BiasPerCol:
				b = o.bias[j]
			}
			mag[i*c.n+j] = math.Abs(x) + math.Abs(float64(b))
			if c.bias != NoBias {
				v = float32(v + b)
				x += float64(b)
			}
			if c.clamp {
				v = min(max(v, lo), hi)
				x = math.Min(math.Max(x, float64(lo)), float64(hi))
			}
			want[i*c.n+j] = v
			exact[i*c.n+j] = x
		}
	}
	return want, exact, mag
}

// runCase runs c with kernel kern and compares bit for bit with the
// reference.
func runCase(t *testing.T, kern *kernel, c config, rng *rand.Rand) {
	t.Helper()
	o := makeOperands(c, rng)
	var lo, hi float32
	if c.clamp {
		lo, hi = -0.3, 0.25
		if c.relu {
			lo, hi = 0, float32(math.Inf(1))
		}
	}
	want, exact, mag := reference(c, o, lo, hi)
	ldc := c.n + c.padC
	cs := make([]float32, max(0, (c.m-1)*ldc+c.n)+5)
	for i := range cs {
		cs[i] = sentinel
	}
	args := Args{
		M: c.m, N: c.n, K: c.k,
		X: o.x, XCodes: o.xq, LDX: o.ldx, XQuant: o.quant,
		C: cs, LDC: ldc,
		Bias: o.bias, BiasMode: c.bias,
		Clamp: c.clamp, Lo: lo, Hi: hi,
		Tasks: c.tasks,
	}
	if c.tasks > 1 {
		args.Parallel = goParallel
	}
	switch {
	case c.dense && c.layout == 0:
		args.PackedB = PackB(o.wq, o.ws, c.k, c.n)
	case c.dense:
		args.PackedB = packB(o.wq, o.ws, c.k, c.n, c.layout == 2)
	default:
		args.PackedA = PackA(o.wq, o.ws, c.m, c.k)
	}
	args.Scratch = make([]byte, scratchSize(kern, &args))
	gemm(kern, &args)

	bad := 0
	report := func(format string, a ...any) {
		if bad < 5 {
			t.Errorf("%s %s: "+format, append([]any{kern.name, c}, a...)...)
		}
		bad++
	}
	for i := 0; i < c.m; i++ {
		for j := 0; j < c.n; j++ {
			g, w := cs[i*ldc+j], want[i*c.n+j]
			if math.Float32bits(g) != math.Float32bits(w) {
				report("C[%d,%d] = %v, want %v", i, j, g, w)
				continue
			}
			// The documented tolerance against the exact value: three
			// roundings (the conversion of acc, the two products, the
			// bias), within 2 ulp of |acc*scale| + |bias|.
			x, mg := exact[i*c.n+j], mag[i*c.n+j]
			if d := math.Abs(float64(g) - x); d > 2*ulp(mg) && !math.IsInf(x, 0) {
				report("C[%d,%d] = %v, exact %v: %g ulp of %g", i, j, g, x, d/ulp(mg), mg)
			}
		}
		for j := c.n; j < ldc && i < c.m-1; j++ {
			if cs[i*ldc+j] != sentinel {
				report("C[%d,%d] (padding) overwritten", i, j)
			}
		}
	}
	for i := max(0, (c.m-1)*ldc+c.n); i < len(cs); i++ {
		if cs[i] != sentinel {
			report("C past the end overwritten")
		}
	}
	if bad > 0 {
		t.Fatalf("%s %s: %d wrong elements", kern.name, c, bad)
	}
}

// ulp returns the float32 ulp at |x| (at least that of the smallest normal).
func ulp(x float64) float64 {
	f := float32(math.Abs(x))
	if f < math.SmallestNonzeroFloat32*(1<<23) {
		f = math.SmallestNonzeroFloat32 * (1 << 23)
	}
	return float64(math.Nextafter32(f, float32(math.Inf(1))) - f)
}

// goParallel runs the tasks on goroutines.
func goParallel(tasks int, run func(int)) {
	var wg sync.WaitGroup
	for t := 0; t < tasks; t++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run(t)
		}()
	}
	wg.Wait()
}

func TestKernelSelection(t *testing.T) {
	t.Logf("active kernel: %s; all: %v", KernelName(), kernelNames())
	if KernelName() != allKernels()[0].name {
		t.Errorf("active kernel %s is not the best available %s", KernelName(), allKernels()[0].name)
	}
}

func kernelNames() []string {
	var s []string
	for _, k := range allKernels() {
		s = append(s, k.name)
	}
	return s
}

// TestShapes covers edge sizes: 1, primes, K not a multiple of 4/16/32,
// ragged M and N, GEMV.
func TestShapes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	dims := []int{1, 2, 3, 4, 5, 7, 8, 13, 16, 17, 31, 33}
	for _, kern := range allKernels() {
		for _, dense := range []bool{false, true} {
			for _, m := range dims {
				for _, n := range dims {
					for _, k := range []int{1, 3, 4, 5, 15, 16, 17, 31, 32, 33, 67} {
						runCase(t, kern, config{m: m, n: n, k: k, dense: dense}, rng)
						if dense && n <= gemvMax {
							runCase(t, kern, config{m: m, n: n, k: k, dense: true, layout: 1}, rng)
							runCase(t, kern, config{m: m, n: n, k: k, dense: true, layout: 2}, rng)
						}
					}
				}
			}
		}
	}
}

// TestVariants covers the input forms and the epilogue options.
func TestVariants(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, kern := range allKernels() {
		for _, dense := range []bool{false, true} {
			for _, shape := range [][3]int{{5, 16, 8}, {10, 48, 37}, {13, 21, 64}, {1, 11, 259}, {7, 35, 130}} {
				for _, codes := range []bool{false, true} {
					for _, dyn := range []bool{false, true} {
						for _, bias := range []BiasMode{NoBias, BiasPerRow, BiasPerCol} {
							for _, cl := range []int{0, 1, 2} {
								for _, pad := range []int{0, 3} {
									c := config{m: shape[0], n: shape[1], k: shape[2], dense: dense, codes: codes, dynamic: dyn && !codes,
										bias: bias, clamp: cl > 0, relu: cl == 2, padX: pad, padC: 2 * pad}
									runCase(t, kern, c, rng)
									if dense && c.n <= gemvMax {
										c.layout = 1 + pad%2 // the other layouts
										runCase(t, kern, c, rng)
									}
								}
							}
						}
					}
				}
			}
		}
	}
}

// TestExtremes uses weight codes ±127 with activation codes 127: every
// VPMADDUBSW pair is 2*127*127 = 32258, the largest possible, which a
// saturating path would get wrong.
func TestExtremes(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, kern := range allKernels() {
		for _, dense := range []bool{false, true} {
			for _, shape := range [][3]int{{5, 16, 64}, {6, 33, 1001}, {1, 11, 4099}, {9, 17, 2}} {
				for _, codes := range []bool{false, true} {
					for layout := 0; layout < 3; layout++ {
						if layout > 0 && (!dense || shape[1] > gemvMax) {
							continue
						}
						runCase(t, kern, config{m: shape[0], n: shape[1], k: shape[2], dense: dense, codes: codes, data: "extreme", layout: layout}, rng)
					}
				}
			}
		}
	}
}

// TestNonFinite feeds NaN, ±Inf and huge activations: they saturate (NaN
// to the zero point) without a crash, identically on every path.
func TestNonFinite(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, kern := range allKernels() {
		for _, dense := range []bool{false, true} {
			for _, dyn := range []bool{false, true} {
				for _, shape := range [][3]int{{5, 16, 8}, {3, 37, 45}, {1, 11, 100}} {
					runCase(t, kern, config{m: shape[0], n: shape[1], k: shape[2], dense: dense, dynamic: dyn, data: "nonfinite",
						bias: BiasPerRow, clamp: true}, rng)
				}
			}
		}
	}
}

// TestRandom runs random shapes and options.
func TestRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	iters := 300
	if testing.Short() {
		iters = 50
	}
	for _, kern := range allKernels() {
		for it := 0; it < iters; it++ {
			c := config{
				m: 1 + rng.IntN(40), n: 1 + rng.IntN(70), k: 1 + rng.IntN(300),
				dense: rng.IntN(2) == 0, codes: rng.IntN(4) == 0, dynamic: rng.IntN(2) == 0,
				padX: rng.IntN(3), padC: rng.IntN(3), bias: BiasMode(rng.IntN(3)),
				clamp: rng.IntN(2) == 0, relu: rng.IntN(2) == 0,
			}
			if c.codes {
				c.dynamic = false
			}
			if rng.IntN(4) == 0 {
				c.tasks = 2 + rng.IntN(3)
			}
			runCase(t, kern, c, rng)
		}
	}
}

// TestLargeK checks a long sum (the GEMV shape of the benchmarks).
func TestLargeK(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, kern := range allKernels() {
		runCase(t, kern, config{m: 1, n: 11, k: 37376, dense: true, bias: BiasPerCol}, rng)
		runCase(t, kern, config{m: 2, n: 11, k: 37376, dense: true, bias: BiasPerCol, layout: 1, data: "extreme"}, rng)
		runCase(t, kern, config{m: 2, n: 11, k: 37376, dense: true, bias: BiasPerCol, layout: 2, data: "extreme"}, rng)
		runCase(t, kern, config{m: 7, n: 19, k: 5003, data: "extreme"}, rng)
		runCase(t, kern, config{m: 12, n: 35, k: 3001, dense: true, bias: BiasPerRow, clamp: true}, rng)
		runCase(t, kern, config{m: 12, n: 20, k: 2049, dense: true, data: "extreme", tasks: 3}, rng)
	}
}

func TestParallel(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, kern := range allKernels() {
		for _, dense := range []bool{false, true} {
			for _, shape := range [][3]int{{64, 100, 50}, {3, 200, 20}, {40, 5, 33}, {1, 11, 64}, {23, 11, 40}} {
				for _, tasks := range []int{2, 3, 7} {
					for layout := 0; layout < 3; layout++ {
						if layout > 0 && (!dense || shape[1] > gemvMax) {
							continue
						}
						runCase(t, kern, config{m: shape[0], n: shape[1], k: shape[2], dense: dense, tasks: tasks, bias: BiasPerCol, layout: layout}, rng)
					}
				}
			}
		}
	}
}

func TestZeroSizes(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	for _, kern := range allKernels() {
		for _, dense := range []bool{false, true} {
			for _, s := range [][3]int{{0, 5, 5}, {5, 0, 5}, {3, 5, 0}, {0, 0, 0}} {
				runCase(t, kern, config{m: s[0], n: s[1], k: s[2], dense: dense, bias: BiasPerRow, clamp: true}, rng)
			}
		}
	}
}

func TestPanics(t *testing.T) {
	pa := PackWeightsA(make([]float32, 6), 2, 3)
	pb := PackWeightsB(make([]float32, 6), 3, 2)
	x := make([]float32, 6)
	c := make([]float32, 4)
	cases := map[string]Args{
		"no weights":   {M: 2, N: 2, K: 3, X: x, C: c},
		"both weights": {M: 2, N: 2, K: 3, PackedA: pa, PackedB: pb, X: x, C: c},
		"A shape":      {M: 2, N: 2, K: 2, PackedA: pa, X: x, C: c},
		"B shape":      {M: 2, N: 3, K: 3, PackedB: pb, X: x, C: c},
		"short X":      {M: 2, N: 2, K: 3, PackedA: pa, X: x[:5], C: c},
		"short C":      {M: 2, N: 2, K: 3, PackedA: pa, X: x, C: c[:3]},
		"LDX":          {M: 2, N: 2, K: 3, PackedA: pa, X: x, LDX: 1, C: c},
		"codes quant":  {M: 2, N: 2, K: 3, PackedA: pa, XCodes: make([]uint8, 6), C: c},
		"bias":         {M: 2, N: 2, K: 3, PackedA: pa, X: x, C: c, BiasMode: BiasPerRow, Bias: x[:1]},
		"bias mode":    {M: 2, N: 2, K: 3, PackedA: pa, X: x, C: c, BiasMode: 7},
		"negative":     {M: -1, N: 2, K: 3, PackedA: pa, X: x, C: c},
	}
	for name, a := range cases {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			Gemm(&a)
		}()
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Errorf("PackA of -128: no panic")
			}
		}()
		PackA([]int8{-128}, []float32{1}, 1, 1)
	}()
}

// TestAllocs checks that steady-state calls allocate nothing, with and
// without Parallel.
func TestAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	for _, dense := range []bool{false, true} {
		for _, tasks := range []int{1, 2} {
			m, n, k := 13, 40, 70
			if dense {
				m, n, k = 1, 11, 300
			}
			c := config{m: m, n: n, k: k, dense: dense, dynamic: true, bias: BiasPerRow, clamp: true}
			o := makeOperands(c, rng)
			args := Args{M: m, N: n, K: k, X: o.x, LDX: o.ldx, C: make([]float32, m*n), Bias: o.bias, BiasMode: BiasPerRow, Clamp: true, Hi: 1}
			if dense {
				args.PackedB = PackB(o.wq, o.ws, k, n)
			} else {
				args.PackedA = PackA(o.wq, o.ws, m, k)
			}
			if tasks > 1 {
				args.Parallel, args.Tasks = goParallel, tasks
			}
			args.Scratch = make([]byte, ScratchSize(&args))
			Gemm(&args)
			allocs := testing.AllocsPerRun(50, func() { Gemm(&args) })
			// goParallel itself allocates its goroutines and WaitGroup.
			if tasks == 1 && allocs != 0 {
				t.Errorf("dense=%v: %v allocations per call", dense, allocs)
			}
			if tasks > 1 && allocs > 2*float64(tasks)+2 {
				t.Errorf("dense=%v tasks=%d: %v allocations per call", dense, tasks, allocs)
			}
		}
	}
	x := make([]float32, 1000)
	dst := make([]uint8, 1000)
	if a := testing.AllocsPerRun(20, func() { QuantizeActivations(dst, x, QuantFor(MinMax(x))) }); a != 0 {
		t.Errorf("quantization: %v allocations", a)
	}
}

// TestConcurrentPacked shares packed weights between goroutines.
func TestConcurrentPacked(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 20))
	c := config{m: 20, n: 50, k: 90, bias: BiasPerRow}
	o := makeOperands(c, rng)
	want, _, _ := reference(c, o, 0, 0)
	pa := PackA(o.wq, o.ws, c.m, c.k)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out := make([]float32, c.m*c.n)
			for it := 0; it < 20; it++ {
				Gemm(&Args{M: c.m, N: c.n, K: c.k, PackedA: pa, X: o.x, LDX: o.ldx, XQuant: o.quant, C: out, Bias: o.bias, BiasMode: BiasPerRow})
				for i := range out {
					if out[i] != want[i] {
						t.Errorf("goroutine %d: C[%d] = %v, want %v", g, i, out[i], want[i])
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}

// TestAccuracy checks the end-to-end error of the int8 product against
// float64 on random data: it is a quantization, not a rounding, so the
// bound is statistical (relative RMS error of a few percent at most).
func TestAccuracy(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, dense := range []bool{false, true} {
		m, n, k := 16, 40, 512
		w := randFloats(rng, m*k)
		x := make([]float32, k*n)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
			if !dense && i%3 == 0 {
				x[i] = max(x[i], 0)
			}
		}
		c := make([]float32, m*n)
		args := Args{M: m, N: n, K: k, X: x, C: c}
		if dense {
			args.PackedB = PackWeightsB(w, k, m) // C^T shape: X is n x k here
			args.M, args.N = n, m
		} else {
			args.PackedA = PackWeightsA(w, m, k)
		}
		Gemm(&args)
		var num, den float64
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				var s float64
				for kk := 0; kk < k; kk++ {
					if dense {
						// C[j][i] = sum_k X[j][k] W[k][i], X = x as n x k.
						s += float64(x[j*k+kk]) * float64(w[kk*m+i])
					} else {
						s += float64(w[i*k+kk]) * float64(x[kk*n+j])
					}
				}
				var g float64
				if dense {
					g = float64(c[j*m+i])
				} else {
					g = float64(c[i*n+j])
				}
				num += (g - s) * (g - s)
				den += s * s
			}
		}
		rel := math.Sqrt(num / den)
		t.Logf("dense=%v: relative RMS error %.4f", dense, rel)
		if rel > 0.05 {
			t.Errorf("dense=%v: relative RMS error %.4f", dense, rel)
		}
	}
}
