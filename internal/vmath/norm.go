package vmath

// The passes of a normalisation over a row (LayerNormalization,
// InstanceNormalization): its statistics (SumSquares) and its output
// (Normalize with a scale and bias per element, Affine with one of each).
// AVX2 loops on amd64, Go loops elsewhere.

// SumSquares returns the sum of x and the sum of its squares, each
// element widened to float64 and accumulated in float64 (in eight
// partial sums on amd64, four elsewhere).
func SumSquares(x []float32) (s, q float64) {
	n := len(x) &^ 7
	if useReduce && n > 0 {
		s, q = sumSquaresKernel(&x[0], n)
	} else {
		n = 0
	}
	var s0, s1, q0, q1 float64
	i := n
	for ; i+2 <= len(x); i += 2 {
		a, b := float64(x[i]), float64(x[i+1])
		s0 += a
		s1 += b
		q0 += a * a
		q1 += b * b
	}
	if i < len(x) {
		a := float64(x[i])
		s0 += a
		q0 += a * a
	}
	return s + (s0 + s1), q + (q0 + q1)
}

// Normalize stores ((src[i]-m)*a)*scale[i] + bias[i] into dst[i] (the
// last multiply-add fused on amd64). src, scale and bias must be at
// least as long as dst; dst may be src.
func Normalize(dst, src, scale, bias []float32, m, a float32) {
	src, scale, bias = src[:len(dst)], scale[:len(dst)], bias[:len(dst)]
	n := len(dst) &^ 7
	if useReduce && n > 0 {
		normalizeKernel(&dst[0], &src[0], &scale[0], &bias[0], n, m, a)
	} else {
		n = 0
	}
	for i := n; i < len(dst); i++ {
		dst[i] = (src[i]-m)*a*scale[i] + bias[i]
	}
}

// Affine stores (src[i]-m)*a + b into dst[i] (the multiply-add fused on
// amd64). src must be at least as long as dst; dst may be src.
func Affine(dst, src []float32, m, a, b float32) {
	src = src[:len(dst)]
	n := len(dst) &^ 7
	if useReduce && n > 0 {
		affineKernel(&dst[0], &src[0], n, m, a, b)
	} else {
		n = 0
	}
	for i := n; i < len(dst); i++ {
		dst[i] = (src[i]-m)*a + b
	}
}
