package engine

import (
	"os"
	"path/filepath"
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

// TestZooFusionMatchesUnfused runs every zoo model in KAGEN_ZOO with float
// inputs loaded with and without the fusion passes and compares the
// outputs: the patterns as exporters really write them.
func TestZooFusionMatchesUnfused(t *testing.T) {
	dir := os.Getenv("KAGEN_ZOO")
	if dir == "" {
		t.Skip("KAGEN_ZOO not set")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.onnx"))
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			fused, err := LoadBytes(data, Options{})
			if err != nil {
				t.Skip(err)
			}
			for _, v := range fused.Inputs() {
				if v.DType != Float32 {
					t.Skip("input", v.Name, v.DType)
				}
			}
			saved := pipeline
			pipeline = nil
			for _, p := range saved {
				if p.name != "fuse-elementwise" && p.name != "fuse-activation" {
					pipeline = append(pipeline, p)
				}
			}
			plain, err := LoadBytes(data, Options{})
			pipeline = saved
			if err != nil {
				t.Fatal(err)
			}
			in := benchInputs(fused)
			got, err := fused.NewSession().Run(in)
			if err != nil {
				t.Fatal(err)
			}
			want, err := plain.NewSession().Run(in)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d steps fused, %d unfused", len(fused.steps), len(plain.steps))
			for i := range want {
				sameFloatsNaN(t, want[i].String(), got[i].F, want[i].F, 1e-4)
			}
		})
	}
}
