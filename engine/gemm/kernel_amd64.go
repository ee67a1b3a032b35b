//go:build !purego

package gemm

import "golang.org/x/sys/cpu"

var avx2Kernel = &kernel{name: "avx2-fma-6x16", id: kernelAVX2, mr: 6, nr: 16, mc: 144, kc: 256, nc: 4080, rawA: true, halfB: hasF16C}

// archKernels returns the assembly kernels this CPU supports, best first.
func archKernels() []*kernel {
	var ks []*kernel
	if cpu.X86.HasAVX512F && cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, avx512Kernel)
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, avx2Kernel)
	}
	return ks
}

// archTile is kernel.tile for the assembly kernels.
func archTile(id kernelID, m, n, kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, flags uint64, bias []float32, lo, hi float32) {
	if id == kernelAVX512 {
		avx512Tile(m, n, kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
		return
	}
	if n == 16 {
		var bp *float32
		if flags&(flagRowBias|flagColBias) != 0 {
			bp = &bias[0]
		}
		avx2Call(m, kc, &a[0], lda, &b[0], ldb, &c[0], ldc, flags, bp, lo, hi)
		return
	}
	// Partial tile: compute the whole tile into t, store the valid part.
	var t [6 * 16]float32
	if f, bp, ok := partialEpilogue(flags, bias); ok {
		// The kernel applies the epilogue (row bias, clamp) to t; what is
		// left is a copy. In Go it cost a quarter of a small 1x1
		// convolution (its clamp branches mispredict on real data).
		avx2Call(m, kc, &a[0], lda, &b[0], ldb, &t[0], 16, f, bp, lo, hi)
		mergeTile(t[:], 16, m, n, c, ldc, 0, nil, 0, 0)
		return
	}
	avx2Call(m, kc, &a[0], lda, &b[0], ldb, &t[0], 16, 0, nil, 0, 0)
	mergeTile(t[:], 16, m, n, c, ldc, flags, bias, lo, hi)
}

// partialEpilogue returns the flags and bias pointer with which a kernel
// writing a partial tile into a fresh buffer can apply the epilogue
// itself: not when it accumulates (the buffer does not hold C) nor with a
// column bias (the kernel would read 16 bias values, past the n valid).
func partialEpilogue(flags uint64, bias []float32) (uint64, *float32, bool) {
	if flags&(flagAccumulate|flagColBias) != 0 {
		return 0, nil, false
	}
	var bp *float32
	if flags&flagRowBias != 0 {
		bp = &bias[0]
	}
	return flags, bp, true
}

// avx2Call runs the m-row AVX2 kernel, reading A in place if lda > 0.
func avx2Call(m, kc int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, flags uint64, bias *float32, lo, hi float32) {
	if lda > 0 {
		switch m {
		case 6:
			kernel6x16rawA(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
		case 5:
			kernel5x16rawA(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
		case 4:
			kernel4x16rawA(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
		case 3:
			kernel3x16rawA(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
		case 2:
			kernel2x16rawA(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
		case 1:
			kernel1x16rawA(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
		}
		return
	}
	switch m {
	case 6:
		kernel6x16(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
	case 5:
		kernel5x16(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
	case 4:
		kernel4x16(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
	case 3:
		kernel3x16(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
	case 2:
		kernel2x16(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
	case 1:
		kernel1x16(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
	}
}

// packRows copies kc rows of kern.nr floats, row k at src[k*ld:], to
// dst[k*nr:], if kern has an assembly routine for it.
func packRows(kern *kernel, dst, src []float32, ld, kc int) bool {
	if !x86Kernel(kern) {
		return false
	}
	_ = dst[kc*16-1]
	_ = src[(kc-1)*ld+15]
	packB16(kc, &src[0], ld, &dst[0])
	return true
}

// hasGemv4 reports whether kern has the gemv4 routine for single-row
// products with a row-major B.
func hasGemv4(kern *kernel) bool { return x86Kernel(kern) }

// x86Kernel reports whether kern is one of the amd64 assembly kernels,
// which all have 16-column panels (so packB16 and packB16Half pack for
// them) and run on CPUs with AVX2 and FMA (so gemv4 runs too).
func x86Kernel(kern *kernel) bool { return kern.id == kernelAVX2 || kern.id == kernelAVX512 }

// callGemv4 runs gemv4 on len(y) (a multiple of 8) columns; b holds the
// four rows, starting at b[0], b[ldb], b[2*ldb] and b[3*ldb].
func callGemv4(n int, b []float32, ldb int, y []float32, x0, x1, x2, x3 float32) {
	_ = b[3*ldb+n-1]
	_ = y[n-1]
	gemv4(n, &b[0], ldb, &y[0], x0, x1, x2, x3)
}

// archTileRows is kernel.tileRows for the assembly kernels (AVX-512 only).
func archTileRows(id kernelID, m, n, kc int, a, b []float32, rows []int32, c []float32, ldc int, flags uint64, bias []float32, lo, hi float32) {
	if id != kernelAVX512 {
		panic("gemm: no row tables in this kernel")
	}
	avx512TileRows(m, n, kc, a, b, rows, c, ldc, flags, bias, lo, hi)
}

// archTileH is kernel.tileH for the assembly kernels (F16C).
func archTileH(id kernelID, m, n, kc int, a []float32, lda int, b []uint16, ldb int, c []float32, ldc int, flags uint64, bias []float32, lo, hi float32) {
	if id == kernelAVX512 {
		avx512TileH(m, n, kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
		return
	}
	if n == 16 {
		var bp *float32
		if flags&(flagRowBias|flagColBias) != 0 {
			bp = &bias[0]
		}
		avx2CallH(m, kc, &a[0], lda, &b[0], ldb, &c[0], ldc, flags, bp, lo, hi)
		return
	}
	var t [6 * 16]float32
	if f, bp, ok := partialEpilogue(flags, bias); ok {
		avx2CallH(m, kc, &a[0], lda, &b[0], ldb, &t[0], 16, f, bp, lo, hi)
		mergeTile(t[:], 16, m, n, c, ldc, 0, nil, 0, 0)
		return
	}
	avx2CallH(m, kc, &a[0], lda, &b[0], ldb, &t[0], 16, 0, nil, 0, 0)
	mergeTile(t[:], 16, m, n, c, ldc, flags, bias, lo, hi)
}

// avx2CallH runs the m-row AVX2 kernel with a half-precision B, reading A
// in place if lda > 0.
func avx2CallH(m, kc int, a *float32, lda int, b *uint16, ldb int, c *float32, ldc int, flags uint64, bias *float32, lo, hi float32) {
	if lda > 0 {
		switch m {
		case 6:
			kernel6x16rawAh(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
		case 5:
			kernel5x16rawAh(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
		case 4:
			kernel4x16rawAh(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
		case 3:
			kernel3x16rawAh(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
		case 2:
			kernel2x16rawAh(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
		case 1:
			kernel1x16rawAh(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
		}
		return
	}
	switch m {
	case 6:
		kernel6x16h(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
	case 5:
		kernel5x16h(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
	case 4:
		kernel4x16h(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
	case 3:
		kernel3x16h(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
	case 2:
		kernel2x16h(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
	case 1:
		kernel1x16h(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
	}
}

// archTileHH is never called: no amd64 kernel has half-precision
// arithmetic (F16C only converts).
func archTileHH(id kernelID, m, n, kc int, a, b []uint16, c []float32, ldc int, flags uint64, bias []float32, lo, hi float32) {
	panic("gemm: no half-precision arithmetic on amd64")
}

// packRowsHalf rounds kc rows of kern.nr floats, row k at src[k*ld:], to
// halves at dst[k*nr:], if kern has an assembly routine for it.
func packRowsHalf(kern *kernel, dst []uint16, src []float32, ld, kc int) bool {
	if !x86Kernel(kern) || !kern.halfB {
		return false
	}
	_ = dst[kc*16-1]
	_ = src[(kc-1)*ld+15]
	packB16Half(kc, &src[0], ld, &dst[0])
	return true
}
