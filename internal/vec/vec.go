// Package vec holds small element-wise float32 routines that the engine's
// approximate kernels run over whole rows: AVX assembly on amd64, Go
// elsewhere. Every path gives the same bits: a clamp keeps NaN (it is
// neither below lo nor above hi) and keeps -0 when lo is 0.
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
