// Command gemm_amd64 generates the AVX2+FMA single-precision GEMM
// micro-kernels of package github.com/kagen-ai/kagen/engine/gemm with avo.
//
// It is run by go generate in engine/gemm:
//
//	go run ../../tools/asm/gemm_amd64 -out kernel_amd64.s -stubs kernel_amd64_stubs.go -pkg gemm
//
// Each kernel kernelMx16 (M = 1..6) computes an M x 16 tile of C from a
// packed A micro-panel (6 floats per k step, of which the first M are used)
// and a B micro-panel whose k-th row of 16 floats starts at b + k*ldb. The
// accumulated product is then combined with C and the epilogue selected by
// flags, and stored to C (row stride ldc floats):
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
	mr     = 6  // rows of a packed A micro-panel
	nr     = 16 // columns of a tile
	unroll = 4  // k steps per main-loop iteration
)

const signature = "func(kc int, a, b *float32, ldb int, c *float32, ldc int, flags uint64, bias *float32, lo, hi float32)"

var ymm = []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15}

func main() {
	ConstraintExpr("!purego")
	for m := mr; m >= 1; m-- {
		kernel(m)
	}
	Generate()
}

// sets returns the number of independent accumulator sets used for an
// m-row kernel: short kernels split the k loop over several sets so that
// the FMA latency is hidden.
func sets(m int) int {
	switch m {
	case 1:
		return 4
	case 2, 3:
		return 2
	}
	return 1
}

func kernel(m int) {
	name := fmt.Sprintf("kernel%dx%d", m, nr)
	TEXT(name, NOSPLIT, signature)
	Pragma("noescape")
	Doc(fmt.Sprintf("%s computes a %dx%d tile of C = A*B from kc k steps, then applies the epilogue selected by flags.", name, m, nr))

	ns := sets(m)
	// acc[s][i][h]: set s, row i, half h (columns 8h..8h+7).
	acc := make([][][2]VecPhysical, ns)
	next := 0
	for s := range acc {
		acc[s] = make([][2]VecPhysical, m)
		for i := 0; i < m; i++ {
			acc[s][i] = [2]VecPhysical{ymm[next], ymm[next+1]}
			next += 2
		}
	}
	if next > 12 {
		panic("too many accumulators")
	}
	b0, b1 := Y12, Y13
	bc := []VecPhysical{Y14, Y15}

	Comment("Prefetch the C tile.")
	c := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(2), ldc)
	c3 := GP64()
	LEAQ(Mem{Base: ldc, Index: ldc, Scale: 2}, c3)
	ADDQ(c, c3)
	rows := []Mem{
		{Base: c}, {Base: c, Index: ldc, Scale: 1}, {Base: c, Index: ldc, Scale: 2},
		{Base: c3}, {Base: c3, Index: ldc, Scale: 1}, {Base: c3, Index: ldc, Scale: 2},
	}
	for i := 0; i < m; i++ {
		PREFETCHT0(rows[i])
		PREFETCHT0(rows[i].Offset(nr*4 - 4))
	}

	Comment("Zero the accumulators.")
	for s := range acc {
		for i := range acc[s] {
			for h := 0; h < 2; h++ {
				VXORPS(acc[s][i][h], acc[s][i][h], acc[s][i][h])
			}
		}
	}

	kc := Load(Param("kc"), GP64())
	a := Load(Param("a"), GP64())
	b := Load(Param("b"), GP64())
	ldb := Load(Param("ldb"), GP64())
	SHLQ(U8(2), ldb)
	ldb3 := GP64()
	LEAQ(Mem{Base: ldb, Index: ldb, Scale: 2}, ldb3)
	n := GP64()
	MOVQ(kc, n)
	SHRQ(U8(2), n)
	ANDQ(U8(unroll-1), kc)

	bRow := []Mem{{Base: b}, {Base: b, Index: ldb, Scale: 1}, {Base: b, Index: ldb, Scale: 2}, {Base: b, Index: ldb3, Scale: 1}}
	step := func(set int, brow Mem, aoff int) {
		VMOVUPS(brow, b0)
		VMOVUPS(brow.Offset(32), b1)
		for i := 0; i < m; i++ {
			x := bc[i%2]
			VBROADCASTSS(Mem{Base: a, Disp: aoff + 4*i}, x)
			VFMADD231PS(b0, x, acc[set][i][0])
			VFMADD231PS(b1, x, acc[set][i][1])
		}
	}

	Comment(fmt.Sprintf("Main loop: %d k steps per iteration.", unroll))
	TESTQ(n, n)
	JZ(LabelRef(name + "_tail"))
	Label(name + "_loop")
	for u := 0; u < unroll; u++ {
		step(u%ns, bRow[u], u*mr*4)
	}
	ADDQ(U32(unroll*mr*4), a)
	LEAQ(Mem{Base: b, Index: ldb, Scale: 4}, b)
	DECQ(n)
	JNZ(LabelRef(name + "_loop"))

	Label(name + "_tail")
	TESTQ(kc, kc)
	JZ(LabelRef(name + "_reduce"))
	Label(name + "_tailloop")
	step(0, bRow[0], 0)
	ADDQ(U32(mr*4), a)
	ADDQ(ldb, b)
	DECQ(kc)
	JNZ(LabelRef(name + "_tailloop"))

	Label(name + "_reduce")
	for s := 1; s < ns; s++ {
		for i := 0; i < m; i++ {
			for h := 0; h < 2; h++ {
				VADDPS(acc[s][i][h], acc[0][i][h], acc[0][i][h])
			}
		}
	}
	res := acc[0]

	flags := Load(Param("flags"), GP64())

	Comment("Accumulate into C.")
	TESTQ(U32(1), flags)
	JZ(LabelRef(name + "_rowbias"))
	for i := 0; i < m; i++ {
		VADDPS(rows[i], res[i][0], res[i][0])
		VADDPS(rows[i].Offset(32), res[i][1], res[i][1])
	}

	Label(name + "_rowbias")
	TESTQ(U32(2), flags)
	JZ(LabelRef(name + "_colbias"))
	bias := Load(Param("bias"), GP64())
	for i := 0; i < m; i++ {
		x := bc[i%2]
		VBROADCASTSS(Mem{Base: bias, Disp: 4 * i}, x)
		VADDPS(x, res[i][0], res[i][0])
		VADDPS(x, res[i][1], res[i][1])
	}

	Label(name + "_colbias")
	TESTQ(U32(4), flags)
	JZ(LabelRef(name + "_clamp"))
	bias = Load(Param("bias"), GP64())
	VMOVUPS(Mem{Base: bias}, bc[0])
	VMOVUPS(Mem{Base: bias, Disp: 32}, bc[1])
	for i := 0; i < m; i++ {
		VADDPS(bc[0], res[i][0], res[i][0])
		VADDPS(bc[1], res[i][1], res[i][1])
	}

	Label(name + "_clamp")
	TESTQ(U32(8), flags)
	JZ(LabelRef(name + "_store"))
	VBROADCASTSS(paramAddr("lo"), bc[0])
	VBROADCASTSS(paramAddr("hi"), bc[1])
	for i := 0; i < m; i++ {
		for h := 0; h < 2; h++ {
			// The accumulator is the second source so that NaN propagates.
			VMAXPS(res[i][h], bc[0], res[i][h])
			VMINPS(res[i][h], bc[1], res[i][h])
		}
	}

	Label(name + "_store")
	for i := 0; i < m; i++ {
		VMOVUPS(res[i][0], rows[i])
		VMOVUPS(res[i][1], rows[i].Offset(32))
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
