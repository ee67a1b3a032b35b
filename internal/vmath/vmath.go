// Package vmath computes transcendental functions over float32 slices:
// exp, log, tanh, sigmoid and erf, the activations built on them (SiLU,
// Gelu) and the piecewise-linear hard sigmoid and hard swish. They run as
// assembly on amd64 with AVX2 and FMA (eight lanes at a time, generated
// by tools/asm/vmath_amd64) and on arm64 (NEON, four lanes,
// vmath_arm64.s); elsewhere, on older amd64 CPUs and with the purego tag
// as Go loops over the same polynomials (scalar.go defines them; the
// assembly follows it step for step). Every function's doc comment
// states its maximum error against the correctly rounded result,
// measured by the package's tests over a strided sweep of all float32
// inputs on both paths. The paths may differ in the last bits (the
// assembly fuses multiply-adds), never between runs on one machine.
//
// Each function writes dst[i] for every i of dst from src[i] (src must be
// at least as long); dst and src may be the same slice, but must not
// otherwise overlap.
package vmath

//go:generate go run ../../tools/asm/vmath_amd64 -out vmath_amd64.s -stubs vmath_stubs_amd64.go -pkg vmath

// kind names a function for kernel.
type kind int

const (
	kExp kind = iota
	kLog
	kTanh
	kSigmoid
	kErf
	kHardSigmoid
	kHardSwish
	kSiLU
	kGelu
)

// vector runs k's assembly over dst, the tail through an 8-element buffer,
// and reports whether it did (false: no assembly on this CPU).
func vector(k kind, dst, src []float32) bool { return vectorAB(k, dst, src, 0, 0) }

// vectorAB is vector for a function with parameters a and b.
func vectorAB(k kind, dst, src []float32, a, b float32) bool {
	if !useAsm {
		return false
	}
	n := len(dst) &^ 7
	if n > 0 {
		kernel(k, &dst[0], &src[0], n, a, b)
	}
	if r := len(dst) - n; r > 0 {
		var buf [8]float32
		copy(buf[:], src[n:n+r])
		kernel(k, &buf[0], &buf[0], 8, a, b)
		copy(dst[n:], buf[:r])
	}
	return true
}

// Exp stores e^src[i] into dst[i], within 2 ulp of the correctly rounded
// result (1.0 measured). Like math.Exp it overflows to +Inf (above about
// 88.72) and underflows through the denormals to 0 (below about -103.97);
// NaN gives NaN.
func Exp(dst, src []float32) {
	src = src[:len(dst)]
	if vector(kExp, dst, src) {
		return
	}
	for i, x := range src {
		dst[i] = exp1(x)
	}
}

// Log stores the natural logarithm of src[i] into dst[i], within 1 ulp of
// the correctly rounded result (0.83 measured), denormal inputs included.
// Log of a negative number or NaN is NaN, of ±0 is -Inf, of +Inf is +Inf.
func Log(dst, src []float32) {
	src = src[:len(dst)]
	if vector(kLog, dst, src) {
		return
	}
	for i, x := range src {
		dst[i] = log1(x)
	}
}

// Tanh stores tanh(src[i]) into dst[i], within 2 ulp of the correctly
// rounded result (1.33 measured). It saturates to exactly ±1 for large |x|
// (and ±Inf), keeps the sign of zero and returns denormals unchanged; NaN
// gives NaN.
func Tanh(dst, src []float32) {
	src = src[:len(dst)]
	if vector(kTanh, dst, src) {
		return
	}
	for i, x := range src {
		dst[i] = tanh1(x)
	}
}

// Sigmoid stores 1/(1+e^-src[i]) into dst[i], within 3 ulp of the
// correctly rounded result (2.28 measured), the denormal results of large
// negative inputs included. It saturates to exactly 1 and to 0 (never NaN)
// for large |x| and ±Inf; NaN gives NaN.
func Sigmoid(dst, src []float32) {
	src = src[:len(dst)]
	if vector(kSigmoid, dst, src) {
		return
	}
	for i, x := range src {
		dst[i] = sigmoid1(x)
	}
}

// Erf stores erf(src[i]) into dst[i] with an absolute error below 5e-7
// (4.5e-7 measured; a rational approximation), and within 5 ulp of the
// correctly rounded result for |x| < 0.5 (4.0 measured), denormals
// included. It is exactly ±1 for ±Inf and keeps the sign of zero; NaN
// gives NaN.
func Erf(dst, src []float32) {
	src = src[:len(dst)]
	if vector(kErf, dst, src) {
		return
	}
	for i, x := range src {
		dst[i] = erf1(x)
	}
}

// HardSigmoid stores max(0, min(1, alpha*src[i] + beta)) into dst[i]:
// the same value as that float32 expression in Go (a multiply, then an
// add; NaN gives NaN), except that a zero result may be -0.
func HardSigmoid(dst, src []float32, alpha, beta float32) {
	src = src[:len(dst)]
	if vectorAB(kHardSigmoid, dst, src, alpha, beta) {
		return
	}
	for i, x := range src {
		dst[i] = hardSigmoid1(x, alpha, beta)
	}
}

// HardSwish stores x * max(0, min(1, x/6 + 0.5)) of x = src[i] into
// dst[i]: the same value as that float32 expression in Go (NaN gives
// NaN), except that a zero result may have the other sign.
func HardSwish(dst, src []float32) {
	src = src[:len(dst)]
	if vector(kHardSwish, dst, src) {
		return
	}
	for i, x := range src {
		dst[i] = hardSwish1(x)
	}
}

// SiLU stores x*sigmoid(x) of x = src[i] into dst[i], within 4 ulp of the
// correctly rounded result (Sigmoid's bound and one rounding); a denormal
// result (x below about -87) is within 1.2e-43. It is +Inf for +Inf and NaN
// for -Inf (Inf times 0) and NaN.
func SiLU(dst, src []float32) {
	src = src[:len(dst)]
	if vector(kSiLU, dst, src) {
		return
	}
	for i, x := range src {
		dst[i] = silu1(x)
	}
}

// Gelu stores 0.5*x*(1 + erf(x/sqrt(2))) of x = src[i] into dst[i] (the
// exact Gelu, ONNX's approximate="none"), from Erf: the error is within
// 4 ulp of the result plus 2.5e-7*|x| (Erf's absolute error, scaled),
// which matters only where the result is near 0 for negative x. It is
// +Inf for +Inf and NaN for -Inf (Inf times 0) and NaN.
func Gelu(dst, src []float32) {
	src = src[:len(dst)]
	if vector(kGelu, dst, src) {
		return
	}
	for i, x := range src {
		dst[i] = gelu1(x)
	}
}
