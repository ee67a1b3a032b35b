package vec

//go:generate go run ../../tools/asm/dw_amd64 -out dw_amd64.s -stubs dw_stubs_amd64.go -pkg vec

// Deinterleave splits rows of n floats into their even and odd elements:
// for r < rows, src[r*srcRow+2i] goes to even[r*dstRow+i] and
// src[r*srcRow+2i+1] to odd[r*dstRow+i] (a stride-2 depthwise
// convolution's input copied into column phases, where every tap is a
// unit-stride run). It panics if a row reaches past a slice.
func Deinterleave(even, odd []float32, dstRow int, src []float32, srcRow, rows, n int) {
	if rows <= 0 || n <= 0 {
		return
	}
	ne, no := (n+1)/2, n/2
	if dstRow < 0 || srcRow < 0 || (rows-1)*srcRow+n > len(src) || (rows-1)*dstRow+ne > len(even) || no > 0 && (rows-1)*dstRow+no > len(odd) {
		panic("vec: Deinterleave rows reach past a slice")
	}
	if hasAVX2 {
		// The assembly reads whole blocks of 16: a row whose last block
		// would reach past src goes to the Go loop (only the last rows of
		// a slice that ends with them).
		need := n &^ 15
		if n%16 != 0 {
			need += 16
		}
		fit := 0
		switch {
		case len(src) < need:
		case srcRow == 0:
			fit = rows
		default:
			fit = min(rows, (len(src)-need)/srcRow+1)
		}
		if fit > 0 {
			o := &even[0] // odd is not written when n is 1
			if no > 0 {
				o = &odd[0]
			}
			deinterleaveAVX(&even[0], o, dstRow, &src[0], srcRow, fit, n, 1, 0, 0)
		}
		if fit == rows {
			return
		}
		even, src = even[fit*dstRow:], src[fit*srcRow:]
		if no > 0 {
			odd = odd[fit*dstRow:]
		}
		rows -= fit
	}
	deinterleaveGo(even, odd, dstRow, src, srcRow, rows, n)
}

// DeinterleavePlanes is Deinterleave over planes: plane k's rows are at
// even[k*dstPlane:], odd[k*dstPlane:] and src[k*srcPlane:] (the even or
// odd input rows of a group of channels into their phase planes, in one
// call). It panics if a row reaches past a slice.
func DeinterleavePlanes(even, odd []float32, dstRow, dstPlane int, src []float32, srcRow, srcPlane, planes, rows, n int) {
	if planes <= 0 || rows <= 0 || n <= 0 {
		return
	}
	if dstPlane < 0 || srcPlane < 0 {
		panic("vec: DeinterleavePlanes negative stride")
	}
	k := 0
	if hasAVX2 && planes > 1 && n/2 > 0 && dstRow >= 0 && srcRow >= 0 {
		// Every plane but the last in one call, when their rows (and the
		// whole blocks the assembly reads) stay inside the slices.
		need := n &^ 15
		if n%16 != 0 {
			need += 16
		}
		p := planes - 1
		if (p-1)*srcPlane+(rows-1)*srcRow+max(need, n) <= len(src) && (p-1)*dstPlane+(rows-1)*dstRow+(n+1)/2 <= min(len(even), len(odd)) {
			deinterleaveAVX(&even[0], &odd[0], dstRow, &src[0], srcRow, rows, n, p, dstPlane-rows*dstRow, srcPlane-rows*srcRow)
			k = p
		}
	}
	for ; k < planes; k++ {
		Deinterleave(even[k*dstPlane:], odd[k*dstPlane:], dstRow, src[k*srcPlane:], srcRow, rows, n)
	}
}

func deinterleaveGo(even, odd []float32, dstRow int, src []float32, srcRow, rows, n int) {
	for r := 0; r < rows; r++ {
		s := src[r*srcRow : r*srcRow+n]
		e := even[r*dstRow : r*dstRow+(n+1)/2]
		for i := range e {
			e[i] = s[2*i]
		}
		if n > 1 {
			o := odd[r*dstRow : r*dstRow+n/2]
			for i := range o {
				o[i] = s[2*i+1]
			}
		}
	}
}

// DepthwiseFlat is TapSumPlanes for a stride-1 k x k kernel (dilation 1)
// whose taps are at ky*row+kx: for p < planes and i < n, dst[p*stride+i]
// is the clamp to [lo, hi] of bias[p] + sum over ky, kx < k of
// w[p*k*k+ky*k+kx] * src[p*stride+ky*row+kx+i] (a depthwise
// convolution's channels, each flat over its bordered plane of row
// stride row). k 3 and 5 have assembly, the taps unrolled; the order of
// the sum is the same on every path but for the fused multiply-adds. It
// panics if a plane reaches past dst or src, or w or bias is short.
func DepthwiseFlat(dst, src []float32, stride, planes, n, row, k int, w, bias []float32, lo, hi float32) {
	if planes <= 0 || n <= 0 || k <= 0 {
		return
	}
	kk := k * k
	w, bias = w[:planes*kk], bias[:planes]
	if stride < 0 || row < 0 || (planes-1)*stride+n > len(dst) || (planes-1)*stride+(k-1)*row+k-1+n > len(src) {
		panic("vec: DepthwiseFlat planes reach past a slice")
	}
	depthwiseFlat(dst, src, stride, planes, n, row, k, w, bias, lo, hi, hasAVX512)
}

// depthwiseFlat is DepthwiseFlat after its checks; z allows the 512-bit
// routines (tests turn it off to run the 256-bit ones).
func depthwiseFlat(dst, src []float32, stride, planes, n, row, k int, w, bias []float32, lo, hi float32, z bool) {
	kk := k * k
	if z && n >= 16 {
		// Sixteen lanes a vector: kws-ds's 3x3 layers in half the
		// instructions of the 256-bit form.
		switch k {
		case 3:
			dwFlat3AVX512(&dst[0], &src[0], stride, planes, n, row, &w[0], &bias[0], lo, hi)
			return
		case 5:
			dwFlat5AVX512(&dst[0], &src[0], stride, planes, n, row, &w[0], &bias[0], lo, hi)
			return
		}
	}
	if hasFMA && n >= 8 {
		switch k {
		case 3:
			dwFlat3AVX(&dst[0], &src[0], stride, planes, n, row, &w[0], &bias[0], lo, hi)
			return
		case 5:
			dwFlat5AVX(&dst[0], &src[0], stride, planes, n, row, &w[0], &bias[0], lo, hi)
			return
		}
	}
	for p := 0; p < planes; p++ {
		d := dst[p*stride : p*stride+n]
		s := src[p*stride:]
		wp := w[p*kk : (p+1)*kk]
		for i := range d {
			v := bias[p]
			for ky := 0; ky < k; ky++ {
				r := s[ky*row+i:]
				for kx, wv := range wp[ky*k : (ky+1)*k] {
					v += wv * r[kx]
				}
			}
			d[i] = clamp1(v, lo, hi)
		}
	}
}

// DepthwiseGrid5 is DepthwiseFlat for a 5x5 kernel over planes whose
// outputs form grids of oh rows of ow (row stride row, the run n =
// (oh-1)*row+ow): the assembly computes four grid rows by eight columns
// at a time, each input vector loaded once for the output rows it
// reaches (the sum in kx, then ky order). Only the grid's outputs (i%row
// < ow) are defined; the run's others may be left as they were. It needs
// oh >= 4, and when ow < 8 it also writes the 8-ow floats after each
// plane's run: dst must then hold them, and src the taps they read.
// Elsewhere it computes DepthwiseFlat.
func DepthwiseGrid5(dst, src []float32, stride, planes, oh, ow, row int, w, bias []float32, lo, hi float32) {
	if planes <= 0 || oh <= 0 || ow <= 0 {
		return
	}
	n := (oh-1)*row + ow
	if hasFMA && oh >= 4 && stride >= 0 && row >= 0 {
		m := max(ow, 8)
		if (planes-1)*stride+(oh-1)*row+m <= len(dst) && (planes-1)*stride+(oh+3)*row+4+m <= len(src) {
			w, bias = w[:planes*25], bias[:planes]
			dwGrid5AVX(&dst[0], &src[0], stride, planes, row, 4*max(ow-8, 0), 4*(oh-4)*row, &w[0], &bias[0], lo, hi)
			return
		}
	}
	DepthwiseFlat(dst, src, stride, planes, n, row, 5, w, bias, lo, hi)
}
