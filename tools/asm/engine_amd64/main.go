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
// gatherPair is gatherMoves for a plan of exactly two moves of eight
// floats, (t0, p0) and (t1, p1), and none of one (the panels of every
// stride-1 convolution whose output rows are 8 or at least 16 wide): the
// moves are kept in registers and two rows done an iteration, where
// gatherMoves reloads its lists and tests their lengths every row.
//
// gatherBytes is gatherMoves over bytes (an im2col matrix of quantized
// activation codes): moves of eight bytes and of one byte, with the same
// (t, pos) pairs in elements.
//
// maxPool3 pools windows of three consecutive floats: dst[i] is the
// maximum of src[3i:3i+3] folded from -Inf as maxPoolRow folds (NaNs
// skipped), for n outputs, n a multiple of 8. Each block of 24 inputs is
// split into its three taps by two blends (every tap's lanes are distinct
// across the three loads) and a permutation each, then folded with VMAXPS.
//
// maxPairs is a row of a 2x2 max-pool: dst[i] folds r0[2i], r0[2i+1],
// r1[2i], r1[2i+1] in that order from -Inf (NaNs skipped), eight outputs
// per iteration (each row's evens and odds split by VSHUFPS and put in
// order by VPERMPD), then four, then one at a time.
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
	gather("gatherMoves", 4)
	gather("gatherBytes", 1)
	gatherPair()
	maxPoolRow()
	maxPool3()
	maxPairs()
	maxPool2x2()
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

// gather emits the panel gather of elements of size bytes (4: floats,
// moved eight at a time with AVX; 1: byte codes, eight at a time in a
// general register): for each of kn rows, from x + size*kbase[k], the
// moves of eight elements two per iteration, then the single ones, into a
// row stride bytes after the previous one.
func gather(name string, size uint8) {
	elem := map[uint8]string{4: "float32", 1: "uint8"}[size]
	TEXT(name, NOSPLIT, "func(dst *"+elem+", x *"+elem+", kbase *int32, kn int, stride int, m8 *int32, n8 int, m1 *int32, n1 int)")
	Pragma("noescape")
	Doc(name + " performs the moves of an im2col panel of " + elem + " for kn rows (see the generator's documentation).")
	// x, stride and the move lists are read from the arguments where
	// they are used: two more registers per element move would not fit.
	dst := Load(Param("dst"), GP64())
	kbase := Load(Param("kbase"), GP64())
	kn := Load(Param("kn"), GP64())
	row, p, c, t, u := GP64(), GP64(), GP64(), GP64(), GP64()
	v, w := GP64(), GP64()
	at := func(base, index Register) Mem { return Mem{Base: base, Index: index, Scale: size} }
	// load8 and store8 move eight elements through register r (0 or 1).
	load8 := func(m Mem, r int) {
		if size == 4 {
			VMOVUPS(m, []VecPhysical{Y0, Y1}[r])
		} else {
			MOVQ(m, []GPVirtual{v, w}[r])
		}
	}
	store8 := func(m Mem, r int) {
		if size == 4 {
			VMOVUPS([]VecPhysical{Y0, Y1}[r], m)
		} else {
			MOVQ([]GPVirtual{v, w}[r], m)
		}
	}
	l := func(s string) string { return name + "_" + s }

	TESTQ(kn, kn)
	JZ(LabelRef(l("done")))
	Label(l("row"))
	MOVLQSX(Mem{Base: kbase}, row)
	Load(Param("x"), t)
	LEAQ(at(t, row), row)

	// Moves of eight elements, two per iteration while there are two.
	Load(Param("m8"), p)
	Load(Param("n8"), c)
	CMPQ(c, U8(2))
	JB(LabelRef(l("eight1")))
	Label(l("eight2"))
	MOVLQSX(Mem{Base: p, Disp: 4}, t)
	MOVLQSX(Mem{Base: p, Disp: 12}, u)
	load8(at(row, t), 0)
	load8(at(row, u), 1)
	MOVLQSX(Mem{Base: p}, t)
	MOVLQSX(Mem{Base: p, Disp: 8}, u)
	store8(at(dst, t), 0)
	store8(at(dst, u), 1)
	ADDQ(U8(16), p)
	SUBQ(U8(2), c)
	CMPQ(c, U8(2))
	JAE(LabelRef(l("eight2")))
	Label(l("eight1"))
	TESTQ(c, c)
	JZ(LabelRef(l("ones")))
	MOVLQSX(Mem{Base: p, Disp: 4}, t)
	load8(at(row, t), 0)
	MOVLQSX(Mem{Base: p}, t)
	store8(at(dst, t), 0)

	// Moves of one element (VEX-encoded for floats: a legacy SSE move
	// after AVX code stalls).
	Label(l("ones"))
	Load(Param("m1"), p)
	Load(Param("n1"), c)
	TESTQ(c, c)
	JZ(LabelRef(l("next")))
	Label(l("one"))
	MOVLQSX(Mem{Base: p, Disp: 4}, t)
	if size == 4 {
		VMOVSS(at(row, t), X2)
	} else {
		MOVBQZX(at(row, t), v)
	}
	MOVLQSX(Mem{Base: p}, t)
	if size == 4 {
		VMOVSS(X2, at(dst, t))
	} else {
		MOVB(v.As8(), at(dst, t))
	}
	ADDQ(U8(8), p)
	DECQ(c)
	JNZ(LabelRef(l("one")))

	Label(l("next"))
	ADDQ(U8(4), kbase)
	Load(Param("stride"), t)
	ADDQ(t, dst)
	DECQ(kn)
	JNZ(LabelRef(l("row")))
	Label(l("done"))
	if size == 4 {
		VZEROUPPER()
	}
	RET()
}

// negInf returns the read-only float -Inf that the pooling routines fold
// from, defined once.
var negInfData *Mem

func negInf() Mem {
	if negInfData == nil {
		m := GLOBL("pool_neginf", RODATA|NOPTR)
		DATA(0, U32(0xff800000))
		negInfData = &m
	}
	return *negInfData
}

// foldMax sets m to the fold of taps in order from init: each step keeps
// (t > m ? t : m), so a NaN tap leaves m as it was, as the reference
// skips it (the tap is VMAXPS's first source).
func foldMax(init, m VecPhysical, taps ...VecPhysical) {
	VMAXPS(init, taps[0], m)
	for _, t := range taps[1:] {
		VMAXPS(m, t, m)
	}
}

func maxPool3() {
	TEXT("maxPool3", NOSPLIT, "func(dst *float32, src *float32, n int)")
	Pragma("noescape")
	Doc("maxPool3 sets dst[i] to the maximum of src[3i:3i+3], NaNs skipped, for n (a multiple of 8) outputs (see the generator's documentation).")
	// Lanes of the blended vectors that hold taps 0, 1 and 2 of outputs
	// 0..7 (see the blends below).
	perm := GLOBL("maxpool3_perm", RODATA|NOPTR)
	for t, idx := range [][]uint32{{0, 3, 6, 1, 4, 7, 2, 5}, {1, 4, 7, 2, 5, 0, 3, 6}, {2, 5, 0, 3, 6, 1, 4, 7}} {
		for i, v := range idx {
			DATA(32*t+4*i, U32(v))
		}
	}
	p0, p1, p2 := Y8, Y9, Y10
	VMOVDQU(perm, p0)
	VMOVDQU(perm.Offset(32), p1)
	VMOVDQU(perm.Offset(64), p2)
	ninf := Y11
	VBROADCASTSS(negInf(), ninf)
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	n := Load(Param("n"), GP64())
	SHRQ(U8(3), n)
	TESTQ(n, n)
	JZ(LabelRef("mp3v_done"))
	Label("mp3v_loop")
	a, b, c := Y0, Y1, Y2
	VMOVUPS(Mem{Base: src}, a)
	VMOVUPS(Mem{Base: src, Disp: 32}, b)
	VMOVUPS(Mem{Base: src, Disp: 64}, c)
	t0, t1, t2, m := Y3, Y4, Y5, Y6
	// tap 0: A lanes 0,3,6, B lanes 1,4,7, C lanes 2,5
	VBLENDPS(U8(0x92), b, a, t0)
	VBLENDPS(U8(0x24), c, t0, t0)
	// tap 1: A 1,4,7, B 2,5, C 0,3,6
	VBLENDPS(U8(0x49), c, a, t1)
	VBLENDPS(U8(0x24), b, t1, t1)
	// tap 2: A 2,5, B 0,3,6, C 1,4,7
	VBLENDPS(U8(0x49), b, a, t2)
	VBLENDPS(U8(0x92), c, t2, t2)
	VPERMPS(t0, p0, t0)
	VPERMPS(t1, p1, t1)
	VPERMPS(t2, p2, t2)
	foldMax(ninf, m, t0, t1, t2)
	VMOVUPS(m, Mem{Base: dst})
	ADDQ(U8(96), src)
	ADDQ(U8(32), dst)
	DECQ(n)
	JNZ(LabelRef("mp3v_loop"))
	Label("mp3v_done")
	VZEROUPPER()
	RET()
}

// poolPairs pools width outputs (8 in Y registers, 4 in X) into out from
// 2*width floats of two rows at r0 and r1: each row's evens and odds by
// VSHUFPS (per 128-bit lane [x0 x2 y0 y2] and [x1 x3 y1 y3]), put in order
// across the lanes by VPERMPD for Y, then folded from -Inf (Y15) in the
// reference's order. It uses registers 0-8.
func poolPairs(width int, r0, r1, out Mem) {
	regs := []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y15}
	if width == 4 {
		regs = []VecPhysical{X0, X1, X2, X3, X4, X5, X6, X7, X8, X15}
	}
	a0, a1, b0, b1, e0, o0, e1, o1, m, ninf := regs[0], regs[1], regs[2], regs[3], regs[4], regs[5], regs[6], regs[7], regs[8], regs[9]
	half := 4 * width // bytes in one register
	VMOVUPS(r0, a0)
	VMOVUPS(r0.Offset(half), a1)
	VMOVUPS(r1, b0)
	VMOVUPS(r1.Offset(half), b1)
	VSHUFPS(U8(0x88), a1, a0, e0)
	VSHUFPS(U8(0xdd), a1, a0, o0)
	VSHUFPS(U8(0x88), b1, b0, e1)
	VSHUFPS(U8(0xdd), b1, b0, o1)
	if width == 8 {
		for _, r := range []VecPhysical{e0, o0, e1, o1} {
			VPERMPD(U8(0xd8), r, r) // quadwords 0, 2, 1, 3
		}
	}
	foldMax(ninf, m, e0, o0, e1, o1)
	VMOVUPS(m, out)
}

func maxPairs() {
	TEXT("maxPairsAVX", NOSPLIT, "func(d []float32, r0 []float32, r1 []float32)")
	Pragma("noescape")
	Doc("maxPairsAVX sets d[i] to the maximum of r0[2i:2i+2] and r1[2i:2i+2], NaNs skipped; r0 and r1 must hold 2*len(d) floats (see the generator's documentation).")
	d := Load(Param("d").Base(), GP64())
	n := Load(Param("d").Len(), GP64())
	r0 := Load(Param("r0").Base(), GP64())
	r1 := Load(Param("r1").Base(), GP64())
	VBROADCASTSS(negInf(), Y15)
	step := func(width int) {
		poolPairs(width, Mem{Base: r0}, Mem{Base: r1}, Mem{Base: d})
		half := 4 * width // bytes in one register
		ADDQ(U8(2*half), r0)
		ADDQ(U8(2*half), r1)
		ADDQ(U8(half), d)
		SUBQ(U8(width), n)
	}
	Label("mp2_8")
	CMPQ(n, U8(8))
	JB(LabelRef("mp2_4"))
	step(8)
	JMP(LabelRef("mp2_8"))
	Label("mp2_4")
	CMPQ(n, U8(4))
	JB(LabelRef("mp2_1"))
	step(4)
	Label("mp2_1")
	TESTQ(n, n)
	JZ(LabelRef("mp2_done"))
	// m = (v > m ? v : m): v is the first source, so a NaN v keeps m.
	VMOVSS(Mem{Base: r0}, X10)
	VMAXSS(X15, X10, X9)
	for _, v := range []Mem{{Base: r0, Disp: 4}, {Base: r1}, {Base: r1, Disp: 4}} {
		VMOVSS(v, X10)
		VMAXSS(X9, X10, X9)
	}
	VMOVSS(X9, Mem{Base: d})
	ADDQ(U8(8), r0)
	ADDQ(U8(8), r1)
	ADDQ(U8(4), d)
	DECQ(n)
	JMP(LabelRef("mp2_1"))
	Label("mp2_done")
	VZEROUPPER()
	RET()
}

// maxPool2x2 is the 2x2, stride-2 max-pool of whole planes in one call
// (maxPairs called per output row spent more on the calls and on the
// scalar tail than on the maxima): plane k of src (at src + k*srcPlane
// floats, rows of iw) gives plane k of dst (oh rows of ow, packed), output
// row oy from input rows 2oy and 2oy+1. A row is pooled eight outputs at
// a time (four when ow < 8), its last step moved back to end at ow: the
// outputs it repeats are computed again, identically. ow must be at
// least 4, and 2*ow at most iw.
func maxPool2x2() {
	TEXT("maxPool2x2AVX", NOSPLIT, "func(dst, src *float32, planes, oh, ow, iw, srcPlane int)")
	Pragma("noescape")
	Doc("maxPool2x2AVX max-pools planes 2x2 with stride 2, NaNs skipped, for ow >= 4 (see the generator's documentation).")
	d, src := GP64(), GP64()
	Load(Param("dst"), d)
	Load(Param("src"), src)
	planes, owB, iwB := GP64(), GP64(), GP64()
	Load(Param("planes"), planes)
	Load(Param("ow"), owB)
	Load(Param("iw"), iwB)
	SHLQ(U8(2), owB) // bytes
	SHLQ(U8(2), iwB)
	r0, r1, y, ob, ib, t := GP64(), GP64(), GP64(), GP64(), GP64(), GP64()
	VBROADCASTSS(negInf(), Y15)
	// step pools width outputs at d + ob from r0 and r1 + 2*ob.
	step := func(width int) {
		LEAQ(Mem{Base: ob, Index: ob, Scale: 1}, ib)
		poolPairs(width, Mem{Base: r0, Index: ib, Scale: 1}, Mem{Base: r1, Index: ib, Scale: 1}, Mem{Base: d, Index: ob, Scale: 1})
	}
	TESTQ(planes, planes)
	JZ(LabelRef("p22_done"))
	Label("p22_plane")
	MOVQ(src, r0)
	Load(Param("oh"), y)
	TESTQ(y, y)
	JZ(LabelRef("p22_next"))
	Label("p22_row")
	LEAQ(Mem{Base: r0, Index: iwB, Scale: 1}, r1)
	XORQ(ob, ob)
	CMPQ(owB, U8(32))
	JB(LabelRef("p22_four"))
	Label("p22_eight")
	LEAQ(Mem{Base: ob, Disp: 32}, t)
	CMPQ(t, owB)
	JA(LabelRef("p22_last8"))
	step(8)
	MOVQ(t, ob)
	JMP(LabelRef("p22_eight"))
	Label("p22_last8")
	CMPQ(ob, owB)
	JAE(LabelRef("p22_rowdone"))
	LEAQ(Mem{Base: owB, Disp: -32}, ob)
	step(8)
	JMP(LabelRef("p22_rowdone"))
	Label("p22_four") // 4 <= ow < 8: outputs 0-3, then ow-4 to ow-1
	step(4)
	LEAQ(Mem{Base: owB, Disp: -16}, ob)
	step(4)
	Label("p22_rowdone")
	ADDQ(owB, d)
	LEAQ(Mem{Base: r1, Index: iwB, Scale: 1}, r0)
	DECQ(y)
	JNZ(LabelRef("p22_row"))
	Label("p22_next")
	Load(Param("srcPlane"), t)
	SHLQ(U8(2), t)
	ADDQ(t, src)
	DECQ(planes)
	JNZ(LabelRef("p22_plane"))
	Label("p22_done")
	VZEROUPPER()
	RET()
}

func gatherPair() {
	TEXT("gatherPair", NOSPLIT, "func(dst *float32, x *float32, kbase *int32, kn int, stride int, t0, p0, t1, p1 int)")
	Pragma("noescape")
	Doc("gatherPair performs two moves of eight floats of an im2col panel for kn rows (see the generator's documentation).")
	dst := Load(Param("dst"), GP64())
	x := Load(Param("x"), GP64())
	kbase := Load(Param("kbase"), GP64())
	kn := Load(Param("kn"), GP64())
	stride := Load(Param("stride"), GP64())
	t0 := Load(Param("t0"), GP64())
	p0 := Load(Param("p0"), GP64())
	t1 := Load(Param("t1"), GP64())
	p1 := Load(Param("p1"), GP64())
	// Byte offsets: the moves' sources relative to x, destinations to dst.
	LEAQ(Mem{Base: x, Index: p0, Scale: 4}, p0)
	LEAQ(Mem{Base: x, Index: p1, Scale: 4}, p1)
	LEAQ(Mem{Base: dst, Index: t0, Scale: 4}, t0)
	LEAQ(Mem{Base: dst, Index: t1, Scale: 4}, t1)
	r0, r1 := GP64(), GP64()
	Label("gp_two")
	CMPQ(kn, U8(2))
	JB(LabelRef("gp_one"))
	MOVLQSX(Mem{Base: kbase}, r0)
	MOVLQSX(Mem{Base: kbase, Disp: 4}, r1)
	VMOVUPS(Mem{Base: p0, Index: r0, Scale: 4}, Y0)
	VMOVUPS(Mem{Base: p1, Index: r0, Scale: 4}, Y1)
	VMOVUPS(Mem{Base: p0, Index: r1, Scale: 4}, Y2)
	VMOVUPS(Mem{Base: p1, Index: r1, Scale: 4}, Y3)
	VMOVUPS(Y0, Mem{Base: t0})
	VMOVUPS(Y1, Mem{Base: t1})
	VMOVUPS(Y2, Mem{Base: t0, Index: stride, Scale: 1})
	VMOVUPS(Y3, Mem{Base: t1, Index: stride, Scale: 1})
	LEAQ(Mem{Base: t0, Index: stride, Scale: 2}, t0)
	LEAQ(Mem{Base: t1, Index: stride, Scale: 2}, t1)
	ADDQ(U8(8), kbase)
	SUBQ(U8(2), kn)
	JMP(LabelRef("gp_two"))
	Label("gp_one")
	TESTQ(kn, kn)
	JZ(LabelRef("gp_done"))
	MOVLQSX(Mem{Base: kbase}, r0)
	VMOVUPS(Mem{Base: p0, Index: r0, Scale: 4}, Y0)
	VMOVUPS(Mem{Base: p1, Index: r0, Scale: 4}, Y1)
	VMOVUPS(Y0, Mem{Base: t0})
	VMOVUPS(Y1, Mem{Base: t1})
	Label("gp_done")
	VZEROUPPER()
	RET()
}
