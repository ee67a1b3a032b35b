package engine

import (
	"math/rand/v2"
	"testing"

	"github.com/kagen-ai/kagen/engine/onnx"
)

// benchElemKernel times a one-node model with its kernel and with the
// reference: go test ./engine -run XXX -bench ElemKernel
func benchElemKernel(b *testing.B, opset int64, op string, shapes [][]int, attrs ...*onnx.Attribute) {
	rng := rand.New(rand.NewPCG(1, 1))
	var in []*Tensor
	for _, s := range shapes {
		in = append(in, NewFloat(randFloats(rng, numel(s)), s...))
	}
	m, err := elemModel(b, opset, op, in, 1, attrs...)
	if err != nil {
		b.Fatal(err)
	}
	for _, ref := range []bool{false, true} {
		name := "kernel"
		var sel Selector
		if ref {
			name, sel = "reference", referenceSelector{m}
		}
		b.Run(name, func(b *testing.B) {
			s := m.NewSession()
			for i := 0; i < b.N; i++ {
				s.RunWith(in, sel)
			}
		})
	}
}

func BenchmarkElemKernelAddBias(b *testing.B) {
	benchElemKernel(b, 14, "Add", [][]int{{128, 768}, {768}})
}

func BenchmarkElemKernelMulChannel(b *testing.B) {
	benchElemKernel(b, 14, "Mul", [][]int{{1, 64, 28, 28}, {64, 1, 1}})
}

func BenchmarkElemKernelSoftmax(b *testing.B) {
	benchElemKernel(b, 13, "Softmax", [][]int{{12, 128, 128}})
}

func BenchmarkElemKernelLayerNorm(b *testing.B) {
	benchElemKernel(b, 17, "LayerNormalization", [][]int{{128, 768}, {768}, {768}})
}

func BenchmarkElemKernelGroupNorm(b *testing.B) {
	benchElemKernel(b, 21, "GroupNormalization", [][]int{{1, 64, 28, 28}, {64}, {64}}, attrInt("num_groups", 8))
}
