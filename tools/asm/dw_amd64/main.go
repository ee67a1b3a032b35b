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
// elements within each 128-bit lane, VPERMPD puts the lanes in order);
// the last rem < 16 the same way from a whole block read, stored masked
// (short rows, 7 to 14 floats, are one block: a scalar tail cost as much
// as the convolution).
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

var laneMaskData *Mem

// laneMasks is a table of eight set lanes then eight clear ones: the eight
// lanes from 8-k hold a mask of the first k.
func laneMasks() Mem {
	if laneMaskData == nil {
		m := GLOBL("dw_lane_masks", RODATA|NOPTR)
		for i := 0; i < 16; i++ {
			v := uint32(0)
			if i < 8 {
				v = 0xffffffff
			}
			DATA(4*i, U32(v))
		}
		laneMaskData = &m
	}
	return *laneMaskData
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
	// The last rem < 16 floats: a whole block read (the caller
	// guarantees 16 floats from s are readable), (rem+1)/2 evens and
	// rem/2 odds stored masked.
	Label("di_8")
	TESTQ(rem, rem)
	JZ(LabelRef("di_next"))
	VMOVUPS(Mem{Base: s}, Y0)
	VMOVUPS(Mem{Base: s, Disp: 32}, Y1)
	VSHUFPS(U8(0x88), Y1, Y0, Y2)
	VSHUFPS(U8(0xdd), Y1, Y0, Y3)
	VPERMPD(U8(0xd8), Y2, Y2)
	VPERMPD(U8(0xd8), Y3, Y3)
	masks := laneMasks()
	m := GP64()
	// The mask of the first k lanes is at lane_masks + (8-k)*4.
	LEAQ(masks, m)
	t := GP64()
	MOVQ(rem, t)
	INCQ(t)
	SHRQ(U8(1), t) // evens
	NEGQ(t)
	VMOVDQU(Mem{Base: m, Index: t, Scale: 4, Disp: 32}, Y4)
	VMASKMOVPS(Y2, Y4, Mem{Base: e})
	MOVQ(rem, t)
	SHRQ(U8(1), t) // odds
	NEGQ(t)
	VMOVDQU(Mem{Base: m, Index: t, Scale: 4, Disp: 32}, Y4)
	VMASKMOVPS(Y3, Y4, Mem{Base: o})
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
