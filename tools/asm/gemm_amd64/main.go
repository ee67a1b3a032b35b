// Command gemm_amd64 generates the AVX2+FMA single-precision GEMM
// micro-kernels of package github.com/kagen-ai/kagen/engine/gemm with avo.
//
// It is run by go generate in engine/gemm:
//
//	go run ../../tools/asm/gemm_amd64 -out kernel_amd64.s -stubs kernel_stubs_amd64.go -pkg gemm
//
// Each kernel kernelMx16 (M = 1..6) computes an M x 16 tile of C from a
// packed A micro-panel (6 floats per k step, of which the first M are used)
// and a B micro-panel whose k-th row of 16 floats starts at b + k*ldb. The
// accumulated product is then combined with C and the epilogue selected by
// flags, and stored to C (row stride ldc floats):
//
//	bit 0 (1): add the previous contents of C
//	bit 1 (2): add bias[i] to row i
//	bit 2 (4): add bias[j] to column j
//	bit 3 (8): clamp to [lo, hi]
//
// The half-precision variants kernelMx16h (and kernelMx16rawAh) read the B
// micro-panel as IEEE binary16 values (16 halves per k step, row k at
// b + k*ldb halves) and widen them with F16C's VCVTPH2PS; products and sums
// stay in single precision. The F16C routines cvtHalfToFloat,
// cvtFloatToHalf, roundFloatHalf and packB16Half convert buffers, round them
// and pack B panels to half precision (rounding to nearest even).
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

const (
	mr     = 6  // rows of a packed A micro-panel
	nr     = 16 // columns of a tile
	unroll = 4  // k steps per main-loop iteration
)

const signature = "func(kc int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, flags uint64, bias *float32, lo, hi float32)"

// signatureHalf is the signature of the kernels reading a half-precision B.
const signatureHalf = "func(kc int, a *float32, lda int, b *uint16, ldb int, c *float32, ldc int, flags uint64, bias *float32, lo, hi float32)"

// advanceA emits the advance of the A pointers by the given bytes.
var advanceA func(bytes int)

var ymm = []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15}

func main() {
	ConstraintExpr("!purego")
	for m := mr; m >= 1; m-- {
		kernel(m, false, false)
	}
	for m := mr; m >= 1; m-- {
		kernel(m, true, false)
	}
	packB16()
	gemv4()
	for m := mr; m >= 1; m-- {
		kernel(m, false, true)
	}
	for m := mr; m >= 1; m-- {
		kernel(m, true, true)
	}
	cvtHalfToFloat()
	cvtFloatToHalf()
	roundFloatHalf()
	packB16Half()
	Generate()
}

// sets returns the number of independent accumulator sets used for an
// m-row kernel: short kernels split the k loop over several sets so that
// the FMA latency is hidden.
func sets(m int) int {
	switch m {
	case 1:
		return 4
	case 2, 3:
		return 2
	}
	return 1
}

// kernel generates the m-row kernel. With rawA, A is read in place (row i,
// step k at a[i*lda+k]); otherwise A is a packed micro-panel (a[k*mr+i])
// and lda is ignored. With halfB, B holds half-precision values, widened
// with VCVTPH2PS as they are loaded (ldb counts halves).
func kernel(m int, rawA, halfB bool) {
	name := fmt.Sprintf("kernel%dx%d", m, nr)
	form := "a packed A micro-panel (a[k*6+i])"
	if rawA {
		name += "rawA"
		form = "A in place (a[i*lda+k])"
	}
	sig := signature
	if halfB {
		name += "h"
		form += " and a half-precision B"
		sig = signatureHalf
	}
	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
	Doc(fmt.Sprintf("%s computes a %dx%d tile of C = A*B from kc k steps of %s, then applies the epilogue selected by flags.", name, m, nr, form))

	ns := sets(m)
	// acc[s][i][h]: set s, row i, half h (columns 8h..8h+7).
	acc := make([][][2]VecPhysical, ns)
	next := 0
	for s := range acc {
		acc[s] = make([][2]VecPhysical, m)
		for i := 0; i < m; i++ {
			acc[s][i] = [2]VecPhysical{ymm[next], ymm[next+1]}
			next += 2
		}
	}
	if next > 12 {
		panic("too many accumulators")
	}
	b0, b1 := Y12, Y13
	bc := []VecPhysical{Y14, Y15}

	Comment("Prefetch the C tile.")
	c := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(2), ldc)
	c3 := GP64()
	LEAQ(Mem{Base: ldc, Index: ldc, Scale: 2}, c3)
	ADDQ(c, c3)
	rows := []Mem{
		{Base: c}, {Base: c, Index: ldc, Scale: 1}, {Base: c, Index: ldc, Scale: 2},
		{Base: c3}, {Base: c3, Index: ldc, Scale: 1}, {Base: c3, Index: ldc, Scale: 2},
	}
	for i := 0; i < m; i++ {
		PREFETCHT0(rows[i])
		PREFETCHT0(rows[i].Offset(nr*4 - 4))
	}

	Comment("Zero the accumulators.")
	for s := range acc {
		for i := range acc[s] {
			for h := 0; h < 2; h++ {
				VXORPS(acc[s][i][h], acc[s][i][h], acc[s][i][h])
			}
		}
	}

	kc := Load(Param("kc"), GP64())
	a := Load(Param("a"), GP64())
	// aElem returns element (i, k0+s) of A, k0 being the current step.
	var aElem func(i, s int) Mem
	aStep := mr * 4 // bytes per k step
	if rawA {
		lda := Load(Param("lda"), GP64())
		SHLQ(U8(2), lda)
		a3 := GP64()
		LEAQ(Mem{Base: lda, Index: lda, Scale: 2}, a3)
		ADDQ(a, a3)
		rowsA := []Mem{{Base: a}, {Base: a, Index: lda, Scale: 1}, {Base: a, Index: lda, Scale: 2},
			{Base: a3}, {Base: a3, Index: lda, Scale: 1}, {Base: a3, Index: lda, Scale: 2}}
		aElem = func(i, s int) Mem { return rowsA[i].Offset(4 * s) }
		aStep = 4
		advance := func(bytes int) {
			ADDQ(U32(bytes), a)
			if m > 3 {
				ADDQ(U32(bytes), a3)
			}
		}
		advanceA = advance
	} else {
		aElem = func(i, s int) Mem { return Mem{Base: a, Disp: s*mr*4 + 4*i} }
		advanceA = func(bytes int) { ADDQ(U32(bytes), a) }
	}
	b := Load(Param("b"), GP64())
	ldb := Load(Param("ldb"), GP64())
	if halfB {
		SHLQ(U8(1), ldb)
	} else {
		SHLQ(U8(2), ldb)
	}
	ldb3 := GP64()
	LEAQ(Mem{Base: ldb, Index: ldb, Scale: 2}, ldb3)
	n := GP64()
	MOVQ(kc, n)
	SHRQ(U8(2), n)
	ANDQ(U8(unroll-1), kc)

	bRow := []Mem{{Base: b}, {Base: b, Index: ldb, Scale: 1}, {Base: b, Index: ldb, Scale: 2}, {Base: b, Index: ldb3, Scale: 1}}
	step := func(set int, brow Mem, s int) {
		if halfB {
			VCVTPH2PS(brow, b0)
			VCVTPH2PS(brow.Offset(16), b1)
		} else {
			VMOVUPS(brow, b0)
			VMOVUPS(brow.Offset(32), b1)
		}
		for i := 0; i < m; i++ {
			x := bc[i%2]
			VBROADCASTSS(aElem(i, s), x)
			VFMADD231PS(b0, x, acc[set][i][0])
			VFMADD231PS(b1, x, acc[set][i][1])
		}
	}

	Comment(fmt.Sprintf("Main loop: %d k steps per iteration.", unroll))
	TESTQ(n, n)
	JZ(LabelRef(name + "_tail"))
	Label(name + "_loop")
	for u := 0; u < unroll; u++ {
		step(u%ns, bRow[u], u)
	}
	advanceA(unroll * aStep)
	LEAQ(Mem{Base: b, Index: ldb, Scale: 4}, b)
	DECQ(n)
	JNZ(LabelRef(name + "_loop"))

	Label(name + "_tail")
	TESTQ(kc, kc)
	JZ(LabelRef(name + "_reduce"))
	Label(name + "_tailloop")
	step(0, bRow[0], 0)
	advanceA(aStep)
	ADDQ(ldb, b)
	DECQ(kc)
	JNZ(LabelRef(name + "_tailloop"))

	Label(name + "_reduce")
	for s := 1; s < ns; s++ {
		for i := 0; i < m; i++ {
			for h := 0; h < 2; h++ {
				VADDPS(acc[s][i][h], acc[0][i][h], acc[0][i][h])
			}
		}
	}
	res := acc[0]

	flags := Load(Param("flags"), GP64())

	Comment("Accumulate into C.")
	TESTQ(U32(1), flags)
	JZ(LabelRef(name + "_rowbias"))
	for i := 0; i < m; i++ {
		VADDPS(rows[i], res[i][0], res[i][0])
		VADDPS(rows[i].Offset(32), res[i][1], res[i][1])
	}

	Label(name + "_rowbias")
	TESTQ(U32(2), flags)
	JZ(LabelRef(name + "_colbias"))
	bias := Load(Param("bias"), GP64())
	for i := 0; i < m; i++ {
		x := bc[i%2]
		VBROADCASTSS(Mem{Base: bias, Disp: 4 * i}, x)
		VADDPS(x, res[i][0], res[i][0])
		VADDPS(x, res[i][1], res[i][1])
	}

	Label(name + "_colbias")
	TESTQ(U32(4), flags)
	JZ(LabelRef(name + "_clamp"))
	bias = Load(Param("bias"), GP64())
	VMOVUPS(Mem{Base: bias}, bc[0])
	VMOVUPS(Mem{Base: bias, Disp: 32}, bc[1])
	for i := 0; i < m; i++ {
		VADDPS(bc[0], res[i][0], res[i][0])
		VADDPS(bc[1], res[i][1], res[i][1])
	}

	Label(name + "_clamp")
	TESTQ(U32(8), flags)
	JZ(LabelRef(name + "_store"))
	VBROADCASTSS(paramAddr("lo"), bc[0])
	VBROADCASTSS(paramAddr("hi"), bc[1])
	for i := 0; i < m; i++ {
		for h := 0; h < 2; h++ {
			// The accumulator is the second source so that NaN propagates.
			VMAXPS(res[i][h], bc[0], res[i][h])
			VMINPS(res[i][h], bc[1], res[i][h])
		}
	}

	Label(name + "_store")
	for i := 0; i < m; i++ {
		VMOVUPS(res[i][0], rows[i])
		VMOVUPS(res[i][1], rows[i].Offset(32))
	}
	VZEROUPPER()
	RET()
}

// packB16 generates the copy of a B micro-panel: kc rows of 16 floats, row
// k read at src + k*ldb, written contiguously to dst.
func packB16() {
	TEXT("packB16", NOSPLIT, "func(kc int, src *float32, ldb int, dst *float32)")
	Pragma("noescape")
	Doc("packB16 copies kc rows of 16 floats, row k starting at src[k*ldb], to dst[16*k:16*k+16].")
	kc := Load(Param("kc"), GP64())
	src := Load(Param("src"), GP64())
	ldb := Load(Param("ldb"), GP64())
	dst := Load(Param("dst"), GP64())
	SHLQ(U8(2), ldb)
	ldb3 := GP64()
	LEAQ(Mem{Base: ldb, Index: ldb, Scale: 2}, ldb3)
	n := GP64()
	MOVQ(kc, n)
	SHRQ(U8(2), n)
	ANDQ(U8(3), kc)
	rows := []Mem{{Base: src}, {Base: src, Index: ldb, Scale: 1}, {Base: src, Index: ldb, Scale: 2}, {Base: src, Index: ldb3, Scale: 1}}

	TESTQ(n, n)
	JZ(LabelRef("packB16_tail"))
	Label("packB16_loop")
	for r := 0; r < 4; r++ {
		VMOVUPS(rows[r], ymm[2*r])
		VMOVUPS(rows[r].Offset(32), ymm[2*r+1])
	}
	for r := 0; r < 4; r++ {
		VMOVUPS(ymm[2*r], Mem{Base: dst, Disp: 64 * r})
		VMOVUPS(ymm[2*r+1], Mem{Base: dst, Disp: 64*r + 32})
	}
	LEAQ(Mem{Base: src, Index: ldb, Scale: 4}, src)
	ADDQ(U32(256), dst)
	DECQ(n)
	JNZ(LabelRef("packB16_loop"))

	Label("packB16_tail")
	TESTQ(kc, kc)
	JZ(LabelRef("packB16_done"))
	Label("packB16_tailloop")
	VMOVUPS(rows[0], Y0)
	VMOVUPS(rows[0].Offset(32), Y1)
	VMOVUPS(Y0, Mem{Base: dst})
	VMOVUPS(Y1, Mem{Base: dst, Disp: 32})
	ADDQ(ldb, src)
	ADDQ(U32(64), dst)
	DECQ(kc)
	JNZ(LabelRef("packB16_tailloop"))

	Label("packB16_done")
	VZEROUPPER()
	RET()
}

// gemv4 generates the row-major matrix-vector step: n (a multiple of 8)
// elements of y += x0*b[0:n] + x1*b[ldb:ldb+n] + x2*b[2ldb:] + x3*b[3ldb:].
func gemv4() {
	TEXT("gemv4", NOSPLIT, "func(n int, b *float32, ldb int, y *float32, x0, x1, x2, x3 float32)")
	Pragma("noescape")
	Doc("gemv4 adds x0*B[0,j] + x1*B[1,j] + x2*B[2,j] + x3*B[3,j] to y[j] for j < n (a multiple of 8), row r of B starting at b[r*ldb].")
	n := Load(Param("n"), GP64())
	b := Load(Param("b"), GP64())
	ldb := Load(Param("ldb"), GP64())
	y := Load(Param("y"), GP64())
	SHLQ(U8(2), ldb)
	ldb3 := GP64()
	LEAQ(Mem{Base: ldb, Index: ldb, Scale: 2}, ldb3)
	x := []VecPhysical{Y12, Y13, Y14, Y15}
	for r, name := range []string{"x0", "x1", "x2", "x3"} {
		VBROADCASTSS(paramAddr(name), x[r])
	}
	rows := []Mem{{Base: b}, {Base: b, Index: ldb, Scale: 1}, {Base: b, Index: ldb, Scale: 2}, {Base: b, Index: ldb3, Scale: 1}}

	// body handles w vectors of 8 columns.
	body := func(w int) {
		for v := 0; v < w; v++ {
			VMOVUPS(Mem{Base: y, Disp: 32 * v}, ymm[v])
		}
		for r := 0; r < 4; r++ {
			for v := 0; v < w; v++ {
				VFMADD231PS(rows[r].Offset(32*v), x[r], ymm[v])
			}
		}
		for v := 0; v < w; v++ {
			VMOVUPS(ymm[v], Mem{Base: y, Disp: 32 * v})
		}
		ADDQ(U32(32*w), b)
		ADDQ(U32(32*w), y)
	}
	Label("gemv4_loop32")
	CMPQ(n, U32(32))
	JL(LabelRef("gemv4_loop8"))
	body(4)
	SUBQ(U32(32), n)
	JMP(LabelRef("gemv4_loop32"))
	Label("gemv4_loop8")
	CMPQ(n, U32(8))
	JL(LabelRef("gemv4_done"))
	body(1)
	SUBQ(U32(8), n)
	JMP(LabelRef("gemv4_loop8"))
	Label("gemv4_done")
	VZEROUPPER()
	RET()
}

// cvtHalfToFloat generates the widening of n (a multiple of 8) halves to
// floats.
func cvtHalfToFloat() {
	TEXT("cvtHalfToFloat", NOSPLIT, "func(n int, src *uint16, dst *float32)")
	Pragma("noescape")
	Doc("cvtHalfToFloat widens the n (a multiple of 8) half-precision values at src to float32 at dst.")
	n := Load(Param("n"), GP64())
	src := Load(Param("src"), GP64())
	dst := Load(Param("dst"), GP64())
	Label("cvtHalfToFloat_loop32")
	CMPQ(n, U32(32))
	JL(LabelRef("cvtHalfToFloat_loop8"))
	for v := 0; v < 4; v++ {
		VCVTPH2PS(Mem{Base: src, Disp: 16 * v}, ymm[v])
	}
	for v := 0; v < 4; v++ {
		VMOVUPS(ymm[v], Mem{Base: dst, Disp: 32 * v})
	}
	ADDQ(U32(64), src)
	ADDQ(U32(128), dst)
	SUBQ(U32(32), n)
	JMP(LabelRef("cvtHalfToFloat_loop32"))
	Label("cvtHalfToFloat_loop8")
	CMPQ(n, U32(8))
	JL(LabelRef("cvtHalfToFloat_done"))
	VCVTPH2PS(Mem{Base: src}, Y0)
	VMOVUPS(Y0, Mem{Base: dst})
	ADDQ(U32(16), src)
	ADDQ(U32(32), dst)
	SUBQ(U32(8), n)
	JMP(LabelRef("cvtHalfToFloat_loop8"))
	Label("cvtHalfToFloat_done")
	VZEROUPPER()
	RET()
}

// cvtFloatToHalf generates the rounding of n (a multiple of 8) floats to
// halves, to nearest even (immediate 0 of VCVTPS2PH).
func cvtFloatToHalf() {
	TEXT("cvtFloatToHalf", NOSPLIT, "func(n int, src *float32, dst *uint16)")
	Pragma("noescape")
	Doc("cvtFloatToHalf rounds the n (a multiple of 8) floats at src to half precision at dst, to nearest even.")
	n := Load(Param("n"), GP64())
	src := Load(Param("src"), GP64())
	dst := Load(Param("dst"), GP64())
	Label("cvtFloatToHalf_loop32")
	CMPQ(n, U32(32))
	JL(LabelRef("cvtFloatToHalf_loop8"))
	for v := 0; v < 4; v++ {
		VMOVUPS(Mem{Base: src, Disp: 32 * v}, ymm[v])
	}
	for v := 0; v < 4; v++ {
		VCVTPS2PH(U8(0), ymm[v], Mem{Base: dst, Disp: 16 * v})
	}
	ADDQ(U32(128), src)
	ADDQ(U32(64), dst)
	SUBQ(U32(32), n)
	JMP(LabelRef("cvtFloatToHalf_loop32"))
	Label("cvtFloatToHalf_loop8")
	CMPQ(n, U32(8))
	JL(LabelRef("cvtFloatToHalf_done"))
	VMOVUPS(Mem{Base: src}, Y0)
	VCVTPS2PH(U8(0), Y0, Mem{Base: dst})
	ADDQ(U32(32), src)
	ADDQ(U32(16), dst)
	SUBQ(U32(8), n)
	JMP(LabelRef("cvtFloatToHalf_loop8"))
	Label("cvtFloatToHalf_done")
	VZEROUPPER()
	RET()
}

// roundFloatHalf generates the rounding of n (a multiple of 8) floats to
// the nearest half-precision values, kept as floats (src may be dst).
func roundFloatHalf() {
	TEXT("roundFloatHalf", NOSPLIT, "func(n int, src *float32, dst *float32)")
	Pragma("noescape")
	Doc("roundFloatHalf rounds the n (a multiple of 8) floats at src to the nearest half-precision values (ties to even), stored as floats at dst, which may be src.")
	n := Load(Param("n"), GP64())
	src := Load(Param("src"), GP64())
	dst := Load(Param("dst"), GP64())
	xmm := []VecPhysical{X0, X1, X2, X3}
	Label("roundFloatHalf_loop32")
	CMPQ(n, U32(32))
	JL(LabelRef("roundFloatHalf_loop8"))
	for v := 0; v < 4; v++ {
		VMOVUPS(Mem{Base: src, Disp: 32 * v}, ymm[v])
		VCVTPS2PH(U8(0), ymm[v], xmm[v])
		VCVTPH2PS(xmm[v], ymm[v])
		VMOVUPS(ymm[v], Mem{Base: dst, Disp: 32 * v})
	}
	ADDQ(U32(128), src)
	ADDQ(U32(128), dst)
	SUBQ(U32(32), n)
	JMP(LabelRef("roundFloatHalf_loop32"))
	Label("roundFloatHalf_loop8")
	CMPQ(n, U32(8))
	JL(LabelRef("roundFloatHalf_done"))
	VMOVUPS(Mem{Base: src}, Y0)
	VCVTPS2PH(U8(0), Y0, X0)
	VCVTPH2PS(X0, Y0)
	VMOVUPS(Y0, Mem{Base: dst})
	ADDQ(U32(32), src)
	ADDQ(U32(32), dst)
	SUBQ(U32(8), n)
	JMP(LabelRef("roundFloatHalf_loop8"))
	Label("roundFloatHalf_done")
	VZEROUPPER()
	RET()
}

// packB16Half generates the packing of a B micro-panel to half precision:
// kc rows of 16 floats, row k read at src + k*ldb, rounded and written
// contiguously to dst.
func packB16Half() {
	TEXT("packB16Half", NOSPLIT, "func(kc int, src *float32, ldb int, dst *uint16)")
	Pragma("noescape")
	Doc("packB16Half rounds kc rows of 16 floats, row k starting at src[k*ldb], to half precision at dst[16*k:16*k+16].")
	kc := Load(Param("kc"), GP64())
	src := Load(Param("src"), GP64())
	ldb := Load(Param("ldb"), GP64())
	dst := Load(Param("dst"), GP64())
	SHLQ(U8(2), ldb)
	ldb3 := GP64()
	LEAQ(Mem{Base: ldb, Index: ldb, Scale: 2}, ldb3)
	n := GP64()
	MOVQ(kc, n)
	SHRQ(U8(2), n)
	ANDQ(U8(3), kc)
	rows := []Mem{{Base: src}, {Base: src, Index: ldb, Scale: 1}, {Base: src, Index: ldb, Scale: 2}, {Base: src, Index: ldb3, Scale: 1}}

	TESTQ(n, n)
	JZ(LabelRef("packB16Half_tail"))
	Label("packB16Half_loop")
	for r := 0; r < 4; r++ {
		VMOVUPS(rows[r], ymm[2*r])
		VMOVUPS(rows[r].Offset(32), ymm[2*r+1])
	}
	for r := 0; r < 4; r++ {
		VCVTPS2PH(U8(0), ymm[2*r], Mem{Base: dst, Disp: 32 * r})
		VCVTPS2PH(U8(0), ymm[2*r+1], Mem{Base: dst, Disp: 32*r + 16})
	}
	LEAQ(Mem{Base: src, Index: ldb, Scale: 4}, src)
	ADDQ(U32(128), dst)
	DECQ(n)
	JNZ(LabelRef("packB16Half_loop"))

	Label("packB16Half_tail")
	TESTQ(kc, kc)
	JZ(LabelRef("packB16Half_done"))
	Label("packB16Half_tailloop")
	VMOVUPS(rows[0], Y0)
	VMOVUPS(rows[0].Offset(32), Y1)
	VCVTPS2PH(U8(0), Y0, Mem{Base: dst})
	VCVTPS2PH(U8(0), Y1, Mem{Base: dst, Disp: 16})
	ADDQ(ldb, src)
	ADDQ(U32(32), dst)
	DECQ(kc)
	JNZ(LabelRef("packB16Half_tailloop"))

	Label("packB16Half_done")
	VZEROUPPER()
	RET()
}

// paramAddr returns the memory operand of a scalar argument.
func paramAddr(name string) Mem {
	basic, err := Param(name).Resolve()
	if err != nil {
		panic(err)
	}
	return basic.Addr
}
