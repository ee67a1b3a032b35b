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
	"strconv"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

func main() {
	ConstraintExpr("!purego")
	clamp()
	avgClamp()
	sum()
	sumPlanes()
	tapSumRows()
	tapSumPlanes()
	copyPlanes()
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
//
// tapSumPlanes is the same over planes with their own taps and bias (a
// depthwise convolution's channels, each run flat over its zero-bordered
// plane): plane r is dst + r*stride and src + r*stride, its weights
// w[r*taps:], its bias bias[r], and its sums are clamped to [lo, hi] in
// the order that lets NaN through (see emitClamp). One call covers every
// channel of a small map, where a call per channel cost more than its
// few vectors of work.
func tapSumRows() { tapSum(false) }

func tapSumPlanes() { tapSum(true) }

func tapSum(planes bool) {
	var bias, lo, hi VecPhysical = Y15, Y13, Y12
	dst, src, rows, last, wBase, biasPtr := GP64(), GP64(), GP64(), GP64(), GP64(), GP64()
	if planes {
		TEXT("tapSumPlanesAVX", NOSPLIT, "func(dst, src *float32, stride, planes, n int, offs *int32, w *float32, taps int, bias *float32, lo, hi float32)")
		Pragma("noescape")
		Doc("tapSumPlanesAVX runs the tap sum over planes of n >= 8 outputs, each with its own taps and bias, clamped (see the generator's documentation).")
		Load(Param("dst"), dst)
		Load(Param("src"), src)
		Load(Param("planes"), rows)
		Load(Param("n"), last)
		Load(Param("w"), wBase)
		Load(Param("bias"), biasPtr)
		VBROADCASTSS(NewParamAddr("lo", 72), lo)
		VBROADCASTSS(NewParamAddr("hi", 76), hi)
	} else {
		TEXT("tapSumRowsAVX", NOSPLIT, "func(dst *float32, dstStride int, src *float32, srcStride int, rows, n int, offs *int32, w *float32, taps int, bias float32)")
		Pragma("noescape")
		Doc("tapSumRowsAVX runs the tap sum over rows of n >= 8 outputs (see the generator's documentation).")
		Load(Param("dst"), dst)
		Load(Param("src"), src)
		Load(Param("rows"), rows)
		Load(Param("n"), last)
		VBROADCASTSS(NewParamAddr("bias", 72), bias)
	}
	// last: byte offset of the row's final vector, (n-8)*4.
	SUBQ(U8(8), last)
	SHLQ(U8(2), last)
	o, c, q, p, bs, base, fin := GP64(), GP64(), GP64(), GP64(), GP64(), GP64(), GP64()
	acc := []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7}
	// chains computes k vectors, the consecutive ones from base and, with
	// toLast, the k-th at fin (src + last) instead (k accumulator chains,
	// every tap's weight broadcast once for all of them), and stores them
	// at the same offsets from dst. Each chain is one multiply-add per
	// tap, dependent on the last: eight chains keep the FMA units busy
	// where four waited on the latency.
	chains := func(k int, toLast bool, tag string) {
		at := func(j int) Mem {
			if toLast && j == k-1 {
				return Mem{Base: fin, Index: o, Scale: 4}
			}
			return Mem{Base: base, Index: o, Scale: 4, Disp: 32 * j}
		}
		for j := 0; j < k; j++ {
			VMOVAPS(bias, acc[j])
		}
		Load(Param("offs"), q)
		if planes {
			MOVQ(wBase, p)
		} else {
			Load(Param("w"), p)
		}
		Load(Param("taps"), c)
		TESTQ(c, c)
		JZ(LabelRef("tr_store" + tag))
		Label("tr_tap" + tag)
		MOVLQSX(Mem{Base: q}, o)
		VBROADCASTSS(Mem{Base: p}, Y8)
		for j := 0; j < k; j++ {
			VFMADD231PS(at(j), Y8, acc[j])
		}
		ADDQ(U8(4), q)
		ADDQ(U8(4), p)
		DECQ(c)
		JNZ(LabelRef("tr_tap" + tag))
		Label("tr_store" + tag)
		// o = dst - src: the outputs sit at the inputs' offsets.
		MOVQ(dst, o)
		SUBQ(src, o)
		for j := 0; j < k; j++ {
			if planes {
				VMAXPS(acc[j], lo, acc[j])
				VMINPS(acc[j], hi, acc[j])
			}
			m := at(j)
			m.Index, m.Scale = o, 1
			VMOVUPS(acc[j], m)
		}
	}
	TESTQ(rows, rows)
	JZ(LabelRef("tr_done"))
	Label("tr_row")
	if planes {
		VBROADCASTSS(Mem{Base: biasPtr}, bias)
	}
	LEAQ(Mem{Base: src, Index: last, Scale: 1}, fin)
	XORQ(bs, bs) // byte offset of the next vector
	// Blocks of eight whole vectors (the last at bs+224 <= last) ...
	Label("tr_block")
	LEAQ(Mem{Base: bs, Disp: 224}, o)
	CMPQ(o, last)
	JA(LabelRef("tr_tail"))
	LEAQ(Mem{Base: src, Index: bs, Scale: 1}, base)
	chains(8, false, "b")
	ADDQ(U32(256), bs)
	JMP(LabelRef("tr_block"))
	// ... then one block of the r = ceil(R/32) vectors left (R bytes):
	// r-1 from bs, the last at last. A row whose n is not a multiple of
	// 8 ends with a vector overlapping the previous one (those outputs
	// are computed twice, identically).
	Label("tr_tail")
	LEAQ(Mem{Base: last, Disp: 32}, o) // the row's end, in bytes
	SUBQ(bs, o)                        // R
	JLE(LabelRef("tr_next"))
	ADDQ(U8(31), o)
	SHRQ(U8(5), o) // r
	LEAQ(Mem{Base: src, Index: bs, Scale: 1}, base)
	for k := 1; k < 8; k++ {
		CMPQ(o, U8(k))
		JE(LabelRef("tr_r" + strconv.Itoa(k)))
	}
	chains(8, true, "8")
	JMP(LabelRef("tr_next"))
	for k := 1; k < 8; k++ {
		Label("tr_r" + strconv.Itoa(k))
		chains(k, true, strconv.Itoa(k))
		if k < 7 {
			JMP(LabelRef("tr_next"))
		}
	}
	Label("tr_next")
	if planes {
		Load(Param("stride"), o)
		SHLQ(U8(2), o)
		ADDQ(o, dst)
		ADDQ(o, src)
		Load(Param("taps"), o)
		SHLQ(U8(2), o)
		ADDQ(o, wBase)
		ADDQ(U8(4), biasPtr)
	} else {
		Load(Param("dstStride"), o)
		SHLQ(U8(2), o)
		ADDQ(o, dst)
		Load(Param("srcStride"), o)
		SHLQ(U8(2), o)
		ADDQ(o, src)
	}
	DECQ(rows)
	JNZ(LabelRef("tr_row"))
	Label("tr_done")
	VZEROUPPER()
	RET()
}

var laneMaskData *Mem

// laneMasks is a table of eight set lanes then eight clear ones: the eight
// lanes from 8-n hold a mask of the first n.
func laneMasks() Mem {
	if laneMaskData == nil {
		m := GLOBL("lane_masks", RODATA|NOPTR)
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

// sumPlanes sets dst[k] to scale times the sum of plane k, the n floats
// at src + k*n (a global average pool: one call for every channel, where
// a call per channel and Go's tail loops cost more than the adds). Each
// plane is summed eight lanes at a time, the last n%8 floats by a masked
// load, then the lanes are added pairwise.
func sumPlanes() {
	TEXT("sumPlanesAVX", NOSPLIT, "func(dst, src *float32, planes, n int, scale float32)")
	Pragma("noescape")
	Doc("sumPlanesAVX sets dst[k] to scale times the sum of src[k*n:(k+1)*n] for k < planes (see the generator's documentation).")
	dst, src, planes, n := GP64(), GP64(), GP64(), GP64()
	Load(Param("dst"), dst)
	Load(Param("src"), src)
	Load(Param("planes"), planes)
	Load(Param("n"), n)
	VMOVSS(NewParamAddr("scale", 32), X14)
	full, t, i := GP64(), GP64(), GP64()
	// full: bytes of whole vectors; Y7: the mask of the n%8 left.
	MOVQ(n, full)
	ANDQ(I8(-8), full)
	SHLQ(U8(2), full)
	MOVQ(n, t)
	ANDQ(U8(7), t)
	NEGQ(t)
	ADDQ(U8(8), t)
	LEAQ(laneMasks(), i)
	VMOVUPS(Mem{Base: i, Index: t, Scale: 4}, Y7)
	TESTQ(planes, planes)
	JZ(LabelRef("sp_done"))
	Label("sp_plane")
	VXORPS(Y0, Y0, Y0)
	XORQ(i, i)
	Label("sp_vec")
	CMPQ(i, full)
	JAE(LabelRef("sp_tail"))
	VADDPS(Mem{Base: src, Index: i, Scale: 1}, Y0, Y0)
	ADDQ(U8(32), i)
	JMP(LabelRef("sp_vec"))
	Label("sp_tail")
	VMASKMOVPS(Mem{Base: src, Index: i, Scale: 1}, Y7, Y1)
	VADDPS(Y1, Y0, Y0)
	VEXTRACTF128(U8(1), Y0, X1)
	VADDPS(X1, X0, X0)
	VPERMILPS(U8(0x4e), X0, X1)
	VADDPS(X1, X0, X0)
	VPERMILPS(U8(0xb1), X0, X1)
	VADDPS(X1, X0, X0)
	VMULSS(X14, X0, X0)
	VMOVSS(X0, Mem{Base: dst})
	ADDQ(U8(4), dst)
	LEAQ(Mem{Base: src, Index: n, Scale: 4}, src)
	DECQ(planes)
	JNZ(LabelRef("sp_plane"))
	Label("sp_done")
	VZEROUPPER()
	RET()
}

// copyPlanes copies planes of rows of n floats: row r of plane k from src
// + k*srcPlane + r*srcRow to dst + k*dstPlane + r*dstRow. Rows of n >= 8
// go eight at a time with an overlapping last vector; shorter rows (a
// small map's 5-wide rows, where a call or a loop per row cost more than
// the copy) move with one masked load, the mask's first n lanes set
// (lane_masks from 8-n), and a masked store. With spill != 0 the
// store is a whole vector but for the call's last row: it also writes
// 8-n zeros past the row, which the caller guarantees are zero borders
// or rows copied later (masked stores are slow on AMD cores).
func copyPlanes() {
	TEXT("copyPlanesAVX", NOSPLIT, "func(dst *float32, dstRow, dstPlane int, src *float32, srcRow, srcPlane int, planes, rows, n, spill int)")
	Pragma("noescape")
	Doc("copyPlanesAVX copies planes of strided rows (see the generator's documentation).")
	mask := laneMasks()
	dst, src := GP64(), GP64()
	Load(Param("dst"), dst)
	Load(Param("src"), src)
	dstRow, srcRow, planes, n := GP64(), GP64(), GP64(), GP64()
	Load(Param("dstRow"), dstRow)
	Load(Param("srcRow"), srcRow)
	Load(Param("planes"), planes)
	Load(Param("n"), n)
	SHLQ(U8(2), dstRow)
	SHLQ(U8(2), srcRow)
	last, i, r, d, sp, t := GP64(), GP64(), GP64(), GP64(), GP64(), GP64()
	LEAQ(Mem{Base: n, Disp: -8}, last)
	SHLQ(U8(2), last)
	CMPQ(n, U8(8))
	JAE(LabelRef("cp_plane"))
	// n < 8: the mask of n lanes starts at lane 8-n of the table.
	MOVQ(U32(8), t)
	SUBQ(n, t)
	LEAQ(mask, i)
	VMOVUPS(Mem{Base: i, Index: t, Scale: 4}, Y7)
	Label("cp_plane")
	TESTQ(planes, planes)
	JZ(LabelRef("cp_done"))
	MOVQ(dst, d)
	MOVQ(src, sp)
	Load(Param("rows"), r)
	TESTQ(r, r)
	JZ(LabelRef("cp_next"))
	Label("cp_row")
	CMPQ(n, U8(8))
	JAE(LabelRef("cp_long"))
	VMASKMOVPS(Mem{Base: sp}, Y7, Y0)
	// A whole store when spilling, unless this is the call's last row.
	Load(Param("spill"), t)
	TESTQ(t, t)
	JZ(LabelRef("cp_masked"))
	CMPQ(planes, U8(1))
	JNE(LabelRef("cp_whole"))
	CMPQ(r, U8(1))
	JE(LabelRef("cp_masked"))
	Label("cp_whole")
	VMOVUPS(Y0, Mem{Base: d})
	JMP(LabelRef("cp_rowdone"))
	Label("cp_masked")
	VMASKMOVPS(Y0, Y7, Mem{Base: d})
	JMP(LabelRef("cp_rowdone"))
	Label("cp_long")
	XORQ(i, i)
	Label("cp_vec")
	CMPQ(i, last)
	JAE(LabelRef("cp_tail"))
	VMOVUPS(Mem{Base: sp, Index: i, Scale: 1}, Y0)
	VMOVUPS(Y0, Mem{Base: d, Index: i, Scale: 1})
	ADDQ(U8(32), i)
	JMP(LabelRef("cp_vec"))
	Label("cp_tail")
	VMOVUPS(Mem{Base: sp, Index: last, Scale: 1}, Y0)
	VMOVUPS(Y0, Mem{Base: d, Index: last, Scale: 1})
	Label("cp_rowdone")
	ADDQ(dstRow, d)
	ADDQ(srcRow, sp)
	DECQ(r)
	JNZ(LabelRef("cp_row"))
	Label("cp_next")
	Load(Param("dstPlane"), t)
	SHLQ(U8(2), t)
	ADDQ(t, dst)
	Load(Param("srcPlane"), t)
	SHLQ(U8(2), t)
	ADDQ(t, src)
	DECQ(planes)
	JNZ(LabelRef("cp_plane"))
	Label("cp_done")
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
