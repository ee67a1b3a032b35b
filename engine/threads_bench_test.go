package engine

import (
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// BenchmarkThreadsPaired measures what a second thread buys on the models
// named by KAGEN_PAIR_MODELS (comma-separated .onnx paths): one session at
// one thread and one at two run alternately, run by run, and the median of
// the per-pair ratios is reported (t1/t2, higher is better), with the
// medians of each. Pairing run by run keeps the ratio meaningful on a
// machine whose load changes from one second to the next.
func BenchmarkThreadsPaired(b *testing.B) {
	env := os.Getenv("KAGEN_PAIR_MODELS")
	if env == "" {
		b.Skip("KAGEN_PAIR_MODELS not set")
	}
	for _, path := range strings.Split(env, ",") {
		name := path[strings.LastIndexByte(path, '/')+1:]
		b.Run(name, func(b *testing.B) {
			load := func(threads int) *Session {
				f, err := os.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				defer f.Close()
				m, err := Load(f, Options{Threads: threads})
				if err != nil {
					b.Fatal(err)
				}
				return m.NewSession()
			}
			s1, s2 := load(1), load(2)
			defer s2.Close()
			rng := rand.New(rand.NewPCG(1, 1))
			var ins []*Tensor
			for _, vi := range s1.Model().Inputs() {
				ins = append(ins, NewFloat(randFloats(rng, numel(vi.Shape)), vi.Shape...))
			}
			timeRun := func(s *Session) float64 {
				t0 := time.Now()
				if _, err := s.Run(ins); err != nil {
					b.Fatal(err)
				}
				return float64(time.Since(t0).Microseconds())
			}
			timeRun(s1)
			timeRun(s2)
			var r, t1s, t2s []float64
			for i := 0; b.Loop(); i++ {
				var t1, t2 float64
				if i%2 == 0 {
					t1, t2 = timeRun(s1), timeRun(s2)
				} else {
					t2, t1 = timeRun(s2), timeRun(s1)
				}
				r, t1s, t2s = append(r, t1/t2), append(t1s, t1), append(t2s, t2)
			}
			b.ReportMetric(median(r), "t1/t2")
			b.ReportMetric(median(t1s), "t1-µs")
			b.ReportMetric(median(t2s), "t2-µs")
		})
	}
}

func median(v []float64) float64 {
	v = slices.Clone(v)
	slices.Sort(v)
	return v[len(v)/2]
}
