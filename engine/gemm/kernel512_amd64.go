//go:build !purego

package gemm

// avx512Kernel has the AVX2 kernel's tile width and packed layouts (16
// columns) and twice its rows: one 512-bit accumulator per row, A
// multiplied in by embedded-broadcast FMAs (see tools/asm/gemm512_amd64).
var avx512Kernel = &kernel{name: "avx512-12x16", id: kernelAVX512, mr: 12, nr: 16, mc: 144, kc: 256, nc: 4080, rawA: true, rows: true, halfB: hasF16C,
	wide: avx512TileWide, wideRows: avx512TileRowsWide, wideEdge: avx512TileWideEdge}

// avx512TileWideEdge is kernel.wideEdge for avx512Kernel: the 12x32 tile
// into a buffer, its m x n part merged into c (with the epilogue in the
// kernel when it needs neither C nor a column bias, as avx512Tile does).
func avx512TileWideEdge(m, n, kc int, a []float32, lda int, b, b2 []float32, ldb int, c []float32, ldc int, flags uint64, bias []float32, lo, hi float32) {
	var t [12 * 32]float32
	if flags&(flagAccumulate|flagColBias) == 0 {
		avx512TileWide(m, kc, a, lda, b, b2, ldb, t[:], 32, flags, bias, lo, hi)
		mergeTile(t[:], 32, m, n, c, ldc, 0, nil, 0, 0)
		return
	}
	avx512TileWide(m, kc, a, lda, b, b2, ldb, t[:], 32, 0, nil, 0, 0)
	mergeTile(t[:], 32, m, n, c, ldc, flags, bias, lo, hi)
}

// avx512TileWide is kernel.wide for avx512Kernel: a 12x32 tile is 24
// accumulators, each A element broadcast once into a register for two
// FMAs, where the 12x16 tile spends a load (its embedded broadcast) on
// every FMA and leaves the FMA units idle part of the time
// (BenchmarkSgemmKernels: avx512-12x16 against avx512-12x16/narrow).
func avx512TileWide(m, kc int, a []float32, lda int, b, b2 []float32, ldb int, c []float32, ldc int, flags uint64, bias []float32, lo, hi float32) {
	_ = b[(kc-1)*ldb+15]
	_ = b2[(kc-1)*ldb+15]
	_ = c[(m-1)*ldc+31]
	var bp *float32
	if flags&(flagRowBias|flagColBias) != 0 {
		bp = &bias[0]
	}
	if lda > 0 {
		_ = a[(m-1)*lda+kc-1]
		switch m {
		case 12:
			kernel12x32zrawA(kc, &a[0], lda, &b[0], &b2[0], ldb, &c[0], ldc, flags, bp, lo, hi)
		case 11:
			kernel11x32zrawA(kc, &a[0], lda, &b[0], &b2[0], ldb, &c[0], ldc, flags, bp, lo, hi)
		case 10:
			kernel10x32zrawA(kc, &a[0], lda, &b[0], &b2[0], ldb, &c[0], ldc, flags, bp, lo, hi)
		case 9:
			kernel9x32zrawA(kc, &a[0], lda, &b[0], &b2[0], ldb, &c[0], ldc, flags, bp, lo, hi)
		case 8:
			kernel8x32zrawA(kc, &a[0], lda, &b[0], &b2[0], ldb, &c[0], ldc, flags, bp, lo, hi)
		case 7:
			kernel7x32zrawA(kc, &a[0], lda, &b[0], &b2[0], ldb, &c[0], ldc, flags, bp, lo, hi)
		case 6:
			kernel6x32zrawA(kc, &a[0], lda, &b[0], &b2[0], ldb, &c[0], ldc, flags, bp, lo, hi)
		case 5:
			kernel5x32zrawA(kc, &a[0], lda, &b[0], &b2[0], ldb, &c[0], ldc, flags, bp, lo, hi)
		case 4:
			kernel4x32zrawA(kc, &a[0], lda, &b[0], &b2[0], ldb, &c[0], ldc, flags, bp, lo, hi)
		case 3:
			kernel3x32zrawA(kc, &a[0], lda, &b[0], &b2[0], ldb, &c[0], ldc, flags, bp, lo, hi)
		case 2:
			kernel2x32zrawA(kc, &a[0], lda, &b[0], &b2[0], ldb, &c[0], ldc, flags, bp, lo, hi)
		case 1:
			kernel1x32zrawA(kc, &a[0], lda, &b[0], &b2[0], ldb, &c[0], ldc, flags, bp, lo, hi)
		}
		return
	}
	_ = a[kc*12-1]
	switch m {
	case 12:
		kernel12x32z(kc, &a[0], 0, &b[0], &b2[0], ldb, &c[0], ldc, flags, bp, lo, hi)
	case 11:
		kernel11x32z(kc, &a[0], 0, &b[0], &b2[0], ldb, &c[0], ldc, flags, bp, lo, hi)
	case 10:
		kernel10x32z(kc, &a[0], 0, &b[0], &b2[0], ldb, &c[0], ldc, flags, bp, lo, hi)
	case 9:
		kernel9x32z(kc, &a[0], 0, &b[0], &b2[0], ldb, &c[0], ldc, flags, bp, lo, hi)
	case 8:
		kernel8x32z(kc, &a[0], 0, &b[0], &b2[0], ldb, &c[0], ldc, flags, bp, lo, hi)
	case 7:
		kernel7x32z(kc, &a[0], 0, &b[0], &b2[0], ldb, &c[0], ldc, flags, bp, lo, hi)
	case 6:
		kernel6x32z(kc, &a[0], 0, &b[0], &b2[0], ldb, &c[0], ldc, flags, bp, lo, hi)
	case 5:
		kernel5x32z(kc, &a[0], 0, &b[0], &b2[0], ldb, &c[0], ldc, flags, bp, lo, hi)
	case 4:
		kernel4x32z(kc, &a[0], 0, &b[0], &b2[0], ldb, &c[0], ldc, flags, bp, lo, hi)
	case 3:
		kernel3x32z(kc, &a[0], 0, &b[0], &b2[0], ldb, &c[0], ldc, flags, bp, lo, hi)
	case 2:
		kernel2x32z(kc, &a[0], 0, &b[0], &b2[0], ldb, &c[0], ldc, flags, bp, lo, hi)
	case 1:
		kernel1x32z(kc, &a[0], 0, &b[0], &b2[0], ldb, &c[0], ldc, flags, bp, lo, hi)
	}
}

// avx512TileRowsWide is kernel.wideRows for avx512Kernel.
func avx512TileRowsWide(m, kc int, a, b []float32, rows []int32, c []float32, ldc int, flags uint64, bias []float32, lo, hi float32) {
	_ = a[kc*12-1]
	_ = rows[kc-1]
	_ = c[(m-1)*ldc+31]
	var bp *float32
	if flags&(flagRowBias|flagColBias) != 0 {
		bp = &bias[0]
	}
	switch m {
	case 12:
		kernel12x32zrows(kc, &a[0], &b[0], &rows[0], &c[0], ldc, flags, bp, lo, hi)
	case 11:
		kernel11x32zrows(kc, &a[0], &b[0], &rows[0], &c[0], ldc, flags, bp, lo, hi)
	case 10:
		kernel10x32zrows(kc, &a[0], &b[0], &rows[0], &c[0], ldc, flags, bp, lo, hi)
	case 9:
		kernel9x32zrows(kc, &a[0], &b[0], &rows[0], &c[0], ldc, flags, bp, lo, hi)
	case 8:
		kernel8x32zrows(kc, &a[0], &b[0], &rows[0], &c[0], ldc, flags, bp, lo, hi)
	case 7:
		kernel7x32zrows(kc, &a[0], &b[0], &rows[0], &c[0], ldc, flags, bp, lo, hi)
	case 6:
		kernel6x32zrows(kc, &a[0], &b[0], &rows[0], &c[0], ldc, flags, bp, lo, hi)
	case 5:
		kernel5x32zrows(kc, &a[0], &b[0], &rows[0], &c[0], ldc, flags, bp, lo, hi)
	case 4:
		kernel4x32zrows(kc, &a[0], &b[0], &rows[0], &c[0], ldc, flags, bp, lo, hi)
	case 3:
		kernel3x32zrows(kc, &a[0], &b[0], &rows[0], &c[0], ldc, flags, bp, lo, hi)
	case 2:
		kernel2x32zrows(kc, &a[0], &b[0], &rows[0], &c[0], ldc, flags, bp, lo, hi)
	case 1:
		kernel1x32zrows(kc, &a[0], &b[0], &rows[0], &c[0], ldc, flags, bp, lo, hi)
	}
}

// avx512Tile is kernel.tile for avx512Kernel.
func avx512Tile(m, n, kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, flags uint64, bias []float32, lo, hi float32) {
	if n == 16 {
		var bp *float32
		if flags&(flagRowBias|flagColBias) != 0 {
			bp = &bias[0]
		}
		avx512Call(m, kc, &a[0], lda, &b[0], ldb, &c[0], ldc, flags, bp, lo, hi)
		return
	}
	var t [12 * 16]float32
	if f, bp, ok := partialEpilogue(flags, bias); ok {
		avx512Call(m, kc, &a[0], lda, &b[0], ldb, &t[0], 16, f, bp, lo, hi)
		mergeTile(t[:], 16, m, n, c, ldc, 0, nil, 0, 0)
		return
	}
	avx512Call(m, kc, &a[0], lda, &b[0], ldb, &t[0], 16, 0, nil, 0, 0)
	mergeTile(t[:], 16, m, n, c, ldc, flags, bias, lo, hi)
}

// avx512TileH is kernel.tileH for avx512Kernel.
func avx512TileH(m, n, kc int, a []float32, lda int, b []uint16, ldb int, c []float32, ldc int, flags uint64, bias []float32, lo, hi float32) {
	if n == 16 {
		var bp *float32
		if flags&(flagRowBias|flagColBias) != 0 {
			bp = &bias[0]
		}
		avx512CallH(m, kc, &a[0], lda, &b[0], ldb, &c[0], ldc, flags, bp, lo, hi)
		return
	}
	var t [12 * 16]float32
	if f, bp, ok := partialEpilogue(flags, bias); ok {
		avx512CallH(m, kc, &a[0], lda, &b[0], ldb, &t[0], 16, f, bp, lo, hi)
		mergeTile(t[:], 16, m, n, c, ldc, 0, nil, 0, 0)
		return
	}
	avx512CallH(m, kc, &a[0], lda, &b[0], ldb, &t[0], 16, 0, nil, 0, 0)
	mergeTile(t[:], 16, m, n, c, ldc, flags, bias, lo, hi)
}

// avx512Call runs the m-row AVX-512 kernel, reading A in place if lda > 0.
// The calls are direct (not through a table of functions) so that the
// kernels' noescape pragma keeps the caller's tile buffer on its stack.
func avx512Call(m, kc int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, flags uint64, bias *float32, lo, hi float32) {
	if lda > 0 {
		switch m {
		case 12:
			kernel12x16zrawA(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
		case 11:
			kernel11x16zrawA(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
		case 10:
			kernel10x16zrawA(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
		case 9:
			kernel9x16zrawA(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
		case 8:
			kernel8x16zrawA(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
		case 7:
			kernel7x16zrawA(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
		case 6:
			kernel6x16zrawA(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
		case 5:
			kernel5x16zrawA(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
		case 4:
			kernel4x16zrawA(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
		case 3:
			kernel3x16zrawA(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
		case 2:
			kernel2x16zrawA(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
		case 1:
			kernel1x16zrawA(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
		}
		return
	}
	switch m {
	case 12:
		kernel12x16z(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
	case 11:
		kernel11x16z(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
	case 10:
		kernel10x16z(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
	case 9:
		kernel9x16z(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
	case 8:
		kernel8x16z(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
	case 7:
		kernel7x16z(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
	case 6:
		kernel6x16z(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
	case 5:
		kernel5x16z(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
	case 4:
		kernel4x16z(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
	case 3:
		kernel3x16z(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
	case 2:
		kernel2x16z(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
	case 1:
		kernel1x16z(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
	}
}

// avx512CallH runs the m-row AVX-512 kernel with a half-precision B.
func avx512CallH(m, kc int, a *float32, lda int, b *uint16, ldb int, c *float32, ldc int, flags uint64, bias *float32, lo, hi float32) {
	if lda > 0 {
		switch m {
		case 12:
			kernel12x16zrawAh(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
		case 11:
			kernel11x16zrawAh(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
		case 10:
			kernel10x16zrawAh(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
		case 9:
			kernel9x16zrawAh(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
		case 8:
			kernel8x16zrawAh(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
		case 7:
			kernel7x16zrawAh(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
		case 6:
			kernel6x16zrawAh(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
		case 5:
			kernel5x16zrawAh(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
		case 4:
			kernel4x16zrawAh(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
		case 3:
			kernel3x16zrawAh(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
		case 2:
			kernel2x16zrawAh(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
		case 1:
			kernel1x16zrawAh(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
		}
		return
	}
	switch m {
	case 12:
		kernel12x16zh(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
	case 11:
		kernel11x16zh(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
	case 10:
		kernel10x16zh(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
	case 9:
		kernel9x16zh(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
	case 8:
		kernel8x16zh(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
	case 7:
		kernel7x16zh(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
	case 6:
		kernel6x16zh(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
	case 5:
		kernel5x16zh(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
	case 4:
		kernel4x16zh(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
	case 3:
		kernel3x16zh(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
	case 2:
		kernel2x16zh(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
	case 1:
		kernel1x16zh(kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
	}
}

// avx512TileRows is kernel.tileRows for avx512Kernel.
func avx512TileRows(m, n, kc int, a, b []float32, rows []int32, c []float32, ldc int, flags uint64, bias []float32, lo, hi float32) {
	_ = a[kc*12-1]
	if n == 16 {
		var bp *float32
		if flags&(flagRowBias|flagColBias) != 0 {
			bp = &bias[0]
		}
		avx512CallRows(m, kc, &a[0], &b[0], &rows[0], &c[0], ldc, flags, bp, lo, hi)
		return
	}
	var t [12 * 16]float32
	if f, bp, ok := partialEpilogue(flags, bias); ok {
		avx512CallRows(m, kc, &a[0], &b[0], &rows[0], &t[0], 16, f, bp, lo, hi)
		mergeTile(t[:], 16, m, n, c, ldc, 0, nil, 0, 0)
		return
	}
	avx512CallRows(m, kc, &a[0], &b[0], &rows[0], &t[0], 16, 0, nil, 0, 0)
	mergeTile(t[:], 16, m, n, c, ldc, flags, bias, lo, hi)
}

// avx512CallRows runs the m-row AVX-512 kernel reading B through rows.
func avx512CallRows(m, kc int, a, b *float32, rows *int32, c *float32, ldc int, flags uint64, bias *float32, lo, hi float32) {
	switch m {
	case 12:
		kernel12x16zrows(kc, a, b, rows, c, ldc, flags, bias, lo, hi)
	case 11:
		kernel11x16zrows(kc, a, b, rows, c, ldc, flags, bias, lo, hi)
	case 10:
		kernel10x16zrows(kc, a, b, rows, c, ldc, flags, bias, lo, hi)
	case 9:
		kernel9x16zrows(kc, a, b, rows, c, ldc, flags, bias, lo, hi)
	case 8:
		kernel8x16zrows(kc, a, b, rows, c, ldc, flags, bias, lo, hi)
	case 7:
		kernel7x16zrows(kc, a, b, rows, c, ldc, flags, bias, lo, hi)
	case 6:
		kernel6x16zrows(kc, a, b, rows, c, ldc, flags, bias, lo, hi)
	case 5:
		kernel5x16zrows(kc, a, b, rows, c, ldc, flags, bias, lo, hi)
	case 4:
		kernel4x16zrows(kc, a, b, rows, c, ldc, flags, bias, lo, hi)
	case 3:
		kernel3x16zrows(kc, a, b, rows, c, ldc, flags, bias, lo, hi)
	case 2:
		kernel2x16zrows(kc, a, b, rows, c, ldc, flags, bias, lo, hi)
	case 1:
		kernel1x16zrows(kc, a, b, rows, c, ldc, flags, bias, lo, hi)
	}
}
