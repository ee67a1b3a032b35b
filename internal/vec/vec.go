// Package vec holds the small float32 row routines of the engine's exact
// and approximate kernels (clamps, copies, row averages, tap sums, sums):
// AVX assembly on amd64, Go elsewhere (and with the purego tag). Clamps,
// averages and copies give the same bits on every path: a clamp keeps NaN
// (it is neither below lo nor above hi) and keeps -0 when lo is 0. Sums
// and multiply-adds may differ in the last bits between paths (the
// assembly fuses multiply-adds and sums in vector partial sums), never
// between runs on one machine.
package vec

//go:generate go run ../../tools/asm/vec_amd64 -out vec_amd64.s -stubs vec_stubs_amd64.go -pkg vec

// Clamp stores min(max(src[i], lo), hi) into dst[i] for every i of dst
// (src must be as long). dst and src may be the same slice.
func Clamp(dst, src []float32, lo, hi float32) {
	src = src[:len(dst)]
	n := 0
	if hasAVX && len(dst) >= 8 {
		n = len(dst) &^ 7
		clampAVX(&dst[0], &src[0], n, lo, hi)
	}
	for i := n; i < len(dst); i++ {
		dst[i] = clamp1(src[i], lo, hi)
	}
}

// AvgClamp stores the clamp of (a[i] + b[i]) * 0.5 to [lo, hi] into
// dst[i] for every i of dst (a and b must be as long).
func AvgClamp(dst, a, b []float32, lo, hi float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	n := 0
	if hasAVX && len(dst) >= 8 {
		n = len(dst) &^ 7
		avgClampAVX(&dst[0], &a[0], &b[0], n, lo, hi)
	}
	for i := n; i < len(dst); i++ {
		dst[i] = clamp1((a[i]+b[i])*0.5, lo, hi)
	}
}

// clamp1 is the scalar clamp, NaN passing through.
func clamp1(v, lo, hi float32) float32 {
	if v < lo {
		v = lo
	}
	if v > hi {
		v = hi
	}
	return v
}

// Sum returns the sum of x, in an order that depends on the path (four
// vector partial sums in assembly, eight scalar ones in Go): results may
// differ in the last bits between machines, never between runs.
func Sum(x []float32) float32 {
	n := 0
	var s float32
	if hasAVX && len(x) >= 32 {
		n = len(x) &^ 31
		s = sumAVX(&x[0], n)
	}
	var p [8]float32
	i := n
	for ; i+8 <= len(x); i += 8 {
		for j := range p {
			p[j] += x[i+j]
		}
	}
	for ; i < len(x); i++ {
		p[0] += x[i]
	}
	return s + (((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7])))
}

// SumPlanes sets dst[k] to scale times the sum of src[k*n:(k+1)*n] for
// every k of dst (a global average pool's channels, in one call). The
// sums are in vector partial sums, as Sum's. It panics if src is shorter
// than len(dst)*n.
func SumPlanes(dst, src []float32, n int, scale float32) {
	if len(dst) == 0 {
		return
	}
	src = src[:len(dst)*n]
	if hasAVX && n > 0 {
		sumPlanesAVX(&dst[0], &src[0], len(dst), n, scale)
		return
	}
	for k := range dst {
		dst[k] = scale * Sum(src[k*n:(k+1)*n])
	}
}

// TapSum stores bias + sum over t of w[t]*src[offs[t]+i] into dst[i] for
// every i of dst, the taps added in order (a depthwise convolution's
// filter taps over a zero-bordered plane). Every offs[t]+len(dst) must be
// at most len(src). It is the plain Go definition TapSumRows is checked
// against, and its fallback.
func TapSum(dst, src []float32, offs []int32, w []float32, bias float32) {
	w = w[:len(offs)]
	for _, o := range offs {
		if o < 0 || int(o)+len(dst) > len(src) {
			panic("vec: TapSum offset out of range")
		}
	}
	for i := range dst {
		s := bias
		for t, o := range offs {
			s += w[t] * src[int(o)+i]
		}
		dst[i] = s
	}
}

// TapSumRows is TapSum over rows: for r < rows, the n outputs at
// dst[r*dstStride:] are the tap sums of src[r*srcStride:]. The assembly
// path fuses each multiply-add (results may differ from TapSum in the last
// bits). It panics if a row or a tap reaches past dst or src.
func TapSumRows(dst []float32, dstStride int, src []float32, srcStride int, rows, n int, offs []int32, w []float32, bias float32) {
	if rows <= 0 || n <= 0 {
		return
	}
	w = w[:len(offs)]
	if (rows-1)*dstStride+n > len(dst) {
		panic("vec: TapSumRows rows reach past dst")
	}
	for _, o := range offs {
		if o < 0 || (rows-1)*srcStride+int(o)+n > len(src) {
			panic("vec: TapSumRows offset out of range")
		}
	}
	if hasFMA && n >= 8 && len(offs) > 0 {
		tapSumRowsAVX(&dst[0], dstStride, &src[0], srcStride, rows, n, &offs[0], &w[0], len(offs), bias)
		return
	}
	for r := 0; r < rows; r++ {
		TapSum(dst[r*dstStride:r*dstStride+n], src[r*srcStride:], offs, w, bias)
	}
}

// TapSumPlanes is TapSumRows over planes that each have their own taps and
// bias, clamped: for p < planes, the n outputs at dst[p*stride:] are the
// clamp to [lo, hi] of bias[p] + sum over t of w[p*T+t] *
// src[p*stride+offs[t]+i], with T = len(offs) taps (a depthwise
// convolution's channels, each computed flat over its zero-bordered
// plane; one call for all of them). It panics if a plane reaches past dst
// or src, or w or bias is short.
func TapSumPlanes(dst, src []float32, stride, planes, n int, offs []int32, w, bias []float32, lo, hi float32) {
	if planes <= 0 || n <= 0 {
		return
	}
	T := len(offs)
	w, bias = w[:planes*T], bias[:planes]
	if (planes-1)*stride+n > len(dst) {
		panic("vec: TapSumPlanes planes reach past dst")
	}
	for _, o := range offs {
		if o < 0 || (planes-1)*stride+int(o)+n > len(src) {
			panic("vec: TapSumPlanes offset out of range")
		}
	}
	if hasFMA && n >= 8 && T > 0 {
		tapSumPlanesAVX(&dst[0], &src[0], stride, planes, n, &offs[0], &w[0], T, &bias[0], lo, hi)
		return
	}
	for p := 0; p < planes; p++ {
		d := dst[p*stride : p*stride+n]
		TapSum(d, src[p*stride:], offs, w[p*T:(p+1)*T], bias[p])
		Clamp(d, d, lo, hi)
	}
}

// CopyRows copies rows of n floats from src (row stride srcStride) to dst
// (row stride dstStride). It panics if a row reaches past either.
func CopyRows(dst []float32, dstStride int, src []float32, srcStride int, rows, n int) {
	if rows <= 0 || n <= 0 {
		return
	}
	if (rows-1)*dstStride+n > len(dst) || (rows-1)*srcStride+n > len(src) {
		panic("vec: CopyRows rows reach past a slice")
	}
	if hasAVX && n >= 8 {
		// One plane of CopyPlanes' assembly. A negative stride passes the
		// check above; the Go loop below panics on it.
		if dstStride >= 0 && srcStride >= 0 {
			copyPlanesAVX(&dst[0], dstStride, 0, &src[0], srcStride, 0, 1, rows, n, 0)
			return
		}
	}
	if n < 8 {
		// Short rows (a depthwise convolution's small maps): a loop, not
		// a memmove call per row, which cost more than the copy.
		for r := 0; r < rows; r++ {
			d, s := dst[r*dstStride:r*dstStride+n], src[r*srcStride:r*srcStride+n]
			for i := range d {
				d[i] = s[i]
			}
		}
		return
	}
	for r := 0; r < rows; r++ {
		copy(dst[r*dstStride:r*dstStride+n], src[r*srcStride:r*srcStride+n])
	}
}

// CopyPlanes copies planes of rows of n floats: row r of plane k from
// src[k*srcPlane+r*srcRow:] to dst[k*dstPlane+r*dstRow:], for k < planes
// and r < rows (a group of channels into or out of zero-bordered planes,
// in one call). It panics if a row reaches past either slice.
func CopyPlanes(dst []float32, dstRow, dstPlane int, src []float32, srcRow, srcPlane int, planes, rows, n int) {
	copyPlanes(dst, dstRow, dstPlane, src, srcRow, srcPlane, planes, rows, n, false)
}

// CopyPlanesSpill is CopyPlanes for destinations written in increasing
// order whose gaps are zero: it may also write up to 8-n zeros after any
// row but the last (the assembly stores whole vectors, where a masked
// store is slow). The caller guarantees that what follows a row, up to
// 8-n floats, is zero border or part of a row copied later: true of rows
// copied into zero-bordered planes in order, and of rows packed end to
// end. Where a whole vector would reach past dst, it stores masked.
func CopyPlanesSpill(dst []float32, dstRow, dstPlane int, src []float32, srcRow, srcPlane int, planes, rows, n int) {
	copyPlanes(dst, dstRow, dstPlane, src, srcRow, srcPlane, planes, rows, n, true)
}

func copyPlanes(dst []float32, dstRow, dstPlane int, src []float32, srcRow, srcPlane int, planes, rows, n int, spill bool) {
	if planes <= 0 || rows <= 0 || n <= 0 {
		return
	}
	if dstRow < 0 || dstPlane < 0 || srcRow < 0 || srcPlane < 0 {
		panic("vec: CopyPlanes negative stride")
	}
	end := (planes-1)*dstPlane + (rows-1)*dstRow + n
	if end > len(dst) || (planes-1)*srcPlane+(rows-1)*srcRow+n > len(src) {
		panic("vec: CopyPlanes rows reach past a slice")
	}
	if hasAVX {
		s := 0
		// Every row but the last may write a whole vector: only when they
		// all stay inside dst (the last but one is the furthest).
		if spill && max((planes-1)*dstPlane+(rows-2)*dstRow, (planes-2)*dstPlane+(rows-1)*dstRow)+8 <= len(dst) {
			s = 1
		}
		copyPlanesAVX(&dst[0], dstRow, dstPlane, &src[0], srcRow, srcPlane, planes, rows, n, s)
		return
	}
	for k := 0; k < planes; k++ {
		CopyRows(dst[k*dstPlane:], dstRow, src[k*srcPlane:], srcRow, rows, n)
	}
}

// ClampRows stores the clamp of src's rows to [lo, hi] into dst's: for r <
// rows, n floats from src[r*srcStride:] to dst[r*dstStride:]. dst and src
// may be the same slice with the same stride (in place) but must not
// otherwise overlap. It panics if a row reaches past either.
func ClampRows(dst []float32, dstStride int, src []float32, srcStride int, rows, n int, lo, hi float32) {
	if rows <= 0 || n <= 0 {
		return
	}
	if (rows-1)*dstStride+n > len(dst) || (rows-1)*srcStride+n > len(src) {
		panic("vec: ClampRows rows reach past a slice")
	}
	if hasAVX && n >= 8 {
		clampRowsAVX(&dst[0], dstStride, &src[0], srcStride, &src[0], 0, rows, n, 0, lo, hi)
		return
	}
	for r := 0; r < rows; r++ {
		Clamp(dst[r*dstStride:r*dstStride+n], src[r*srcStride:r*srcStride+n], lo, hi)
	}
}

// AvgClampRows stores the clamp of the average of a's and b's rows to [lo,
// hi] into dst's rows (strides as ClampRows). dst must not overlap a or b.
// It panics if a row reaches past a slice.
func AvgClampRows(dst []float32, dstStride int, a []float32, aStride int, b []float32, bStride int, rows, n int, lo, hi float32) {
	if rows <= 0 || n <= 0 {
		return
	}
	if (rows-1)*dstStride+n > len(dst) || (rows-1)*aStride+n > len(a) || (rows-1)*bStride+n > len(b) {
		panic("vec: AvgClampRows rows reach past a slice")
	}
	if hasAVX && n >= 8 {
		clampRowsAVX(&dst[0], dstStride, &a[0], aStride, &b[0], bStride, rows, n, 1, lo, hi)
		return
	}
	for r := 0; r < rows; r++ {
		AvgClamp(dst[r*dstStride:r*dstStride+n], a[r*aStride:r*aStride+n], b[r*bStride:r*bStride+n], lo, hi)
	}
}
