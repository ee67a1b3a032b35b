//go:build !purego

package gemm

import "testing"

func BenchmarkKernel6x16(b *testing.B) {
	const kc = 256
	a := make([]float32, 6*kc)
	bb := make([]float32, 16*kc+16)
	bb = alignFloats(bb)
	c := make([]float32, 6*16)
	for i := 0; i < b.N; i++ {
		kernel6x16(kc, &a[0], 0, &bb[0], 16, &c[0], 16, 1, nil, 0, 0)
	}
	b.ReportMetric(2*6*16*kc*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkKernel6x16h measures the micro-kernel reading a half-precision
// B panel (VCVTPH2PS in the loop), to compare with BenchmarkKernel6x16.
func BenchmarkKernel6x16h(b *testing.B) {
	if !hasF16C {
		b.Skip("no F16C")
	}
	const kc = 256
	a := make([]float32, 6*kc)
	bb := alignHalves(make([]uint16, 16*kc+32))
	c := make([]float32, 6*16)
	for i := 0; i < b.N; i++ {
		kernel6x16h(kc, &a[0], 0, &bb[0], 16, &c[0], 16, 1, nil, 0, 0)
	}
	b.ReportMetric(2*6*16*kc*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
