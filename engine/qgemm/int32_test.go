package qgemm

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// intCase is one case of the raw int32 product (Args.CInt).
type intCase struct {
	m, n, k int
	dense   bool
	layout  int // dense weights: 0 as PackB chooses, 1 panels, 2 transposed rows
	zero    int32
	padX    int
	padC    int
	tasks   int
	float   bool // X given as float32 (quantized by the call), not codes
	extreme bool // all weights ±127 and all codes 127
	wrap    bool // with extreme: all weights +127, so that sums past MaxK wrap
}

func (c intCase) String() string {
	return fmt.Sprintf("%dx%dx%d dense=%v layout=%d zero=%d pad=%d,%d tasks=%d float=%v extreme=%v",
		c.m, c.n, c.k, c.dense, c.layout, c.zero, c.padX, c.padC, c.tasks, c.float, c.extreme)
}

// runIntCase checks GemmInt32 on kernel kern against naive int32 sums of
// the same codes, element for element, and that nothing outside the M x N
// result is written.
func runIntCase(t *testing.T, kern *kernel, c intCase, rng *rand.Rand) {
	t.Helper()
	wr, wc, xr, xc := c.m, c.k, c.k, c.n
	if c.dense {
		wr, wc, xr, xc = c.k, c.n, c.m, c.k
	}
	wq := make([]int8, wr*wc)
	for i := range wq {
		wq[i] = int8(rng.IntN(255) - 127)
		if c.extreme {
			wq[i] = 127
			if i%3 == 0 && !c.wrap {
				wq[i] = -127
			}
		}
	}
	ldx := xc + c.padX
	codes := make([]uint8, max(0, (xr-1)*ldx+xc))
	xs := make([]float32, len(codes))
	q := Quant{Scale: 0.5, Zero: c.zero}
	for i := range codes {
		codes[i] = uint8(rng.IntN(128))
		if c.extreme {
			codes[i] = 127
		}
		// A float that quantizes to exactly that code under q.
		xs[i] = float32(int32(codes[i])-c.zero) * q.Scale
	}
	ldc := c.n + c.padC
	const sentinel = -77777
	ci := make([]int32, max(0, (c.m-1)*ldc+c.n)+3)
	for i := range ci {
		ci[i] = sentinel
	}
	args := Args{M: c.m, N: c.n, K: c.k, LDX: ldx, XQuant: q, CInt: ci, LDC: ldc, Tasks: c.tasks,
		// Ignored with CInt: a C too short, a bias, a clamp.
		C: make([]float32, 1), Bias: []float32{1}, BiasMode: BiasPerRow, Clamp: true, Lo: 5, Hi: 6}
	if c.float {
		args.X = xs
	} else {
		args.XCodes = codes
	}
	if c.tasks > 1 {
		args.Parallel = goParallel
	}
	ones := make([]float32, max(wr, wc))
	switch {
	case !c.dense:
		args.PackedA = PackA(wq, ones, c.m, c.k)
	case c.layout == 0:
		args.PackedB = PackB(wq, ones, c.k, c.n)
	default:
		args.PackedB = packB(wq, ones, c.k, c.n, c.layout == 2)
	}
	args.Scratch = make([]byte, scratchSize(kern, &args))
	gemm(kern, &args)
	bad := 0
	for i := 0; i < c.m; i++ {
		for j := 0; j < c.n; j++ {
			var want int32
			for kk := 0; kk < c.k; kk++ {
				var w int8
				var x uint8
				if c.dense {
					w, x = wq[kk*c.n+j], codes[i*ldx+kk]
				} else {
					w, x = wq[i*c.k+kk], codes[kk*ldx+j]
				}
				want += int32(w) * (int32(x) - c.zero)
			}
			if got := ci[i*ldc+j]; got != want {
				if bad < 5 {
					t.Errorf("%s %s: C[%d,%d] = %d, want %d", kern.name, c, i, j, got, want)
				}
				bad++
			}
		}
		for j := c.n; j < ldc && i < c.m-1; j++ {
			if ci[i*ldc+j] != sentinel {
				t.Fatalf("%s %s: padding C[%d,%d] overwritten", kern.name, c, i, j)
			}
		}
	}
	for i := max(0, (c.m-1)*ldc+c.n); i < len(ci); i++ {
		if ci[i] != sentinel {
			t.Fatalf("%s %s: C past the end overwritten", kern.name, c)
		}
	}
	if bad > 0 {
		t.Fatalf("%s %s: %d wrong sums", kern.name, c, bad)
	}
}

func TestGemmInt32(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	shapes := [][3]int{{1, 1, 1}, {5, 16, 4}, {7, 19, 13}, {16, 33, 64}, {3, 5, 129}, {11, 48, 1030}, {1, 12, 300}, {2, 7, 3}, {6, 1, 17}}
	for _, kern := range allKernels() {
		for _, s := range shapes {
			for _, dense := range []bool{false, true} {
				for layout := 0; layout < 3; layout++ {
					if layout > 0 && (!dense || s[1] > gemvMax) {
						continue
					}
					for _, zero := range []int32{0, 37} {
						c := intCase{m: s[0], n: s[1], k: s[2], dense: dense, layout: layout, zero: zero}
						runIntCase(t, kern, c, rng)
						c.padX, c.padC = 3, 2
						runIntCase(t, kern, c, rng)
						c.float = true
						runIntCase(t, kern, c, rng)
						c.tasks = 3
						runIntCase(t, kern, c, rng)
					}
				}
			}
		}
		// Long sums (several K blocks) at the int16 pair limit, and the
		// wrap-around of int32 (K above MaxK).
		runIntCase(t, kern, intCase{m: 7, n: 21, k: 5003, extreme: true}, rng)
		runIntCase(t, kern, intCase{m: 6, n: 16, k: MaxK + 700, extreme: true, wrap: true}, rng)
		runIntCase(t, kern, intCase{m: 9, n: 20, k: 2049, dense: true, extreme: true, tasks: 2}, rng)
		runIntCase(t, kern, intCase{m: 2, n: 3, k: MaxK + 1000, dense: true, layout: 2, extreme: true, wrap: true}, rng)
		runIntCase(t, kern, intCase{m: 2, n: 17, k: MaxK + 1000, dense: true, layout: 1, extreme: true, wrap: true}, rng)
		// Empty products.
		for _, s := range [][3]int{{0, 5, 5}, {5, 0, 5}, {3, 5, 0}} {
			runIntCase(t, kern, intCase{m: s[0], n: s[1], k: s[2]}, rng)
			runIntCase(t, kern, intCase{m: s[0], n: s[1], k: s[2], dense: true}, rng)
		}
	}
}

func TestGemmInt32Allocs(t *testing.T) {
	wq := make([]int8, 40*70)
	pa := PackA(wq, make([]float32, 40), 40, 70)
	codes := make([]uint8, 70*50)
	ci := make([]int32, 40*50)
	args := Args{M: 40, N: 50, K: 70, PackedA: pa, XCodes: codes, CInt: ci}
	args.Scratch = make([]byte, ScratchSize(&args))
	GemmInt32(&args)
	if a := testing.AllocsPerRun(20, func() { GemmInt32(&args) }); a != 0 {
		t.Errorf("%v allocations per call", a)
	}
	defer func() {
		if recover() == nil {
			t.Error("GemmInt32 without CInt did not panic")
		}
	}()
	GemmInt32(&Args{M: 1, N: 1, K: 1, PackedA: pa})
}
