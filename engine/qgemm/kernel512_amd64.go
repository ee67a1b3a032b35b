//go:build !purego

package qgemm

// vnniTiles runs count tiles of m rows with the m-row VNNI kernel of the
// conv or dense family. The calls are direct so that escape analysis sees
// the kernels' noescape pragmas.
func vnniTiles(dense bool, m, count, kg int, ap *uint8, lda int, bp *uint8, cp *float32, ldc int, wsum *int32, wscale, bias *float32, zp int32, xs, lo, hi float32, flags uint64, pf *uint8, pfstride int) {
	if dense {
		switch m {
		case 12:
			denseKernel12x16v(count, kg, ap, lda, bp, cp, ldc, wsum, wscale, bias, zp, xs, lo, hi, flags, pf, pfstride)
		case 11:
			denseKernel11x16v(count, kg, ap, lda, bp, cp, ldc, wsum, wscale, bias, zp, xs, lo, hi, flags, pf, pfstride)
		case 10:
			denseKernel10x16v(count, kg, ap, lda, bp, cp, ldc, wsum, wscale, bias, zp, xs, lo, hi, flags, pf, pfstride)
		case 9:
			denseKernel9x16v(count, kg, ap, lda, bp, cp, ldc, wsum, wscale, bias, zp, xs, lo, hi, flags, pf, pfstride)
		case 8:
			denseKernel8x16v(count, kg, ap, lda, bp, cp, ldc, wsum, wscale, bias, zp, xs, lo, hi, flags, pf, pfstride)
		case 7:
			denseKernel7x16v(count, kg, ap, lda, bp, cp, ldc, wsum, wscale, bias, zp, xs, lo, hi, flags, pf, pfstride)
		case 6:
			denseKernel6x16v(count, kg, ap, lda, bp, cp, ldc, wsum, wscale, bias, zp, xs, lo, hi, flags, pf, pfstride)
		case 5:
			denseKernel5x16v(count, kg, ap, lda, bp, cp, ldc, wsum, wscale, bias, zp, xs, lo, hi, flags, pf, pfstride)
		case 4:
			denseKernel4x16v(count, kg, ap, lda, bp, cp, ldc, wsum, wscale, bias, zp, xs, lo, hi, flags, pf, pfstride)
		case 3:
			denseKernel3x16v(count, kg, ap, lda, bp, cp, ldc, wsum, wscale, bias, zp, xs, lo, hi, flags, pf, pfstride)
		case 2:
			denseKernel2x16v(count, kg, ap, lda, bp, cp, ldc, wsum, wscale, bias, zp, xs, lo, hi, flags, pf, pfstride)
		case 1:
			denseKernel1x16v(count, kg, ap, lda, bp, cp, ldc, wsum, wscale, bias, zp, xs, lo, hi, flags, pf, pfstride)
		}
		return
	}
	switch m {
	case 12:
		convKernel12x16v(count, kg, ap, lda, bp, cp, ldc, wsum, wscale, bias, zp, xs, lo, hi, flags, pf, pfstride)
	case 11:
		convKernel11x16v(count, kg, ap, lda, bp, cp, ldc, wsum, wscale, bias, zp, xs, lo, hi, flags, pf, pfstride)
	case 10:
		convKernel10x16v(count, kg, ap, lda, bp, cp, ldc, wsum, wscale, bias, zp, xs, lo, hi, flags, pf, pfstride)
	case 9:
		convKernel9x16v(count, kg, ap, lda, bp, cp, ldc, wsum, wscale, bias, zp, xs, lo, hi, flags, pf, pfstride)
	case 8:
		convKernel8x16v(count, kg, ap, lda, bp, cp, ldc, wsum, wscale, bias, zp, xs, lo, hi, flags, pf, pfstride)
	case 7:
		convKernel7x16v(count, kg, ap, lda, bp, cp, ldc, wsum, wscale, bias, zp, xs, lo, hi, flags, pf, pfstride)
	case 6:
		convKernel6x16v(count, kg, ap, lda, bp, cp, ldc, wsum, wscale, bias, zp, xs, lo, hi, flags, pf, pfstride)
	case 5:
		convKernel5x16v(count, kg, ap, lda, bp, cp, ldc, wsum, wscale, bias, zp, xs, lo, hi, flags, pf, pfstride)
	case 4:
		convKernel4x16v(count, kg, ap, lda, bp, cp, ldc, wsum, wscale, bias, zp, xs, lo, hi, flags, pf, pfstride)
	case 3:
		convKernel3x16v(count, kg, ap, lda, bp, cp, ldc, wsum, wscale, bias, zp, xs, lo, hi, flags, pf, pfstride)
	case 2:
		convKernel2x16v(count, kg, ap, lda, bp, cp, ldc, wsum, wscale, bias, zp, xs, lo, hi, flags, pf, pfstride)
	case 1:
		convKernel1x16v(count, kg, ap, lda, bp, cp, ldc, wsum, wscale, bias, zp, xs, lo, hi, flags, pf, pfstride)
	}
}
