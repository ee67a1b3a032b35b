package engine

import (
	"math/rand/v2"
	"testing"

	"github.com/kagen-ai/kagen/engine/onnx"
)

// BenchmarkUnaryFast times element-wise nodes with the fast kernel and
// with the float64 reference ("ref"), interleaved in one process, on the
// shapes of real models: EfficientNet-B0's first Sigmoid (the SiLU after
// the stem, [1,32,112,112]), MobileNetV3-small's HardSigmoid and
// HardSwish, and a transformer's Gelu. It reports ns per element.
func BenchmarkUnaryFast(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := []struct {
		name  string
		op    string
		shape []int
		attrs []*onnx.Attribute
	}{
		{"Sigmoid_effnet", "Sigmoid", []int{1, 32, 112, 112}, nil},
		{"Tanh", "Tanh", []int{1, 32, 112, 112}, nil},
		{"HardSigmoid_mnv3", "HardSigmoid", []int{1, 16, 56, 56}, []*onnx.Attribute{attrFloat("alpha", 1.0/6)}},
		{"HardSwish_mnv3", "HardSwish", []int{1, 16, 112, 112}, nil},
		{"Gelu", "Gelu", []int{1, 128, 1024}, nil},
		{"Exp", "Exp", []int{1, 128, 1024}, nil},
	}
	for _, c := range cases {
		n := numel(c.shape)
		in := []*Tensor{NewFloat(unaryFastInputs(rng, n), c.shape...)}
		for i := range in[0].F {
			in[0].F[i] = float32(rng.NormFloat64() * 3)
		}
		m, err := elemModel(b, 20, c.op, in, 1, c.attrs...)
		if err != nil {
			b.Fatal(err)
		}
		fast, ref := m.NewSession(), m.NewSession()
		b.Run(c.name+"/fast", func(b *testing.B) {
			for b.Loop() {
				fast.Run(in)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/elem")
		})
		b.Run(c.name+"/ref", func(b *testing.B) {
			for b.Loop() {
				ref.RunWith(in, referenceSelector{m})
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/elem")
		})
	}
}
