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
// axpyAVX adds a*x[i] to y[i] with fused multiply-adds (one rounding per
// element, where Go rounds the product and the sum); sumAVX sums x with
// eight partial sums per lane group (four vectors), added in a fixed order
// at the end. n is a multiple of 32 for sumAVX, of 8 for the others.
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
	axpy()
	sum()
	tapSum()
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

func axpy() {
	TEXT("axpyAVX", NOSPLIT, "func(y, x *float32, n int, a float32)")
	Pragma("noescape")
	Doc("axpyAVX adds a*x[i] to y[i] for i < n (a multiple of 8), fused.")
	y := Load(Param("y"), GP64())
	x := Load(Param("x"), GP64())
	n := Load(Param("n"), GP64())
	VBROADCASTSS(NewParamAddr("a", 24), Y15)
	SHRQ(U8(3), n)
	JZ(LabelRef("ax_done"))
	Label("ax_loop")
	VMOVUPS(Mem{Base: y}, Y0)
	VFMADD231PS(Mem{Base: x}, Y15, Y0)
	VMOVUPS(Y0, Mem{Base: y})
	ADDQ(U8(32), x)
	ADDQ(U8(32), y)
	DECQ(n)
	JNZ(LabelRef("ax_loop"))
	Label("ax_done")
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

func tapSum() {
	TEXT("tapSumAVX", NOSPLIT, "func(dst, src *float32, n int, offs *int32, w *float32, taps int, bias float32)")
	Pragma("noescape")
	Doc("tapSumAVX stores bias + sum over t of w[t]*src[offs[t]+i] into dst[i] for i < n (a multiple of 8), fused, taps in order.")
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	n := Load(Param("n"), GP64())
	offs := Load(Param("offs"), GP64())
	w := Load(Param("w"), GP64())
	taps := Load(Param("taps"), GP64())
	VBROADCASTSS(NewParamAddr("bias", 48), Y15)
	SHRQ(U8(3), n)
	o, c, q, p := GP64(), GP64(), GP64(), GP64()
	// Four vectors (32 outputs) per pass: four independent chains of
	// multiply-adds hide the FMA latency.
	Label("ts_four")
	CMPQ(n, U8(4))
	JB(LabelRef("ts_one"))
	for _, r := range []VecPhysical{Y0, Y1, Y2, Y3} {
		VMOVAPS(Y15, r)
	}
	MOVQ(offs, q)
	MOVQ(w, p)
	MOVQ(taps, c)
	TESTQ(c, c)
	JZ(LabelRef("ts_store4"))
	Label("ts_tap4")
	MOVLQSX(Mem{Base: q}, o)
	VBROADCASTSS(Mem{Base: p}, Y4)
	VFMADD231PS(Mem{Base: src, Index: o, Scale: 4}, Y4, Y0)
	VFMADD231PS(Mem{Base: src, Index: o, Scale: 4, Disp: 32}, Y4, Y1)
	VFMADD231PS(Mem{Base: src, Index: o, Scale: 4, Disp: 64}, Y4, Y2)
	VFMADD231PS(Mem{Base: src, Index: o, Scale: 4, Disp: 96}, Y4, Y3)
	ADDQ(U8(4), q)
	ADDQ(U8(4), p)
	DECQ(c)
	JNZ(LabelRef("ts_tap4"))
	Label("ts_store4")
	VMOVUPS(Y0, Mem{Base: dst})
	VMOVUPS(Y1, Mem{Base: dst, Disp: 32})
	VMOVUPS(Y2, Mem{Base: dst, Disp: 64})
	VMOVUPS(Y3, Mem{Base: dst, Disp: 96})
	ADDQ(U8(128), src)
	ADDQ(U8(128), dst)
	SUBQ(U8(4), n)
	JMP(LabelRef("ts_four"))

	Label("ts_one")
	TESTQ(n, n)
	JZ(LabelRef("ts_done"))
	VMOVAPS(Y15, Y0)
	MOVQ(offs, q)
	MOVQ(w, p)
	MOVQ(taps, c)
	TESTQ(c, c)
	JZ(LabelRef("ts_store"))
	Label("ts_tap")
	MOVLQSX(Mem{Base: q}, o)
	VBROADCASTSS(Mem{Base: p}, Y1)
	VFMADD231PS(Mem{Base: src, Index: o, Scale: 4}, Y1, Y0)
	ADDQ(U8(4), q)
	ADDQ(U8(4), p)
	DECQ(c)
	JNZ(LabelRef("ts_tap"))
	Label("ts_store")
	VMOVUPS(Y0, Mem{Base: dst})
	ADDQ(U8(32), src)
	ADDQ(U8(32), dst)
	DECQ(n)
	JMP(LabelRef("ts_one"))
	Label("ts_done")
	VZEROUPPER()
	RET()
}
