//go:build !purego

package gemm

// kernel8x8h is kernel8x8 with a half-precision B micro-panel (row k of 8
// halves at b + k*ldb halves), widened with FCVTL; single-precision
// arithmetic.
//
//go:noescape
func kernel8x8h(kc int, a *float32, b *uint16, ldb int, c *float32, ldc int, flags uint64, bias *float32, lo float32, hi float32)

// kernel1x8h is kernel1x8 with a half-precision B micro-panel.
//
//go:noescape
func kernel1x8h(kc int, a *float32, b *uint16, ldb int, c *float32, ldc int, flags uint64, bias *float32, lo float32, hi float32)

// kernel8x8hh computes an 8x8 tile of C from kc k steps of a half-precision
// packed A micro-panel (8 halves per k step) and a half-precision B
// micro-panel (row k at b + k*ldb halves) with FMLA .8H (FEAT_FP16): the
// products and the sums of each run of up to 32 (halfChunk) consecutive k
// steps are rounded to half precision, then widened and added to
// single-precision accumulators. The epilogue is kernel8x8's.
//
//go:noescape
func kernel8x8hh(kc int, a *uint16, b *uint16, ldb int, c *float32, ldc int, flags uint64, bias *float32, lo float32, hi float32)

// archTileH is kernel.tileH for the NEON kernel.
func archTileH(id kernelID, m, n, kc int, a []float32, lda int, b []uint16, ldb int, c []float32, ldc int, flags uint64, bias []float32, lo, hi float32) {
	if m == 8 && n == 8 {
		var bp *float32
		if flags&(flagRowBias|flagColBias) != 0 {
			bp = &bias[0]
		}
		_ = c[7*ldc+7]
		kernel8x8h(kc, &a[0], &b[0], ldb, &c[0], ldc, flags, bp, lo, hi)
		return
	}
	if m <= 3 {
		// A few rows: one row at a time.
		for i := 0; i < m; i++ {
			rb := bias
			if flags&flagRowBias != 0 {
				rb = bias[i:]
			}
			if n == 8 {
				var bp *float32
				if flags&(flagRowBias|flagColBias) != 0 {
					bp = &rb[0]
				}
				_ = c[i*ldc+7]
				kernel1x8h(kc, &a[i], &b[0], ldb, &c[i*ldc], ldc, flags, bp, lo, hi)
				continue
			}
			var t [8]float32
			kernel1x8h(kc, &a[i], &b[0], ldb, &t[0], 8, 0, nil, 0, 0)
			mergeTile(t[:], 8, 1, n, c[i*ldc:], ldc, flags, rb, lo, hi)
		}
		return
	}
	var t [8 * 8]float32
	kernel8x8h(kc, &a[0], &b[0], ldb, &t[0], 8, 0, nil, 0, 0)
	mergeTile(t[:], 8, m, n, c, ldc, flags, bias, lo, hi)
}

// archTileHH is kernel.tileHH for the NEON FP16 kernel.
func archTileHH(id kernelID, m, n, kc int, a, b []uint16, c []float32, ldc int, flags uint64, bias []float32, lo, hi float32) {
	_ = a[kc*8-1]
	_ = b[kc*8-1]
	if m == 8 && n == 8 {
		var bp *float32
		if flags&(flagRowBias|flagColBias) != 0 {
			bp = &bias[0]
		}
		_ = c[7*ldc+7]
		kernel8x8hh(kc, &a[0], &b[0], 8, &c[0], ldc, flags, bp, lo, hi)
		return
	}
	// Partial tile: A and B are zero-padded packed panels.
	var t [8 * 8]float32
	kernel8x8hh(kc, &a[0], &b[0], 8, &t[0], 8, 0, nil, 0, 0)
	mergeTile(t[:], 8, m, n, c, ldc, flags, bias, lo, hi)
}

// packRowsHalf has no assembly routine on arm64 (B panels are rounded
// through the staging buffer with FCVTN).
func packRowsHalf(kern *kernel, dst []uint16, src []float32, ld, kc int) bool { return false }
