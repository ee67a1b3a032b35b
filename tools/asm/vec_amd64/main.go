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
