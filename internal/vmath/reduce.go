package vmath

import "math"

// The passes of a softmax over a row: its maximum (Max, and Min beside it), the
// exponentials of the row less it with their sum (ExpShiftSum), and the
// division by the sum (Scale). On amd64 with AVX2 and FMA each is one
// assembly loop over the row, eight lanes at a time; elsewhere Go loops
// (around the NEON exponential on arm64).

// ExpShiftSum stores e^(src[i]-shift) into dst[i], the difference rounded
// to float32 first and the exponential as Exp computes it (the same
// bits), and returns the sum of dst in float32 (summed in eight lane
// sums on amd64, four partial sums elsewhere: the order differs, so the
// last bits may). dst and src may be the same slice.
func ExpShiftSum(dst, src []float32, shift float32) float32 {
	src = src[:len(dst)]
	if !useReduce {
		for i, x := range src {
			dst[i] = x - shift
		}
		Exp(dst, dst)
		return sum4(dst)
	}
	var s float32
	n := len(dst) &^ 7
	if n > 0 {
		s = expShiftSumKernel(&dst[0], &src[0], n, shift)
	}
	if r := len(dst) - n; r > 0 {
		var buf [8]float32
		for i, x := range src[n:] {
			buf[i] = x - shift
		}
		kernel(kExp, &buf[0], &buf[0], 8, 0, 0)
		copy(dst[n:], buf[:r])
		for _, v := range buf[:r] {
			s += v
		}
	}
	return s
}

// Max returns the largest element of x: NaN if one is NaN, -Inf for an
// empty x.
func Max(x []float32) float32 {
	m, n := float32(math.Inf(-1)), len(x)&^7
	if useReduce && n > 0 {
		m = maxKernel(&x[0], n)
	} else {
		n = 0
	}
	for _, v := range x[n:] {
		m = max(m, v) // the builtin propagates NaN
	}
	return m
}

// Min returns the smallest element of x: NaN if one is NaN, +Inf for an
// empty x.
func Min(x []float32) float32 {
	m, n := float32(math.Inf(1)), len(x)&^7
	if useReduce && n > 0 {
		m = minKernel(&x[0], n)
	} else {
		n = 0
	}
	for _, v := range x[n:] {
		m = min(m, v)
	}
	return m
}

// Scale multiplies every dst[i] by a.
func Scale(dst []float32, a float32) {
	n := len(dst) &^ 7
	if useReduce && n > 0 {
		scaleKernel(&dst[0], n, a)
	} else {
		n = 0
	}
	for i := range dst[n:] {
		dst[n+i] *= a
	}
}

// sum4 adds x in four partial sums.
func sum4(x []float32) float32 {
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += x[i]
		s1 += x[i+1]
		s2 += x[i+2]
		s3 += x[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i]
	}
	return (s0 + s2) + (s1 + s3)
}
