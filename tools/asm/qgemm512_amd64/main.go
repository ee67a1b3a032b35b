// Command qgemm512_amd64 generates the AVX-512 VNNI int8 GEMM micro-kernels
// of package github.com/kagen-ai/kagen/engine/qgemm with avo.
//
// It is run by go generate in engine/qgemm:
//
//	go run ../../tools/asm/qgemm512_amd64 -out kernel512_amd64.s -stubs kernel512_stubs_amd64.go -pkg qgemm
//
// The kernels have the calling convention, packed B panels (per k group,
// 16 columns x 4 bytes), epilogue and flags of the AVX2 kernels (see
// tools/asm/qgemm_amd64), and up to 12 rows a tile. One k group of one row
// is a single VPDPBUSD: the 64 unsigned-by-signed byte products of a row's
// four A bytes (broadcast) and the panel's 16x4 bytes, summed by fours into
// the row's 16 int32 accumulators, exactly and without the int16
// intermediate of the AVX2 kernels. The conv family broadcasts its signed
// weights from memory into the instruction (m32bcst); the dense family
// broadcasts its unsigned codes into a register first.
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

const (
	nr = 16 // columns of a tile and of a packed B panel
	mr = 12 // rows of the largest kernel
)

const signature = "func(tiles int, kg int, a *uint8, lda int, b *uint8, c *float32, ldc int, wsum *int32, wscale *float32, bias *float32, zp int32, xscale float32, lo float32, hi float32, flags uint64, pf *uint8, pfstride int)"

var zmm = []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15,
	Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31}

func main() {
	ConstraintExpr("!purego")
	for _, dense := range []bool{false, true} {
		for m := mr; m >= 1; m-- {
			kernel(m, dense)
		}
	}
	Generate()
}

// rowMems returns the operands of rows 0..m-1 at p with row stride ld
// bytes, with a base register for each group of three rows.
func rowMems(p, ld Register, m int) []Mem {
	rows := []Mem{{Base: p}, {Base: p, Index: ld, Scale: 1}, {Base: p, Index: ld, Scale: 2}}
	for g := 3; g < m; g += 3 {
		q := GP64()
		IMUL3Q(U8(g), ld, q)
		ADDQ(p, q)
		rows = append(rows, Mem{Base: q}, Mem{Base: q, Index: ld, Scale: 1}, Mem{Base: q, Index: ld, Scale: 2})
	}
	return rows[:m]
}

// sets is the number of accumulator sets of an m-row kernel, so that at
// least eight VPDPBUSDs are independent.
func sets(m int) int {
	switch {
	case m >= 8:
		return 1
	case m >= 4:
		return 2
	}
	return 4
}

func kernel(m int, dense bool) {
	family, form := "conv", "A holds int8 weights (channel = row), B activation codes"
	if dense {
		family, form = "dense", "A holds activation codes, B int8 weights (channel = column)"
	}
	name := fmt.Sprintf("%sKernel%dx%dv", family, m, nr)
	TEXT(name, NOSPLIT, signature)
	Pragma("noescape")
	Doc(fmt.Sprintf("%s computes tiles consecutive %dx%d tiles (rows %d*t..) of C from kg k groups of A in place (row i at a[i*lda:]) and a packed B panel with AVX-512 VNNI, each with the epilogue selected by flags; %s.", name, m, nr, m, form))

	ns := sets(m)
	acc := make([][]VecPhysical, ns)
	for s := range acc {
		acc[s] = zmm[s*m : (s+1)*m]
	}
	if ns*m > 24 {
		panic("too many accumulators")
	}
	bv := []VecPhysical{Z28, Z29}
	bc := Z27
	e0, e1, e2 := Z24, Z25, Z26

	count := Load(Param("tiles"), GP64())
	a := Load(Param("a"), GP64())
	lda := Load(Param("lda"), GP64())
	c := Load(Param("c"), GP64())
	rowoff := GP64() // 4*m*tile: bytes into the per-row terms
	XORQ(rowoff, rowoff)
	pf := Load(Param("pf"), GP64())
	pfstride := Load(Param("pfstride"), GP64())

	Label(name + "_tile")
	{
		Comment("The accumulators start at 0 or, with flag 16, at the int32 partial sums in c.")
		flags := Load(Param("flags"), GP64())
		for s := range acc {
			for _, x := range acc[s] {
				VPXORD(x, x, x)
			}
		}
		TESTQ(U32(16), flags)
		JZ(LabelRef(name + "_start"))
		ldc := Load(Param("ldc"), GP64())
		SHLQ(U8(2), ldc)
		for i, r := range rowMems(c, ldc, m) {
			VMOVDQU32(r, acc[0][i])
		}
		Label(name + "_start")
	}
	kg := Load(Param("kg"), GP64())
	b := Load(Param("b"), GP64())
	rowsA := rowMems(a, lda, m)

	step := func(g int) {
		x := bv[g%2]
		VMOVDQU32(Mem{Base: b, Disp: 64 * g}, x)
		set := acc[g%ns]
		for i := 0; i < m; i++ {
			// Go operand order: VPDPBUSD signed, unsigned, accumulator.
			if dense {
				VPBROADCASTD(rowsA[i].Offset(4*g), bc)
				VPDPBUSD(x, bc, set[i])
			} else {
				VPDPBUSD_BCST(rowsA[i].Offset(4*g), x, set[i])
			}
		}
	}
	advance := func(groups int) {
		seen := map[Register]bool{}
		for _, r := range rowsA {
			if !seen[r.Base] {
				seen[r.Base] = true
				ADDQ(U32(4*groups), r.Base)
			}
		}
		ADDQ(U32(64*groups), b)
	}

	const unroll = 4
	n := GP64()
	MOVQ(kg, n)
	SHRQ(U8(2), n)
	ANDQ(U8(unroll-1), kg)
	Comment(fmt.Sprintf("Main loop: %d k groups per iteration.", unroll))
	TESTQ(n, n)
	JZ(LabelRef(name + "_tail"))
	Label(name + "_loop")
	PREFETCHT0(Mem{Base: pf})
	PREFETCHT0(Mem{Base: pf, Disp: 63})
	ADDQ(pfstride, pf)
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
	JZ(LabelRef(name + "_reduce"))
	Label(name + "_tailloop")
	step(0)
	advance(1)
	DECQ(kg)
	JNZ(LabelRef(name + "_tailloop"))

	Label(name + "_reduce")
	for s := 1; s < ns; s++ {
		for i := 0; i < m; i++ {
			VPADDD(acc[s][i], acc[0][i], acc[0][i])
		}
	}
	res := acc[0]

	flags := Load(Param("flags"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(2), ldc)
	rowsC := rowMems(c, ldc, m)

	Comment("Raw int32 tile.")
	TESTQ(U32(1), flags)
	JZ(LabelRef(name + "_requant"))
	for i := 0; i < m; i++ {
		VMOVDQU32(res[i], rowsC[i])
	}
	JMP(LabelRef(name + "_next"))

	Label(name + "_requant")
	Comment("acc -= zp*wsum; y = float32(acc) * (wscale*xscale).")
	zp, xs := e0, e1
	{
		r := Load(Param("zp"), GP32())
		VPBROADCASTD(r, zp)
	}
	VBROADCASTSS(paramAddr("xscale"), xs)
	wsum := Load(Param("wsum"), GP64())
	wscale := Load(Param("wscale"), GP64())
	if dense {
		corr, scale := e2, bc
		VPMULLD(Mem{Base: wsum}, zp, corr)
		VMULPS(Mem{Base: wscale}, xs, scale)
		for i := 0; i < m; i++ {
			VPSUBD(corr, res[i], res[i])
			VCVTDQ2PS(res[i], res[i])
			VMULPS(scale, res[i], res[i])
		}
	} else {
		corr, scale := e2, bc
		for i := 0; i < m; i++ {
			VPBROADCASTD(Mem{Base: wsum, Index: rowoff, Scale: 1, Disp: 4 * i}, corr)
			VPMULLD(zp, corr, corr)
			VBROADCASTSS(Mem{Base: wscale, Index: rowoff, Scale: 1, Disp: 4 * i}, scale)
			VMULPS(xs, scale, scale)
			VPSUBD(corr, res[i], res[i])
			VCVTDQ2PS(res[i], res[i])
			VMULPS(scale, res[i], res[i])
		}
	}

	Label(name + "_rowbias")
	TESTQ(U32(2), flags)
	JZ(LabelRef(name + "_colbias"))
	bias := Load(Param("bias"), GP64())
	for i := 0; i < m; i++ {
		VADDPS_BCST(Mem{Base: bias, Index: rowoff, Scale: 1, Disp: 4 * i}, res[i], res[i])
	}

	Label(name + "_colbias")
	TESTQ(U32(4), flags)
	JZ(LabelRef(name + "_clamp"))
	bias = Load(Param("bias"), GP64())
	VMOVUPS(Mem{Base: bias}, e0)
	for i := 0; i < m; i++ {
		VADDPS(e0, res[i], res[i])
	}

	Label(name + "_clamp")
	TESTQ(U32(8), flags)
	JZ(LabelRef(name + "_store"))
	VBROADCASTSS(paramAddr("lo"), e0)
	VBROADCASTSS(paramAddr("hi"), e1)
	for i := 0; i < m; i++ {
		// The value is the second source so that NaN propagates.
		VMAXPS(res[i], e0, res[i])
		VMINPS(res[i], e1, res[i])
	}

	Label(name + "_store")
	for i := 0; i < m; i++ {
		VMOVUPS(res[i], rowsC[i])
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

// paramAddr returns the memory operand of a scalar argument.
func paramAddr(name string) Mem {
	basic, err := Param(name).Resolve()
	if err != nil {
		panic(err)
	}
	return basic.Addr
}
