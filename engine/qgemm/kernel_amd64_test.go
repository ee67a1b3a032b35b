//go:build !purego

package qgemm

import (
	"runtime"
	"testing"
)

// BenchmarkKernel measures the 5x16 micro-kernels alone on cache-resident
// data (kg = 640 groups, K = 2560).
func BenchmarkKernel(b *testing.B) {
	const kg = 640
	a := alignedBytes(5 * 4 * kg)
	p := alignedBytes(64 * kg)
	c := make([]float32, 5*16)
	ws := make([]int32, 16)
	sc := make([]float32, 16)
	for _, dense := range []bool{false, true} {
		name := "conv5x16"
		if dense {
			name = "dense5x16"
		}
		b.Run(name, func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			cpu0 := threadCPUTime()
			for i := 0; i < b.N; i++ {
				if dense {
					denseKernel5x16(1, kg, &a[0], 4*kg, &p[0], &c[0], 16, &ws[0], &sc[0], nil, 0, 1, 0, 0, 0, &p[0], 0)
				} else {
					convKernel5x16(1, kg, &a[0], 4*kg, &p[0], &c[0], 16, &ws[0], &sc[0], nil, 0, 1, 0, 0, 0, &p[0], 0)
				}
			}
			ops := 2 * 5 * 16 * 4 * kg * float64(b.N)
			b.ReportMetric(ops/b.Elapsed().Seconds()/1e9, "GOPS")
			if cpu := threadCPUTime() - cpu0; cpu > 0 {
				b.ReportMetric(ops/cpu/1e9, "cpuGOPS")
			}
		})
	}
}
