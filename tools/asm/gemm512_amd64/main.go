// Command gemm512_amd64 generates the AVX-512 single-precision GEMM
// micro-kernels of package github.com/kagen-ai/kagen/engine/gemm with avo.
//
// It is run by go generate in engine/gemm:
//
//	go run ../../tools/asm/gemm512_amd64 -out kernel512_amd64.s -stubs kernel512_stubs_amd64.go -pkg gemm
//
// The kernels have the tile width (16 columns, one 512-bit register a row)
// and the calling convention of the AVX2 kernels (see tools/asm/gemm_amd64),
// so packed B panels and the epilogue flags are the same; they compute up
// to 12 rows per tile, 12 accumulators where AVX2 has 6 rows in 12 halves,
// and multiply each A element in with an embedded-broadcast FMA, so a k
// step is one load of B and twelve fused broadcast-multiply-adds. On a CPU
// with 512-bit FMA units that doubles the arithmetic per instruction.
//
// Each kernel kernelMx16z (M = 1..12) computes an M x 16 tile of C from a
// packed A micro-panel (12 floats per k step, of which the first M are
// used), or A in place (rawA), and a B micro-panel whose k-th row of 16
// floats starts at b + k*ldb; the h variants read B as IEEE binary16 and
// widen it with VCVTPH2PS. flags select the epilogue:
//
//	bit 0 (1): add the previous contents of C
//	bit 1 (2): add bias[i] to row i
//	bit 2 (4): add bias[j] to column j
//	bit 3 (8): clamp to [lo, hi]
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

const (
	mr     = 12 // rows of a packed A micro-panel
	nr     = 16 // columns of a tile
	unroll = 4  // k steps per main-loop iteration
)

const signature = "func(kc int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, flags uint64, bias *float32, lo, hi float32)"

const signatureHalf = "func(kc int, a *float32, lda int, b *uint16, ldb int, c *float32, ldc int, flags uint64, bias *float32, lo, hi float32)"

var zmm = []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15,
	Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31}

func main() {
	ConstraintExpr("!purego")
	for _, half := range []bool{false, true} {
		for _, rawA := range []bool{false, true} {
			for m := mr; m >= 1; m-- {
				kernel(m, rawA, half)
			}
		}
	}
	for m := mr; m >= 1; m-- {
		kernelRows(m)
	}
	for _, rawA := range []bool{false, true} {
		for m := mr; m >= 1; m-- {
			kernelWide(m, rawA)
		}
	}
	for m := mr; m >= 1; m-- {
		kernelRowsWide(m)
	}
	Generate()
}

// sets returns the number of independent accumulator sets of an m-row
// kernel: short kernels split the k steps over several sets so that at
// least eight FMAs are independent (latency 4, two a cycle).
func sets(m int) int {
	switch {
	case m >= 8:
		return 1
	case m >= 4:
		return 2
	}
	return 4
}

// rowMems returns the memory operands of rows 0..m-1 of a matrix at base
// pointer p with row stride ld (bytes), using extra base registers for
// rows 3.., 6.. and 9.. (computed here from p).
func rowMems(p, ld Register, m int) []Mem {
	rows := []Mem{{Base: p}, {Base: p, Index: ld, Scale: 1}, {Base: p, Index: ld, Scale: 2}}
	for g := 3; g < m; g += 3 {
		q := GP64()
		// q = p + g*ld
		IMUL3Q(U8(g), ld, q)
		ADDQ(p, q)
		rows = append(rows, Mem{Base: q}, Mem{Base: q, Index: ld, Scale: 1}, Mem{Base: q, Index: ld, Scale: 2})
	}
	return rows[:m]
}

func kernel(m int, rawA, halfB bool) {
	name := fmt.Sprintf("kernel%dx%dz", m, nr)
	form := "a packed A micro-panel (a[k*12+i])"
	if rawA {
		name += "rawA"
		form = "A in place (a[i*lda+k])"
	}
	sig := signature
	if halfB {
		name += "h"
		form += " and a half-precision B"
		sig = signatureHalf
	}
	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
	Doc(fmt.Sprintf("%s computes a %dx%d tile of C = A*B from kc k steps of %s with AVX-512, then applies the epilogue selected by flags.", name, m, nr, form))

	ns := sets(m)
	acc := make([][]VecPhysical, ns)
	next := 0
	for s := range acc {
		acc[s] = zmm[next : next+m]
		next += m
	}
	if next > 28 {
		panic("too many accumulators")
	}
	bv := []VecPhysical{Z28, Z29}
	e0, e1 := Z30, Z31

	{
		Comment("Prefetch the C tile.")
		c := Load(Param("c"), GP64())
		ldc := Load(Param("ldc"), GP64())
		SHLQ(U8(2), ldc)
		for _, r := range rowMems(c, ldc, m) {
			PREFETCHT0(r)
			PREFETCHT0(r.Offset(nr*4 - 4))
		}
	}

	Comment("Zero the accumulators.")
	for s := range acc {
		for _, x := range acc[s] {
			VPXORD(x, x, x)
		}
	}

	kc := Load(Param("kc"), GP64())
	a := Load(Param("a"), GP64())
	var aElem func(i, s int) Mem
	var advanceA func(bytes int)
	aStep := mr * 4
	if rawA {
		lda := Load(Param("lda"), GP64())
		SHLQ(U8(2), lda)
		rowsA := rowMems(a, lda, m)
		aElem = func(i, s int) Mem { return rowsA[i].Offset(4 * s) }
		aStep = 4
		advanceA = func(bytes int) {
			seen := map[Register]bool{}
			for _, r := range rowsA {
				if !seen[r.Base] {
					seen[r.Base] = true
					ADDQ(U32(bytes), r.Base)
				}
			}
		}
	} else {
		aElem = func(i, s int) Mem { return Mem{Base: a, Disp: s*mr*4 + 4*i} }
		advanceA = func(bytes int) { ADDQ(U32(bytes), a) }
	}
	b := Load(Param("b"), GP64())
	ldb := Load(Param("ldb"), GP64())
	if halfB {
		SHLQ(U8(1), ldb)
	} else {
		SHLQ(U8(2), ldb)
	}
	ldb3 := GP64()
	LEAQ(Mem{Base: ldb, Index: ldb, Scale: 2}, ldb3)
	n := GP64()
	MOVQ(kc, n)
	SHRQ(U8(2), n)
	ANDQ(U8(unroll-1), kc)

	bRow := []Mem{{Base: b}, {Base: b, Index: ldb, Scale: 1}, {Base: b, Index: ldb, Scale: 2}, {Base: b, Index: ldb3, Scale: 1}}
	step := func(u int, brow Mem, s int) {
		x := bv[u%2]
		if halfB {
			VCVTPH2PS(brow, x)
		} else {
			VMOVUPS(brow, x)
		}
		for i := 0; i < m; i++ {
			VFMADD231PS_BCST(aElem(i, s), x, acc[u%ns][i])
		}
	}

	Comment(fmt.Sprintf("Main loop: %d k steps per iteration.", unroll))
	TESTQ(n, n)
	JZ(LabelRef(name + "_tail"))
	Label(name + "_loop")
	for u := 0; u < unroll; u++ {
		step(u, bRow[u], u)
	}
	advanceA(unroll * aStep)
	LEAQ(Mem{Base: b, Index: ldb, Scale: 4}, b)
	DECQ(n)
	JNZ(LabelRef(name + "_loop"))

	Label(name + "_tail")
	TESTQ(kc, kc)
	JZ(LabelRef(name + "_reduce"))
	Label(name + "_tailloop")
	step(0, bRow[0], 0)
	advanceA(aStep)
	ADDQ(ldb, b)
	DECQ(kc)
	JNZ(LabelRef(name + "_tailloop"))

	Label(name + "_reduce")
	for s := 1; s < ns; s++ {
		for i := 0; i < m; i++ {
			VADDPS(acc[s][i], acc[0][i], acc[0][i])
		}
	}
	res := acc[0]

	c := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(2), ldc)
	rows := rowMems(c, ldc, m)
	flags := Load(Param("flags"), GP64())

	Comment("Accumulate into C.")
	TESTQ(U32(1), flags)
	JZ(LabelRef(name + "_rowbias"))
	for i := 0; i < m; i++ {
		VADDPS(rows[i], res[i], res[i])
	}

	Label(name + "_rowbias")
	TESTQ(U32(2), flags)
	JZ(LabelRef(name + "_colbias"))
	bias := Load(Param("bias"), GP64())
	for i := 0; i < m; i++ {
		VADDPS_BCST(Mem{Base: bias, Disp: 4 * i}, res[i], res[i])
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
		// The accumulator is the second source so that NaN propagates.
		VMAXPS(res[i], e0, res[i])
		VMINPS(res[i], e1, res[i])
	}

	Label(name + "_store")
	for i := 0; i < m; i++ {
		VMOVUPS(res[i], rows[i])
	}
	VZEROUPPER()
	RET()
}

// kernelRows generates the m-row kernel whose B rows are found through a
// table: row k of the tile's B starts at b + 4*rows[k] (a convolution's
// input read in place: rows[k] is the offset of one input channel and
// kernel tap in a zero-bordered input, and the tile's 16 columns are 16
// consecutive positions of it). A is a packed micro-panel. It reads 16
// floats of every row, whatever the caller keeps.
func kernelRows(m int) {
	name := fmt.Sprintf("kernel%dx%dzrows", m, nr)
	TEXT(name, NOSPLIT, "func(kc int, a *float32, b *float32, rows *int32, c *float32, ldc int, flags uint64, bias *float32, lo, hi float32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s computes a %dx%d tile of C = A*B from kc k steps of a packed A micro-panel and B rows at b[rows[k]:], then applies the epilogue selected by flags.", name, m, nr))
	ns := sets(m)
	acc := make([][]VecPhysical, ns)
	next := 0
	for s := range acc {
		acc[s] = zmm[next : next+m]
		next += m
	}
	bv := []VecPhysical{Z28, Z29}
	e0, e1 := Z30, Z31
	Comment("Zero the accumulators.")
	for s := range acc {
		for _, x := range acc[s] {
			VPXORD(x, x, x)
		}
	}
	kc := Load(Param("kc"), GP64())
	a := Load(Param("a"), GP64())
	b := Load(Param("b"), GP64())
	rows := Load(Param("rows"), GP64())
	off := []GPVirtual{GP64(), GP64()}
	n := GP64()
	MOVQ(kc, n)
	SHRQ(U8(1), n)
	ANDQ(U8(1), kc)
	step := func(u int) {
		x := bv[u%len(bv)]
		MOVLQSX(Mem{Base: rows, Disp: 4 * u}, off[u%2])
		VMOVUPS(Mem{Base: b, Index: off[u%2], Scale: 4}, x)
		for i := 0; i < m; i++ {
			VFMADD231PS_BCST(Mem{Base: a, Disp: u*mr*4 + 4*i}, x, acc[u%ns][i])
		}
	}
	Comment("Main loop: 2 k steps per iteration.")
	TESTQ(n, n)
	JZ(LabelRef(name + "_tail"))
	Label(name + "_loop")
	step(0)
	step(1)
	ADDQ(U32(2*mr*4), a)
	ADDQ(U32(8), rows)
	DECQ(n)
	JNZ(LabelRef(name + "_loop"))
	Label(name + "_tail")
	TESTQ(kc, kc)
	JZ(LabelRef(name + "_reduce"))
	step(0)
	Label(name + "_reduce")
	for s := 1; s < ns; s++ {
		for i := 0; i < m; i++ {
			VADDPS(acc[s][i], acc[0][i], acc[0][i])
		}
	}
	res := acc[0]
	c := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(2), ldc)
	rowsC := rowMems(c, ldc, m)
	flags := Load(Param("flags"), GP64())
	TESTQ(U32(1), flags)
	JZ(LabelRef(name + "_rowbias"))
	for i := 0; i < m; i++ {
		VADDPS(rowsC[i], res[i], res[i])
	}
	Label(name + "_rowbias")
	TESTQ(U32(2), flags)
	JZ(LabelRef(name + "_colbias"))
	bias := Load(Param("bias"), GP64())
	for i := 0; i < m; i++ {
		VADDPS_BCST(Mem{Base: bias, Disp: 4 * i}, res[i], res[i])
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
		VMAXPS(res[i], e0, res[i])
		VMINPS(res[i], e1, res[i])
	}
	Label(name + "_store")
	for i := 0; i < m; i++ {
		VMOVUPS(res[i], rowsC[i])
	}
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

// wideRegisters returns the accumulators of an m-row 32-column kernel,
// acc[s][i][h] being set s, row i, half h (columns 16h..16h+15), and the
// registers left for B (pairs, one per k step in flight) and for
// broadcasts of A. It has the 16-column kernel's sets (see sets) and
// assigns k steps to them as that kernel does, so that a column comes out
// bit for bit the same whichever of the two kernels computed it (a
// product split between threads puts a column in either).
func wideRegisters(m int) (acc [][][2]VecPhysical, bv [][2]VecPhysical, av []VecPhysical) {
	ns := sets(m)
	acc = make([][][2]VecPhysical, ns)
	next := 0
	for s := range acc {
		acc[s] = make([][2]VecPhysical, m)
		for i := range acc[s] {
			acc[s][i] = [2]VecPhysical{zmm[next], zmm[next+1]}
			next += 2
		}
	}
	switch {
	case next <= 24:
		return acc, [][2]VecPhysical{{Z24, Z25}, {Z26, Z27}}, []VecPhysical{Z28, Z29, Z30, Z31}
	case next <= 28:
		return acc, [][2]VecPhysical{{Z28, Z29}}, []VecPhysical{Z30, Z31}
	}
	panic("too many accumulators")
}

// wideEpilogue reduces the accumulator sets and applies the flags'
// epilogue to the m x 32 tile, storing it at c (row stride ldc floats).
func wideEpilogue(name string, m int, acc [][][2]VecPhysical) {
	for s := 1; s < len(acc); s++ {
		for i := 0; i < m; i++ {
			for h := 0; h < 2; h++ {
				VADDPS(acc[s][i][h], acc[0][i][h], acc[0][i][h])
			}
		}
	}
	res := acc[0]
	e0, e1 := Z30, Z31
	c := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(2), ldc)
	rows := rowMems(c, ldc, m)
	flags := Load(Param("flags"), GP64())

	Comment("Accumulate into C.")
	TESTQ(U32(1), flags)
	JZ(LabelRef(name + "_rowbias"))
	for i := 0; i < m; i++ {
		for h := 0; h < 2; h++ {
			VADDPS(rows[i].Offset(64*h), res[i][h], res[i][h])
		}
	}

	Label(name + "_rowbias")
	TESTQ(U32(2), flags)
	JZ(LabelRef(name + "_colbias"))
	bias := Load(Param("bias"), GP64())
	for i := 0; i < m; i++ {
		VBROADCASTSS(Mem{Base: bias, Disp: 4 * i}, e0)
		VADDPS(e0, res[i][0], res[i][0])
		VADDPS(e0, res[i][1], res[i][1])
	}

	Label(name + "_colbias")
	TESTQ(U32(4), flags)
	JZ(LabelRef(name + "_clamp"))
	bias = Load(Param("bias"), GP64())
	VMOVUPS(Mem{Base: bias}, e0)
	VMOVUPS(Mem{Base: bias, Disp: 64}, e1)
	for i := 0; i < m; i++ {
		VADDPS(e0, res[i][0], res[i][0])
		VADDPS(e1, res[i][1], res[i][1])
	}

	Label(name + "_clamp")
	TESTQ(U32(8), flags)
	JZ(LabelRef(name + "_store"))
	VBROADCASTSS(paramAddr("lo"), e0)
	VBROADCASTSS(paramAddr("hi"), e1)
	for i := 0; i < m; i++ {
		for h := 0; h < 2; h++ {
			// The accumulator is the second source so that NaN propagates.
			VMAXPS(res[i][h], e0, res[i][h])
			VMINPS(res[i][h], e1, res[i][h])
		}
	}

	Label(name + "_store")
	for i := 0; i < m; i++ {
		for h := 0; h < 2; h++ {
			VMOVUPS(res[i][h], rows[i].Offset(64*h))
		}
	}
	VZEROUPPER()
	RET()
}

// kernelWide generates the m-row kernel of a 32-column tile: two B
// micro-panels of 16 columns, the first's row k at b + k*ldb and the
// second's at b2 + k*ldb (two adjacent packed panels, or two halves of a
// row-major B). Each A element is broadcast once into a register and
// multiplied into both halves, so a k step is 2 loads of B, m broadcasts
// and 2m FMAs: the 16-column kernel's one load per FMA (its embedded
// broadcasts) kept the FMA units a third idle.
func kernelWide(m int, rawA bool) {
	name := fmt.Sprintf("kernel%dx32z", m)
	form := "a packed A micro-panel (a[k*12+i])"
	if rawA {
		name += "rawA"
		form = "A in place (a[i*lda+k])"
	}
	TEXT(name, NOSPLIT, "func(kc int, a *float32, lda int, b *float32, b2 *float32, ldb int, c *float32, ldc int, flags uint64, bias *float32, lo, hi float32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s computes a %dx32 tile of C = A*B from kc k steps of %s and two 16-column B micro-panels at b and b2 with AVX-512, then applies the epilogue selected by flags.", name, m, form))
	acc, bv, av := wideRegisters(m)
	ns := len(acc)

	Comment("Zero the accumulators.")
	for s := range acc {
		for i := range acc[s] {
			VPXORD(acc[s][i][0], acc[s][i][0], acc[s][i][0])
			VPXORD(acc[s][i][1], acc[s][i][1], acc[s][i][1])
		}
	}
	kc := Load(Param("kc"), GP64())
	a := Load(Param("a"), GP64())
	var aElem func(i, s int) Mem
	var advanceA func(bytes int)
	aStep := mr * 4
	if rawA {
		lda := Load(Param("lda"), GP64())
		SHLQ(U8(2), lda)
		rowsA := rowMems(a, lda, m)
		aElem = func(i, s int) Mem { return rowsA[i].Offset(4 * s) }
		aStep = 4
		advanceA = func(bytes int) {
			seen := map[Register]bool{}
			for _, r := range rowsA {
				if !seen[r.Base] {
					seen[r.Base] = true
					ADDQ(U32(bytes), r.Base)
				}
			}
		}
	} else {
		aElem = func(i, s int) Mem { return Mem{Base: a, Disp: s*mr*4 + 4*i} }
		advanceA = func(bytes int) { ADDQ(U32(bytes), a) }
	}
	b := Load(Param("b"), GP64())
	b2 := Load(Param("b2"), GP64())
	ldb := Load(Param("ldb"), GP64())
	SHLQ(U8(2), ldb)
	n := GP64()
	MOVQ(kc, n)
	SHRQ(U8(2), n)
	ANDQ(U8(unroll-1), kc)
	t := 0
	// step multiplies k step u (of the iteration) into accumulator set s.
	step := func(u, s int) {
		x := bv[u%len(bv)]
		VMOVUPS(Mem{Base: b}, x[0])
		VMOVUPS(Mem{Base: b2}, x[1])
		ADDQ(ldb, b)
		ADDQ(ldb, b2)
		for i := 0; i < m; i++ {
			y := av[t%len(av)]
			t++
			VBROADCASTSS(aElem(i, u), y)
			VFMADD231PS(x[0], y, acc[s][i][0])
			VFMADD231PS(x[1], y, acc[s][i][1])
		}
	}
	Comment(fmt.Sprintf("Main loop: %d k steps per iteration, step u into set u%%%d as the 16-column kernel does.", unroll, ns))
	TESTQ(n, n)
	JZ(LabelRef(name + "_tail"))
	Label(name + "_loop")
	for u := 0; u < unroll; u++ {
		step(u, u%ns)
	}
	advanceA(unroll * aStep)
	DECQ(n)
	JNZ(LabelRef(name + "_loop"))
	Label(name + "_tail")
	TESTQ(kc, kc)
	JZ(LabelRef(name + "_reduce"))
	Label(name + "_tailloop")
	step(0, 0)
	advanceA(aStep)
	DECQ(kc)
	JNZ(LabelRef(name + "_tailloop"))
	Label(name + "_reduce")
	wideEpilogue(name, m, acc)
}

// kernelRowsWide is kernelRows for a 32-column tile: row k of B is the 32
// floats at b + 4*rows[k].
func kernelRowsWide(m int) {
	name := fmt.Sprintf("kernel%dx32zrows", m)
	TEXT(name, NOSPLIT, "func(kc int, a *float32, b *float32, rows *int32, c *float32, ldc int, flags uint64, bias *float32, lo, hi float32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s computes a %dx32 tile of C = A*B from kc k steps of a packed A micro-panel and B rows at b[rows[k]:], then applies the epilogue selected by flags.", name, m))
	acc, bv, av := wideRegisters(m)
	ns := len(acc)
	Comment("Zero the accumulators.")
	for s := range acc {
		for i := range acc[s] {
			VPXORD(acc[s][i][0], acc[s][i][0], acc[s][i][0])
			VPXORD(acc[s][i][1], acc[s][i][1], acc[s][i][1])
		}
	}
	kc := Load(Param("kc"), GP64())
	a := Load(Param("a"), GP64())
	b := Load(Param("b"), GP64())
	rows := Load(Param("rows"), GP64())
	off := []GPVirtual{GP64(), GP64()}
	n := GP64()
	MOVQ(kc, n)
	SHRQ(U8(1), n)
	ANDQ(U8(1), kc)
	t := 0
	step := func(u int) {
		x := bv[u%len(bv)]
		MOVLQSX(Mem{Base: rows, Disp: 4 * u}, off[u%2])
		VMOVUPS(Mem{Base: b, Index: off[u%2], Scale: 4}, x[0])
		VMOVUPS(Mem{Base: b, Index: off[u%2], Scale: 4, Disp: 64}, x[1])
		for i := 0; i < m; i++ {
			y := av[t%len(av)]
			t++
			VBROADCASTSS(Mem{Base: a, Disp: u*mr*4 + 4*i}, y)
			VFMADD231PS(x[0], y, acc[u%ns][i][0])
			VFMADD231PS(x[1], y, acc[u%ns][i][1])
		}
	}
	Comment("Main loop: 2 k steps per iteration.")
	TESTQ(n, n)
	JZ(LabelRef(name + "_tail"))
	Label(name + "_loop")
	step(0)
	step(1)
	ADDQ(U32(2*mr*4), a)
	ADDQ(U32(8), rows)
	DECQ(n)
	JNZ(LabelRef(name + "_loop"))
	Label(name + "_tail")
	TESTQ(kc, kc)
	JZ(LabelRef(name + "_reduce"))
	step(0)
	Label(name + "_reduce")
	wideEpilogue(name, m, acc)
}
