// Command engine_amd64 generates the AVX routines of package
// github.com/kagen-ai/kagen/engine with avo.
//
// It is run by go generate in engine:
//
//	go run ../tools/asm/engine_amd64 -out asm_amd64.s -stubs asm_stubs_amd64.go -pkg engine
//
// gatherMoves fills kn rows of a GEMM B panel: for row k it reads the
// input from x + 4*kbase[k] and performs the panel's moves, each a pair of
// int32 (t, pos): n8 moves of eight floats (x[kbase[k]+pos : +8] to
// dst[t : t+8]), then n1 moves of one float. Rows of the panel are stride
// bytes apart. Every index was checked by the caller.
//
// gatherBytes is gatherMoves over bytes (an im2col matrix of quantized
// activation codes): moves of eight bytes and of one byte, with the same
// (t, pos) pairs in elements.
//
// maxPoolRow folds n outputs of a max-pooling row: dst[i] becomes
// (v > dst[i] ? v : dst[i]) for each v of src[i*sw : i*sw+kw], in order,
// so that NaN inputs are skipped exactly as the reference kernel skips them
// (VMAXSS returns its second source when either is NaN).
package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

func main() {
	ConstraintExpr("!purego")
	gatherMoves()
	gatherBytes()
	maxPoolRow()
	Generate()
}

func maxPoolRow() {
	TEXT("maxPoolRow", NOSPLIT, "func(dst *float32, src *float32, n int, kw int, sw int)")
	Pragma("noescape")
	Doc("maxPoolRow folds the kw taps at src[i*sw:] into dst[i] for i < n, skipping NaNs (see the generator's documentation).")
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	n := Load(Param("n"), GP64())
	kw := Load(Param("kw"), GP64())
	sw := Load(Param("sw"), GP64())
	SHLQ(U8(2), sw)
	TESTQ(n, n)
	JZ(LabelRef("mp_done"))
	CMPQ(kw, U8(3))
	JNE(LabelRef("mp_any"))

	// Three taps, two outputs per iteration for independent chains.
	p := GP64()
	MOVQ(src, p)
	Label("mp3_2")
	CMPQ(n, U8(2))
	JB(LabelRef("mp3_1"))
	q := GP64()
	LEAQ(Mem{Base: p, Index: sw, Scale: 1}, q)
	VMOVSS(Mem{Base: dst}, X0)
	VMOVSS(Mem{Base: dst, Disp: 4}, X1)
	// VMAXSS m, v, m: (v > m ? v : m), m when v is NaN.
	for t := 0; t < 3; t++ {
		VMOVSS(Mem{Base: p, Disp: 4 * t}, X2)
		VMOVSS(Mem{Base: q, Disp: 4 * t}, X3)
		VMAXSS(X0, X2, X0)
		VMAXSS(X1, X3, X1)
	}
	VMOVSS(X0, Mem{Base: dst})
	VMOVSS(X1, Mem{Base: dst, Disp: 4})
	LEAQ(Mem{Base: q, Index: sw, Scale: 1}, p)
	ADDQ(U8(8), dst)
	SUBQ(U8(2), n)
	JMP(LabelRef("mp3_2"))
	Label("mp3_1")
	TESTQ(n, n)
	JZ(LabelRef("mp_done"))
	VMOVSS(Mem{Base: dst}, X0)
	for t := 0; t < 3; t++ {
		VMOVSS(Mem{Base: p, Disp: 4 * t}, X2)
		VMAXSS(X0, X2, X0)
	}
	VMOVSS(X0, Mem{Base: dst})
	JMP(LabelRef("mp_done"))

	// Any number of taps.
	Label("mp_any")
	r, c := GP64(), GP64()
	Label("mp_out")
	VMOVSS(Mem{Base: dst}, X0)
	MOVQ(src, r)
	MOVQ(kw, c)
	TESTQ(c, c)
	JZ(LabelRef("mp_store"))
	Label("mp_tap")
	VMOVSS(Mem{Base: r}, X2)
	VMAXSS(X0, X2, X0)
	ADDQ(U8(4), r)
	DECQ(c)
	JNZ(LabelRef("mp_tap"))
	Label("mp_store")
	VMOVSS(X0, Mem{Base: dst})
	ADDQ(sw, src)
	ADDQ(U8(4), dst)
	DECQ(n)
	JNZ(LabelRef("mp_out"))

	Label("mp_done")
	RET()
}

func gatherBytes() {
	TEXT("gatherBytes", NOSPLIT, "func(dst *uint8, x *uint8, kbase *int32, kn int, stride int, m8 *int32, n8 int, m1 *int32, n1 int)")
	Pragma("noescape")
	Doc("gatherBytes performs the moves of an im2col panel of byte codes for kn rows (see the generator's documentation).")
	dst := Load(Param("dst"), GP64())
	x := Load(Param("x"), GP64())
	kbase := Load(Param("kbase"), GP64())
	kn := Load(Param("kn"), GP64())
	stride := Load(Param("stride"), GP64())
	m8 := Load(Param("m8"), GP64())
	n8 := Load(Param("n8"), GP64())
	m1 := Load(Param("m1"), GP64())
	n1 := Load(Param("n1"), GP64())
	row, p, c, t, v := GP64(), GP64(), GP64(), GP64(), GP64()
	TESTQ(kn, kn)
	JZ(LabelRef("gb_done"))
	Label("gb_row")
	MOVLQSX(Mem{Base: kbase}, row)
	ADDQ(x, row)
	MOVQ(m8, p)
	MOVQ(n8, c)
	TESTQ(c, c)
	JZ(LabelRef("gb_ones"))
	Label("gb_eight")
	MOVLQSX(Mem{Base: p, Disp: 4}, t)
	MOVQ(Mem{Base: row, Index: t, Scale: 1}, v)
	MOVLQSX(Mem{Base: p}, t)
	MOVQ(v, Mem{Base: dst, Index: t, Scale: 1})
	ADDQ(U8(8), p)
	DECQ(c)
	JNZ(LabelRef("gb_eight"))
	Label("gb_ones")
	MOVQ(m1, p)
	MOVQ(n1, c)
	TESTQ(c, c)
	JZ(LabelRef("gb_next"))
	Label("gb_one")
	MOVLQSX(Mem{Base: p, Disp: 4}, t)
	MOVBQZX(Mem{Base: row, Index: t, Scale: 1}, v)
	MOVLQSX(Mem{Base: p}, t)
	MOVB(v.As8(), Mem{Base: dst, Index: t, Scale: 1})
	ADDQ(U8(8), p)
	DECQ(c)
	JNZ(LabelRef("gb_one"))
	Label("gb_next")
	ADDQ(U8(4), kbase)
	ADDQ(stride, dst)
	DECQ(kn)
	JNZ(LabelRef("gb_row"))
	Label("gb_done")
	RET()
}

func gatherMoves() {
	TEXT("gatherMoves", NOSPLIT, "func(dst *float32, x *float32, kbase *int32, kn int, stride int, m8 *int32, n8 int, m1 *int32, n1 int)")
	Pragma("noescape")
	Doc("gatherMoves performs the moves of an im2col panel for kn rows (see the generator's documentation).")
	dst := Load(Param("dst"), GP64())
	x := Load(Param("x"), GP64())
	kbase := Load(Param("kbase"), GP64())
	kn := Load(Param("kn"), GP64())
	stride := Load(Param("stride"), GP64())
	m8 := Load(Param("m8"), GP64())
	n8 := Load(Param("n8"), GP64())
	m1 := Load(Param("m1"), GP64())
	n1 := Load(Param("n1"), GP64())

	row, p, c, t, u := GP64(), GP64(), GP64(), GP64(), GP64()
	TESTQ(kn, kn)
	JZ(LabelRef("done"))

	Label("row")
	MOVLQSX(Mem{Base: kbase}, row)
	LEAQ(Mem{Base: x, Index: row, Scale: 4}, row)

	// Moves of eight floats, two per iteration while there are two.
	MOVQ(m8, p)
	MOVQ(n8, c)
	CMPQ(c, U8(2))
	JB(LabelRef("eight1"))
	Label("eight2")
	MOVLQSX(Mem{Base: p, Disp: 4}, t)
	MOVLQSX(Mem{Base: p, Disp: 12}, u)
	VMOVUPS(Mem{Base: row, Index: t, Scale: 4}, Y0)
	VMOVUPS(Mem{Base: row, Index: u, Scale: 4}, Y1)
	MOVLQSX(Mem{Base: p}, t)
	MOVLQSX(Mem{Base: p, Disp: 8}, u)
	VMOVUPS(Y0, Mem{Base: dst, Index: t, Scale: 4})
	VMOVUPS(Y1, Mem{Base: dst, Index: u, Scale: 4})
	ADDQ(U8(16), p)
	SUBQ(U8(2), c)
	CMPQ(c, U8(2))
	JAE(LabelRef("eight2"))
	Label("eight1")
	TESTQ(c, c)
	JZ(LabelRef("ones"))
	MOVLQSX(Mem{Base: p, Disp: 4}, t)
	VMOVUPS(Mem{Base: row, Index: t, Scale: 4}, Y0)
	MOVLQSX(Mem{Base: p}, t)
	VMOVUPS(Y0, Mem{Base: dst, Index: t, Scale: 4})

	// Moves of one float.
	Label("ones")
	MOVQ(m1, p)
	MOVQ(n1, c)
	TESTQ(c, c)
	JZ(LabelRef("next"))
	Label("one")
	MOVLQSX(Mem{Base: p, Disp: 4}, t)
	VMOVSS(Mem{Base: row, Index: t, Scale: 4}, X2)
	MOVLQSX(Mem{Base: p}, t)
	VMOVSS(X2, Mem{Base: dst, Index: t, Scale: 4})
	ADDQ(U8(8), p)
	DECQ(c)
	JNZ(LabelRef("one"))

	Label("next")
	ADDQ(U8(4), kbase)
	ADDQ(stride, dst)
	DECQ(kn)
	JNZ(LabelRef("row"))

	Label("done")
	VZEROUPPER()
	RET()
}
