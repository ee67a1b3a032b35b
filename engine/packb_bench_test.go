package engine

import "testing"

// BenchmarkIm2colPackB times the direct im2col packing of the keyword
// CNN's second convolution (64x82x11 input, 10x4 kernel) per float packed.
func BenchmarkIm2colPackB(b *testing.B) {
	cs := &ConvSpec{Batch: 1, C: 64, H: 82, W: 11, M: 64, OH: 73, OW: 8, KH: 10, KW: 4, SH: 1, SW: 1, DH: 1, DW: 1, Group: 1}
	g := NewIm2col(cs, nil, nil, nil)
	x := make([]float32, 64*82*11)
	s := &im2colSource{x: x, pos: g.pos, kbase: g.kbase, runs: g.runs}
	kbase := g.kbase
	const kc = 256
	n := 73 * 8
	dst := make([]float32, kc*((n+15)/16*16))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for k0 := 0; k0 < len(kbase); k0 += kc {
			s.PackB(dst, k0, min(kc, len(kbase)-k0), 0, n, 16)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(kbase)*n), "ns/float")
}

func BenchmarkIm2colGather(b *testing.B) {
	cs := &ConvSpec{Batch: 1, C: 64, H: 82, W: 11, M: 64, OH: 73, OW: 8, KH: 10, KW: 4, SH: 1, SW: 1, DH: 1, DW: 1, Group: 1}
	g := NewIm2col(cs, nil, nil, nil)
	x := make([]float32, 64*82*11)
	s := &im2colSource{x: x, pos: g.pos, kbase: g.kbase} // no runs: the gather path
	kbase := g.kbase
	const kc = 256
	n := 73 * 8
	dst := make([]float32, kc*((n+15)/16*16))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for k0 := 0; k0 < len(kbase); k0 += kc {
			s.PackB(dst, k0, min(kc, len(kbase)-k0), 0, n, 16)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(kbase)*n), "ns/float")
}
