// Command qgemm_amd64 generates the AVX2 int8 GEMM micro-kernels and the
// quantization routines of package github.com/kagen-ai/kagen/engine/qgemm
// with avo.
//
// It is run by go generate in engine/qgemm:
//
//	go run ../../tools/asm/qgemm_amd64 -out kernel_amd64.s -stubs kernel_stubs_amd64.go -pkg qgemm
//
// # Micro-kernels
//
// Each kernel computes tiles consecutive m x 16 tiles (m = 1..mr) of the
// int32 product of A (m rows read in place, row i at a + i*lda, 4 bytes per
// k group) and a packed B panel (per k group, 16 columns x 4 bytes, byte
// 4j+t holding column j, step t of the group), applying the epilogue to
// each; A, C and the per-row epilogue terms advance by m rows per tile.
//
// The arithmetic is VPMADDUBSW (unsigned x signed bytes, adjacent pairs
// summed into int16 with saturation), VPMADDWD with a vector of int16 ones
// (adjacent int16 pairs summed into int32) and VPADDD. It is exact because
// the unsigned operand (the activation codes) never exceeds 127 and the
// signed one (the weights) lies in [-127, 127]: a pair sums to at most
// 2*127*127 = 32258 in magnitude, below the int16 limit 32767, so
// VPMADDUBSW never saturates and every step is exact integer arithmetic.
//
// Two families differ in which operand is unsigned and which index the
// per-channel epilogue terms follow:
//
//   - convKernelMx16: A holds the int8 weights (one row per output
//     channel), B the activation codes; channel = row.
//   - denseKernelMx16: A holds the activation codes, B the int8 weights (one
//     column per output channel); channel = column.
//
// Epilogue, per element with channel ch (flags as in package qgemm):
//
//	acc -= zp * wsum[ch]                (int32)
//	y = float32(acc) * (wscale[ch] * xscale)
//	y += bias[i] (flag 2) or bias[j] (flag 4)
//	y = min(max(y, lo), hi)             (flag 8)
//
// Every iteration of the main loop (two k groups) also prefetches the 64
// bytes at pf, then advances pf by pfstride: the caller points it at the
// activations it will pack next (a row of 16 floats per iteration), whose
// reading from memory then overlaps the arithmetic.
//
// With flag 1 the raw int32 accumulators are stored to c instead (no
// epilogue): partial tiles finished in Go, or partial sums over a block of
// K. With flag 16 the accumulators start from the int32 partial sums in c
// (row stride ldc) instead of 0.
//
// gemvRowsN (N = 1..12) computes the N dot products of a row of activation
// codes with N rows of int8 weights (dense weights of a layer with few
// outputs, stored transposed so that no panel padding is read), with the
// same VPMADDUBSW/VPMADDWD/VPADDD sequence, and stores the int32 sums; the
// epilogue of these few values is done in Go.
//
// # Quantization
//
// quantBlock quantizes whole groups of 4 rows of a float32 matrix into
// packed B panels, reading the rows in order; quantPanelMasked does one
// panel of fewer than 16 columns with masked loads; codesBlock packs
// already quantized codes; quantRow quantizes a multiple of 32 contiguous
// floats; finiteAbsMax and finiteMinMax reduce over a multiple of 8 floats.
//
// The quantizers compute, per element, VMULPS by 1/scale, VMINPS/VMAXPS
// with the bounds (NaN-propagating operand order), VCVTPS2DQ (round to
// nearest even), saturating packs to bytes (NaN, converted to 0x80000000,
// is the only source of the byte -128, which is then replaced by 0) and
// the addition of the zero point: the same operations as the Go quantizer.
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

const nr = 16 // columns of a tile and of a packed B panel

const mr = 5 // rows of the largest kernel (the 5x16 tile uses 10 accumulators)

const signature = "func(tiles int, kg int, a *uint8, lda int, b *uint8, c *float32, ldc int, wsum *int32, wscale *float32, bias *float32, zp int32, xscale float32, lo float32, hi float32, flags uint64, pf *uint8, pfstride int)"

var ymm = []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15}

func main() {
	ConstraintExpr("!purego")
	for _, dense := range []bool{false, true} {
		for m := mr; m >= 1; m-- {
			kernel(m, dense)
		}
	}
	for n := 1; n <= gemvMax; n++ {
		gemvRows(n)
	}
	quantBlock()
	quantPanelMasked()
	codesBlock()
	quantRow()
	finiteAbsMax()
	finiteMinMax()
	Generate()
}

// kernel generates the m-row kernel of the conv (dense false) or dense
// family. It computes tiles consecutive tiles of m rows (A, C and the
// per-row terms advancing by m rows each time) over the same B panel.
func kernel(m int, dense bool) {
	family, form := "conv", "A holds int8 weights (channel = row), B activation codes"
	if dense {
		family, form = "dense", "A holds activation codes, B int8 weights (channel = column)"
	}
	name := fmt.Sprintf("%sKernel%dx%d", family, m, nr)
	TEXT(name, NOSPLIT, signature)
	Pragma("noescape")
	Doc(fmt.Sprintf("%s computes tiles consecutive %dx%d tiles (rows %d*t..) of C from kg k groups of A in place (row i at a[i*lda:]) and a packed B panel, each with the epilogue selected by flags; %s.", name, m, nr, m, form))

	// acc[i][h]: row i, columns 8h..8h+7.
	acc := make([][2]VecPhysical, m)
	for i := range acc {
		acc[i] = [2]VecPhysical{ymm[2*i], ymm[2*i+1]}
	}
	if 2*m > 10 {
		panic("too many accumulators")
	}
	bv := [2]VecPhysical{Y10, Y11}
	bc, t, ones := Y12, Y13, Y15

	// Registers kept across tiles.
	count := Load(Param("tiles"), GP64())
	a := Load(Param("a"), GP64())
	lda := Load(Param("lda"), GP64())
	c := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(2), ldc)
	flags := Load(Param("flags"), GP64())
	rowoff := GP64() // 4*m*tile: bytes into the per-row terms
	XORQ(rowoff, rowoff)
	pf := Load(Param("pf"), GP64())
	pfstride := Load(Param("pfstride"), GP64())

	Label(name + "_tile")
	kg := Load(Param("kg"), GP64())
	b := Load(Param("b"), GP64())
	a3 := GP64()
	LEAQ(Mem{Base: lda, Index: lda, Scale: 2}, a3)
	ADDQ(a, a3)
	rowsA := []Mem{{Base: a}, {Base: a, Index: lda, Scale: 1}, {Base: a, Index: lda, Scale: 2},
		{Base: a3}, {Base: a3, Index: lda, Scale: 1}, {Base: a3, Index: lda, Scale: 2}}
	c3 := GP64()
	LEAQ(Mem{Base: ldc, Index: ldc, Scale: 2}, c3)
	ADDQ(c, c3)
	rowsC := []Mem{{Base: c}, {Base: c, Index: ldc, Scale: 1}, {Base: c, Index: ldc, Scale: 2},
		{Base: c3}, {Base: c3, Index: ldc, Scale: 1}, {Base: c3, Index: ldc, Scale: 2}}

	Comment("int16 ones for VPMADDWD; the accumulators start at 0 or, with flag 16, at the int32 partial sums in c.")
	VPCMPEQW(ones, ones, ones)
	VPSRLW(U8(15), ones, ones)
	TESTQ(U32(16), flags)
	JZ(LabelRef(name + "_zero"))
	for i := range acc {
		for h := 0; h < 2; h++ {
			VMOVDQU(rowsC[i].Offset(32*h), acc[i][h])
		}
	}
	JMP(LabelRef(name + "_start"))
	Label(name + "_zero")
	for i := range acc {
		for h := 0; h < 2; h++ {
			VPXOR(acc[i][h], acc[i][h], acc[i][h])
		}
	}
	Label(name + "_start")

	// step accumulates k group g (relative to the current pointers).
	step := func(g int) {
		VMOVDQU(Mem{Base: b, Disp: 64 * g}, bv[0])
		VMOVDQU(Mem{Base: b, Disp: 64*g + 32}, bv[1])
		for i := 0; i < m; i++ {
			VPBROADCASTD(rowsA[i].Offset(4*g), bc)
			for h := 0; h < 2; h++ {
				// Go operand order: VPMADDUBSW signed, unsigned, dst.
				if dense {
					VPMADDUBSW(bv[h], bc, t)
				} else {
					VPMADDUBSW(bc, bv[h], t)
				}
				VPMADDWD(ones, t, t)
				VPADDD(t, acc[i][h], acc[i][h])
			}
		}
	}
	advance := func(groups int) {
		ADDQ(U32(4*groups), a)
		if m > 3 {
			ADDQ(U32(4*groups), a3)
		}
		ADDQ(U32(64*groups), b)
	}

	const unroll = 2
	n := GP64()
	MOVQ(kg, n)
	SHRQ(U8(1), n)
	ANDQ(U8(unroll-1), kg)
	Comment(fmt.Sprintf("Main loop: %d k groups per iteration.", unroll))
	TESTQ(n, n)
	JZ(LabelRef(name + "_tail"))
	Label(name + "_loop")
	PREFETCHT0(Mem{Base: pf})
	PREFETCHT0(Mem{Base: pf, Disp: 63})
	ADDQ(pfstride, pf)
	for g := 0; g < unroll; g++ {
		step(g)
	}
	advance(unroll)
	DECQ(n)
	JNZ(LabelRef(name + "_loop"))

	Label(name + "_tail")
	TESTQ(kg, kg)
	JZ(LabelRef(name + "_epilogue"))
	step(0)
	advance(1)

	Label(name + "_epilogue")
	Comment("Raw int32 tile.")
	TESTQ(U32(1), flags)
	JZ(LabelRef(name + "_requant"))
	for i := 0; i < m; i++ {
		VMOVDQU(acc[i][0], rowsC[i])
		VMOVDQU(acc[i][1], rowsC[i].Offset(32))
	}
	JMP(LabelRef(name + "_next"))

	Label(name + "_requant")
	Comment("acc -= zp*wsum; y = float32(acc) * (wscale*xscale).")
	zp, xs := Y15, Y14
	broadcastZP(zp, false)
	VBROADCASTSS(paramAddr("xscale"), xs)
	wsum := Load(Param("wsum"), GP64())
	wscale := Load(Param("wscale"), GP64())
	if dense {
		corr := [2]VecPhysical{Y10, Y11}
		scale := [2]VecPhysical{Y12, Y13}
		for h := 0; h < 2; h++ {
			VPMULLD(Mem{Base: wsum, Disp: 32 * h}, zp, corr[h])
			VMULPS(Mem{Base: wscale, Disp: 32 * h}, xs, scale[h])
		}
		for i := 0; i < m; i++ {
			for h := 0; h < 2; h++ {
				VPSUBD(corr[h], acc[i][h], acc[i][h])
				VCVTDQ2PS(acc[i][h], acc[i][h])
				VMULPS(scale[h], acc[i][h], acc[i][h])
			}
		}
	} else {
		corr, scale := Y12, Y13
		for i := 0; i < m; i++ {
			VPBROADCASTD(Mem{Base: wsum, Index: rowoff, Scale: 1, Disp: 4 * i}, corr)
			VPMULLD(zp, corr, corr)
			VBROADCASTSS(Mem{Base: wscale, Index: rowoff, Scale: 1, Disp: 4 * i}, scale)
			VMULPS(xs, scale, scale)
			for h := 0; h < 2; h++ {
				VPSUBD(corr, acc[i][h], acc[i][h])
				VCVTDQ2PS(acc[i][h], acc[i][h])
				VMULPS(scale, acc[i][h], acc[i][h])
			}
		}
	}

	bt := []VecPhysical{Y12, Y13}
	Label(name + "_rowbias")
	TESTQ(U32(2), flags)
	JZ(LabelRef(name + "_colbias"))
	bias := Load(Param("bias"), GP64())
	for i := 0; i < m; i++ {
		VBROADCASTSS(Mem{Base: bias, Index: rowoff, Scale: 1, Disp: 4 * i}, bt[0])
		VADDPS(bt[0], acc[i][0], acc[i][0])
		VADDPS(bt[0], acc[i][1], acc[i][1])
	}

	Label(name + "_colbias")
	TESTQ(U32(4), flags)
	JZ(LabelRef(name + "_clamp"))
	bias = Load(Param("bias"), GP64())
	VMOVUPS(Mem{Base: bias}, bt[0])
	VMOVUPS(Mem{Base: bias, Disp: 32}, bt[1])
	for i := 0; i < m; i++ {
		VADDPS(bt[0], acc[i][0], acc[i][0])
		VADDPS(bt[1], acc[i][1], acc[i][1])
	}

	Label(name + "_clamp")
	TESTQ(U32(8), flags)
	JZ(LabelRef(name + "_store"))
	VBROADCASTSS(paramAddr("lo"), bt[0])
	VBROADCASTSS(paramAddr("hi"), bt[1])
	for i := 0; i < m; i++ {
		for h := 0; h < 2; h++ {
			// The value is the second source so that NaN propagates.
			VMAXPS(acc[i][h], bt[0], acc[i][h])
			VMINPS(acc[i][h], bt[1], acc[i][h])
		}
	}

	Label(name + "_store")
	for i := 0; i < m; i++ {
		VMOVUPS(acc[i][0], rowsC[i])
		VMOVUPS(acc[i][1], rowsC[i].Offset(32))
	}

	Label(name + "_next")
	Comment("Next tile: A back by the k groups and down m rows, C down m rows.")
	kb := Load(Param("kg"), GP64())
	SHLQ(U8(2), kb)
	SUBQ(kb, a)
	adv := GP64()
	IMUL3Q(U32(m), lda, adv)
	ADDQ(adv, a)
	IMUL3Q(U32(m), ldc, adv)
	ADDQ(adv, c)
	ADDQ(U32(4*m), rowoff)
	DECQ(count)
	JNZ(LabelRef(name + "_tile"))
	VZEROUPPER()
	RET()
}

// gemvMax is the largest N of the dot-product kernels.
const gemvMax = 12

// gemvRows generates the dot products of one row of activation codes with
// n rows of int8 weights (dense weights stored transposed, for small N).
func gemvRows(n int) {
	name := fmt.Sprintf("gemvRows%d", n)
	TEXT(name, NOSPLIT, "func(k32 int, x *uint8, w *uint8, ldw int, out *int32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s stores to out[j], j < %d, the int32 dot product of the codes x[:32*k32] with the int8 weights w[j*ldw:j*ldw+32*k32].", name, n))
	acc := ymm[:n]
	xv, ones, t := Y12, Y13, Y14
	k32 := Load(Param("k32"), GP64())
	x := Load(Param("x"), GP64())
	w := Load(Param("w"), GP64())
	ldw := Load(Param("ldw"), GP64())
	// Row j of w at bases[j/3] + (j%3)*ldw.
	var bases []Register
	bases = append(bases, w)
	for b := 3; b < n; b += 3 {
		r := GP64()
		LEAQ(Mem{Base: bases[len(bases)-1], Index: ldw, Scale: 2}, r)
		ADDQ(ldw, r)
		bases = append(bases, r)
	}
	row := func(j, off int) Mem {
		m := Mem{Base: bases[j/3], Disp: off}
		if j%3 > 0 {
			m.Index, m.Scale = ldw, uint8(j%3)
		}
		return m
	}
	VPCMPEQW(ones, ones, ones)
	VPSRLW(U8(15), ones, ones)
	for _, a := range acc {
		VPXOR(a, a, a)
	}
	TESTQ(k32, k32)
	JZ(LabelRef(name + "_reduce"))
	Label(name + "_loop")
	VMOVDQU(Mem{Base: x}, xv)
	for j := 0; j < n; j++ {
		VPMADDUBSW(row(j, 0), xv, t) // Go order: signed (w), unsigned (x)
		VPMADDWD(ones, t, t)
		VPADDD(t, acc[j], acc[j])
	}
	ADDQ(U8(32), x)
	for _, b := range bases {
		ADDQ(U8(32), b)
	}
	DECQ(k32)
	JNZ(LabelRef(name + "_loop"))

	Label(name + "_reduce")
	out := Load(Param("out"), GP64())
	for j, a := range acc {
		VEXTRACTI128(U8(1), a, t.AsX())
		VPADDD(t.AsX(), a.AsX(), a.AsX())
		VPSHUFD(U8(0x4e), a.AsX(), t.AsX())
		VPADDD(t.AsX(), a.AsX(), a.AsX())
		VPSHUFD(U8(0xb1), a.AsX(), t.AsX())
		VPADDD(t.AsX(), a.AsX(), a.AsX())
		VMOVD(a.AsX(), Mem{Base: out, Disp: 4 * j})
	}
	VZEROUPPER()
	RET()
}

// quantConsts loads the broadcast constants of the quantizers: 1/scale, the
// clamp bounds lo = -zp and hi = 127-zp (in code units relative to zp), the
// byte 0x80 and the zero point bytes.
func quantConsts(inv, lo, hi, b80, zpb VecPhysical) {
	VBROADCASTSS(paramAddr("inv"), inv)
	VBROADCASTSS(paramAddr("lo"), lo)
	VBROADCASTSS(paramAddr("hi"), hi)
	VPCMPEQB(b80, b80, b80)
	VPSLLW(U8(7), b80, b80)  // 0xff80 = -128 in every word
	VPACKSSWB(b80, b80, b80) // 0x80 in every byte
	broadcastZP(zpb, true)   // zp (< 128) in every byte
}

// quantize turns the floats in x into int32 codes relative to the zero
// point: round-to-nearest-even of x*inv clamped to [lo, hi]; NaN stays NaN
// and so converts to 0x80000000.
func quantize(x, inv, lo, hi VecPhysical) {
	VMULPS(inv, x, x)
	clampConvert(x, lo, hi)
}

// clampConvert clamps the scaled values in x to [lo, hi], keeping NaN, and
// converts them to int32 (rounding to nearest even; NaN gives 0x80000000).
func clampConvert(x, lo, hi VecPhysical) {
	VMINPS(x, hi, x) // x second: NaN propagates
	VMAXPS(x, lo, x)
	VCVTPS2DQ(x, x)
}

// finishBytes maps the NaN marker byte 0x80 (no other code can be -128) to
// 0 and adds the zero point.
func finishBytes(x, b80, zpb, t VecPhysical) {
	VPCMPEQB(b80, x, t)
	VPANDN(x, t, x)
	VPADDB(zpb, x, x)
}

// quantBlock generates the quantize-and-pack of np whole B panels: for
// each k group (4 rows) it walks the rows left to right, so that the float
// matrix is read as four sequential streams.
func quantBlock() {
	TEXT("quantBlock", NOSPLIT, "func(kg int, np int, src *float32, ldx int, dst *uint8, pstride int, inv float32, lo float32, hi float32, zp int32)")
	Pragma("noescape")
	Doc("quantBlock quantizes kg groups of 4 rows x 16*np columns of a float32 matrix (row r at src[r*ldx:]) into np packed panels pstride bytes apart: dst[p*pstride+64*g+4*j+t] is the code of row 4g+t, column 16p+j.")
	inv, lo, hi, b80, zpb, shuf := Y8, Y9, Y10, Y11, Y12, Y13
	quantConsts(inv, lo, hi, b80, zpb)
	VMOVDQU(transposeData(), shuf)

	kg := Load(Param("kg"), GP64())
	src := Load(Param("src"), GP64())
	ldx := Load(Param("ldx"), GP64())
	dst := Load(Param("dst"), GP64())
	pstride := Load(Param("pstride"), GP64())
	SHLQ(U8(2), ldx)
	ldx3 := GP64()
	LEAQ(Mem{Base: ldx, Index: ldx, Scale: 2}, ldx3)
	s, d, p := GP64(), GP64(), GP64()

	TESTQ(kg, kg)
	JZ(LabelRef("quantBlock_done"))
	Label("quantBlock_group")
	MOVQ(src, s)
	MOVQ(dst, d)
	Load(Param("np"), p)
	Label("quantBlock_panel")
	rows := []Mem{{Base: s}, {Base: s, Index: ldx, Scale: 1}, {Base: s, Index: ldx, Scale: 2}, {Base: s, Index: ldx3, Scale: 1}}
	for h := 0; h < 2; h++ {
		q := []VecPhysical{ymm[4*h], ymm[4*h+1], ymm[4*h+2], ymm[4*h+3]}
		for r := 0; r < 4; r++ {
			VMULPS(rows[r].Offset(32*h), inv, q[r])
			clampConvert(q[r], lo, hi)
		}
		packGroup(q, shuf, b80, zpb)
		VMOVDQU(q[0], Mem{Base: d, Disp: 32 * h})
	}
	ADDQ(U32(64), s)
	ADDQ(pstride, d)
	DECQ(p)
	JNZ(LabelRef("quantBlock_panel"))
	LEAQ(Mem{Base: src, Index: ldx, Scale: 4}, src)
	ADDQ(U32(64), dst)
	DECQ(kg)
	JNZ(LabelRef("quantBlock_group"))
	Label("quantBlock_done")
	VZEROUPPER()
	RET()
}

// quantPanelMasked generates the quantize-and-pack of one B panel of fewer
// than 16 columns, reading only the columns the mask selects.
func quantPanelMasked() {
	TEXT("quantPanelMasked", NOSPLIT, "func(kg int, src *float32, ldx int, dst *uint8, mask *int32, inv float32, lo float32, hi float32, zp int32)")
	Pragma("noescape")
	Doc("quantPanelMasked is quantBlock for one panel, reading only the columns j with mask[j] < 0 (the others are quantized as 0).")
	inv, lo, hi, b80, zpb, shuf := Y8, Y9, Y10, Y11, Y12, Y13
	quantConsts(inv, lo, hi, b80, zpb)
	VMOVDQU(transposeData(), shuf)
	mask := Load(Param("mask"), GP64())
	m := [2]VecPhysical{Y14, Y15}
	VMOVDQU(Mem{Base: mask}, m[0])
	VMOVDQU(Mem{Base: mask, Disp: 32}, m[1])

	kg := Load(Param("kg"), GP64())
	src := Load(Param("src"), GP64())
	ldx := Load(Param("ldx"), GP64())
	dst := Load(Param("dst"), GP64())
	SHLQ(U8(2), ldx)
	ldx3 := GP64()
	LEAQ(Mem{Base: ldx, Index: ldx, Scale: 2}, ldx3)
	rows := []Mem{{Base: src}, {Base: src, Index: ldx, Scale: 1}, {Base: src, Index: ldx, Scale: 2}, {Base: src, Index: ldx3, Scale: 1}}

	TESTQ(kg, kg)
	JZ(LabelRef("quantPanelMasked_done"))
	Label("quantPanelMasked_loop")
	for h := 0; h < 2; h++ {
		q := []VecPhysical{Y0, Y1, Y2, Y3}
		for r := 0; r < 4; r++ {
			VMASKMOVPS(rows[r].Offset(32*h), m[h], q[r])
			VMULPS(inv, q[r], q[r])
			clampConvert(q[r], lo, hi)
		}
		packGroup(q, shuf, b80, zpb)
		VMOVDQU(q[0], Mem{Base: dst, Disp: 32 * h})
	}
	LEAQ(Mem{Base: src, Index: ldx, Scale: 4}, src)
	ADDQ(U32(64), dst)
	DECQ(kg)
	JNZ(LabelRef("quantPanelMasked_loop"))
	Label("quantPanelMasked_done")
	VZEROUPPER()
	RET()
}

// codesBlock generates the packing of np whole B panels from a matrix of
// codes: a 4x16 byte transpose per group and panel.
func codesBlock() {
	TEXT("codesBlock", NOSPLIT, "func(kg int, np int, src *uint8, ldx int, dst *uint8, pstride int)")
	Pragma("noescape")
	Doc("codesBlock packs kg groups of 4 rows x 16*np columns of a code matrix (row r at src[r*ldx:]) into np panels pstride bytes apart: dst[p*pstride+64*g+4*j+t] = src[(4g+t)*ldx+16p+j].")
	kg := Load(Param("kg"), GP64())
	src := Load(Param("src"), GP64())
	ldx := Load(Param("ldx"), GP64())
	dst := Load(Param("dst"), GP64())
	pstride := Load(Param("pstride"), GP64())
	ldx3 := GP64()
	LEAQ(Mem{Base: ldx, Index: ldx, Scale: 2}, ldx3)
	s, d, p := GP64(), GP64(), GP64()

	TESTQ(kg, kg)
	JZ(LabelRef("codesBlock_done"))
	Label("codesBlock_group")
	MOVQ(src, s)
	MOVQ(dst, d)
	Load(Param("np"), p)
	Label("codesBlock_panel")
	r := []VecPhysical{X0, X1, X2, X3}
	VMOVDQU(Mem{Base: s}, r[0])
	VMOVDQU(Mem{Base: s, Index: ldx, Scale: 1}, r[1])
	VMOVDQU(Mem{Base: s, Index: ldx, Scale: 2}, r[2])
	VMOVDQU(Mem{Base: s, Index: ldx3, Scale: 1}, r[3])
	// Go order: VPUNPCKLBW src2, src1, dst interleaves src1, src2.
	VPUNPCKLBW(r[1], r[0], X4) // columns 0-7: r0 r1 pairs
	VPUNPCKHBW(r[1], r[0], X5) // columns 8-15
	VPUNPCKLBW(r[3], r[2], X6)
	VPUNPCKHBW(r[3], r[2], X7)
	VPUNPCKLWD(X6, X4, X0) // columns 0-3: r0 r1 r2 r3
	VPUNPCKHWD(X6, X4, X1) // columns 4-7
	VPUNPCKLWD(X7, X5, X2) // columns 8-11
	VPUNPCKHWD(X7, X5, X3) // columns 12-15
	for i := 0; i < 4; i++ {
		VMOVDQU(r[i], Mem{Base: d, Disp: 16 * i})
	}
	ADDQ(U32(16), s)
	ADDQ(pstride, d)
	DECQ(p)
	JNZ(LabelRef("codesBlock_panel"))
	LEAQ(Mem{Base: src, Index: ldx, Scale: 4}, src)
	ADDQ(U32(64), dst)
	DECQ(kg)
	JNZ(LabelRef("codesBlock_group"))
	Label("codesBlock_done")
	RET()
}

var transposeGlobal Mem
var transposeDone bool

// transposeData returns the VPSHUFB mask that, within each 128-bit lane,
// transposes the 4x4 bytes [t][j] to [j][t].
func transposeData() Mem {
	if !transposeDone {
		transposeGlobal = GLOBL("qgemm_transpose4x4", RODATA|NOPTR)
		for lane := 0; lane < 2; lane++ {
			for j := 0; j < 4; j++ {
				for tt := 0; tt < 4; tt++ {
					DATA(16*lane+4*j+tt, U8(4*tt+j))
				}
			}
		}
		transposeDone = true
	}
	return transposeGlobal
}

// packGroup turns the int32 codes of rows t = 0..3 (q[t], 8 columns) into
// the 32 packed bytes of those columns, in q[0].
func packGroup(q []VecPhysical, shuf, b80, zpb VecPhysical) {
	VPACKSSDW(q[1], q[0], q[0])
	VPACKSSDW(q[3], q[2], q[2])
	VPACKSSWB(q[2], q[0], q[0])
	VPSHUFB(shuf, q[0], q[0])
	finishBytes(q[0], b80, zpb, q[1])
}

// quantRow generates the quantization of n (a multiple of 32) contiguous
// floats into n bytes.
func quantRow() {
	TEXT("quantRow", NOSPLIT, "func(n int, src *float32, dst *uint8, inv float32, lo float32, hi float32, zp int32)")
	Pragma("noescape")
	Doc("quantRow quantizes n (a multiple of 32) floats from src into codes in dst.")
	inv, lo, hi, b80, zpb, perm := Y8, Y9, Y10, Y11, Y12, Y13
	quantConsts(inv, lo, hi, b80, zpb)
	// After the in-lane packs the dwords hold elements [0-3, 8-11, 16-19,
	// 24-27, 4-7, 12-15, 20-23, 28-31].
	permData := GLOBL("qgemm_rowperm", RODATA|NOPTR)
	for i, v := range []uint32{0, 4, 1, 5, 2, 6, 3, 7} {
		DATA(4*i, U32(v))
	}
	VMOVDQU(permData, perm)
	n := Load(Param("n"), GP64())
	src := Load(Param("src"), GP64())
	dst := Load(Param("dst"), GP64())
	SHRQ(U8(5), n)
	TESTQ(n, n)
	JZ(LabelRef("quantRow_done"))
	Label("quantRow_loop")
	q := []VecPhysical{Y0, Y1, Y2, Y3}
	for r := 0; r < 4; r++ {
		VMOVUPS(Mem{Base: src, Disp: 32 * r}, q[r])
		quantize(q[r], inv, lo, hi)
	}
	VPACKSSDW(q[1], q[0], q[0])
	VPACKSSDW(q[3], q[2], q[2])
	VPACKSSWB(q[2], q[0], q[0])
	VPERMD(q[0], perm, q[0])
	finishBytes(q[0], b80, zpb, q[1])
	VMOVDQU(q[0], Mem{Base: dst})
	ADDQ(U32(128), src)
	ADDQ(U32(32), dst)
	DECQ(n)
	JNZ(LabelRef("quantRow_loop"))
	Label("quantRow_done")
	VZEROUPPER()
	RET()
}

// finiteMask sets mask to the lanes of x whose magnitude is finite (not
// NaN, not infinite); abs receives |x|.
func finiteMask(x, abs, mask, absMask, inf VecPhysical) {
	VANDPS(absMask, x, abs)
	VCMPPS(U8(1), inf, abs, mask) // abs < inf (ordered): false for NaN and Inf
}

// finiteAbsMax generates the maximum of |x| over the finite elements of n
// (a multiple of 8) floats.
func finiteAbsMax() {
	TEXT("finiteAbsMax", NOSPLIT, "func(n int, src *float32) float32")
	Pragma("noescape")
	Doc("finiteAbsMax returns the largest |x| over the finite elements of src[:n] (n a multiple of 8), or 0.")
	absMask, inf := Y14, Y15
	infConst(absMask, inf)
	acc := []VecPhysical{Y0, Y1, Y2, Y3}
	for _, r := range acc {
		VXORPS(r, r, r)
	}
	n := Load(Param("n"), GP64())
	src := Load(Param("src"), GP64())
	SHRQ(U8(3), n)
	reduce := func(v int) {
		x, mask := ymm[4+2*v], ymm[5+2*v]
		VMOVUPS(Mem{Base: src, Disp: 32 * v}, x)
		finiteMask(x, x, mask, absMask, inf)
		VANDPS(mask, x, x)
		VMAXPS(x, acc[v], acc[v])
	}
	Label("finiteAbsMax_loop4")
	CMPQ(n, U8(4))
	JL(LabelRef("finiteAbsMax_loop1"))
	for v := 0; v < 4; v++ {
		reduce(v)
	}
	ADDQ(U32(128), src)
	SUBQ(U8(4), n)
	JMP(LabelRef("finiteAbsMax_loop4"))
	Label("finiteAbsMax_loop1")
	TESTQ(n, n)
	JZ(LabelRef("finiteAbsMax_done"))
	reduce(0)
	ADDQ(U32(32), src)
	DECQ(n)
	JMP(LabelRef("finiteAbsMax_loop1"))
	Label("finiteAbsMax_done")
	VMAXPS(acc[1], acc[0], acc[0])
	VMAXPS(acc[3], acc[2], acc[2])
	VMAXPS(acc[2], acc[0], acc[0])
	hmax(acc[0], Y1, VMAXPS)
	Store(acc[0].AsX(), ReturnIndex(0))
	VZEROUPPER()
	RET()
}

// finiteMinMax generates the minimum and maximum over the finite elements
// of n (a multiple of 8) floats, both starting at 0.
func finiteMinMax() {
	TEXT("finiteMinMax", NOSPLIT, "func(n int, src *float32) (lo float32, hi float32)")
	Pragma("noescape")
	Doc("finiteMinMax returns min(0, smallest) and max(0, largest) over the finite elements of src[:n] (n a multiple of 8).")
	absMask, inf := Y14, Y15
	infConst(absMask, inf)
	lo := []VecPhysical{Y0, Y1}
	hi := []VecPhysical{Y2, Y3}
	for v := 0; v < 2; v++ {
		VXORPS(lo[v], lo[v], lo[v])
		VXORPS(hi[v], hi[v], hi[v])
	}
	n := Load(Param("n"), GP64())
	src := Load(Param("src"), GP64())
	SHRQ(U8(3), n)
	reduce := func(v int) {
		x, abs, mask := ymm[4+3*v], ymm[5+3*v], ymm[6+3*v]
		VMOVUPS(Mem{Base: src, Disp: 32 * v}, x)
		finiteMask(x, abs, mask, absMask, inf)
		VANDPS(mask, x, x) // non-finite lanes become +0
		VMINPS(x, lo[v], lo[v])
		VMAXPS(x, hi[v], hi[v])
	}
	Label("finiteMinMax_loop2")
	CMPQ(n, U8(2))
	JL(LabelRef("finiteMinMax_loop1"))
	for v := 0; v < 2; v++ {
		reduce(v)
	}
	ADDQ(U32(64), src)
	SUBQ(U8(2), n)
	JMP(LabelRef("finiteMinMax_loop2"))
	Label("finiteMinMax_loop1")
	TESTQ(n, n)
	JZ(LabelRef("finiteMinMax_done"))
	reduce(0)
	ADDQ(U32(32), src)
	DECQ(n)
	JMP(LabelRef("finiteMinMax_loop1"))
	Label("finiteMinMax_done")
	VMINPS(lo[1], lo[0], lo[0])
	VMAXPS(hi[1], hi[0], hi[0])
	hmax(lo[0], Y4, VMINPS)
	hmax(hi[0], Y4, VMAXPS)
	Store(lo[0].AsX(), ReturnIndex(0))
	Store(hi[0].AsX(), ReturnIndex(1))
	VZEROUPPER()
	RET()
}

// infConst loads the sign-clearing mask 0x7fffffff and +Inf (0x7f800000)
// into every lane.
func infConst(absMask, inf VecPhysical) {
	VPCMPEQD(absMask, absMask, absMask)
	VPSRLD(U8(1), absMask, absMask)
	VPCMPEQD(inf, inf, inf)
	VPSLLD(U8(24), inf, inf) // 0xff000000
	VPSRLD(U8(1), inf, inf)  // 0x7f800000
}

// hmax reduces the 8 lanes of x with op (VMAXPS or VMINPS) into lane 0,
// using t as a temporary.
func hmax(x, t VecPhysical, op func(ops ...Op)) {
	VEXTRACTF128(U8(1), x, t.AsX())
	op(t.AsX(), x.AsX(), x.AsX())
	VPERMILPS(U8(0x4e), x.AsX(), t.AsX())
	op(t.AsX(), x.AsX(), x.AsX())
	VPERMILPS(U8(0xb1), x.AsX(), t.AsX())
	op(t.AsX(), x.AsX(), x.AsX())
}

// broadcastZP broadcasts the int32 argument zp to every dword (or, with
// bytes, its low byte to every byte) of y. (Loading it through a general
// register keeps go vet's argument size check happy.)
func broadcastZP(y VecPhysical, bytes bool) {
	r := Load(Param("zp"), GP32())
	VMOVD(r, y.AsX())
	if bytes {
		VPBROADCASTB(y.AsX(), y)
	} else {
		VPBROADCASTD(y.AsX(), y)
	}
}

// paramAddr returns the memory operand of a scalar argument.
func paramAddr(name string) Mem {
	basic, err := Param(name).Resolve()
	if err != nil {
		panic(err)
	}
	return basic.Addr
}
