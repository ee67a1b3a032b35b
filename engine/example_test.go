package engine_test

import (
	"fmt"
	"log"

	"github.com/kagen-ai/kagen/engine"
)

// Example loads a model, runs it and inspects its nodes.
func Example() {
	m, err := engine.LoadFile("../bench/testdata/small.onnx", engine.Options{})
	if err != nil {
		log.Fatal(err)
	}
	in := m.Inputs()[0]
	x := engine.NewFloat(nil, in.Shape...) // zeros
	s := m.NewSession()
	outs, err := s.Run([]*engine.Tensor{x})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(in.Name, in.Shape, "->", outs[0].Shape)
	for _, n := range m.Nodes() {
		fmt.Println(n.Op, n.Shape, n.Fused != "")
	}
	// Output:
	// input [1 3 16 16] -> [1 10]
	// Conv [1 8 16 16] true
	// Conv [1 8 8 8] true
	// Flatten [1 512] false
	// Gemm [1 10] false
}
