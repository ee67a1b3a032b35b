//go:build purego || !(amd64 || arm64)

package gemm

// archKernels returns no assembly kernels: only the Go kernel is used.
func archKernels() []*kernel { return nil }

// archTile is never called without assembly kernels.
func archTile(id kernelID, m, n, kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, flags uint64, bias []float32, lo, hi float32) {
	panic("gemm: no assembly kernels in this build")
}

// packRows has no assembly routine to use.
func packRows(kern *kernel, dst, src []float32, ld, kc int) bool { return false }

// hasGemv4 reports that there is no gemv4 routine.
func hasGemv4(kern *kernel) bool { return false }

// callGemv4 is never called without gemv4.
func callGemv4(n int, b []float32, ldb int, y []float32, x0, x1, x2, x3 float32) {
	panic("gemm: no gemv4 in this build")
}

// archTileH is never called without assembly kernels.
func archTileH(id kernelID, m, n, kc int, a []float32, lda int, b []uint16, ldb int, c []float32, ldc int, flags uint64, bias []float32, lo, hi float32) {
	panic("gemm: no assembly kernels in this build")
}

// archTileHH is never called without assembly kernels.
func archTileHH(id kernelID, m, n, kc int, a, b []uint16, c []float32, ldc int, flags uint64, bias []float32, lo, hi float32) {
	panic("gemm: no assembly kernels in this build")
}

// packRowsHalf has no assembly routine to use.
func packRowsHalf(kern *kernel, dst []uint16, src []float32, ld, kc int) bool { return false }

// archTileRows is never called: no kernel here has row tables.
func archTileRows(id kernelID, m, n, kc int, a, b []float32, rows []int32, c []float32, ldc int, flags uint64, bias []float32, lo, hi float32) {
	panic("gemm: no row-table kernels in this build")
}
