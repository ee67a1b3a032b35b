package qgemm_test

import (
	"fmt"

	"github.com/kagen-ai/kagen/engine/qgemm"
)

// A dense layer y = Relu(x*W + b) with int8 weights, packed once, and
// activations quantized dynamically per call.
func Example() {
	const k, n = 4, 3 // inputs, outputs
	w := []float32{   // W[k x n]
		0.5, -1, 0.25,
		1, 0.5, -0.5,
		-0.25, 1, 1,
		0.75, 0, -1,
	}
	packed := qgemm.PackWeightsB(w, k, n) // at model load

	x := []float32{1, 2, -1, 0.5} // a batch of one input row
	y := make([]float32, n)
	args := qgemm.Args{
		M: 1, N: n, K: k,
		PackedB:  packed,
		X:        x, // XQuant zero: dynamic, from MinMax(x)
		C:        y,
		Bias:     []float32{0.1, 0.2, 0.3},
		BiasMode: qgemm.BiasPerCol,
		Clamp:    true, Lo: 0, Hi: 1e30, // fused Relu
	}
	args.Scratch = make([]byte, qgemm.ScratchSize(&args)) // reusable: no allocation per call
	qgemm.Gemm(&args)
	for j, v := range y {
		// Exactly: x*W + b = 3.225, -0.8, -1.95, then Relu.
		fmt.Printf("y[%d] = %.2f\n", j, v)
	}
	// Output:
	// y[0] = 3.23
	// y[1] = 0.00
	// y[2] = 0.00
}

// Quantizing activations by hand: codes in [0, 127] with a zero point.
func ExampleQuantizeActivations() {
	x := []float32{-1, -0.5, 0, 0.25, 1, 100}
	q := qgemm.QuantFor(-1, 1) // the range of x expected from calibration
	codes := make([]uint8, len(x))
	qgemm.QuantizeActivations(codes, x, q)
	fmt.Printf("scale %.5f zero %d codes %v\n", q.Scale, q.Zero, codes)
	// Output:
	// scale 0.01587 zero 64 codes [1 33 64 80 127 127]
}
