// Command vec_amd64 generates the AVX routines of package
// github.com/kagen-ai/kagen/internal/vec with avo.
//
// It is run by go generate in internal/vec:
//
//	go run ../../tools/asm/vec_amd64 -out vec_amd64.s -stubs vec_stubs_amd64.go -pkg vec
//
// clampAVX stores max(lo, min(hi, src[i]))... in the order that lets NaN
// through (see the package documentation) into dst[i] for i < n, eight at
// a time; avgClampAVX does the same with (a[i] + b[i]) * 0.5. n is a
// multiple of 8; the callers finish the tail in Go.
//
// sumAVX sums x with four vector partial sums, added in a fixed order at
// the end; n is a multiple of 32.
package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

func main() {
	ConstraintExpr("!purego")
	clamp()
	avgClamp()
	sum()
	tapSumRows()
	copyRows()
	clampRows()
	Generate()
}

// emitClamp clamps Y0 with lo in Y14 and hi in Y15. VMAXPS x, lo gives
// (lo > x ? lo : x) and x when x is NaN; VMINPS likewise with hi.
func emitClamp() {
	VMAXPS(Y0, Y14, Y0)
	VMINPS(Y0, Y15, Y0)
}

func clamp() {
	TEXT("clampAVX", NOSPLIT, "func(dst, src *float32, n int, lo, hi float32)")
	Pragma("noescape")
	Doc("clampAVX stores the clamp of src[i] to [lo, hi] into dst[i] for i < n (a multiple of 8).")
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	n := Load(Param("n"), GP64())
	VBROADCASTSS(NewParamAddr("lo", 24), Y14)
	VBROADCASTSS(NewParamAddr("hi", 28), Y15)
	SHRQ(U8(3), n)
	JZ(LabelRef("cl_done"))
	Label("cl_loop")
	VMOVUPS(Mem{Base: src}, Y0)
	emitClamp()
	VMOVUPS(Y0, Mem{Base: dst})
	ADDQ(U8(32), src)
	ADDQ(U8(32), dst)
	DECQ(n)
	JNZ(LabelRef("cl_loop"))
	Label("cl_done")
	VZEROUPPER()
	RET()
}

func avgClamp() {
	TEXT("avgClampAVX", NOSPLIT, "func(dst, a, b *float32, n int, lo, hi float32)")
	Pragma("noescape")
	Doc("avgClampAVX stores the clamp of (a[i] + b[i]) * 0.5 to [lo, hi] into dst[i] for i < n (a multiple of 8).")
	dst := Load(Param("dst"), GP64())
	a := Load(Param("a"), GP64())
	b := Load(Param("b"), GP64())
	n := Load(Param("n"), GP64())
	VBROADCASTSS(NewParamAddr("lo", 32), Y14)
	VBROADCASTSS(NewParamAddr("hi", 36), Y15)
	half := GP32()
	MOVL(U32(0x3f000000), half)
	VMOVD(half, X13)
	VBROADCASTSS(X13, Y13)
	SHRQ(U8(3), n)
	JZ(LabelRef("av_done"))
	Label("av_loop")
	VMOVUPS(Mem{Base: a}, Y0)
	VADDPS(Mem{Base: b}, Y0, Y0)
	VMULPS(Y13, Y0, Y0)
	emitClamp()
	VMOVUPS(Y0, Mem{Base: dst})
	ADDQ(U8(32), a)
	ADDQ(U8(32), b)
	ADDQ(U8(32), dst)
	DECQ(n)
	JNZ(LabelRef("av_loop"))
	Label("av_done")
	VZEROUPPER()
	RET()
}

func sum() {
	TEXT("sumAVX", NOSPLIT, "func(x *float32, n int) float32")
	Pragma("noescape")
	Doc("sumAVX returns the sum of x[i] for i < n (a multiple of 32) in four vector partial sums.")
	x := Load(Param("x"), GP64())
	n := Load(Param("n"), GP64())
	for _, r := range []VecPhysical{Y0, Y1, Y2, Y3} {
		VXORPS(r, r, r)
	}
	SHRQ(U8(5), n)
	JZ(LabelRef("su_reduce"))
	Label("su_loop")
	VADDPS(Mem{Base: x}, Y0, Y0)
	VADDPS(Mem{Base: x, Disp: 32}, Y1, Y1)
	VADDPS(Mem{Base: x, Disp: 64}, Y2, Y2)
	VADDPS(Mem{Base: x, Disp: 96}, Y3, Y3)
	ADDQ(U8(128), x)
	DECQ(n)
	JNZ(LabelRef("su_loop"))
	Label("su_reduce")
	VADDPS(Y1, Y0, Y0)
	VADDPS(Y3, Y2, Y2)
	VADDPS(Y2, Y0, Y0)
	VEXTRACTF128(U8(1), Y0, X1)
	VADDPS(X1, X0, X0)
	VPERMILPS(U8(0x4e), X0, X1)
	VADDPS(X1, X0, X0)
	VPERMILPS(U8(0xb1), X0, X1)
	VADDPS(X1, X0, X0)
	VZEROUPPER()
	Store(X0, ReturnIndex(0))
	RET()
}

// tapSumRows is tapSum over rows: row r of dst (dst + r*dstStride floats,
// n >= 8 outputs) is the tap sum of src + r*srcStride. A row whose n is
// not a multiple of 8 ends with a vector overlapping the previous one
// (those outputs are computed twice, identically).
func tapSumRows() {
	TEXT("tapSumRowsAVX", NOSPLIT, "func(dst *float32, dstStride int, src *float32, srcStride int, rows, n int, offs *int32, w *float32, taps int, bias float32)")
	Pragma("noescape")
	Doc("tapSumRowsAVX runs the tap sum over rows of n >= 8 outputs (see the generator's documentation).")
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	rows := Load(Param("rows"), GP64())
	last := Load(Param("n"), GP64())
	VBROADCASTSS(NewParamAddr("bias", 72), Y15)
	// last: byte offset of the row's final vector, (n-8)*4.
	SUBQ(U8(8), last)
	SHLQ(U8(2), last)
	o, c, q, p, bs := GP64(), GP64(), GP64(), GP64(), GP64()
	sk := []GPVirtual{GP64(), GP64(), GP64(), GP64()}
	acc := []VecPhysical{Y0, Y1, Y2, Y3}
	TESTQ(rows, rows)
	JZ(LabelRef("tr_done"))
	Label("tr_row")
	XORQ(bs, bs) // byte offset of the block of four vectors
	Label("tr_block")
	LEAQ(Mem{Base: last, Disp: 32}, o) // the row's end, in bytes
	CMPQ(bs, o)
	JAE(LabelRef("tr_next"))
	// Vector k of the block starts at min(bs + 32k, last): four chains,
	// the last ones repeating the row's final vector when fewer remain.
	for k := range sk {
		LEAQ(Mem{Base: bs, Disp: 32 * k}, o)
		CMPQ(o, last)
		CMOVQHI(last, o)
		LEAQ(Mem{Base: src, Index: o, Scale: 1}, sk[k])
		VMOVAPS(Y15, acc[k])
	}
	Load(Param("offs"), q)
	Load(Param("w"), p)
	Load(Param("taps"), c)
	TESTQ(c, c)
	JZ(LabelRef("tr_store"))
	Label("tr_tap")
	MOVLQSX(Mem{Base: q}, o)
	VBROADCASTSS(Mem{Base: p}, Y4)
	for k := range sk {
		VFMADD231PS(Mem{Base: sk[k], Index: o, Scale: 4}, Y4, acc[k])
	}
	ADDQ(U8(4), q)
	ADDQ(U8(4), p)
	DECQ(c)
	JNZ(LabelRef("tr_tap"))
	Label("tr_store")
	for k := range sk {
		// dst + (sk - src)
		MOVQ(sk[k], o)
		SUBQ(src, o)
		VMOVUPS(acc[k], Mem{Base: dst, Index: o, Scale: 1})
	}
	ADDQ(U32(128), bs)
	JMP(LabelRef("tr_block"))
	Label("tr_next")
	Load(Param("dstStride"), o)
	SHLQ(U8(2), o)
	ADDQ(o, dst)
	Load(Param("srcStride"), o)
	SHLQ(U8(2), o)
	ADDQ(o, src)
	DECQ(rows)
	JNZ(LabelRef("tr_row"))
	Label("tr_done")
	VZEROUPPER()
	RET()
}

// copyRows copies rows of n >= 8 floats: row r from src + r*srcStride to
// dst + r*dstStride, eight at a time with an overlapping last vector.
func copyRows() {
	TEXT("copyRowsAVX", NOSPLIT, "func(dst *float32, dstStride int, src *float32, srcStride int, rows, n int)")
	Pragma("noescape")
	Doc("copyRowsAVX copies rows of n >= 8 floats between strided planes (see the generator's documentation).")
	dst := Load(Param("dst"), GP64())
	dstStride := Load(Param("dstStride"), GP64())
	src := Load(Param("src"), GP64())
	srcStride := Load(Param("srcStride"), GP64())
	rows := Load(Param("rows"), GP64())
	n := Load(Param("n"), GP64())
	SHLQ(U8(2), dstStride)
	SHLQ(U8(2), srcStride)
	last := GP64()
	LEAQ(Mem{Base: n, Disp: -8}, last)
	SHLQ(U8(2), last)
	i := GP64()
	TESTQ(rows, rows)
	JZ(LabelRef("cr_done"))
	Label("cr_row")
	XORQ(i, i)
	Label("cr_vec")
	CMPQ(i, last)
	JAE(LabelRef("cr_tail"))
	VMOVUPS(Mem{Base: src, Index: i, Scale: 1}, Y0)
	VMOVUPS(Y0, Mem{Base: dst, Index: i, Scale: 1})
	ADDQ(U8(32), i)
	JMP(LabelRef("cr_vec"))
	Label("cr_tail")
	VMOVUPS(Mem{Base: src, Index: last, Scale: 1}, Y0)
	VMOVUPS(Y0, Mem{Base: dst, Index: last, Scale: 1})
	ADDQ(dstStride, dst)
	ADDQ(srcStride, src)
	DECQ(rows)
	JNZ(LabelRef("cr_row"))
	Label("cr_done")
	VZEROUPPER()
	RET()
}

// clampRows stores the clamp to [lo, hi] of (a + b) * 0.5 (avg != 0) or
// of a (avg == 0) into rows of n >= 8 floats: row r of dst at dst +
// r*dstStride, of a at a + r*aStride, of b at b + r*bStride. A row ends
// with a vector overlapping the previous one, so dst must not alias a or b
// unless it is a itself with avg == 0 (an in-place clamp).
func clampRows() {
	TEXT("clampRowsAVX", NOSPLIT, "func(dst *float32, dstStride int, a *float32, aStride int, b *float32, bStride int, rows, n int, avg int, lo, hi float32)")
	Pragma("noescape")
	Doc("clampRowsAVX clamps rows, or the averages of two rows, between strided planes (see the generator's documentation).")
	dst := Load(Param("dst"), GP64())
	a := Load(Param("a"), GP64())
	b := Load(Param("b"), GP64())
	rows := Load(Param("rows"), GP64())
	last := Load(Param("n"), GP64())
	avg := Load(Param("avg"), GP64())
	VBROADCASTSS(NewParamAddr("lo", 72), Y14)
	VBROADCASTSS(NewParamAddr("hi", 76), Y15)
	half := GP32()
	MOVL(U32(0x3f000000), half)
	VMOVD(half, X13)
	VBROADCASTSS(X13, Y13)
	SUBQ(U8(8), last)
	SHLQ(U8(2), last)
	i, t := GP64(), GP64()
	TESTQ(rows, rows)
	JZ(LabelRef("cl_done"))
	Label("cl_row")
	XORQ(i, i)
	Label("cl_vec")
	CMPQ(i, last)
	JBE(LabelRef("cl_go"))
	LEAQ(Mem{Base: last, Disp: 32}, t)
	CMPQ(i, t)
	JAE(LabelRef("cl_next"))
	MOVQ(last, i)
	Label("cl_go")
	VMOVUPS(Mem{Base: a, Index: i, Scale: 1}, Y0)
	TESTQ(avg, avg)
	JZ(LabelRef("cl_clamp"))
	VADDPS(Mem{Base: b, Index: i, Scale: 1}, Y0, Y0)
	VMULPS(Y13, Y0, Y0)
	Label("cl_clamp")
	emitClamp()
	VMOVUPS(Y0, Mem{Base: dst, Index: i, Scale: 1})
	ADDQ(U8(32), i)
	JMP(LabelRef("cl_vec"))
	Label("cl_next")
	Load(Param("dstStride"), t)
	SHLQ(U8(2), t)
	ADDQ(t, dst)
	Load(Param("aStride"), t)
	SHLQ(U8(2), t)
	ADDQ(t, a)
	Load(Param("bStride"), t)
	SHLQ(U8(2), t)
	ADDQ(t, b)
	DECQ(rows)
	JNZ(LabelRef("cl_row"))
	Label("cl_done")
	VZEROUPPER()
	RET()
}
