package approx

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/kagen-ai/kagen/engine"
)

// TestApproxThreads runs approximate configurations (fp32, fp16 and int8
// GEMMs, perforation, channel reduction) at 2, 3 and 4 threads: the
// approximate kernels' GEMMs go through the session's pool, with the bits
// of one thread and no allocation per run.
func TestApproxThreads(t *testing.T) {
	const path = "../bench/testdata/conv1d.onnx"
	configs := []string{"*=fp32", "Conv=perf-row:2:0", "Conv=samp:2:1+int8,Gemm=red:0.5+fp16,/features/features.8/Conv=perf-row:2:0+fp16", "*=int8"}
	run := func(threads int, check func(cfg int, s *engine.Session, sel engine.Selector, out []*engine.Tensor)) {
		m, err := engine.LoadFile(path, engine.Options{Threads: threads})
		if err != nil {
			t.Fatal(err)
		}
		a := New(m)
		rng := rand.New(rand.NewPCG(4, 4))
		shape := m.Inputs()[0].Shape
		n := 1
		for _, d := range shape {
			n *= d
		}
		in := []*engine.Tensor{engine.NewFloat(randFloats(rng, n), shape...)}
		s := m.NewSession()
		defer s.Close()
		for i, text := range configs {
			c, err := a.Parse(text)
			if err != nil {
				t.Fatal(err)
			}
			sel, err := a.Prepare(c)
			if err != nil {
				t.Fatal(err)
			}
			out, err := s.RunWith(in, sel)
			if err != nil {
				t.Fatal(err)
			}
			check(i, s, sel, out)
			if threads > 1 && !raceBuild {
				if allocs := testing.AllocsPerRun(5, func() { s.RunWith(in, sel) }); allocs != 0 {
					t.Errorf("threads %d, %s: %v allocations per run", threads, text, allocs)
				}
			}
		}
	}
	want := make([][]float32, len(configs))
	run(1, func(i int, _ *engine.Session, _ engine.Selector, out []*engine.Tensor) {
		want[i] = append([]float32(nil), out[0].F...)
	})
	for _, threads := range []int{2, 3, 4} {
		run(threads, func(i int, _ *engine.Session, _ engine.Selector, out []*engine.Tensor) {
			for j, w := range want[i] {
				if math.Float32bits(out[0].F[j]) != math.Float32bits(w) {
					t.Fatalf("threads %d, %s: element %d is %v, %v at one thread", threads, configs[i], j, out[0].F[j], w)
				}
			}
		})
	}
}
