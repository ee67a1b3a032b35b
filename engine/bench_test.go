package engine

import (
	"math/rand/v2"
	"path/filepath"
	"testing"
)

// BenchmarkModels times exact inference of the benchmark models, one thread.
func BenchmarkModels(b *testing.B) {
	paths, _ := filepath.Glob("../bench/testdata/*.onnx")
	more, _ := filepath.Glob("../models/*.onnx")
	for _, p := range append(paths, more...) {
		b.Run(filepath.Base(p), func(b *testing.B) {
			m, err := LoadFile(p, Options{})
			if err != nil {
				b.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 1))
			var ins []*Tensor
			for _, vi := range m.Inputs() {
				ins = append(ins, NewFloat(randFloats(rng, numel(vi.Shape)), vi.Shape...))
			}
			s := m.NewSession()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := s.Run(ins); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(m.MACs())*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
		})
	}
}
