package approx

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/kagen-ai/kagen/engine"
)

// BenchmarkConvKnobs times the demo-shaped convolutions with each kind of
// knob against exact, per node.
func BenchmarkConvKnobs(b *testing.B) {
	for _, path := range []string{"../models/har.onnx", "../models/kws.onnx", "../bench/testdata/conv1d.onnx", "../bench/testdata/cnn2d.onnx"} {
		a, in := loadModel(b, path)
		m := a.Model()
		for _, n := range a.Nodes() {
			if _, ok := m.Conv(n.Step); !ok {
				continue
			}
			for _, ks := range []string{"fp32", "perf-row:2:0", "samp:2:0"} {
				k, _ := ParseKnob(ks)
				if !slices.Contains(Applicable(m, n.Step), k) {
					continue // not offered on this node
				}
				sel, err := a.Prepare(a.NewConfig().With(n.Step, k))
				if err != nil {
					b.Fatal(err)
				}
				b.Run(strings.ReplaceAll(strings.Trim(n.Name, "/"), "/", "_")+"_"+ks, func(b *testing.B) {
					s := m.NewSession()
					t := make([]int64, m.Steps())
					var total int64
					for b.Loop() {
						s.RunTimed(in, sel, t)
						total += t[n.Step]
					}
					b.ReportMetric(float64(total)/float64(b.N)/1e3, "node-us")
				})
			}
		}
	}
	_ = engine.Float32
}

// rnnSel hands the engine one kernel for one step.
type rnnSel struct {
	step int
	k    engine.Kernel
}

func (s rnnSel) Kernel(step int) engine.Kernel {
	if step == s.step {
		return s.k
	}
	return nil
}

// BenchmarkRNNProjection times a recurrent node (16 steps, 64 inputs,
// batch 1) with its projections in each precision: the input projection
// alone (w) and with the recurrent product (wr). It is the measurement
// behind rnnMinHiddenR.
func BenchmarkRNNProjection(b *testing.B) {
	for _, op := range []string{"LSTM", "GRU"} {
		for _, hidden := range []int{32, 64, 96, 128, 256} {
			m := rnnModel(b, op, 16, 1, 64, hidden, 5)
			x := engine.NewFloat(make([]float32, 16*64), 16, 1, 64)
			for _, c := range []struct {
				name string
				a    engine.RNNApprox
			}{
				{"fp32", engine.RNNApprox{}},
				{"w-fp16", engine.RNNApprox{W: engine.RNNFP16}},
				{"wr-fp16", engine.RNNApprox{W: engine.RNNFP16, R: engine.RNNFP16}},
				{"w-int8", engine.RNNApprox{W: engine.RNNInt8}},
				{"wr-int8", engine.RNNApprox{W: engine.RNNInt8, R: engine.RNNInt8}},
			} {
				k, err := m.RNNApprox(0, c.a)
				if err != nil {
					b.Fatal(err)
				}
				b.Run(fmt.Sprintf("%s_h%d_%s", op, hidden, c.name), func(b *testing.B) {
					s := m.NewSession()
					defer s.Close()
					in := []*engine.Tensor{x}
					for b.Loop() {
						s.RunWith(in, rnnSel{0, k})
					}
				})
			}
		}
	}
}
