//go:build !purego

package qgemm

import "golang.org/x/sys/cpu"

var avx2Kernel = &kernel{name: "avx2-u8s8-5x16", id: kernelAVX2, mr: 5, rowsB: true}

// vnniKernel computes 12x16 tiles with AVX-512 VNNI's VPDPBUSD; it shares
// the AVX2 kernel's packed layouts, quantizers and dot-product routines
// (tools/asm/qgemm512_amd64).
var vnniKernel = &kernel{name: "avx512-vnni-12x16", id: kernelVNNI, mr: 12, rowsB: true}

// archKernels returns the assembly kernels this CPU supports, best first.
func archKernels() []*kernel {
	var ks []*kernel
	if cpu.X86.HasAVX512F && cpu.X86.HasAVX512VNNI && cpu.X86.HasAVX2 {
		ks = append(ks, vnniKernel)
	}
	if cpu.X86.HasAVX2 {
		ks = append(ks, avx2Kernel)
	}
	return ks
}

// x86Kernel reports whether kern is one of the amd64 assembly kernels,
// which share packed layouts and run where AVX2 does.
func x86Kernel(kern *kernel) bool { return kern.id == kernelAVX2 || kern.id == kernelVNNI }

// archTile runs the assembly kernel for an m x 16 tile with the given
// flags (flagRaw: store int32 accumulators to c, ignoring e). The caller
// has checked the bounds.
func archTile(id kernelID, dense bool, m, kg int, a []byte, lda int, b []byte, c []float32, ldc int, e *epi, flags uint64) {
	var wsum *int32
	var wscale, bias *float32
	if flags&flagRaw == 0 {
		wsum, wscale = &e.wsum[0], &e.wscale[0]
		if flags&(flagRowBias|flagColBias) != 0 {
			bias = &e.bias[0]
		}
	}
	archTiles(id, dense, m, 1, kg, a, lda, b, c, ldc, wsum, wscale, bias, e, flags)
}

// archTiles runs count tiles of m rows with the m-row kernel; the per-row
// terms and bias pointers are those of the first.
func archTiles(id kernelID, dense bool, m, count, kg int, a []byte, lda int, b []byte, c []float32, ldc int, wsum *int32, wscale, bias *float32, e *epi, flags uint64) {
	pf := &b[0]
	if e.pf != nil {
		pf = e.pf
	}
	// Direct calls, so that escape analysis sees the noescape pragmas.
	ap, bp, cp, zp, xs, lo, hi := &a[0], &b[0], &c[0], e.zp, e.xscale, e.lo, e.hi
	if id == kernelVNNI {
		vnniTiles(dense, m, count, kg, ap, lda, bp, cp, ldc, wsum, wscale, bias, zp, xs, lo, hi, flags, pf, e.pfstride)
		return
	}
	if dense {
		switch m {
		case 5:
			denseKernel5x16(count, kg, ap, lda, bp, cp, ldc, wsum, wscale, bias, zp, xs, lo, hi, flags, pf, e.pfstride)
		case 4:
			denseKernel4x16(count, kg, ap, lda, bp, cp, ldc, wsum, wscale, bias, zp, xs, lo, hi, flags, pf, e.pfstride)
		case 3:
			denseKernel3x16(count, kg, ap, lda, bp, cp, ldc, wsum, wscale, bias, zp, xs, lo, hi, flags, pf, e.pfstride)
		case 2:
			denseKernel2x16(count, kg, ap, lda, bp, cp, ldc, wsum, wscale, bias, zp, xs, lo, hi, flags, pf, e.pfstride)
		case 1:
			denseKernel1x16(count, kg, ap, lda, bp, cp, ldc, wsum, wscale, bias, zp, xs, lo, hi, flags, pf, e.pfstride)
		}
		return
	}
	switch m {
	case 5:
		convKernel5x16(count, kg, ap, lda, bp, cp, ldc, wsum, wscale, bias, zp, xs, lo, hi, flags, pf, e.pfstride)
	case 4:
		convKernel4x16(count, kg, ap, lda, bp, cp, ldc, wsum, wscale, bias, zp, xs, lo, hi, flags, pf, e.pfstride)
	case 3:
		convKernel3x16(count, kg, ap, lda, bp, cp, ldc, wsum, wscale, bias, zp, xs, lo, hi, flags, pf, e.pfstride)
	case 2:
		convKernel2x16(count, kg, ap, lda, bp, cp, ldc, wsum, wscale, bias, zp, xs, lo, hi, flags, pf, e.pfstride)
	case 1:
		convKernel1x16(count, kg, ap, lda, bp, cp, ldc, wsum, wscale, bias, zp, xs, lo, hi, flags, pf, e.pfstride)
	}
}

// gemvRows stores to acc[j], j < n, the dot products of the codes
// x[:32*k32] with the weight rows w[j*ldw:] (see gemvRowsGo).
func gemvRows(kern *kernel, n, k32 int, x, w []byte, ldw int, acc *[gemvMax]int32) {
	if !x86Kernel(kern) || k32 == 0 {
		gemvRowsGo(n, k32, x, w, ldw, acc)
		return
	}
	_ = x[32*k32-1]
	_ = w[(n-1)*ldw+32*k32-1]
	xp, wp, o := &x[0], &w[0], &acc[0]
	switch n {
	case 1:
		gemvRows1(k32, xp, wp, ldw, o)
	case 2:
		gemvRows2(k32, xp, wp, ldw, o)
	case 3:
		gemvRows3(k32, xp, wp, ldw, o)
	case 4:
		gemvRows4(k32, xp, wp, ldw, o)
	case 5:
		gemvRows5(k32, xp, wp, ldw, o)
	case 6:
		gemvRows6(k32, xp, wp, ldw, o)
	case 7:
		gemvRows7(k32, xp, wp, ldw, o)
	case 8:
		gemvRows8(k32, xp, wp, ldw, o)
	case 9:
		gemvRows9(k32, xp, wp, ldw, o)
	case 10:
		gemvRows10(k32, xp, wp, ldw, o)
	case 11:
		gemvRows11(k32, xp, wp, ldw, o)
	case 12:
		gemvRows12(k32, xp, wp, ldw, o)
	}
}

// hasTiles reports whether kern runs several row tiles per call.
func hasTiles(kern *kernel) bool { return x86Kernel(kern) }

// callTiles runs count full tiles of kern.mr x 16 (see kernel.tiles).
func callTiles(kern *kernel, dense bool, count, kg int, a []byte, lda int, b []byte, c []float32, ldc int, e *epi) {
	var wsum *int32
	var wscale, bias *float32
	if e.flags&flagRaw == 0 {
		wsum, wscale = &e.wsum[0], &e.wscale[0]
		if e.flags&(flagRowBias|flagColBias) != 0 {
			bias = &e.bias[0]
		}
	}
	archTiles(kern.id, dense, kern.mr, count, kg, a, lda, b, c, ldc, wsum, wscale, bias, e, e.flags)
}

// quantizeRow stores the codes of src into dst (same length).
func quantizeRow(dst []uint8, src []float32, inv, lo, hi float32, zp int32) {
	n := 0
	if cpu.X86.HasAVX2 {
		n = len(src) &^ 31
		if n > 0 {
			_ = dst[n-1]
			quantRow(n, &src[0], &dst[0], inv, lo, hi, zp)
		}
	}
	quantizeRowGo(dst[n:], src[n:], inv, lo, hi, zp)
}

// packBlock quantizes columns [j0, j0+ncols) of the K x N float matrix x
// into B panels at dst (see packBlockGo): whole groups of whole panels with
// quantBlock, a last partial panel with quantPanelMasked, a last partial
// group in Go.
func packBlock(kern *kernel, dst []byte, x []float32, ldx, k, j0, ncols int, inv, lo, hi float32, zp int32) {
	if !x86Kernel(kern) {
		packBlockGo(dst, x, ldx, k, j0, ncols, inv, lo, hi, zp)
		return
	}
	ps := ceilDiv(k, group) * 64
	full, nf, rem := k/group, ncols/nr, ncols%nr
	if full > 0 {
		last := (full*group - 1) * ldx // the last row read
		if nf > 0 {
			_ = x[last+j0+nf*nr-1]
			_ = dst[(nf-1)*ps+full*64-1]
			quantBlock(full, nf, &x[j0], ldx, &dst[0], ps, inv, lo, hi, zp)
		}
		if rem > 0 {
			var mask [nr]int32
			for j := 0; j < rem; j++ {
				mask[j] = -1
			}
			_ = x[last+j0+ncols-1]
			_ = dst[nf*ps+full*64-1]
			quantPanelMasked(full, &x[j0+nf*nr], ldx, &dst[nf*ps], &mask[0], inv, lo, hi, zp)
		}
	}
	if full*group < k {
		for p := 0; p*nr < ncols; p++ {
			packPanelGo(dst[p*ps:(p+1)*ps], x, ldx, k, j0+p*nr, min(nr, ncols-p*nr), full, inv, lo, hi, zp)
		}
	}
}

// packBlockCodes packs columns [j0, j0+ncols) of the K x N code matrix x
// into B panels at dst: whole groups of whole panels with codesBlock, the
// rest in Go.
func packBlockCodes(kern *kernel, dst []byte, x []uint8, ldx, k, j0, ncols int) {
	if !x86Kernel(kern) {
		packBlockCodesGo(dst, x, ldx, k, j0, ncols)
		return
	}
	ps := ceilDiv(k, group) * 64
	full, nf := k/group, ncols/nr
	if full > 0 && nf > 0 {
		_ = x[(full*group-1)*ldx+j0+nf*nr-1]
		_ = dst[(nf-1)*ps+full*64-1]
		codesBlock(full, nf, &x[j0], ldx, &dst[0], ps)
		if full*group < k {
			for p := 0; p < nf; p++ {
				packPanelCodes(dst[p*ps:(p+1)*ps], x, ldx, k, j0+p*nr, nr, full)
			}
		}
	} else {
		nf = 0
	}
	for p := nf; p*nr < ncols; p++ {
		packPanelCodes(dst[p*ps:(p+1)*ps], x, ldx, k, j0+p*nr, min(nr, ncols-p*nr), 0)
	}
}

// absMaxBulk is AbsMax over len(src), a multiple of 8.
func absMaxBulk(src []float32) float32 {
	if !cpu.X86.HasAVX2 {
		return absMaxGo(src)
	}
	return finiteAbsMax(len(src), &src[0])
}

// minMaxBulk is MinMax over len(src), a multiple of 8.
func minMaxBulk(src []float32) (lo, hi float32) {
	if !cpu.X86.HasAVX2 {
		return minMaxGo(src)
	}
	return finiteMinMax(len(src), &src[0])
}
