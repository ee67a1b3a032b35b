//go:build purego || !(amd64 || arm64)

package qgemm

// archKernels returns no assembly kernels: only the Go kernel is used.
func archKernels() []*kernel { return nil }

// archTile is never called without assembly kernels.
func archTile(id kernelID, dense bool, m, kg int, a []byte, lda int, b []byte, c []float32, ldc int, e *epi, flags uint64) {
	panic("qgemm: no assembly kernels in this build")
}

// gemvRows stores to acc[j], j < n, the dot products of the codes
// x[:32*k32] with the weight rows w[j*ldw:] (see gemvRowsGo).
func gemvRows(kern *kernel, n, k32 int, x, w []byte, ldw int, acc *[gemvMax]int32) {
	gemvRowsGo(n, k32, x, w, ldw, acc)
}

// hasTiles reports whether kern runs several row tiles per call.
func hasTiles(kern *kernel) bool { return false }

// callTiles is never called (hasTiles is false).
func callTiles(kern *kernel, dense bool, count, kg int, a []byte, lda int, b []byte, c []float32, ldc int, e *epi) {
	panic("qgemm: no multi-tile kernels in this build")
}

// quantizeRow stores the codes of src into dst (same length).
func quantizeRow(dst []uint8, src []float32, inv, lo, hi float32, zp int32) {
	quantizeRowGo(dst, src, inv, lo, hi, zp)
}

// packBlock quantizes columns [j0, j0+ncols) of the K x N float matrix x
// into B panels at dst (see packBlockGo).
func packBlock(kern *kernel, dst []byte, x []float32, ldx, k, j0, ncols int, inv, lo, hi float32, zp int32) {
	packBlockGo(dst, x, ldx, k, j0, ncols, inv, lo, hi, zp)
}

// packBlockCodes packs columns [j0, j0+ncols) of the K x N code matrix x
// into B panels at dst.
func packBlockCodes(kern *kernel, dst []byte, x []uint8, ldx, k, j0, ncols int) {
	packBlockCodesGo(dst, x, ldx, k, j0, ncols)
}

// absMaxBulk is AbsMax over len(src), a multiple of 8.
func absMaxBulk(src []float32) float32 { return absMaxGo(src) }

// minMaxBulk is MinMax over len(src), a multiple of 8.
func minMaxBulk(src []float32) (lo, hi float32) { return minMaxGo(src) }
