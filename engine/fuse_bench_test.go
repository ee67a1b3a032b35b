package engine

import (
	"os"
	"testing"
)

// BenchmarkZooFusion runs zoo models loaded with and without the fusion
// passes, interleaved (go test -bench ZooFusion -count N): the same
// kernels otherwise, so the difference is what fusing saves. cpu-ms/op,
// the process's CPU time per run, is steadier than wall time when other
// processes share the cores. The models
// are read from KAGEN_ZOO (bench/.cache/zoo); missing ones are skipped.
func BenchmarkZooFusion(b *testing.B) {
	dir := os.Getenv("KAGEN_ZOO")
	if dir == "" {
		b.Skip("KAGEN_ZOO not set")
	}
	for _, name := range []string{"efficientnet_b0", "mobilenet_v3_small", "densenet121"} {
		data, err := os.ReadFile(dir + "/" + name + ".onnx")
		if err != nil {
			b.Skip(err)
		}
		for _, fused := range []bool{true, false} {
			mode := "fused"
			if !fused {
				mode = "unfused"
			}
			b.Run(name+"/"+mode, func(b *testing.B) {
				saved := pipeline
				defer func() { pipeline = saved }()
				if !fused {
					pipeline = nil
					for _, p := range saved {
						if p.name != "fuse-elementwise" && p.name != "fuse-activation" {
							pipeline = append(pipeline, p)
						}
					}
				}
				m, err := LoadBytes(data, Options{})
				if err != nil {
					b.Fatal(err)
				}
				s := m.NewSession()
				in := benchInputs(m)
				if _, err := s.Run(in); err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				cpu := processCPUTime()
				for i := 0; i < b.N; i++ {
					s.Run(in)
				}
				if cpu > 0 {
					b.ReportMetric((processCPUTime()-cpu)*1e3/float64(b.N), "cpu-ms/op")
				}
			})
		}
	}
}

// benchInputs returns float inputs of m's shapes with small varied values.
func benchInputs(m *Model) []*Tensor {
	var in []*Tensor
	for _, v := range m.Inputs() {
		t := NewFloat(make([]float32, numel(v.Shape)), v.Shape...)
		for i := range t.F {
			t.F[i] = float32(i%17)/8 - 1
		}
		in = append(in, t)
	}
	return in
}
