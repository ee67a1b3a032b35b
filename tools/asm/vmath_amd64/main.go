// Command vmath_amd64 generates the AVX2+FMA kernels of package
// github.com/kagen-ai/kagen/internal/vmath with avo.
//
// It is run by go generate in internal/vmath:
//
//	go run ../../tools/asm/vmath_amd64 -out vmath_amd64.s -stubs vmath_stubs_amd64.go -pkg vmath
//
// Each kernel is func(dst, src *float32, n int) over n elements, n a
// multiple of 8, eight per iteration; the Go side runs the tail through
// the same kernel on a zero-padded 8-element buffer. The kernels follow
// the scalar definitions in internal/vmath/scalar.go step for step (same
// clamps, reductions and coefficients; the scalar file documents them),
// with the multiply-adds fused. Constants are 32-byte vectors in read-only
// data, used as memory operands so that no register holds them.
package main

import (
	"fmt"
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The scalar file's constants, as float32 (the same values the Go
// compiler rounds them to).
const (
	expMax, expMin     = 89, -104
	expLog2e           = 1.44269504088896341
	expLn2Hi, expLn2Lo = 0.693359375, -2.12194440e-4

	tanhSmall = 0.625

	logMinNorm = 0x1p-126
	logSqrtHf  = 0.707106781186547524

	erfMax = 4
)

var (
	expP  = []float64{1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1}
	tanhP = []float64{-5.70498872745e-3, 2.06390887954e-2, -5.37397155531e-2, 1.33314422036e-1, -3.33332819422e-1}
	logP  = []float64{7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1,
		-1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1}
	erfA = []float64{-2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06, -5.69250639462346e-05,
		-7.34990630326855e-04, -2.95459980854025e-03, -1.60960333262415e-02}
	erfB = []float64{-1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03, -7.37332916720468e-03,
		-1.42647390514189e-02}
)

var consts = map[uint32]Mem{}

// cb returns a 32-byte constant holding the 32-bit pattern b eight times.
func cb(b uint32) Mem {
	if m, ok := consts[b]; ok {
		return m
	}
	m := GLOBL(fmt.Sprintf("vmc_%08x", b), RODATA|NOPTR)
	for i := 0; i < 8; i++ {
		DATA(4*i, U32(b))
	}
	consts[b] = m
	return m
}

// cf returns a 32-byte constant holding float32(v) eight times.
func cf(v float64) Mem { return cb(math.Float32bits(float32(v))) }

func main() {
	ConstraintExpr("!purego")
	kernel("expAVX2", "expAVX2 stores e^src[i] into dst[i] for i < n (a multiple of 8).", emitExp)
	kernel("logAVX2", "logAVX2 stores log(src[i]) into dst[i] for i < n (a multiple of 8).", emitLog)
	kernel("tanhAVX2", "tanhAVX2 stores tanh(src[i]) into dst[i] for i < n (a multiple of 8).", emitTanh)
	kernel("sigmoidAVX2", "sigmoidAVX2 stores 1/(1+e^-src[i]) into dst[i] for i < n (a multiple of 8).", emitSigmoid)
	kernel("erfAVX2", "erfAVX2 stores erf(src[i]) into dst[i] for i < n (a multiple of 8).", emitErf)
	kernel("siluAVX2", "siluAVX2 stores src[i]/(1+e^-src[i]) into dst[i] for i < n (a multiple of 8).", emitSiLU)
	kernel("geluAVX2", "geluAVX2 stores 0.5*src[i]*(1+erf(src[i]/sqrt(2))) into dst[i] for i < n (a multiple of 8).", emitGelu)
	hardSigmoid()
	hardSwish()
	expShiftSum()
	extreme("max", func(a, b, c Op) { VMAXPS(a, b, c) })
	extreme("min", func(a, b, c Op) { VMINPS(a, b, c) })
	scale()
	sumSquares()
	normalize()
	affine()
	Generate()
}

// kernel emits one function looping body over n/8 vectors.
func kernel(name, doc string, body func(x VecVirtual) VecVirtual) {
	TEXT(name, NOSPLIT, "func(dst, src *float32, n int)")
	Pragma("noescape")
	Doc(doc)
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	n := Load(Param("n"), GP64())
	SHRQ(U8(3), n)
	JZ(LabelRef(name + "_done"))
	Label(name + "_loop")
	x := YMM()
	VMOVUPS(Mem{Base: src}, x)
	y := body(x)
	VMOVUPS(y, Mem{Base: dst})
	ADDQ(U8(32), src)
	ADDQ(U8(32), dst)
	DECQ(n)
	JNZ(LabelRef(name + "_loop"))
	Label(name + "_done")
	VZEROUPPER()
	RET()
}

// clamp returns x clamped to [lo, hi], NaN passing through: VMINPS and
// VMAXPS return their second source (x) when either is NaN.
func clamp(x VecVirtual, lo, hi float64) VecVirtual {
	t, u := YMM(), YMM()
	VMOVUPS(cf(hi), t)
	VMINPS(x, t, t) // t = hi < x ? hi : x
	VMOVUPS(cf(lo), u)
	VMAXPS(t, u, u) // u = lo > t ? lo : t
	return u
}

// horner returns ((c0*v + c1)*v + ...) + cn.
func horner(v VecVirtual, c []float64) VecVirtual {
	p := YMM()
	VMOVUPS(cf(c[0]), p)
	for _, k := range c[1:] {
		VFMADD213PS(cf(k), v, p) // p = v*p + k
	}
	return p
}

// emitExp is exp1: clamp, n = round(x*log2e), r = x - n*ln2 in two
// parts, e^r = (P(r)*r^2 + r) + 1, times 2^(n>>1) * 2^(n - n>>1).
func emitExp(x VecVirtual) VecVirtual {
	u := clamp(x, expMin, expMax)
	fn := YMM()
	VMULPS(cf(expLog2e), u, fn)
	VROUNDPS(U8(0), fn, fn) // to nearest even
	VFNMADD231PS(cf(expLn2Hi), fn, u)
	VFNMADD231PS(cf(expLn2Lo), fn, u)
	r2 := YMM()
	VMULPS(u, u, r2)
	p := horner(u, expP)
	VFMADD213PS(u, r2, p) // p = r2*p + r
	VADDPS(cf(1), p, p)
	n, n1 := YMM(), YMM()
	VCVTTPS2DQ(fn, n)
	VPSRAD(U8(1), n, n1)
	VPSUBD(n1, n, n) // n = n - n1
	VPADDD(cb(127), n1, n1)
	VPSLLD(U8(23), n1, n1)
	VPADDD(cb(127), n, n)
	VPSLLD(U8(23), n, n)
	VMULPS(n1, p, p)
	VMULPS(n, p, p)
	return p
}

// emitSigmoid is sigmoid1: e = e^-|x|, (x < 0 ? e : 1) / (1 + e).
func emitSigmoid(x VecVirtual) VecVirtual {
	a := YMM()
	VORPS(cb(1<<31), x, a)
	e := emitExp(a)
	d, num := YMM(), YMM()
	VADDPS(cf(1), e, d)
	VMOVUPS(cf(1), num)
	VBLENDVPS(x, e, num, num) // num = sign(x) ? e : 1
	VDIVPS(d, num, num)
	return num
}

// emitTanh is tanh1: on a = |x|, a < 0.625 ? P(a^2)*a^2*a + a :
// 1 - 2/(e^2a + 1), with x's sign.
func emitTanh(x VecVirtual) VecVirtual {
	a := YMM()
	VANDPS(cb(0x7fffffff), x, a)
	z := YMM()
	VMULPS(a, a, z)
	p := horner(z, tanhP)
	VMULPS(z, p, p)
	VFMADD213PS(a, a, p) // p = a*p + a
	t := YMM()
	VADDPS(a, a, t)
	e := emitExp(t)
	VADDPS(cf(1), e, e)
	q := YMM()
	VMOVUPS(cf(2), q)
	VDIVPS(e, q, q) // q = 2/(e+1)
	l := YMM()
	VMOVUPS(cf(1), l)
	VSUBPS(q, l, l) // l = 1 - q
	m := YMM()
	VCMPPS(U8(1), cf(tanhSmall), a, m) // a < tanhSmall (LT_OS)
	VBLENDVPS(m, p, l, l)
	s := YMM()
	VANDPS(cb(1<<31), x, s)
	VORPS(s, l, l)
	return l
}

// emitLog is log1: denormals scaled by 2^23, x = m*2^e with m in
// [sqrt(1/2), sqrt(2)), f = m-1, f + (f^3*P(f) - f^2/2) + e*ln2 with ln2
// in two parts; then +Inf for +Inf, -Inf for ±0, NaN for x < 0 and NaN.
func emitLog(x VecVirtual) VecVirtual {
	mask, s, v := YMM(), YMM(), YMM()
	VCMPPS(U8(1), cf(logMinNorm), x, mask) // x < 2^-126
	VMULPS(cf(0x1p23), x, s)
	VBLENDVPS(mask, s, x, v)
	adj := YMM()
	VANDPS(cf(23), mask, adj)
	e, fe := YMM(), YMM()
	VPSRLD(U8(23), v, e)
	VPSUBD(cb(126), e, e)
	VCVTDQ2PS(e, fe)
	VSUBPS(adj, fe, fe)
	m := YMM()
	VANDPS(cb(0x007fffff), v, m)
	VORPS(cb(0x3f000000), m, m)
	lt, o := YMM(), YMM()
	VCMPPS(U8(1), cf(logSqrtHf), m, lt) // m < sqrt(1/2)
	VANDPS(cf(1), lt, o)
	VSUBPS(o, fe, fe)
	VANDPS(m, lt, o)
	VADDPS(o, m, m)
	VSUBPS(cf(1), m, m) // f
	z := YMM()
	VMULPS(m, m, z)
	p := horner(m, logP)
	VMULPS(m, p, p)
	VMULPS(z, p, p)
	VFMADD231PS(cf(expLn2Lo), fe, p) // p = fe*ln2lo + p
	VFMADD231PS(cf(-0.5), z, p)      // p = z*-0.5 + p
	VADDPS(m, p, p)
	VFMADD231PS(cf(expLn2Hi), fe, p)
	t := YMM()
	VCMPPS(U8(0), cf(math.Inf(1)), x, t) // x == +Inf (EQ_OQ)
	VBLENDVPS(t, cf(math.Inf(1)), p, p)
	VCMPPS(U8(0), cb(0), x, t) // x == 0
	VBLENDVPS(t, cf(math.Inf(-1)), p, p)
	VCMPPS(U8(9), cb(0), x, t) // !(x >= 0) (NGE_US): negative or NaN
	VBLENDVPS(t, cb(0x7fc00000), p, p)
	return p
}

// emitErf is erf1: x clamped to [-4, 4], A(x^2)/B(x^2)*x clamped to
// [-1, 1].
func emitErf(x VecVirtual) VecVirtual {
	u := clamp(x, -erfMax, erfMax)
	z := YMM()
	VMULPS(u, u, z)
	p := horner(z, erfA)
	q := horner(z, erfB)
	VDIVPS(q, p, p)
	VMULPS(u, p, p) // x last, as in erf1
	return clamp(p, -1, 1)
}

// emitSiLU is silu1: x * sigmoid(x).
func emitSiLU(x VecVirtual) VecVirtual {
	s := emitSigmoid(x)
	VMULPS(x, s, s)
	return s
}

// emitGelu is gelu1: (0.5*x) * (1 + erf(x * (1/sqrt(2)))).
func emitGelu(x VecVirtual) VecVirtual {
	t := YMM()
	VMULPS(cf(1/math.Sqrt2), x, t)
	e := emitErf(t)
	VADDPS(cf(1), e, e)
	h := YMM()
	VMULPS(cf(0.5), x, h)
	VMULPS(h, e, e)
	return e
}

// hardSigmoid is max(0, min(1, a*x + b)) with a separate multiply and
// add (the same bits as Go's float32 expression), NaN passing through.
func hardSigmoid() {
	TEXT("hardSigmoidAVX2", NOSPLIT, "func(dst, src *float32, n int, a, b float32)")
	Pragma("noescape")
	Doc("hardSigmoidAVX2 stores max(0, min(1, a*src[i] + b)) into dst[i] for i < n (a multiple of 8).")
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	n := Load(Param("n"), GP64())
	a, b := YMM(), YMM()
	VBROADCASTSS(NewParamAddr("a", 24), a)
	VBROADCASTSS(NewParamAddr("b", 28), b)
	SHRQ(U8(3), n)
	JZ(LabelRef("hsig_done"))
	Label("hsig_loop")
	x := YMM()
	VMULPS(Mem{Base: src}, a, x)
	VADDPS(b, x, x)
	y := clamp(x, 0, 1)
	VMOVUPS(y, Mem{Base: dst})
	ADDQ(U8(32), src)
	ADDQ(U8(32), dst)
	DECQ(n)
	JNZ(LabelRef("hsig_loop"))
	Label("hsig_done")
	VZEROUPPER()
	RET()
}

// hardSwish is x * max(0, min(1, x/6 + 0.5)), dividing by 6 as Go's
// float32 expression does (the same bits), NaN passing through.
func hardSwish() {
	TEXT("hardSwishAVX2", NOSPLIT, "func(dst, src *float32, n int)")
	Pragma("noescape")
	Doc("hardSwishAVX2 stores src[i] * max(0, min(1, src[i]/6 + 0.5)) into dst[i] for i < n (a multiple of 8).")
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	n := Load(Param("n"), GP64())
	SHRQ(U8(3), n)
	JZ(LabelRef("hswi_done"))
	Label("hswi_loop")
	x, t := YMM(), YMM()
	VMOVUPS(Mem{Base: src}, x)
	VDIVPS(cf(6), x, t)
	VADDPS(cf(0.5), t, t)
	y := clamp(t, 0, 1)
	VMULPS(x, y, y)
	VMOVUPS(y, Mem{Base: dst})
	ADDQ(U8(32), src)
	ADDQ(U8(32), dst)
	DECQ(n)
	JNZ(LabelRef("hswi_loop"))
	Label("hswi_done")
	VZEROUPPER()
	RET()
}

// hsum returns the sum of x's eight lanes in the low lane of a new
// register: ((x0+x4) + (x2+x6)) + ((x1+x5) + (x3+x7)).
func hsum(x VecVirtual) VecVirtual {
	lo, hi := XMM(), XMM()
	VEXTRACTF128(U8(1), x, hi)
	VADDPS(hi, x.AsX(), lo)
	VMOVHLPS(lo, lo, hi)
	VADDPS(hi, lo, lo)
	VMOVSHDUP(lo, hi)
	VADDSS(hi, lo, lo)
	return lo
}

// expShiftSum is a softmax row's middle pass: dst = e^(src - shift) as
// emitExp computes it (the subtraction rounded to float32 first), and the
// sum of dst in eight lane sums added at the end.
func expShiftSum() {
	TEXT("expShiftSumAVX2", NOSPLIT, "func(dst, src *float32, n int, shift float32) float32")
	Pragma("noescape")
	Doc("expShiftSumAVX2 stores e^(src[i]-shift) into dst[i] for i < n (a multiple of 8) and returns their sum.")
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	n := Load(Param("n"), GP64())
	sh, acc := YMM(), YMM()
	VBROADCASTSS(NewParamAddr("shift", 24), sh)
	VXORPS(acc, acc, acc)
	SHRQ(U8(3), n)
	JZ(LabelRef("ess_done"))
	Label("ess_loop")
	x := YMM()
	VMOVUPS(Mem{Base: src}, x)
	VSUBPS(sh, x, x)
	y := emitExp(x)
	VMOVUPS(y, Mem{Base: dst})
	VADDPS(y, acc, acc)
	ADDQ(U8(32), src)
	ADDQ(U8(32), dst)
	DECQ(n)
	JNZ(LabelRef("ess_loop"))
	Label("ess_done")
	Store(hsum(acc), ReturnIndex(0))
	VZEROUPPER()
	RET()
}

// extreme emits maxAVX2 or minAVX2: the largest (smallest) of n floats
// (n a multiple of 8, at least 8) in two lane extremes combined at the
// end, and NaN if any is NaN (an unordered compare of each vector with
// itself, or-ed into a mask: VMAXPS alone returns its second source when
// either is NaN, so a NaN would not stick).
func extreme(name string, op func(mxy, xy, xy1 Op)) {
	TEXT(name+"AVX2", NOSPLIT, "func(src *float32, n int) float32")
	Pragma("noescape")
	Doc(name + "AVX2 returns the " + map[string]string{"max": "largest", "min": "smallest"}[name] + " of src[i] for i < n (a multiple of 8, at least 8), NaN if one is NaN.")
	src := Load(Param("src"), GP64())
	n := Load(Param("n"), GP64())
	m0, m1, nan, x := YMM(), YMM(), YMM(), YMM()
	VMOVUPS(Mem{Base: src}, m0)
	VMOVAPS(m0, m1)
	VCMPPS(U8(3), m0, m0, nan) // unordered: NaN lanes
	ADDQ(U8(32), src)
	SHRQ(U8(3), n)
	DECQ(n)
	JZ(LabelRef(name + "_fold"))
	Label(name + "_loop")
	for _, m := range []VecVirtual{m0, m1} {
		t := YMM()
		VMOVUPS(Mem{Base: src}, x)
		op(x, m, m)
		VCMPPS(U8(3), x, x, t)
		VORPS(t, nan, nan)
		ADDQ(U8(32), src)
		DECQ(n)
		if m == m0 {
			JZ(LabelRef(name + "_fold"))
		} else {
			JNZ(LabelRef(name + "_loop"))
		}
	}
	Label(name + "_fold")
	op(m1, m0, m0)
	lo, hi := XMM(), XMM()
	VEXTRACTF128(U8(1), m0, hi)
	op(hi, m0.AsX(), lo)
	VMOVHLPS(lo, lo, hi)
	op(hi, lo, lo)
	VMOVSHDUP(lo, hi)
	op(hi, lo, lo)
	mask := GP32()
	VMOVMSKPS(nan, mask)
	TESTL(mask, mask)
	JZ(LabelRef(name + "_ret"))
	VMOVSS(cb(0x7fc00000).Offset(0), lo) // NaN
	Label(name + "_ret")
	Store(lo, ReturnIndex(0))
	VZEROUPPER()
	RET()
}

// scale multiplies n floats in place by a (n a multiple of 8).
func scale() {
	TEXT("scaleAVX2", NOSPLIT, "func(dst *float32, n int, a float32)")
	Pragma("noescape")
	Doc("scaleAVX2 multiplies dst[i] by a for i < n (a multiple of 8).")
	dst := Load(Param("dst"), GP64())
	n := Load(Param("n"), GP64())
	a := YMM()
	VBROADCASTSS(NewParamAddr("a", 16), a)
	SHRQ(U8(3), n)
	JZ(LabelRef("scale_done"))
	Label("scale_loop")
	x := YMM()
	VMULPS(Mem{Base: dst}, a, x)
	VMOVUPS(x, Mem{Base: dst})
	ADDQ(U8(32), dst)
	DECQ(n)
	JNZ(LabelRef("scale_loop"))
	Label("scale_done")
	VZEROUPPER()
	RET()
}

// sumSquares is a normalisation's statistics: the sum and the sum of
// squares of n floats (n a multiple of 8), each widened to float64 and
// accumulated in two vectors of four lanes.
func sumSquares() {
	TEXT("sumSquaresAVX2", NOSPLIT, "func(src *float32, n int) (s, q float64)")
	Pragma("noescape")
	Doc("sumSquaresAVX2 returns the sum and the sum of squares of src[i] for i < n (a multiple of 8), in float64.")
	src := Load(Param("src"), GP64())
	n := Load(Param("n"), GP64())
	s0, s1, q0, q1 := YMM(), YMM(), YMM(), YMM()
	for _, r := range []VecVirtual{s0, s1, q0, q1} {
		VXORPD(r, r, r)
	}
	SHRQ(U8(3), n)
	JZ(LabelRef("ssq_done"))
	Label("ssq_loop")
	a, b := YMM(), YMM()
	VCVTPS2PD(Mem{Base: src}, a)
	VCVTPS2PD(Mem{Base: src, Disp: 16}, b)
	VADDPD(a, s0, s0)
	VADDPD(b, s1, s1)
	VFMADD231PD(a, a, q0)
	VFMADD231PD(b, b, q1)
	ADDQ(U8(32), src)
	DECQ(n)
	JNZ(LabelRef("ssq_loop"))
	Label("ssq_done")
	VADDPD(s1, s0, s0)
	VADDPD(q1, q0, q0)
	for i, r := range []VecVirtual{s0, q0} {
		lo, hi := XMM(), XMM()
		VEXTRACTF128(U8(1), r, hi)
		VADDPD(hi, r.AsX(), lo)
		VUNPCKHPD(lo, lo, hi)
		VADDSD(hi, lo, lo)
		Store(lo, ReturnIndex(i))
	}
	VZEROUPPER()
	RET()
}

// normalize is a normalisation's output: ((src - m) * a) * scale + bias
// over n floats (n a multiple of 8), the last multiply-add fused.
func normalize() {
	TEXT("normalizeAVX2", NOSPLIT, "func(dst, src, scale, bias *float32, n int, m, a float32)")
	Pragma("noescape")
	Doc("normalizeAVX2 stores ((src[i]-m)*a)*scale[i] + bias[i] into dst[i] for i < n (a multiple of 8).")
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	sc := Load(Param("scale"), GP64())
	bi := Load(Param("bias"), GP64())
	n := Load(Param("n"), GP64())
	m, a := YMM(), YMM()
	VBROADCASTSS(NewParamAddr("m", 40), m)
	VBROADCASTSS(NewParamAddr("a", 44), a)
	SHRQ(U8(3), n)
	JZ(LabelRef("norm_done"))
	Label("norm_loop")
	x, b := YMM(), YMM()
	VMOVUPS(Mem{Base: src}, x)
	VSUBPS(m, x, x)
	VMULPS(a, x, x)
	VMOVUPS(Mem{Base: bi}, b)
	VFMADD231PS(Mem{Base: sc}, x, b) // b = x*scale + b
	VMOVUPS(b, Mem{Base: dst})
	for _, r := range []Register{src, sc, bi, dst} {
		ADDQ(U8(32), r)
	}
	DECQ(n)
	JNZ(LabelRef("norm_loop"))
	Label("norm_done")
	VZEROUPPER()
	RET()
}

// affine is a normalisation's output with one scale and bias: (src - m) *
// a + b over n floats (n a multiple of 8), the multiply-add fused.
func affine() {
	TEXT("affineAVX2", NOSPLIT, "func(dst, src *float32, n int, m, a, b float32)")
	Pragma("noescape")
	Doc("affineAVX2 stores (src[i]-m)*a + b into dst[i] for i < n (a multiple of 8).")
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	n := Load(Param("n"), GP64())
	m, a, b := YMM(), YMM(), YMM()
	VBROADCASTSS(NewParamAddr("m", 24), m)
	VBROADCASTSS(NewParamAddr("a", 28), a)
	VBROADCASTSS(NewParamAddr("b", 32), b)
	SHRQ(U8(3), n)
	JZ(LabelRef("aff_done"))
	Label("aff_loop")
	x := YMM()
	VMOVUPS(Mem{Base: src}, x)
	VSUBPS(m, x, x)
	VFMADD213PS(b, a, x) // x = a*x + b
	VMOVUPS(x, Mem{Base: dst})
	ADDQ(U8(32), src)
	ADDQ(U8(32), dst)
	DECQ(n)
	JNZ(LabelRef("aff_loop"))
	Label("aff_done")
	VZEROUPPER()
	RET()
}
