package engine

import "fmt"

// maxRank bounds the rank of broadcasting element-wise operations.
const maxRank = 8

// binaryOp is an element-wise operation with numpy-style broadcasting.
type binaryFns struct {
	f func(a, b float32) float32
	i func(a, b int64) int64
}

// binaryDef builds an arithmetic op; code names it for the fast kernel.
func binaryDef(fns binaryFns, code byte) opDef {
	return opDef{
		infer: func(n *node) error { return inferBinary(n) },
		eval:  func(n *node, in, out []*Tensor) { evalBinary(fns, in[0], in[1], out[0]) },
		compile: func(n *node, _ *compiler) (Kernel, error) {
			return compileArith(n, code), nil
		},
	}
}

var (
	addOp = binaryDef(binaryFns{func(a, b float32) float32 { return a + b }, func(a, b int64) int64 { return a + b }}, '+')
	subOp = binaryDef(binaryFns{func(a, b float32) float32 { return a - b }, func(a, b int64) int64 { return a - b }}, '-')
	mulOp = binaryDef(binaryFns{func(a, b float32) float32 { return a * b }, func(a, b int64) int64 { return a * b }}, '*')
	divOp = binaryDef(binaryFns{func(a, b float32) float32 { return a / b }, func(a, b int64) int64 {
		if b == 0 {
			return 0 // integer division by zero is undefined in ONNX; never panic
		}
		return a / b
	}}, '/')
)

// arithKernel runs a float Add, Sub, Mul or Div whose output has the shape
// of one operand (full) while the other (bc) varies along one contiguous
// block of axes only: the output is viewed as [outer, mid, inner] and bc
// as [mid]. That covers equal shapes (mid is everything), a scalar operand
// (inner is everything), a per-row bias after a MatMul (inner 1) and a
// per-channel [C,1,1] operand. swap says bc is input 0.
//
// With across, bc instead varies along the outer and the inner blocks and
// is broadcast along mid ([outer, 1, inner]: an attention mask [heads, 1,
// keys] added to scores [heads, queries, keys]).
type arithKernel struct {
	op                byte
	swap              bool
	across            bool
	outer, mid, inner int
}

// compileArith returns an arithKernel when the operands' shapes allow one,
// nil (the reference) otherwise.
func compileArith(n *node, op byte) Kernel {
	a, b, o := n.in[0], n.in[1], n.out[0]
	if !o.dtype.IsFloat() {
		return nil
	}
	if equalShapes(a.shape, o.shape) {
		if outer, mid, inner, ok := arithLayout(o.shape, b.shape); ok {
			return &arithKernel{op: op, outer: outer, mid: mid, inner: inner}
		}
	}
	if equalShapes(b.shape, o.shape) {
		if outer, mid, inner, ok := arithLayout(o.shape, a.shape); ok {
			return &arithKernel{op: op, swap: true, outer: outer, mid: mid, inner: inner}
		}
	}
	if equalShapes(a.shape, o.shape) {
		if outer, mid, inner, ok := arithAcross(o.shape, b.shape); ok {
			return &arithKernel{op: op, across: true, outer: outer, mid: mid, inner: inner}
		}
	}
	if equalShapes(b.shape, o.shape) {
		if outer, mid, inner, ok := arithAcross(o.shape, a.shape); ok {
			return &arithKernel{op: op, swap: true, across: true, outer: outer, mid: mid, inner: inner}
		}
	}
	return nil
}

// arithAcross views out as [outer, mid, inner] with bc (right-aligned to
// out) equal to out on the outer and inner blocks and 1 on mid.
func arithAcross(out, bc []int) (outer, mid, inner int, ok bool) {
	r := len(out)
	if len(bc) > r {
		return 0, 0, 0, false
	}
	dim := func(i int) int { // bc's dimension aligned with out[i]
		if j := len(bc) - r + i; j >= 0 {
			return bc[j]
		}
		return 1
	}
	i0, i1 := r, r // the axes from the first to the last where bc differs
	for i := 0; i < r; i++ {
		if dim(i) != out[i] {
			if i0 == r {
				i0 = i
			}
			i1 = i + 1
		}
	}
	if i0 == r {
		return 0, 0, 0, false
	}
	for i := i0; i < i1; i++ {
		if dim(i) != 1 {
			return 0, 0, 0, false
		}
	}
	return numel(out[:i0]), numel(out[i0:i1]), numel(out[i1:]), true
}

// arithLayout views out as [outer, mid, inner] with bc (right-aligned to
// out) covering exactly the mid block.
func arithLayout(out, bc []int) (outer, mid, inner int, ok bool) {
	r := len(out)
	if len(bc) > r {
		return 0, 0, 0, false
	}
	dim := func(i int) int { // bc's dimension aligned with out[i]
		if j := len(bc) - r + i; j >= 0 {
			return bc[j]
		}
		return 1
	}
	k0, k1 := r, r
	for i := 0; i < r; i++ {
		if dim(i) != 1 {
			if k0 == r {
				k0 = i
			}
			k1 = i + 1
		}
	}
	if k0 == r { // a scalar operand
		return 1, 1, numel(out), true
	}
	for i := k0; i < k1; i++ {
		if dim(i) != out[i] {
			return 0, 0, 0, false
		}
	}
	return numel(out[:k0]), numel(out[k0:k1]), numel(out[k1:]), true
}

// arithVec sets o = x op y (y op x when swap) element by element.
func arithVec(op byte, swap bool, o, x, y []float32) {
	o, y = o[:len(x)], y[:len(x)]
	if k := arithVecArch(op, swap, o, x, y); k > 0 {
		o, x, y = o[k:], x[k:], y[k:]
	}
	switch {
	case op == '+':
		for i, v := range x {
			o[i] = v + y[i]
		}
	case op == '*':
		for i, v := range x {
			o[i] = v * y[i]
		}
	case op == '-' && !swap:
		for i, v := range x {
			o[i] = v - y[i]
		}
	case op == '-':
		for i, v := range x {
			o[i] = y[i] - v
		}
	case op == '/' && !swap:
		for i, v := range x {
			o[i] = v / y[i]
		}
	default:
		for i, v := range x {
			o[i] = y[i] / v
		}
	}
}

// arithScalar sets o = x op s (s op x when swap).
func arithScalar(op byte, swap bool, o, x []float32, s float32) {
	o = o[:len(x)]
	if k := arithScalarArch(op, swap, o, x, s); k > 0 {
		o, x = o[k:], x[k:]
	}
	switch {
	case op == '+':
		for i, v := range x {
			o[i] = v + s
		}
	case op == '*':
		for i, v := range x {
			o[i] = v * s
		}
	case op == '-' && !swap:
		for i, v := range x {
			o[i] = v - s
		}
	case op == '-':
		for i, v := range x {
			o[i] = s - v
		}
	case op == '/' && !swap:
		for i, v := range x {
			o[i] = v / s
		}
	default:
		for i, v := range x {
			o[i] = s / v
		}
	}
}

func inferBinary(n *node) error {
	if err := n.needInputs(2, 2); err != nil {
		return err
	}
	a, b := n.in[0], n.in[1]
	if a.dtype != b.dtype {
		return n.errorf("input types differ: %v and %v", a.dtype, b.dtype)
	}
	if err := checkLegacyAxis(n, a.shape, b.shape); err != nil {
		return err
	}
	shape, err := broadcastShapes(a.shape, b.shape)
	if err != nil {
		return n.errorf("%v", err)
	}
	if len(shape) > maxRank {
		return n.unsupported("rank %d above %d", len(shape), maxRank)
	}
	n.out[0].dtype = a.dtype
	n.out[0].shape = shape
	return nil
}

// broadcastShapes returns the numpy broadcast of two shapes.
func broadcastShapes(a, b []int) ([]int, error) {
	r := max(len(a), len(b))
	out := make([]int, r)
	for i := 0; i < r; i++ {
		da, db := 1, 1
		if j := len(a) - r + i; j >= 0 {
			da = a[j]
		}
		if j := len(b) - r + i; j >= 0 {
			db = b[j]
		}
		switch {
		case da == db || db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		default:
			return nil, fmt.Errorf("shapes %v and %v do not broadcast", a, b)
		}
	}
	return out, nil
}

// broadcastIter calls row once per innermost run of the output with the
// starting offsets of the output and both inputs and their inner strides
// (0 or 1). It does not allocate.
func broadcastIter(out, a, b []int, row func(o, ia, ib, n, sa, sb int)) {
	r := len(out)
	if r == 0 {
		row(0, 0, 0, 1, 0, 0)
		return
	}
	var sa, sb, idx [maxRank]int
	strideA, strideB := 1, 1
	for i := r - 1; i >= 0; i-- {
		if j := len(a) - r + i; j >= 0 && a[j] != 1 {
			sa[i] = strideA
			strideA *= a[j]
		}
		if j := len(b) - r + i; j >= 0 && b[j] != 1 {
			sb[i] = strideB
			strideB *= b[j]
		}
	}
	inner := out[r-1]
	total := numel(out)
	if inner == 0 || total == 0 {
		return
	}
	ia, ib := 0, 0
	for o := 0; o < total; o += inner {
		row(o, ia, ib, inner, sa[r-1], sb[r-1])
		for d := r - 2; d >= 0; d-- {
			idx[d]++
			ia += sa[d]
			ib += sb[d]
			if idx[d] < out[d] {
				break
			}
			ia -= sa[d] * out[d]
			ib -= sb[d] * out[d]
			idx[d] = 0
		}
	}
}

func evalBinary(fns binaryFns, a, b, out *Tensor) {
	if a.DType.IsInt() {
		ai, bi, oi := a.I, b.I, out.I
		dt := out.DType
		broadcastIter(out.Shape, a.Shape, b.Shape, func(o, ia, ib, n, sa, sb int) {
			for k := 0; k < n; k++ {
				oi[o+k] = wrapInt(dt, fns.i(ai[ia+k*sa], bi[ib+k*sb]))
			}
		})
		return
	}
	af, bf, of := a.F, b.F, out.F
	if equalShapes(a.Shape, b.Shape) {
		af, bf, of = af[:len(of)], bf[:len(of)], of[:len(of)]
		for k := range of {
			of[k] = fns.f(af[k], bf[k])
		}
		return
	}
	broadcastIter(out.Shape, a.Shape, b.Shape, func(o, ia, ib, n, sa, sb int) {
		for k := 0; k < n; k++ {
			of[o+k] = fns.f(af[ia+k*sa], bf[ib+k*sb])
		}
	})
}

// elementwiseOps are the element-wise operators (this file, op_unary.go,
// op_math.go and op_compare.go).
var elementwiseOps = map[string]*opDef{
	"Add": &addOp, "Sub": &subOp, "Mul": &mulOp, "Div": &divOp,
	"Relu": &reluOp, "LeakyRelu": &leakyReluOp, "Sigmoid": &sigmoidOp, "Tanh": &tanhOp,
	"HardSigmoid": &hardSigmoidOp, "HardSwish": &hardSwishOp, "Clip": &clipOp,
	// op_math.go
	"Abs": &absOp, "Neg": &negOp, "Sign": &signOp, "Sqrt": &sqrtOp, "Exp": &expOp, "Log": &logOp,
	"Erf": &erfOp, "Reciprocal": &reciprocalOp, "Floor": &floorOp, "Ceil": &ceilOp, "Round": &roundOp,
	"Sin": &sinOp, "Cos": &cosOp, "Tan": &tanOp, "Asin": &asinOp, "Acos": &acosOp, "Atan": &atanOp,
	"Sinh": &sinhOp, "Cosh": &coshOp, "Asinh": &asinhOp, "Acosh": &acoshOp, "Atanh": &atanhOp,
	"Elu": &eluOp, "Selu": &seluOp, "Celu": &celuOp, "Gelu": &geluOp, "Softplus": &softplusOp,
	"Softsign": &softsignOp, "Mish": &mishOp, "ThresholdedRelu": &thresholdedReluOp, "Shrink": &shrinkOp,
	"Pow": &powOp, "PRelu": &preluOp, "Det": &detOp,
	"Min": &minOp, "Max": &maxOp, "Sum": &sumOp, "Mean": &meanOp,
	// op_compare.go
	"Equal": &equalOp, "Less": &lessOp, "LessOrEqual": &lessEqOp, "Greater": &greaterOp,
	"GreaterOrEqual": &greaterEqOp, "Not": &notOp, "And": &andOp, "Or": &orOp, "Xor": &xorOp,
	"Where": &whereOp, "IsNaN": &isNaNOp, "IsInf": &isInfOp, "Mod": &modOp, "BitShift": &bitShiftOp,
	"BitwiseAnd": &bitwiseAndOp, "BitwiseOr": &bitwiseOrOp, "BitwiseXor": &bitwiseXorOp, "BitwiseNot": &bitwiseNotOp,
}
