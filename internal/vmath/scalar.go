package vmath

import "math"

// The scalar kernels below are the portable path and the definition the
// assembly follows step for step: the same clamps, range reductions and
// polynomial coefficients, evaluated in float32. The assembly fuses
// multiply-adds, so the two may differ in the last bit; both are tested
// against math's float64 results with the bounds stated on the exported
// functions.

// Constants of exp: x = n*ln2 + r with n = round(x*log2e), ln2 split in a
// high part exact in 9 bits (n*expLn2Hi is exact for |n| < 2^15) and a
// low part; e^r = 1 + r + r^2*P(r) on |r| <= ln2/2 (Cephes expf).
const (
	expMax   = 89   // e^89 overflows float32: the result is +Inf
	expMin   = -104 // e^-104 is below half the smallest denormal: 0
	expLog2e = 1.44269504088896341
	expLn2Hi = 0.693359375
	expLn2Lo = -2.12194440e-4
	expP0    = 1.9875691500e-4
	expP1    = 1.3981999507e-3
	expP2    = 8.3334519073e-3
	expP3    = 4.1665795894e-2
	expP4    = 1.6666665459e-1
	expP5    = 5.0000001201e-1
)

// exp1 is e^x: x clamped to [expMin, expMax] (NaN passes), reduced to r,
// and 2^n applied as 2^(n>>1) * 2^(n-n>>1) so that every factor stays a
// normal number down to the denormal results and up to the overflow.
func exp1(x float32) float32 {
	if x > expMax {
		x = expMax
	}
	if x < expMin {
		x = expMin
	}
	if x != x {
		return x
	}
	fn := float32(math.RoundToEven(float64(float32(x * expLog2e))))
	n := int32(fn)
	r := x - fn*expLn2Hi
	r = r - fn*expLn2Lo
	r2 := r * r
	p := float32(expP0)
	p = p*r + expP1
	p = p*r + expP2
	p = p*r + expP3
	p = p*r + expP4
	p = p*r + expP5
	e := p*r2 + r
	e = e + 1
	n1 := n >> 1
	n2 := n - n1
	return e * math.Float32frombits(uint32(n1+127)<<23) * math.Float32frombits(uint32(n2+127)<<23)
}

// sigmoid1 is 1/(1+e^-x) computed from e = e^-|x| <= 1: 1/(1+e) for x >= 0
// and e/(1+e) for x < 0, so that neither side overflows and the negative
// side keeps its denormal results.
func sigmoid1(x float32) float32 {
	a := math.Float32frombits(math.Float32bits(x) | 1<<31) // -|x|
	e := exp1(a)
	num := float32(1)
	if math.Float32bits(x)>>31 != 0 {
		num = e
	}
	return num / (1 + e)
}

// Constants of tanh: below tanhSmall, x + x^3*P(x^2) (Cephes tanhf);
// above, 1 - 2/(e^2|x| + 1).
const (
	tanhSmall = 0.625
	tanhP0    = -5.70498872745e-3
	tanhP1    = 2.06390887954e-2
	tanhP2    = -5.37397155531e-2
	tanhP3    = 1.33314422036e-1
	tanhP4    = -3.33332819422e-1
)

// tanh1 is tanh(x), computed on |x| and given x's sign.
func tanh1(x float32) float32 {
	sign := math.Float32bits(x) & (1 << 31)
	a := math.Float32frombits(math.Float32bits(x) &^ (1 << 31))
	var y float32
	if a < tanhSmall {
		z := a * a
		p := float32(tanhP0)
		p = p*z + tanhP1
		p = p*z + tanhP2
		p = p*z + tanhP3
		p = p*z + tanhP4
		p = p * z
		y = p*a + a
	} else {
		e := exp1(a + a)
		y = 1 - 2/(e+1)
	}
	return math.Float32frombits(math.Float32bits(y) | sign)
}

// Constants of log: x = m * 2^e with m in [sqrt(1/2), sqrt(2)), f = m-1,
// log(1+f) = f - f^2/2 + f^3*P(f) (Cephes logf), e*ln2 added in two parts.
const (
	logMinNorm = 0x1p-126
	logSqrtHf  = 0.707106781186547524
	logP0      = 7.0376836292e-2
	logP1      = -1.1514610310e-1
	logP2      = 1.1676998740e-1
	logP3      = -1.2420140846e-1
	logP4      = 1.4249322787e-1
	logP5      = -1.6668057665e-1
	logP6      = 2.0000714765e-1
	logP7      = -2.4999993993e-1
	logP8      = 3.3333331174e-1
)

// log1 is the natural logarithm: denormals are scaled by 2^23 first;
// negative numbers and NaN give NaN, ±0 gives -Inf, +Inf gives +Inf.
func log1(x float32) float32 {
	switch {
	case !(x >= 0):
		return float32(math.NaN())
	case x == 0:
		return float32(math.Inf(-1))
	case x > math.MaxFloat32:
		return x
	}
	adj := float32(0)
	if x < logMinNorm {
		x *= 0x1p23
		adj = 23
	}
	b := math.Float32bits(x)
	fe := float32(int32(b>>23)-126) - adj
	m := math.Float32frombits(b&0x007fffff | 0x3f000000) // [0.5, 1)
	var f float32
	if m < logSqrtHf {
		fe = fe - 1
		f = m + m - 1
	} else {
		f = m - 1
	}
	z := f * f
	p := float32(logP0)
	p = p*f + logP1
	p = p*f + logP2
	p = p*f + logP3
	p = p*f + logP4
	p = p*f + logP5
	p = p*f + logP6
	p = p*f + logP7
	p = p*f + logP8
	y := p * f
	y = y * z
	y = fe*expLn2Lo + y
	y = z*-0.5 + y
	r := f + y
	return fe*expLn2Hi + r
}

// Constants of erf: x clamped to [-4, 4] (erf(4) rounds to 1), then
// P(x^2)/Q(x^2)*x, a rational minimax approximation (the one of Eigen's
// generic_fast_erf_float), clamped to [-1, 1].
const (
	erfMax = 4
	erfA13 = -2.72614225801306e-10
	erfA11 = 2.77068142495902e-08
	erfA9  = -2.10102402082508e-06
	erfA7  = -5.69250639462346e-05
	erfA5  = -7.34990630326855e-04
	erfA3  = -2.95459980854025e-03
	erfA1  = -1.60960333262415e-02
	erfB8  = -1.45660718464996e-05
	erfB6  = -2.13374055278905e-04
	erfB4  = -1.68282697438203e-03
	erfB2  = -7.37332916720468e-03
	erfB0  = -1.42647390514189e-02
)

// erf1 is erf(x).
func erf1(x float32) float32 {
	if x > erfMax {
		x = erfMax
	}
	if x < -erfMax {
		x = -erfMax
	}
	z := x * x
	p := float32(erfA13)
	p = p*z + erfA11
	p = p*z + erfA9
	p = p*z + erfA7
	p = p*z + erfA5
	p = p*z + erfA3
	p = p*z + erfA1
	q := float32(erfB8)
	q = q*z + erfB6
	q = q*z + erfB4
	q = q*z + erfB2
	q = q*z + erfB0
	y := p / q * x // x last: x*A1 of a tiny x would lose bits as a denormal
	if y > 1 {
		y = 1
	}
	if y < -1 {
		y = -1
	}
	return y
}

// hardSigmoid1 is max(0, min(1, a*x + b)), the multiply not fused.
func hardSigmoid1(x, a, b float32) float32 {
	return max(0, min(1, float32(a*x)+b))
}

// hardSwish1 is x * max(0, min(1, x/6 + 0.5)).
func hardSwish1(x float32) float32 {
	return x * max(0, min(1, x/6+0.5))
}

// silu1 is x * sigmoid(x).
func silu1(x float32) float32 { return x * sigmoid1(x) }

// gelu1 is (0.5*x) * (1 + erf(x/sqrt(2))), erf as erf1.
func gelu1(x float32) float32 {
	h := 0.5 * x
	return h * (1 + erf1(x*(1/math.Sqrt2)))
}
