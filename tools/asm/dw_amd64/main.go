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
	"strconv"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

func main() {
	ConstraintExpr("!purego")
	deinterleave()
	flat(3, false)
	flat(5, false)
	flat(3, true)
	flat(5, true)
	grid5()
	same3()
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
	TEXT("deinterleaveAVX", NOSPLIT, "func(even, odd *float32, dstRow int, src *float32, srcRow, rows, n, planes, dstSkip, srcSkip int)")
	Pragma("noescape")
	Doc("deinterleaveAVX stores src[r*srcRow+2i] into even[r*dstRow+i] and src[r*srcRow+2i+1] into odd[r*dstRow+i] for r < rows and 2i, 2i+1 < n, for planes planes: each next one dstSkip and srcSkip floats past the previous one's last row's end (see the generator's documentation).")
	even, odd, src := GP64(), GP64(), GP64()
	dstRow, srcRow, rows, planes := GP64(), GP64(), GP64(), GP64()
	Load(Param("even"), even)
	Load(Param("odd"), odd)
	Load(Param("src"), src)
	Load(Param("dstRow"), dstRow)
	Load(Param("srcRow"), srcRow)
	Load(Param("planes"), planes)
	SHLQ(U8(2), dstRow)
	SHLQ(U8(2), srcRow)
	e, o, s, rem := GP64(), GP64(), GP64(), GP64()
	TESTQ(planes, planes)
	JZ(LabelRef("di_done"))
	Label("di_plane")
	Load(Param("rows"), rows)
	TESTQ(rows, rows)
	JZ(LabelRef("di_done"))
	Label("di_row")
	MOVQ(even, e)
	MOVQ(odd, o)
	MOVQ(src, s)
	Load(Param("n"), rem)
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
	// The next plane: its rows start dstSkip (srcSkip) floats after
	// where a next row would.
	Load(Param("dstSkip"), e)
	SHLQ(U8(2), e)
	ADDQ(e, even)
	ADDQ(e, odd)
	Load(Param("srcSkip"), s)
	SHLQ(U8(2), s)
	ADDQ(s, src)
	DECQ(planes)
	JNZ(LabelRef("di_plane"))
	Label("di_done")
	VZEROUPPER()
	RET()
}

// flat generates dwFlat<k>AVX, the stride-1 k x k depthwise convolution
// of planes laid flat on their bordered grids (the engine's
// DepthwisePlanes): for p < planes and i < n, dst[p*stride+i] is the
// clamp to [lo, hi] of bias[p] + sum over ky, kx of w[p*k*k+ky*k+kx] *
// src[p*stride+ky*row+kx+i]. It is TapSumPlanes with the taps unrolled:
// their rows are addressed from registers (ky*row as an index register
// scaled by 1, 2 or 4, 3*row in its own), their columns as
// displacements, so a tap is one broadcast of its weight and a
// multiply-add per vector, without TapSumPlanes' offset load and tap
// loop. Blocks of eight vectors, then one block of the r <= 8 left with
// its last vector ending at n (overlapping the one before when n is not
// a multiple of 8). n >= 8.
//
// With z, it generates dwFlatKAVX512: the same with 512-bit vectors of
// sixteen floats (n >= 16), every lane computed as the AVX form computes
// it.
func flat(k int, z bool) {
	name := "dwFlat" + strconv.Itoa(k) + "AVX"
	// vw is a vector's floats; vr returns vector register i.
	vw, vr := 8, func(i int) VecPhysical {
		return []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15}[i]
	}
	if z {
		name += "512"
		vw, vr = 16, func(i int) VecPhysical {
			return []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15}[i]
		}
	}
	vb := 4 * vw // a vector's bytes
	TEXT(name, NOSPLIT, "func(dst, src *float32, stride, planes, n, row int, w, bias *float32, lo, hi float32)")
	Pragma("noescape")
	Doc(name + " computes planes of a stride-1 " + strconv.Itoa(k) + "x" + strconv.Itoa(k) + " depthwise convolution laid flat (see the generator's documentation).")
	src, dd, rowB, r3, wp, bp := GP64(), GP64(), GP64(), GP64(), GP64(), GP64()
	Load(Param("src"), src)
	Load(Param("dst"), dd)
	SUBQ(src, dd) // dst - src: the outputs sit at the inputs' offsets
	Load(Param("row"), rowB)
	SHLQ(U8(2), rowB)
	LEAQ(Mem{Base: rowB, Index: rowB, Scale: 2}, r3)
	Load(Param("w"), wp)
	Load(Param("bias"), bp)
	lo, hi, bias := vr(13), vr(14), vr(15)
	VBROADCASTSS(NewParamAddr("lo", 64), lo)
	VBROADCASTSS(NewParamAddr("hi", 68), hi)
	planes, last, bs, base, fin, t := GP64(), GP64(), GP64(), GP64(), GP64(), GP64()
	Load(Param("planes"), planes)
	Load(Param("n"), last)
	SUBQ(U8(vw), last)
	SHLQ(U8(2), last) // byte offset of a plane's last vector
	acc := []VecPhysical{vr(0), vr(1), vr(2), vr(3), vr(4), vr(5), vr(6), vr(7)}
	tapMem := func(b Register, ky, kx, disp int) Mem {
		m := Mem{Base: b, Disp: 4*kx + disp}
		switch ky {
		case 1, 2, 4:
			m.Index, m.Scale = rowB, uint8(ky)
		case 3:
			m.Index, m.Scale = r3, 1
		}
		return m
	}
	// chains computes v vectors from base (the v-th at fin with toLast)
	// and stores them clamped.
	chains := func(v int, toLast bool) {
		at := func(j int) (Register, int) {
			if toLast && j == v-1 {
				return fin, 0
			}
			return base, vb * j
		}
		for j := 0; j < v; j++ {
			VMOVAPS(bias, acc[j])
		}
		for ky := 0; ky < k; ky++ {
			for kx := 0; kx < k; kx++ {
				VBROADCASTSS(Mem{Base: wp, Disp: 4 * (ky*k + kx)}, vr(8))
				for j := 0; j < v; j++ {
					b, d := at(j)
					VFMADD231PS(tapMem(b, ky, kx, d), vr(8), acc[j])
				}
			}
		}
		for j := 0; j < v; j++ {
			VMAXPS(acc[j], lo, acc[j])
			VMINPS(acc[j], hi, acc[j])
			b, d := at(j)
			VMOVUPS(acc[j], Mem{Base: b, Index: dd, Scale: 1, Disp: d})
		}
	}
	L := func(s string) string { return name + "_" + s }
	TESTQ(planes, planes)
	JZ(LabelRef(L("done")))
	Label(L("plane"))
	VBROADCASTSS(Mem{Base: bp}, bias)
	LEAQ(Mem{Base: src, Index: last, Scale: 1}, fin)
	XORQ(bs, bs)
	Label(L("block"))
	LEAQ(Mem{Base: bs, Disp: 7 * vb}, t)
	CMPQ(t, last)
	JA(LabelRef(L("tail")))
	LEAQ(Mem{Base: src, Index: bs, Scale: 1}, base)
	chains(8, false)
	ADDQ(U32(8*vb), bs)
	JMP(LabelRef(L("block")))
	Label(L("tail"))
	LEAQ(Mem{Base: last, Disp: vb}, t) // the plane's end, in bytes
	SUBQ(bs, t)
	JLE(LabelRef(L("next")))
	ADDQ(U8(vb-1), t)
	if z {
		SHRQ(U8(6), t) // vectors left
	} else {
		SHRQ(U8(5), t)
	}
	LEAQ(Mem{Base: src, Index: bs, Scale: 1}, base)
	for v := 1; v < 8; v++ {
		CMPQ(t, U8(v))
		JE(LabelRef(L("r" + strconv.Itoa(v))))
	}
	chains(8, true)
	JMP(LabelRef(L("next")))
	for v := 1; v < 8; v++ {
		Label(L("r" + strconv.Itoa(v)))
		chains(v, true)
		JMP(LabelRef(L("next")))
	}
	Label(L("next"))
	Load(Param("stride"), t)
	SHLQ(U8(2), t)
	ADDQ(t, src)
	ADDQ(U32(4*k*k), wp)
	ADDQ(U8(4), bp)
	DECQ(planes)
	JNZ(LabelRef(L("plane")))
	Label(L("done"))
	VZEROUPPER()
	RET()
}

// grid5 generates dwGrid5AVX, the stride-1 5x5 depthwise convolution of
// DepthwiseFlat on the planes' output grids (rows of row floats): blocks
// of four grid rows by one vector, positions q0 + r*row + [0, 8) for r <
// 4. Each of the block's eight input rows is loaded once per kernel
// column kx and multiplied into every output row it reaches, with that
// column's five weights in registers: 65 loads for 100 multiply-adds,
// where one vector at a time took 9 for 8. Blocks start at grid rows 0,
// 4, ... and the last at oh-4 (lastY = (oh-4)*row*4 bytes), at columns
// 0, 8, ... and the last at max(ow-8, 0) (lastX bytes): overlapping
// blocks compute the same sums again. The sum's order is kx, then ky.
func grid5() {
	TEXT("dwGrid5AVX", NOSPLIT, "func(dst, src *float32, stride, planes, row, lastX, lastY int, w, bias *float32, lo, hi float32)")
	Pragma("noescape")
	Doc("dwGrid5AVX computes planes of a stride-1 5x5 depthwise convolution on their grids, four rows at a time (see the generator's documentation).")
	src, dst, rowB, r3, wp, bp := GP64(), GP64(), GP64(), GP64(), GP64(), GP64()
	Load(Param("src"), src)
	Load(Param("dst"), dst)
	Load(Param("row"), rowB)
	SHLQ(U8(2), rowB)
	LEAQ(Mem{Base: rowB, Index: rowB, Scale: 2}, r3)
	Load(Param("w"), wp)
	Load(Param("bias"), bp)
	lo, hi, bias := Y13, Y14, Y15
	VBROADCASTSS(NewParamAddr("lo", 72), lo)
	VBROADCASTSS(NewParamAddr("hi", 76), hi)
	planes, yb, xb, base, base4, dp := GP64(), GP64(), GP64(), GP64(), GP64(), GP64()
	Load(Param("planes"), planes)
	acc := []VecPhysical{Y0, Y1, Y2, Y3}
	wr := []VecPhysical{Y4, Y5, Y6, Y7, Y8}
	x := Y9
	rowMem := func(ir, kx int) Mem {
		b := base
		if ir >= 4 {
			b, ir = base4, ir-4
		}
		m := Mem{Base: b, Disp: 4 * kx}
		switch ir {
		case 1, 2:
			m.Index, m.Scale = rowB, uint8(ir)
		case 3:
			m.Index, m.Scale = r3, 1
		}
		return m
	}
	outMem := func(r int) Mem {
		m := Mem{Base: dp}
		switch r {
		case 1, 2:
			m.Index, m.Scale = rowB, uint8(r)
		case 3:
			m.Index, m.Scale = r3, 1
		}
		return m
	}
	TESTQ(planes, planes)
	JZ(LabelRef("dg_done"))
	Label("dg_plane")
	VBROADCASTSS(Mem{Base: bp}, bias)
	XORQ(yb, yb)
	Label("dg_band")
	XORQ(xb, xb)
	Label("dg_col")
	LEAQ(Mem{Base: src, Index: yb, Scale: 1}, base)
	ADDQ(xb, base)
	LEAQ(Mem{Base: base, Index: rowB, Scale: 4}, base4)
	LEAQ(Mem{Base: dst, Index: yb, Scale: 1}, dp)
	ADDQ(xb, dp)
	for r := range acc {
		VMOVAPS(bias, acc[r])
	}
	for kx := 0; kx < 5; kx++ {
		for ky := 0; ky < 5; ky++ {
			VBROADCASTSS(Mem{Base: wp, Disp: 4 * (ky*5 + kx)}, wr[ky])
		}
		for ir := 0; ir < 8; ir++ {
			VMOVUPS(rowMem(ir, kx), x)
			for r := max(0, ir-4); r <= min(3, ir); r++ {
				VFMADD231PS(x, wr[ir-r], acc[r])
			}
		}
	}
	for r := range acc {
		VMAXPS(acc[r], lo, acc[r])
		VMINPS(acc[r], hi, acc[r])
		VMOVUPS(acc[r], outMem(r))
	}
	// Next column block: +8, the last at lastX.
	CMPQ(xb, NewParamAddr("lastX", 40))
	JAE(LabelRef("dg_cols_done"))
	ADDQ(U8(32), xb)
	CMPQ(xb, NewParamAddr("lastX", 40))
	JBE(LabelRef("dg_col"))
	Load(Param("lastX"), xb)
	JMP(LabelRef("dg_col"))
	Label("dg_cols_done")
	// Next band: +4 rows, the last at lastY.
	CMPQ(yb, NewParamAddr("lastY", 48))
	JAE(LabelRef("dg_next"))
	LEAQ(Mem{Base: yb, Index: rowB, Scale: 4}, yb)
	CMPQ(yb, NewParamAddr("lastY", 48))
	JBE(LabelRef("dg_band"))
	Load(Param("lastY"), yb)
	JMP(LabelRef("dg_band"))
	Label("dg_next")
	Load(Param("stride"), xb)
	SHLQ(U8(2), xb)
	ADDQ(xb, src)
	ADDQ(xb, dst)
	ADDQ(U8(100), wp)
	ADDQ(U8(4), bp)
	DECQ(planes)
	JNZ(LabelRef("dg_plane"))
	Label("dg_done")
	VZEROUPPER()
	RET()
}

// same3 generates dwSame3AVX512, the stride-1 3x3 depthwise convolution
// with one pixel of zero padding on every side (output plane = input
// plane, h x w = n floats) computed straight from the unpadded planes:
// no bordered copy in, no copy out. Output position p (16 a vector)
// reads input p + (ky-1)*w + kx-1; a tap that falls outside the plane
// (the row above the first, below the last, the column left of the
// first or right of the last, or past n) is switched off lane by lane
// with the vector's mask for that tap (masks: 16 uint16 per vector, the
// nine taps' first, see Same3Masks): a merge-masked multiply-add whose
// masked lanes neither load (AVX-512 suppresses their faults, so the
// reads before the first row and past the last need no slack) nor add.
// The nine weights and the bias of a plane are broadcast once into
// registers; vectors go eight at a time (eight independent chains), the
// last r < 8 in a block of r; stores are masked to n.
func same3() {
	TEXT("dwSame3AVX512", NOSPLIT, "func(dst, src *float32, planes, n, row int, masks *uint16, nv int, w, bias *float32, lo, hi float32)")
	Pragma("noescape")
	Doc("dwSame3AVX512 computes planes of a stride-1 3x3 depthwise convolution padded by one on every side from the unpadded planes, taps outside a plane masked off (see the generator's documentation).")
	src, dst, rowB, wp, bp, mp := GP64(), GP64(), GP64(), GP64(), GP64(), GP64()
	planes, up, out, left, m0, nb := GP64(), GP64(), GP64(), GP64(), GP64(), GP64()
	Load(Param("src"), src)
	Load(Param("dst"), dst)
	Load(Param("row"), rowB)
	SHLQ(U8(2), rowB)
	Load(Param("w"), wp)
	Load(Param("bias"), bp)
	Load(Param("masks"), m0)
	Load(Param("planes"), planes)
	Load(Param("n"), nb)
	SHLQ(U8(2), nb) // a plane's bytes
	lo, hi, bias := Z26, Z27, Z25
	VBROADCASTSS(NewParamAddr("lo", 72), lo)
	VBROADCASTSS(NewParamAddr("hi", 76), hi)
	wr := []VecPhysical{Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24}
	acc := []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7}
	ks := []Register{K1, K2, K3, K4, K5, K6, K7}
	// block computes v vectors: inputs from up (src at the block's first
	// vector, less a row), outputs to out, masks from mp.
	block := func(v int) {
		for j := 0; j < v; j++ {
			VMOVAPS(bias, acc[j])
		}
		for ky := 0; ky < 3; ky++ {
			for kx := 0; kx < 3; kx++ {
				t := ky*3 + kx
				for j := 0; j < v; j++ {
					k := ks[(t*v+j)%len(ks)]
					KMOVW(Mem{Base: mp, Disp: 32*j + 2*t}, k)
					m := Mem{Base: up, Disp: 64*j + 4*(kx-1)}
					if ky > 0 {
						m.Index, m.Scale = rowB, uint8(ky)
					}
					VFMADD231PS(m, wr[t], k, acc[j])
				}
			}
		}
		for j := 0; j < v; j++ {
			k := ks[j%len(ks)]
			KMOVW(Mem{Base: mp, Disp: 32*j + 2*4}, k) // the centre tap's: lanes < n
			VMAXPS(acc[j], lo, acc[j])
			VMINPS(acc[j], hi, acc[j])
			VMOVUPS(acc[j], k, Mem{Base: out, Disp: 64 * j})
		}
	}
	L := func(s string) string { return "ds3_" + s }
	TESTQ(planes, planes)
	JZ(LabelRef(L("done")))
	Label(L("plane"))
	for t := 0; t < 9; t++ {
		VBROADCASTSS(Mem{Base: wp, Disp: 4 * t}, wr[t])
	}
	VBROADCASTSS(Mem{Base: bp}, bias)
	MOVQ(src, up)
	SUBQ(rowB, up)
	MOVQ(dst, out)
	MOVQ(m0, mp)
	Load(Param("nv"), left)
	Label(L("block"))
	CMPQ(left, U8(8))
	JB(LabelRef(L("tail")))
	block(8)
	ADDQ(U32(8*64), up)
	ADDQ(U32(8*64), out)
	ADDQ(U32(8*32), mp)
	SUBQ(U8(8), left)
	JMP(LabelRef(L("block")))
	Label(L("tail"))
	for v := 1; v < 8; v++ {
		CMPQ(left, U8(v))
		JE(LabelRef(L("r" + strconv.Itoa(v))))
	}
	JMP(LabelRef(L("next")))
	for v := 1; v < 8; v++ {
		Label(L("r" + strconv.Itoa(v)))
		block(v)
		JMP(LabelRef(L("next")))
	}
	Label(L("next"))
	ADDQ(nb, src)
	ADDQ(nb, dst)
	ADDQ(U8(36), wp)
	ADDQ(U8(4), bp)
	DECQ(planes)
	JNZ(LabelRef(L("plane")))
	Label(L("done"))
	VZEROUPPER()
	RET()
}
