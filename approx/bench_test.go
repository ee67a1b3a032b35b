package approx

import (
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
