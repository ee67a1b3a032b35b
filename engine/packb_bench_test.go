package engine

import "testing"

// packBenchConvs are the keyword CNN's two convolutions.
var packBenchConvs = []struct {
	name string
	cs   ConvSpec
}{
	{"conv1-20x8", ConvSpec{Batch: 1, C: 1, H: 101, W: 40, M: 64, OH: 82, OW: 33, KH: 20, KW: 8, SH: 1, SW: 1, DH: 1, DW: 1, Group: 1}},
	{"conv2-10x4", ConvSpec{Batch: 1, C: 64, H: 82, W: 11, M: 64, OH: 73, OW: 8, KH: 10, KW: 4, SH: 1, SW: 1, DH: 1, DW: 1, Group: 1}},
}

// BenchmarkIm2colPackB times the im2col packing of the keyword CNN's
// convolutions into 16-wide GEMM panels, per float packed: with the
// panels' move plans, and element by element (gather).
func BenchmarkIm2colPackB(b *testing.B) {
	for _, c := range packBenchConvs {
		for _, mode := range []string{"moves", "gather"} {
			b.Run(c.name+"/"+mode, func(b *testing.B) {
				g := NewIm2col(&c.cs, nil, nil, nil)
				x := make([]float32, c.cs.C*c.cs.H*c.cs.W)
				s := &im2colSource{x: x, pos: g.pos, kbase: g.kbase, plans: g.plans, need: g.need}
				if mode == "gather" {
					s.plans = nil
				}
				const kc = 256
				n := len(g.pos)
				dst := make([]float32, kc*((n+15)/16*16))
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					for k0 := 0; k0 < len(g.kbase); k0 += kc {
						s.PackB(dst, k0, min(kc, len(g.kbase)-k0), 0, n, 16)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(g.kbase)*n), "ns/float")
			})
		}
	}
}
