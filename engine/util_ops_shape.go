package engine

import "math"

// Helpers of the shape, index, sort and reduction ops (branch ops-shape).

// maxShapeElems bounds the element count of a shape computed from data
// (Expand, Tile, ConstantOfShape, Range, OneHot) before the graph pass
// compares it with the byte limit, so that the count cannot overflow.
const maxShapeElems = 1 << 40

// constInput returns input i's constant tensor: nil when the input is
// absent, a *ConstantInputError when it is computed at run time.
func (n *node) constInput(i int) (*Tensor, error) {
	v := n.input(i)
	if v == nil {
		return nil, nil
	}
	if v.constant == nil {
		return nil, n.needConstant(v)
	}
	return v.constant, nil
}

// needConstant returns the error for input v of n, which must be constant
// when planning but is computed at run time. It names the graph input the
// value is computed from (the one Options.Constants can bind), and the
// value as Via when it is not that input itself.
func (n *node) needConstant(v *value) error {
	e := &ConstantInputError{Node: n.name, Op: n.op, Input: v.name}
	if in := upstreamGraphInput(v); in != nil && in != v {
		e.Input, e.Via = in.name, v.name
	}
	return e
}

// upstreamGraphInput returns the first graph input (not bound to a
// constant) that v is computed from, searching producers depth first.
func upstreamGraphInput(v *value) *value {
	seen := map[*value]bool{}
	stack := []*value{v}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if x == nil || x.constant != nil || seen[x] {
			continue
		}
		seen[x] = true
		if x.input {
			return x
		}
		if p := x.producer; p != nil {
			for i := len(p.in) - 1; i >= 0; i-- {
				stack = append(stack, p.in[i])
			}
		}
	}
	return nil
}

// shapeFrom checks a shape read from data: no negative dimension and an
// element count below maxShapeElems.
func (n *node) shapeFrom(field string, dims []int64) ([]int, error) {
	shape := make([]int, len(dims))
	total := int64(1)
	for i, d := range dims {
		if d < 0 {
			return nil, n.errorf("%s[%d] = %d is negative", field, i, d)
		}
		if d > maxShapeElems || total*d > maxShapeElems {
			return nil, n.errorf("%s %v is too large", field, dims)
		}
		if d > 0 {
			total *= d
		} else {
			total = 0
		}
		shape[i] = int(d)
	}
	return shape, nil
}

// checkShapeElems rejects a computed shape whose element count overflows.
func (n *node) checkShapeElems(field string, shape []int) error {
	total := int64(1)
	for _, d := range shape {
		if d < 0 || int64(d) > maxShapeElems || d > 0 && total*int64(d) > maxShapeElems {
			return n.errorf("%s %v is too large", field, shape)
		}
		total *= int64(d)
	}
	return nil
}

// scalarAsFloat64 returns element 0 of a tensor as a float64 (integer types
// exactly up to 2^53).
func scalarAsFloat64(t *Tensor) float64 {
	if t.DType.IsInt() {
		return float64(t.I[0])
	}
	return float64(t.F[0])
}

// intRangeOf returns the smallest and largest value of an integer type.
func intRangeOf(d DType) (int64, int64) {
	switch d {
	case Uint8:
		return 0, math.MaxUint8
	case Int8:
		return math.MinInt8, math.MaxInt8
	case Uint16:
		return 0, math.MaxUint16
	case Int16:
		return math.MinInt16, math.MaxInt16
	case Int32:
		return math.MinInt32, math.MaxInt32
	case Uint32:
		return 0, math.MaxUint32
	case Bool:
		return 0, 1
	}
	return math.MinInt64, math.MaxInt64
}

// elemAsFloat64 returns element i of a tensor as a float64.
func elemAsFloat64(t *Tensor, i int) float64 {
	if t.DType.IsInt() {
		return float64(t.I[i])
	}
	return float64(t.F[i])
}

// copyElemAt copies element s of src into element d of dst (same class).
func copyElemAt(dst *Tensor, d int, src *Tensor, s int) {
	if dst.DType.IsInt() {
		dst.I[d] = src.I[s]
	} else {
		dst.F[d] = src.F[s]
	}
}

// zeroElemAt sets element d of t to 0.
func zeroElemAt(t *Tensor, d int) {
	if t.DType.IsInt() {
		t.I[d] = 0
	} else {
		t.F[d] = 0
	}
}
