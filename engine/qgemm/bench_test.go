package qgemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	fp32 "github.com/kagen-ai/kagen/engine/gemm"
)

// benchShapes are the products of the issue: three convolutions (C = W*X,
// W[M x K] constant) and a dense GEMV (C = x*W, W[K x N] constant).
var benchShapes = []struct {
	m, k, n int
	dense   bool
}{
	{64, 2560, 584, false},
	{64, 160, 2706, false},
	{128, 640, 32, false},
	{1, 37376, 11, true},
}

// BenchmarkGemm measures single-threaded int8 Gemm next to the fp32
// engine/gemm Sgemm on the same shapes, interleaved: for each shape MxKxN
// the sub-benchmarks are
//
//	fp32        Sgemm, weights prepacked (PackA / PackB), bias, Relu
//	fp32-raw    Sgemm, weights unpacked (the GEMV fast path of engine/gemm)
//	int8        Gemm, float32 activations quantized with a calibrated Quant
//	int8-dyn    Gemm, dynamic quantization (a min/max pass over X first)
//	int8-codes  Gemm, activations already quantized (XCodes)
//
// Each reports GOPS = 2*M*N*K per second of wall time and cpuGOPS per
// second of thread CPU time (robust to a shared machine).
func BenchmarkGemm(b *testing.B) {
	for _, s := range benchShapes {
		name := fmt.Sprintf("%dx%dx%d", s.m, s.k, s.n)
		forms := []string{"fp32", "int8", "int8-dyn", "int8-codes"}
		if s.dense {
			forms = []string{"fp32", "fp32-raw", "int8", "int8-dyn", "int8-codes"}
		}
		for _, form := range forms {
			b.Run(name+"/"+form, func(b *testing.B) { benchShape(b, s.m, s.k, s.n, s.dense, form) })
		}
	}
}

func benchShape(b *testing.B, m, k, n int, dense bool, form string) {
	rng := rand.New(rand.NewPCG(1, 1))
	w := randFloats(rng, m*k) // conv: W is M x K
	xr, xc := k, n
	if dense {
		w = randFloats(rng, k*n)
		xr, xc = m, k
	}
	x := make([]float32, xr*xc)
	for i := range x {
		x[i] = max(0, rng.Float32()*2-0.5) // post-Relu-like activations
	}
	c := make([]float32, m*n)
	bias := randFloats(rng, max(m, n))
	var run func()
	switch form {
	case "fp32", "fp32-raw":
		args := fp32.Args{M: m, N: n, K: k, C: c, Bias: bias, BiasMode: fp32.BiasPerRow, Clamp: true, Lo: 0, Hi: float32(math.Inf(1))}
		if dense {
			args.A, args.B, args.BiasMode = x, w, fp32.BiasPerCol
			if form == "fp32" {
				args.PackedB, args.B = fp32.PackB(nil, k, n, w, n, false), nil
			}
		} else {
			args.PackedA, args.B = fp32.PackA(nil, m, k, w, k, false), x
		}
		args.Scratch = make([]float32, fp32.ScratchSize(&args))
		run = func() { fp32.Sgemm(&args) }
	default:
		args := Args{M: m, N: n, K: k, X: x, XQuant: QuantFor(MinMax(x)), C: c,
			Bias: bias, BiasMode: BiasPerRow, Clamp: true, Lo: 0, Hi: float32(math.Inf(1))}
		if dense {
			args.PackedB, args.BiasMode = PackWeightsB(w, k, n), BiasPerCol
		} else {
			args.PackedA = PackWeightsA(w, m, k)
		}
		switch form {
		case "int8-dyn":
			args.XQuant = Quant{}
		case "int8-codes":
			codes := make([]uint8, len(x))
			QuantizeActivations(codes, x, args.XQuant)
			args.X, args.XCodes = nil, codes
		}
		args.Scratch = make([]byte, ScratchSize(&args))
		run = func() { Gemm(&args) }
	}
	run()
	ops := 2 * float64(m) * float64(n) * float64(k)
	b.ReportAllocs()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu0 := threadCPUTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		run()
	}
	b.StopTimer()
	b.ReportMetric(ops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOPS")
	if cpu := threadCPUTime() - cpu0; cpu > 0 {
		b.ReportMetric(ops*float64(b.N)/cpu/1e9, "cpuGOPS")
	}
}

// BenchmarkGemmGo measures the portable kernel on the first conv shape.
func BenchmarkGemmGo(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	m, k, n := 64, 2560, 584
	x := randFloats(rng, k*n)
	args := Args{M: m, N: n, K: k, PackedA: PackWeightsA(randFloats(rng, m*k), m, k), X: x, XQuant: QuantFor(MinMax(x)), C: make([]float32, m*n)}
	args.Scratch = make([]byte, scratchSize(goKernel, &args))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		gemm(goKernel, &args)
	}
	b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOPS")
}

// BenchmarkQuantize measures QuantizeActivations and MinMax.
func BenchmarkQuantize(b *testing.B) {
	x := randFloats(rand.New(rand.NewPCG(1, 1)), 1<<16)
	dst := make([]uint8, len(x))
	q := QuantFor(MinMax(x))
	b.Run("QuantizeActivations", func(b *testing.B) {
		b.SetBytes(int64(4 * len(x)))
		for i := 0; i < b.N; i++ {
			QuantizeActivations(dst, x, q)
		}
	})
	b.Run("MinMax", func(b *testing.B) {
		b.SetBytes(int64(4 * len(x)))
		for i := 0; i < b.N; i++ {
			MinMax(x)
		}
	})
}
