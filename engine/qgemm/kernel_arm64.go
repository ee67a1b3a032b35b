//go:build !purego

package qgemm

import "golang.org/x/sys/cpu"

// flagDense tells the arm64 kernels that the channel is the column (their
// multiply loop is the same for both families).
const flagDense = 32

var (
	sdotKernel  = &kernel{name: "neon-sdot-4x16", id: kernelSDOT, mr: 4}
	smlalKernel = &kernel{name: "neon-smlal-2x16", id: kernelSMLAL, mr: 2}
)

// archKernels returns the assembly kernels this CPU supports, best first:
// SDOT needs the dot product extension (FEAT_DotProd); Advanced SIMD is
// part of every ARMv8-A CPU Go runs on.
func archKernels() []*kernel {
	var ks []*kernel
	if cpu.ARM64.HasASIMDDP {
		ks = append(ks, sdotKernel)
	}
	if cpu.ARM64.HasASIMD {
		ks = append(ks, smlalKernel)
	}
	return ks
}

//go:noescape
func sdotKernel4x16(kg int, a *uint8, lda int, b *uint8, c *float32, ldc int, wsum *int32, wscale *float32, bias *float32, zp int32, xscale float32, lo float32, hi float32, flags uint64)

//go:noescape
func sdotKernel1x16(kg int, a *uint8, lda int, b *uint8, c *float32, ldc int, wsum *int32, wscale *float32, bias *float32, zp int32, xscale float32, lo float32, hi float32, flags uint64)

//go:noescape
func smlalKernel2x16(kg int, a *uint8, lda int, b *uint8, c *float32, ldc int, wsum *int32, wscale *float32, bias *float32, zp int32, xscale float32, lo float32, hi float32, flags uint64)

//go:noescape
func smlalKernel1x16(kg int, a *uint8, lda int, b *uint8, c *float32, ldc int, wsum *int32, wscale *float32, bias *float32, zp int32, xscale float32, lo float32, hi float32, flags uint64)

// archTile runs the assembly kernel for an m x 16 tile with the given
// flags (flagRaw: store int32 accumulators to c, ignoring e). The caller
// has checked the bounds. A tile of fewer rows than the kernel's runs the
// one-row kernel on each row.
func archTile(id kernelID, dense bool, m, kg int, a []byte, lda int, b []byte, c []float32, ldc int, e *epi, flags uint64) {
	if dense {
		flags |= flagDense
	}
	full := (id == kernelSDOT && m == 4) || (id == kernelSMLAL && m == 2)
	rows := 1
	if full {
		rows = m
	}
	for i := 0; i < m; i += rows {
		var wsum *int32
		var wscale, bias *float32
		if flags&flagRaw == 0 {
			ch := i // per-row terms start at the row; per-column ones do not move
			if dense {
				ch = 0
			}
			wsum, wscale = &e.wsum[ch], &e.wscale[ch]
			switch {
			case flags&flagRowBias != 0:
				bias = &e.bias[i]
			case flags&flagColBias != 0:
				bias = &e.bias[0]
			}
		}
		ap, bp, cp := &a[i*lda], &b[0], &c[i*ldc]
		switch {
		case full && id == kernelSDOT:
			sdotKernel4x16(kg, ap, lda, bp, cp, ldc, wsum, wscale, bias, e.zp, e.xscale, e.lo, e.hi, flags)
		case full:
			smlalKernel2x16(kg, ap, lda, bp, cp, ldc, wsum, wscale, bias, e.zp, e.xscale, e.lo, e.hi, flags)
		case id == kernelSDOT:
			sdotKernel1x16(kg, ap, lda, bp, cp, ldc, wsum, wscale, bias, e.zp, e.xscale, e.lo, e.hi, flags)
		default:
			smlalKernel1x16(kg, ap, lda, bp, cp, ldc, wsum, wscale, bias, e.zp, e.xscale, e.lo, e.hi, flags)
		}
	}
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

//go:noescape
func quantBlockNEON(kg int, np int, src *float32, ldx int, dst *uint8, pstride int, inv float32, lo float32, hi float32, zp int32)

//go:noescape
func quantRowNEON(n int, src *float32, dst *uint8, inv float32, lo float32, hi float32, zp int32)

// quantizeRow stores the codes of src into dst (same length): NEON for
// multiples of 16.
func quantizeRow(dst []uint8, src []float32, inv, lo, hi float32, zp int32) {
	n := len(src) &^ 15
	if n > 0 {
		_ = dst[n-1]
		quantRowNEON(n, &src[0], &dst[0], inv, lo, hi, zp)
	}
	quantizeRowGo(dst[n:], src[n:], inv, lo, hi, zp)
}

// packBlock quantizes columns [j0, j0+ncols) of the K x N float matrix x
// into B panels at dst (see packBlockGo): whole groups of whole panels
// with NEON, the rest in Go.
func packBlock(kern *kernel, dst []byte, x []float32, ldx, k, j0, ncols int, inv, lo, hi float32, zp int32) {
	if kern.id == kernelGo {
		packBlockGo(dst, x, ldx, k, j0, ncols, inv, lo, hi, zp)
		return
	}
	ps := ceilDiv(k, group) * 64
	full, nf := k/group, ncols/nr
	if full > 0 && nf > 0 {
		_ = x[(full*group-1)*ldx+j0+nf*nr-1]
		_ = dst[(nf-1)*ps+full*64-1]
		quantBlockNEON(full, nf, &x[j0], ldx, &dst[0], ps, inv, lo, hi, zp)
		if full*group < k {
			for p := 0; p < nf; p++ {
				packPanelGo(dst[p*ps:(p+1)*ps], x, ldx, k, j0+p*nr, nr, full, inv, lo, hi, zp)
			}
		}
	} else {
		nf = 0
	}
	for p := nf; p*nr < ncols; p++ {
		packPanelGo(dst[p*ps:(p+1)*ps], x, ldx, k, j0+p*nr, min(nr, ncols-p*nr), 0, inv, lo, hi, zp)
	}
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
