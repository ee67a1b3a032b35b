// Command arith_amd64 generates the AVX element-wise arithmetic of package
// github.com/kagen-ai/kagen/engine with avo.
//
// It is run by go generate in engine:
//
//	go run ../tools/asm/arith_amd64 -out arith_amd64.s -stubs arith_stubs_amd64.go -pkg engine
//
// For each operation OP of + - * / there are two routines over n floats (n
// a multiple of 8; the caller finishes the rest in Go):
//
//	arithVVop(o, x, y, n): o[i] = x[i] OP y[i]
//	arithVSop(o, x, n, s): o[i] = x[i] OP s
//
// and for - and /, arithSVop(o, x, n, s): o[i] = s OP x[i]. Each is one
// VADDPS, VSUBPS, VMULPS or VDIVPS per eight elements, exactly the IEEE
// operation the Go loop performs, four vectors per iteration and then one.
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

var ymm = []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7}

type arith struct {
	name string
	sym  string
	emit func(ops ...Op)
}

func main() {
	ConstraintExpr("!purego")
	ops := []arith{{"Add", "+", VADDPS}, {"Sub", "-", VSUBPS}, {"Mul", "*", VMULPS}, {"Div", "/", VDIVPS}}
	for _, a := range ops {
		vv(a)
		vs(a, false)
		if a.sym == "-" || a.sym == "/" {
			vs(a, true)
		}
	}
	Generate()
}

// loop emits the four-vector and one-vector loops over n (a multiple of 8)
// elements; body(v, off) computes vector v at byte offset off.
func loop(name string, n Register, advance func(bytes int), body func(v int, off int)) {
	Label(name + "_loop4")
	CMPQ(n, U32(32))
	JL(LabelRef(name + "_loop1"))
	for v := 0; v < 4; v++ {
		body(v, 32*v)
	}
	advance(128)
	SUBQ(U32(32), n)
	JMP(LabelRef(name + "_loop4"))
	Label(name + "_loop1")
	CMPQ(n, U32(8))
	JL(LabelRef(name + "_done"))
	body(0, 0)
	advance(32)
	SUBQ(U32(8), n)
	JMP(LabelRef(name + "_loop1"))
	Label(name + "_done")
	VZEROUPPER()
	RET()
}

func vv(a arith) {
	name := "arithVV" + a.name
	TEXT(name, NOSPLIT, "func(o, x, y *float32, n int)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s sets o[i] = x[i] %s y[i] for i < n (a multiple of 8).", name, a.sym))
	o := Load(Param("o"), GP64())
	x := Load(Param("x"), GP64())
	y := Load(Param("y"), GP64())
	n := Load(Param("n"), GP64())
	loop(name, n, func(b int) {
		ADDQ(U32(b), o)
		ADDQ(U32(b), x)
		ADDQ(U32(b), y)
	}, func(v, off int) {
		VMOVUPS(Mem{Base: x, Disp: off}, ymm[v])
		a.emit(Mem{Base: y, Disp: off}, ymm[v], ymm[v])
		VMOVUPS(ymm[v], Mem{Base: o, Disp: off})
	})
}

func vs(a arith, swap bool) {
	name, form := "arithVS"+a.name, "x[i] %s s"
	if swap {
		name, form = "arithSV"+a.name, "s %s x[i]"
	}
	TEXT(name, NOSPLIT, "func(o, x *float32, n int, s float32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s sets o[i] = %s for i < n (a multiple of 8).", name, fmt.Sprintf(form, a.sym)))
	o := Load(Param("o"), GP64())
	x := Load(Param("x"), GP64())
	n := Load(Param("n"), GP64())
	s := Y15
	VBROADCASTSS(NewParamAddr("s", 24), s)
	loop(name, n, func(b int) {
		ADDQ(U32(b), o)
		ADDQ(U32(b), x)
	}, func(v, off int) {
		if swap {
			// Go operand order: VSUBPS b, a, dst computes a - b.
			VMOVUPS(Mem{Base: x, Disp: off}, ymm[4+v])
			a.emit(ymm[4+v], s, ymm[v])
		} else {
			VMOVUPS(Mem{Base: x, Disp: off}, ymm[v])
			a.emit(s, ymm[v], ymm[v])
		}
		VMOVUPS(ymm[v], Mem{Base: o, Disp: off})
	})
}
