package engine

import "math"

// compareFns is a comparison or logical operation on two broadcast inputs
// whose output is BOOL (compare) or the inputs' type (bitwise, Mod).
type compareFns struct {
	f func(a, b float32) bool
	i func(a, b int64) bool
}

// compareDef builds Equal, Less, Greater, LessOrEqual, GreaterOrEqual.
// boolIn allows BOOL inputs (Equal).
func compareDef(fns compareFns, boolIn bool) opDef {
	return opDef{
		infer: func(n *node) error {
			if err := n.needInputs(2, 2); err != nil {
				return err
			}
			a, b := n.in[0].dtype, n.in[1].dtype
			if a != b {
				return n.errorf("input types differ: %v and %v", a, b)
			}
			if !a.IsFloat() && !a.IsInt() || a == Bool && !boolIn {
				return n.unsupported("input type %v", a)
			}
			return elemInferBroadcast(n, Bool)
		},
		eval: func(n *node, in, out []*Tensor) {
			a, b, o := in[0], in[1], out[0]
			isInt := a.DType.IsInt()
			broadcastIter(o.Shape, a.Shape, b.Shape, func(oi, ia, ib, cnt, sa, sb int) {
				for k := 0; k < cnt; k++ {
					var r bool
					if isInt {
						r = fns.i(a.I[ia+k*sa], b.I[ib+k*sb])
					} else {
						r = fns.f(a.F[ia+k*sa], b.F[ib+k*sb])
					}
					o.I[oi+k] = cmpBool(r)
				}
			})
		},
	}
}

func cmpBool(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

var (
	equalOp     = compareDef(compareFns{func(a, b float32) bool { return a == b }, func(a, b int64) bool { return a == b }}, true)
	lessOp      = compareDef(compareFns{func(a, b float32) bool { return a < b }, func(a, b int64) bool { return a < b }}, false)
	lessEqOp    = compareDef(compareFns{func(a, b float32) bool { return a <= b }, func(a, b int64) bool { return a <= b }}, false)
	greaterOp   = compareDef(compareFns{func(a, b float32) bool { return a > b }, func(a, b int64) bool { return a > b }}, false)
	greaterEqOp = compareDef(compareFns{func(a, b float32) bool { return a >= b }, func(a, b int64) bool { return a >= b }}, false)
)

// intBinaryDef builds an element-wise op on two integer inputs of the same
// type (And, Or, Xor on BOOL; the Bitwise ops and BitShift on integers).
// The result is wrapped to the type's width.
func intBinaryDef(f func(a, b int64, p *intBinParams) int64, boolOnly, unsignedOnly bool, attrs func(n *node, p *intBinParams) error) opDef {
	return opDef{
		infer: func(n *node) error {
			if err := n.needInputs(2, 2); err != nil {
				return err
			}
			a, b := n.in[0].dtype, n.in[1].dtype
			if a != b {
				return n.errorf("input types differ: %v and %v", a, b)
			}
			switch {
			case boolOnly && a != Bool:
				return n.errorf("input type %v, expected BOOL", a)
			case !boolOnly && (!a.IsInt() || a == Bool):
				return n.unsupported("input type %v", a)
			case unsignedOnly && !elemUnsigned(a):
				return n.errorf("input type %v, expected an unsigned integer type", a)
			}
			p := &intBinParams{}
			if attrs != nil {
				if err := attrs(n, p); err != nil {
					return err
				}
			}
			n.params = p
			return elemInferBroadcast(n, a)
		},
		eval: func(n *node, in, out []*Tensor) {
			p := n.params.(*intBinParams)
			a, b, o := in[0], in[1], out[0]
			dt := o.DType
			broadcastIter(o.Shape, a.Shape, b.Shape, func(oi, ia, ib, cnt, sa, sb int) {
				for k := 0; k < cnt; k++ {
					o.I[oi+k] = wrapInt(dt, f(a.I[ia+k*sa], b.I[ib+k*sb], p))
				}
			})
		},
	}
}

// intBinParams hold BitShift's direction.
type intBinParams struct{ left bool }

func bitShiftAttrs(n *node, p *intBinParams) error {
	d, err := n.attrString("direction", "")
	if err != nil {
		return err
	}
	switch d {
	case "LEFT":
		p.left = true
	case "RIGHT":
	default:
		return n.errorf("attribute direction %q is neither LEFT nor RIGHT", d)
	}
	return nil
}

var (
	andOp        = intBinaryDef(func(a, b int64, _ *intBinParams) int64 { return a & b }, true, false, nil)
	orOp         = intBinaryDef(func(a, b int64, _ *intBinParams) int64 { return a | b }, true, false, nil)
	xorOp        = intBinaryDef(func(a, b int64, _ *intBinParams) int64 { return a ^ b }, true, false, nil)
	bitwiseAndOp = intBinaryDef(func(a, b int64, _ *intBinParams) int64 { return a & b }, false, false, nil)
	bitwiseOrOp  = intBinaryDef(func(a, b int64, _ *intBinParams) int64 { return a | b }, false, false, nil)
	bitwiseXorOp = intBinaryDef(func(a, b int64, _ *intBinParams) int64 { return a ^ b }, false, false, nil)
	bitShiftOp   = intBinaryDef(func(a, b int64, p *intBinParams) int64 {
		// Values are unsigned and held exactly in int64 (up to UINT32);
		// shifts of 64 or more give 0.
		if b < 0 || b >= 64 {
			return 0
		}
		if p.left {
			return int64(uint64(a) << uint(b))
		}
		return int64(uint64(a) >> uint(b))
	}, false, true, bitShiftAttrs)
)

// notDef builds Not (BOOL) and BitwiseNot (integers).
func notDef(bitwise bool) opDef {
	return opDef{
		infer: func(n *node) error {
			if err := n.needInputs(1, 1); err != nil {
				return err
			}
			dt := n.in[0].dtype
			if !bitwise && dt != Bool {
				return n.errorf("input type %v, expected BOOL", dt)
			}
			if bitwise && (!dt.IsInt() || dt == Bool) {
				return n.unsupported("input type %v", dt)
			}
			sameType(n.out[0], n.in[0])
			return nil
		},
		eval: func(n *node, in, out []*Tensor) {
			dt := out[0].DType
			o := out[0].I[:len(in[0].I)]
			for k, x := range in[0].I {
				if dt == Bool {
					o[k] = 1 - x&1
				} else {
					o[k] = wrapInt(dt, ^x)
				}
			}
		},
	}
}

var (
	notOp        = notDef(false)
	bitwiseNotOp = notDef(true)
)

// isNaNOp and isInfOp classify floats into BOOL.
var isNaNOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(1, 1); err != nil {
			return err
		}
		if err := n.needFloat(0); err != nil {
			return err
		}
		n.out[0].dtype = Bool
		n.out[0].shape = append([]int{}, n.in[0].shape...)
		return nil
	},
	eval: func(n *node, in, out []*Tensor) {
		o := out[0].I[:len(in[0].F)]
		for k, x := range in[0].F {
			o[k] = cmpBool(x != x)
		}
	},
}

// isInfParams say which infinities IsInf reports.
type isInfParams struct{ pos, neg bool }

var isInfOp = opDef{
	infer: func(n *node) error {
		if err := isNaNOp.infer(n); err != nil {
			return err
		}
		pos, err := n.attrInt("detect_positive", 1)
		if err != nil {
			return err
		}
		neg, err := n.attrInt("detect_negative", 1)
		if err != nil {
			return err
		}
		n.params = &isInfParams{pos: pos != 0, neg: neg != 0}
		return nil
	},
	eval: func(n *node, in, out []*Tensor) {
		p := n.params.(*isInfParams)
		o := out[0].I[:len(in[0].F)]
		for k, x := range in[0].F {
			o[k] = cmpBool(p.pos && math.IsInf(float64(x), 1) || p.neg && math.IsInf(float64(x), -1))
		}
	},
}

// modParams: fmod=1 takes the dividend's sign (C fmod), fmod=0 the
// divisor's (Python %); floats require fmod=1.
type modParams struct{ fmod bool }

var modOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(2, 2); err != nil {
			return err
		}
		a, b := n.in[0].dtype, n.in[1].dtype
		if a != b {
			return n.errorf("input types differ: %v and %v", a, b)
		}
		if !a.IsFloat() && !(a.IsInt() && a != Bool) {
			return n.unsupported("input type %v", a)
		}
		f, err := n.attrInt("fmod", 0)
		if err != nil {
			return err
		}
		if f != 0 && f != 1 {
			return n.errorf("attribute fmod is %d, expected 0 or 1", f)
		}
		if a.IsFloat() && f == 0 {
			return n.errorf("attribute fmod must be 1 for floating-point input type %v", a)
		}
		n.params = &modParams{fmod: f == 1}
		return elemInferBroadcast(n, a)
	},
	eval: func(n *node, in, out []*Tensor) {
		p := n.params.(*modParams)
		a, b, o := in[0], in[1], out[0]
		dt := o.DType
		broadcastIter(o.Shape, a.Shape, b.Shape, func(oi, ia, ib, cnt, sa, sb int) {
			for k := 0; k < cnt; k++ {
				if dt.IsInt() {
					o.I[oi+k] = wrapInt(dt, modInt(a.I[ia+k*sa], b.I[ib+k*sb], p.fmod))
				} else {
					o.F[oi+k] = float32(math.Mod(float64(a.F[ia+k*sa]), float64(b.F[ib+k*sb])))
				}
			}
		})
	},
}

// modInt is the integer remainder: truncated (fmod) or floored (Python);
// division by zero gives 0 rather than a panic.
func modInt(a, b int64, fmod bool) int64 {
	if b == 0 {
		return 0
	}
	if b == -1 {
		return 0 // avoids MinInt64 % -1 overflow; the remainder is 0 either way
	}
	r := a % b
	if !fmod && r != 0 && (r < 0) != (b < 0) {
		r += b
	}
	return r
}

// whereOp selects X where the condition holds and Y elsewhere, with
// three-way broadcasting.
var whereOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(3, 3); err != nil {
			return err
		}
		c, x, y := n.in[0], n.in[1], n.in[2]
		if c.dtype != Bool {
			return n.errorf("condition has type %v, expected BOOL", c.dtype)
		}
		if x.dtype != y.dtype {
			return n.errorf("input types differ: %v and %v", x.dtype, y.dtype)
		}
		if !x.dtype.Supported() {
			return n.unsupported("input type %v", x.dtype)
		}
		s, err := broadcastShapes(c.shape, x.shape)
		if err == nil {
			s, err = broadcastShapes(s, y.shape)
		}
		if err != nil {
			return n.errorf("%v", err)
		}
		if len(s) > maxRank {
			return n.unsupported("rank %d above %d", len(s), maxRank)
		}
		n.out[0].dtype = x.dtype
		n.out[0].shape = s
		return nil
	},
	eval: func(n *node, in, out []*Tensor) {
		c, x, y, o := in[0], in[1], in[2], out[0]
		var st [3][maxRank]int
		whereStrides(o.Shape, c.Shape, &st[0])
		whereStrides(o.Shape, x.Shape, &st[1])
		whereStrides(o.Shape, y.Shape, &st[2])
		r := len(o.Shape)
		total := numel(o.Shape)
		if total == 0 {
			return
		}
		// Row by row along the last axis (constant steps dc, dx, dy:
		// 0 where it broadcasts), the outer axes by an odometer.
		inner, dc, dx, dy := 1, 0, 0, 0
		if r > 0 {
			inner, dc, dx, dy = o.Shape[r-1], st[0][r-1], st[1][r-1], st[2][r-1]
		}
		var idx [maxRank]int
		ic, ix, iy := 0, 0, 0
		isInt := o.DType.IsInt()
		for k := 0; k < total; k += inner {
			if isInt {
				whereRow(o.I[k:k+inner], c.I, x.I, y.I, ic, ix, iy, dc, dx, dy)
			} else {
				whereRow(o.F[k:k+inner], c.I, x.F, y.F, ic, ix, iy, dc, dx, dy)
			}
			for d := r - 2; d >= 0; d-- {
				idx[d]++
				ic += st[0][d]
				ix += st[1][d]
				iy += st[2][d]
				if idx[d] < o.Shape[d] {
					break
				}
				ic -= st[0][d] * o.Shape[d]
				ix -= st[1][d] * o.Shape[d]
				iy -= st[2][d] * o.Shape[d]
				idx[d] = 0
			}
		}
	},
}

// whereRow writes one row of Where: o[j] = c[ic+j*dc] != 0 ? x[ix+j*dx]
// : y[iy+j*dy], with a loop of its own for the common layouts (all
// three contiguous; a broadcast constant x or y, as a mask's fill).
func whereRow[T int64 | float32](o []T, c []int64, x, y []T, ic, ix, iy, dc, dx, dy int) {
	n := len(o)
	switch {
	case dc == 1 && dx == 1 && dy == 1:
		cs, xs, ys := c[ic:ic+n], x[ix:ix+n], y[iy:iy+n]
		for j := range o {
			if cs[j] != 0 {
				o[j] = xs[j]
			} else {
				o[j] = ys[j]
			}
		}
	case dc == 1 && dx == 1 && dy == 0:
		cs, xs, v := c[ic:ic+n], x[ix:ix+n], y[iy]
		for j := range o {
			if cs[j] != 0 {
				o[j] = xs[j]
			} else {
				o[j] = v
			}
		}
	case dc == 1 && dx == 0 && dy == 1:
		cs, v, ys := c[ic:ic+n], x[ix], y[iy:iy+n]
		for j := range o {
			if cs[j] != 0 {
				o[j] = v
			} else {
				o[j] = ys[j]
			}
		}
	default:
		for j := range o {
			if c[ic] != 0 {
				o[j] = x[ix]
			} else {
				o[j] = y[iy]
			}
			ic, ix, iy = ic+dc, ix+dx, iy+dy
		}
	}
}

// whereStrides sets st to the strides of an input of shape in read as
// the output shape out (0 along broadcast axes).
func whereStrides(out, in []int, st *[maxRank]int) {
	r := len(out)
	s := 1
	for i := r - 1; i >= 0; i-- {
		st[i] = 0
		if j := len(in) - r + i; j >= 0 && in[j] != 1 {
			st[i] = s
			s *= in[j]
		}
	}
}
