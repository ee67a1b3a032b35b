package engine

import "testing"

// BenchmarkIm2colPackB times the direct im2col packing of the keyword
// CNN's second convolution (64x82x11 input, 10x4 kernel) per float packed.
func BenchmarkIm2colPackB(b *testing.B) {
	w := &window{nd: 2, batch: 1, c: 64, ih: 82, iw: 11, oh: 73, ow: 8, kh: 10, kw: 4, sh: 1, sw: 1, dh: 1, dw: 1}
	pos, kbase := gatherTables(w, 64)
	x := make([]float32, 64*82*11)
	s := &im2colSource{x: x, pos: pos, kbase: kbase, runs: panelRuns(pos)}
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
	w := &window{nd: 2, batch: 1, c: 64, ih: 82, iw: 11, oh: 73, ow: 8, kh: 10, kw: 4, sh: 1, sw: 1, dh: 1, dw: 1}
	pos, kbase := gatherTables(w, 64)
	x := make([]float32, 64*82*11)
	s := &im2colSource{x: x, pos: pos, kbase: kbase} // no runs: the gather path
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
