package gemm_test

import (
	"fmt"
	"math"

	"github.com/kagen-ai/kagen/engine/gemm"
)

// A convolution lowered to a matrix product: packed weights W[Cout x K]
// times the im2col matrix X[K x spatial], plus a per-channel bias and a
// fused Relu.
func ExampleSgemm() {
	const cout, k, spatial = 2, 3, 4
	w := []float32{
		1, 0, -1,
		0.5, 0.5, 0.5,
	}
	x := []float32{
		1, 2, 3, 4,
		0, 1, 0, 1,
		2, 2, 2, 2,
	}
	bias := []float32{0.5, -1}

	// At model load: pack the weights once; share them between goroutines.
	packed := gemm.PackA(make([]float32, gemm.PackedASize(cout, k)), cout, k, w, 0, false)

	// Per call: everything preallocated, so Sgemm allocates nothing.
	y := make([]float32, cout*spatial)
	args := gemm.Args{
		M: cout, N: spatial, K: k,
		PackedA: packed,
		B:       x,
		C:       y,
		Bias:    bias, BiasMode: gemm.BiasPerRow,
		Clamp: true, Lo: 0, Hi: float32(math.Inf(1)), // Relu
	}
	args.Scratch = make([]float32, gemm.ScratchSize(&args))
	gemm.Sgemm(&args)

	for i := 0; i < cout; i++ {
		fmt.Println(y[i*spatial : (i+1)*spatial])
	}
	// Output:
	// [0 0.5 1.5 2.5]
	// [0.5 1.5 1.5 2.5]
}
