package gemm

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
)

// BenchmarkHalf compares float32 and half-precision operands on the shapes
// of the fp16 knob, single-threaded with the active kernel. Sub-benchmarks
// are named shape/form and run in turn, so that with -count the forms are
// interleaved on a noisy machine:
//
//	fp32      weights packed in float32 (PackA or PackB)
//	fp16w     weights packed in half precision (PackA16 or PackB16),
//	          activations float32
//	fp16      weights in half precision and Half set: the per-call packed
//	          activations are rounded to half precision too
//
// The convolution shapes (M = output channels, K = Cin*kh*kw, N = output
// positions) take their weights as A and a raw row-major B packed per call,
// as an im2col BSource is; the GEMV shape (a batch-1 dense layer) takes its
// weights as B and a raw A. GFLOP/s counts 2*M*N*K per call over
// wall-clock time, cpuGFLOP/s over the thread's CPU time.
func BenchmarkHalf(b *testing.B) {
	shapes := []struct {
		name    string
		m, n, k int
		weights string // "A" or "B"
	}{
		{"conv-64x584x2560", 64, 584, 2560, "A"},
		{"conv-64x2706x160", 64, 2706, 160, "A"},
		{"conv-128x32x640", 128, 32, 640, "A"},
		{"gemv-1x11x37376", 1, 11, 37376, "B"},
	}
	for _, s := range shapes {
		for _, form := range []string{"fp32", "fp16w", "fp16"} {
			b.Run(fmt.Sprintf("%s/%s", s.name, form), func(b *testing.B) {
				benchHalf(b, active, s.m, s.n, s.k, s.weights, form)
			})
		}
	}
}

func benchHalf(b *testing.B, kern *kernel, m, n, k int, weights, form string) {
	rng := rand.New(rand.NewPCG(1, 1))
	a := randMat(rng, m*k)
	bm := randMat(rng, k*n)
	c := make([]float32, m*n)
	args := Args{M: m, N: n, K: k, A: a, B: bm, C: c}
	switch {
	case weights == "A" && form == "fp32":
		args.PackedA, args.A = packA(kern, nil, m, k, a, k, false), nil
	case weights == "A":
		args.PackedA16, args.A = packAHalf(kern, nil, m, k, a, k, false), nil
	case form == "fp32":
		args.PackedB, args.B = packB(kern, nil, k, n, bm, n, false), nil
	default:
		args.PackedB16, args.B = packBHalf(kern, nil, k, n, bm, n, false), nil
	}
	args.Half = form == "fp16"
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
	if cpu := threadCPUTime() - cpu0; cpu > 0 {
		b.ReportMetric(flops*float64(b.N)/cpu/1e9, "cpuGFLOP/s")
	}
}

// BenchmarkHalfPaired measures the same shapes as BenchmarkHalf with the
// float32 and a half-precision form alternating block by block (each block
// a few milliseconds of calls) inside one benchmark, which is steadier on a
// shared machine than comparing separate runs. It reports the median over
// blocks of each form's rate, by the thread's CPU time, and speedup, the
// median of the ratios of adjacent blocks' CPU times (fp32 time / fp16
// time: above 1 the half-precision form is faster).
func BenchmarkHalfPaired(b *testing.B) {
	shapes := []struct {
		name    string
		m, n, k int
		weights string
	}{
		{"conv-64x584x2560", 64, 584, 2560, "A"},
		{"conv-64x2706x160", 64, 2706, 160, "A"},
		{"conv-128x32x640", 128, 32, 640, "A"},
		{"gemv-1x11x37376", 1, 11, 37376, "B"},
	}
	for _, s := range shapes {
		for _, form := range []string{"fp16w", "fp16"} {
			b.Run(fmt.Sprintf("%s/%s", s.name, form), func(b *testing.B) {
				benchPaired(b, active, s.m, s.n, s.k, s.weights, form)
			})
		}
	}
}

func benchPaired(b *testing.B, kern *kernel, m, n, k int, weights, form string) {
	rng := rand.New(rand.NewPCG(1, 1))
	a := randMat(rng, m*k)
	bm := randMat(rng, k*n)
	mk := func(form string) *Args {
		args := &Args{M: m, N: n, K: k, A: a, B: bm, C: make([]float32, m*n)}
		switch {
		case weights == "A" && form == "fp32":
			args.PackedA, args.A = packA(kern, nil, m, k, a, k, false), nil
		case weights == "A":
			args.PackedA16, args.A = packAHalf(kern, nil, m, k, a, k, false), nil
		case form == "fp32":
			args.PackedB, args.B = packB(kern, nil, k, n, bm, n, false), nil
		default:
			args.PackedB16, args.B = packBHalf(kern, nil, k, n, bm, n, false), nil
		}
		args.Half = form == "fp16"
		args.Scratch = make([]float32, scratchSize(kern, args))
		sgemm(kern, args)
		return args
	}
	f32, f16 := mk("fp32"), mk(form)
	flops := 2 * float64(m) * float64(n) * float64(k)
	// Calls per block: about 2 ms.
	per := max(1, int(2e-3*30e9/flops))
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var t32, t16, ratio []float64
	block := func(args *Args) float64 {
		c0 := threadCPUTime()
		for i := 0; i < per; i++ {
			sgemm(kern, args)
		}
		return threadCPUTime() - c0
	}
	b.ResetTimer()
	for i := 0; i < b.N; i += 2 * per {
		var x, y float64
		if i/(2*per)%2 == 0 {
			x = block(f32)
			y = block(f16)
		} else {
			y = block(f16)
			x = block(f32)
		}
		t32, t16, ratio = append(t32, x), append(t16, y), append(ratio, x/y)
	}
	b.StopTimer()
	rate := func(ts []float64) float64 { return flops * float64(per) / median(ts) / 1e9 }
	b.ReportMetric(rate(t32), "fp32-GFLOP/s")
	b.ReportMetric(rate(t16), form+"-GFLOP/s")
	b.ReportMetric(median(ratio), "speedup")
	b.ReportMetric(float64(len(ratio)), "pairs")
}

func median(x []float64) float64 {
	s := append([]float64(nil), x...)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}
