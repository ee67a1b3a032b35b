package vmath

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// BenchmarkFuncs times each function per element three ways, interleaved
// in one process: the exported (vectorised) path, the portable scalar Go
// path, and the float64 math loop the engine ran before ("float64").
// Lengths: 4096 (in L1) and 1<<20 (4 MiB, memory).
func BenchmarkFuncs(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, f := range fns {
		for _, n := range []int{4096, 1 << 20} {
			src, dst := make([]float32, n), make([]float32, n)
			for i := range src {
				src[i] = float32(rng.NormFloat64() * 4)
				if f.name == "Log" {
					src[i] = float32(math.Abs(float64(src[i])))
				}
			}
			ref := f.ref
			paths := []struct {
				name string
				run  func()
			}{
				{"vmath", func() { f.slice(dst, src) }},
				{"scalar", func() {
					for i, x := range src {
						dst[i] = f.scalar(x)
					}
				}},
				{"float64", func() {
					for i, x := range src {
						dst[i] = float32(ref(float64(x)))
					}
				}},
			}
			for _, p := range paths {
				b.Run(fmt.Sprintf("%s/%s/n=%d", f.name, p.name, n), func(b *testing.B) {
					for b.Loop() {
						p.run()
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/elem")
				})
			}
		}
	}
}
