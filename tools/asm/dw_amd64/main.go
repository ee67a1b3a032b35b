// Command dw_amd64 generates the AVX routines of the depthwise
// convolutions in package github.com/kagen-ai/kagen/internal/vec with avo.
//
// It is run by go generate in internal/vec:
//
//	go run ../../tools/asm/dw_amd64 -out dw_amd64.s -stubs dw_stubs_amd64.go -pkg vec
//
// deinterleaveAVX splits rows of floats into their even and odd elements
// (src[2i] to even[i], src[2i+1] to odd[i]): a stride-2 convolution's
// input copied so that its taps are unit-stride runs again. Each row goes
// sixteen floats at a time (two loads, VSHUFPS picks the even and the odd
// elements within each 128-bit lane, VPERMPD puts the lanes in order),
// then eight (the two halves of one load), then pairs of scalars and a
// last even one.
package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

func main() {
	ConstraintExpr("!purego")
	deinterleave()
	Generate()
}

func deinterleave() {
	TEXT("deinterleaveAVX", NOSPLIT, "func(even, odd *float32, dstRow int, src *float32, srcRow, rows, n int)")
	Pragma("noescape")
	Doc("deinterleaveAVX stores src[r*srcRow+2i] into even[r*dstRow+i] and src[r*srcRow+2i+1] into odd[r*dstRow+i] for r < rows and 2i, 2i+1 < n.")
	even, odd, src := GP64(), GP64(), GP64()
	dstRow, srcRow, rows, n := GP64(), GP64(), GP64(), GP64()
	Load(Param("even"), even)
	Load(Param("odd"), odd)
	Load(Param("src"), src)
	Load(Param("dstRow"), dstRow)
	Load(Param("srcRow"), srcRow)
	Load(Param("rows"), rows)
	Load(Param("n"), n)
	SHLQ(U8(2), dstRow)
	SHLQ(U8(2), srcRow)
	e, o, s, rem := GP64(), GP64(), GP64(), GP64()
	TESTQ(rows, rows)
	JZ(LabelRef("di_done"))
	Label("di_row")
	MOVQ(even, e)
	MOVQ(odd, o)
	MOVQ(src, s)
	MOVQ(n, rem)
	Label("di_16")
	CMPQ(rem, U8(16))
	JB(LabelRef("di_8"))
	VMOVUPS(Mem{Base: s}, Y0)
	VMOVUPS(Mem{Base: s, Disp: 32}, Y1)
	VSHUFPS(U8(0x88), Y1, Y0, Y2) // s0 s2 s8 s10 | s4 s6 s12 s14
	VSHUFPS(U8(0xdd), Y1, Y0, Y3) // s1 s3 s9 s11 | s5 s7 s13 s15
	VPERMPD(U8(0xd8), Y2, Y2)
	VPERMPD(U8(0xd8), Y3, Y3)
	VMOVUPS(Y2, Mem{Base: e})
	VMOVUPS(Y3, Mem{Base: o})
	ADDQ(U8(64), s)
	ADDQ(U8(32), e)
	ADDQ(U8(32), o)
	SUBQ(U8(16), rem)
	JMP(LabelRef("di_16"))
	Label("di_8")
	CMPQ(rem, U8(8))
	JB(LabelRef("di_2"))
	VMOVUPS(Mem{Base: s}, X0)
	VMOVUPS(Mem{Base: s, Disp: 16}, X1)
	VSHUFPS(U8(0x88), X1, X0, X2)
	VSHUFPS(U8(0xdd), X1, X0, X3)
	VMOVUPS(X2, Mem{Base: e})
	VMOVUPS(X3, Mem{Base: o})
	ADDQ(U8(32), s)
	ADDQ(U8(16), e)
	ADDQ(U8(16), o)
	SUBQ(U8(8), rem)
	Label("di_2")
	CMPQ(rem, U8(2))
	JB(LabelRef("di_1"))
	VMOVSS(Mem{Base: s}, X0)
	VMOVSS(Mem{Base: s, Disp: 4}, X1)
	VMOVSS(X0, Mem{Base: e})
	VMOVSS(X1, Mem{Base: o})
	ADDQ(U8(8), s)
	ADDQ(U8(4), e)
	ADDQ(U8(4), o)
	SUBQ(U8(2), rem)
	JMP(LabelRef("di_2"))
	Label("di_1")
	TESTQ(rem, rem)
	JZ(LabelRef("di_next"))
	VMOVSS(Mem{Base: s}, X0)
	VMOVSS(X0, Mem{Base: e})
	Label("di_next")
	ADDQ(dstRow, even)
	ADDQ(dstRow, odd)
	ADDQ(srcRow, src)
	DECQ(rows)
	JNZ(LabelRef("di_row"))
	Label("di_done")
	VZEROUPPER()
	RET()
}
