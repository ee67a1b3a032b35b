package gemm

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
)

// BenchmarkSgemm measures single-threaded Sgemm with the active kernel.
// Sub-benchmarks are named MxNxK/form, the form being raw (both operands
// given as row-major matrices, packed per call as needed), packedA (A
// prepacked, as convolution weights) or packedB (B prepacked, as dense
// weights). GFLOP/s counts 2*M*N*K per call over wall-clock time;
// cpuGFLOP/s over the thread's CPU time, which is steadier on a shared
// machine.
func BenchmarkSgemm(b *testing.B) {
	shapes := []struct {
		m, n, k int
		forms   []string
	}{
		{64, 128, 288, []string{"raw", "packedA"}},
		{256, 256, 256, []string{"raw", "packedA", "packedB"}},
		{512, 512, 512, []string{"raw"}},
		{1, 512, 1024, []string{"raw", "packedB"}},  // GEMV: y[1xN] = x[1xK] W[KxN]
		{1, 1024, 512, []string{"raw", "packedB"}},  // GEMV, wide
		{64, 2000, 576, []string{"packedA"}},        // conv 3x3, 64->64 channels
		{64, 2000, 10240, []string{"packedA"}},      // conv with a long K
		{8, 1000, 1024, []string{"raw", "packedB"}}, // small batch dense
		{24, 1000, 1024, []string{"raw"}},           // batch 24 dense
	}
	for _, s := range shapes {
		for _, form := range s.forms {
			b.Run(fmt.Sprintf("%dx%dx%d/%s", s.m, s.n, s.k, form), func(b *testing.B) {
				benchSgemm(b, active, s.m, s.n, s.k, form)
			})
		}
	}
}

// BenchmarkSgemmGo measures the portable Go kernel.
func BenchmarkSgemmGo(b *testing.B) {
	b.Run("256x256x256/raw", func(b *testing.B) { benchSgemm(b, goKernel, 256, 256, 256, "raw") })
}

func benchSgemm(b *testing.B, kern *kernel, m, n, k int, form string) {
	rng := rand.New(rand.NewPCG(1, 1))
	a := storage(rng, m, k, k, 0, 0)
	bm := storage(rng, k, n, n, 0, 0)
	c := make([]float32, m*n)
	args := Args{M: m, N: n, K: k, A: a, B: bm, C: c}
	switch form {
	case "packedA":
		args.PackedA = packA(kern, nil, m, k, a, k, false)
	case "packedB":
		args.PackedB = packB(kern, nil, k, n, bm, n, false)
	}
	args.Scratch = make([]float32, scratchSize(kern, &args))
	sgemm(kern, &args)
	flops := 2 * float64(m) * float64(n) * float64(k)
	b.ReportAllocs()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu0 := threadCPUTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sgemm(kern, &args)
	}
	b.StopTimer()
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	// On a shared machine the wall-clock rate counts time the thread was
	// not running; the CPU-time rate does not.
	if cpu := threadCPUTime() - cpu0; cpu > 0 {
		b.ReportMetric(flops*float64(b.N)/cpu/1e9, "cpuGFLOP/s")
	}
}

// BenchmarkSgemmKernels measures every kernel of this CPU on the same
// shapes, interleaved by -count, so that their ratio is measured in one
// run (benchstat groups them by kernel name).
func BenchmarkSgemmKernels(b *testing.B) {
	shapes := []struct {
		m, n, k int
		form    string
	}{
		{64, 3136, 576, "packedA"},  // ResNet conv 3x3, 64->64 at 56x56
		{128, 784, 1152, "packedA"}, // 3x3, 128 channels at 28x28
		{512, 49, 4608, "packedA"},  // 3x3, 512 channels at 7x7
		{96, 3136, 16, "packedA"},   // 1x1 expansion of a mobile block
		{16, 12544, 32, "packedA"},  // 1x1 projection at 112x112
		{160, 500, 160, "packedA"},  // kws-ds.onnx's 1x1 convolutions at 25x20
		{1, 1000, 512, "packedB"},   // a classifier
	}
	for _, s := range shapes {
		for _, kern := range allKernels() {
			b.Run(fmt.Sprintf("%dx%dx%d/%s/%s", s.m, s.n, s.k, s.form, kern.name), func(b *testing.B) {
				benchSgemm(b, kern, s.m, s.n, s.k, s.form)
			})
		}
	}
}

// BenchmarkWideEdge measures kws-ds's pointwise products (160 channels
// at 25x20, 12x10 and 6x5: their last 20, 24 and 30 columns) with the
// active kernel and without its wideEdge tile, interleaved by -count.
func BenchmarkWideEdge(b *testing.B) {
	if active.wideEdge == nil {
		b.Skip("no wideEdge tile")
	}
	noEdge := *active
	noEdge.wideEdge = nil
	for _, n := range []int{500, 120, 30} {
		for _, kern := range []*kernel{active, &noEdge} {
			name := "edge"
			if kern.wideEdge == nil {
				name = "noedge"
			}
			b.Run(fmt.Sprintf("160x%dx160/%s", n, name), func(b *testing.B) {
				benchSgemm(b, kern, 160, n, 160, "packedA")
			})
		}
	}
}

// BenchmarkDirectB measures products with 128 < K <= kc with B packed
// and read in place, interleaved by -count: kws-ds's pointwise
// convolutions (160x160 weights at 25x20, 12x10, 6x5) and mobile ones.
func BenchmarkDirectB(b *testing.B) {
	for _, s := range [][3]int{{160, 500, 160}, {160, 120, 160}, {160, 30, 160}, {24, 3136, 144}, {32, 784, 192}, {64, 1024, 256}, {128, 196, 256}, {256, 49, 256}} {
		for _, lim := range []int{0, 1 << 30} {
			name := "packed"
			if lim > 0 {
				name = "direct"
			}
			b.Run(fmt.Sprintf("%dx%dx%d/%s", s[0], s[1], s[2], name), func(b *testing.B) {
				defer func(v, a int) { directFloats, directAlias = v, a }(directFloats, directAlias)
				directFloats, directAlias = lim, 1
				if lim > 0 {
					directAlias = 1 << 30
				}
				benchSgemm(b, active, s[0], s[1], s[2], "packedA")
			})
		}
	}
}
