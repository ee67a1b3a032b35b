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
