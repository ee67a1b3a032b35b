//go:build !purego

package gemm

import "golang.org/x/sys/cpu"

var neonKernel = &kernel{name: "neon-8x8", id: kernelNEON, mr: 8, nr: 8, mc: 128, kc: 256, nc: 2048,
	halfB: true, halfMath: cpu.ARM64.HasFPHP && cpu.ARM64.HasASIMDHP}

// kernel8x8 computes an 8x8 tile of C = A*B from kc k steps, then applies
// the epilogue selected by flags (see the flag* constants). A is a packed
// micro-panel (8 floats per k step); row k of B starts at b + k*ldb.
//
//go:noescape
func kernel8x8(kc int, a *float32, b *float32, ldb int, c *float32, ldc int, flags uint64, bias *float32, lo float32, hi float32)

// kernel1x8 computes one row of an 8-column tile from kc k steps of row 0
// of a packed 8-row A micro-panel (a[8*k]), then applies the epilogue
// selected by flags like kernel8x8. It serves tiles of a few rows, which
// kernel8x8 would compute with mostly zero rows.
//
//go:noescape
func kernel1x8(kc int, a *float32, b *float32, ldb int, c *float32, ldc int, flags uint64, bias *float32, lo float32, hi float32)

// archKernels returns the assembly kernels this CPU supports, best first.
// Advanced SIMD is part of every ARMv8-A CPU Go runs on.
func archKernels() []*kernel {
	if cpu.ARM64.HasASIMD {
		return []*kernel{neonKernel}
	}
	return nil
}

// archTile is kernel.tile for the assembly kernels.
func archTile(id kernelID, m, n, kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, flags uint64, bias []float32, lo, hi float32) {
	if m == 8 && n == 8 {
		var bp *float32
		if flags&(flagRowBias|flagColBias) != 0 {
			bp = &bias[0]
		}
		_ = c[7*ldc+7]
		kernel8x8(kc, &a[0], &b[0], ldb, &c[0], ldc, flags, bp, lo, hi)
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
				kernel1x8(kc, &a[i], &b[0], ldb, &c[i*ldc], ldc, flags, bp, lo, hi)
				continue
			}
			var t [8]float32
			kernel1x8(kc, &a[i], &b[0], ldb, &t[0], 8, 0, nil, 0, 0)
			mergeTile(t[:], 8, 1, n, c[i*ldc:], ldc, flags, rb, lo, hi)
		}
		return
	}
	// Partial tile: compute the whole tile into t (A and B are zero-padded
	// packed panels), then store the valid part.
	var t [8 * 8]float32
	kernel8x8(kc, &a[0], &b[0], ldb, &t[0], 8, 0, nil, 0, 0)
	mergeTile(t[:], 8, m, n, c, ldc, flags, bias, lo, hi)
}

// packRows has no assembly routine on arm64.
func packRows(kern *kernel, dst, src []float32, ld, kc int) bool { return false }

// gemv4 adds x0*B[0,j] + x1*B[1,j] + x2*B[2,j] + x3*B[3,j] to y[j] for
// j < n (a positive multiple of 8), row r of B starting at b[r*ldb].
//
//go:noescape
func gemv4(n int, b *float32, ldb int, y *float32, x0 float32, x1 float32, x2 float32, x3 float32)

// hasGemv4 reports whether kern has the gemv4 routine for single-row
// products with a row-major B.
func hasGemv4(kern *kernel) bool { return kern.id == kernelNEON }

// callGemv4 runs gemv4 on n (a positive multiple of 8) columns; b holds the
// four rows, starting at b[0], b[ldb], b[2*ldb] and b[3*ldb].
func callGemv4(n int, b []float32, ldb int, y []float32, x0, x1, x2, x3 float32) {
	_ = b[3*ldb+n-1]
	_ = y[n-1]
	gemv4(n, &b[0], ldb, &y[0], x0, x1, x2, x3)
}

// archTileRows is never called: no arm64 kernel has row tables.
func archTileRows(id kernelID, m, n, kc int, a, b []float32, rows []int32, c []float32, ldc int, flags uint64, bias []float32, lo, hi float32) {
	panic("gemm: no row-table kernels on arm64")
}
