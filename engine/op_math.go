package engine

import (
	"math"

	"github.com/kagen-ai/kagen/internal/vmath"
)

// mathParams are the parsed attributes of a unary math op (Elu's alpha,
// Selu's alpha and gamma, Shrink's bias and lambd, Gelu's approximation).
type mathParams struct {
	a, b float64
	tanh bool // Gelu approximate="tanh"
}

// mathUnary describes an element-wise op computed in float64.
type mathUnary struct {
	attrs func(n *node, p *mathParams) error
	f     func(x float64, p *mathParams) float64
	// i computes the op on integers; nil when the op takes floats only.
	i func(x int64, p *mathParams) int64
	// signed refuses the unsigned integer types (Neg).
	signed bool
	// fast, when set, returns the float32 slice function of a node with
	// parameters p (see op_unary_fast.go), or nil to keep the reference.
	fast func(p *mathParams) func(dst, src []float32)
}

func elemUnsigned(d DType) bool { return d == Uint8 || d == Uint16 || d == Uint32 || d == Uint64 }

func mathUnaryDef(u mathUnary) opDef {
	return opDef{
		infer: func(n *node) error {
			if err := n.needInputs(1, 1); err != nil {
				return err
			}
			dt := n.in[0].dtype
			switch {
			case dt.IsFloat():
			case dt.IsInt() && dt != Bool && u.i != nil && !(u.signed && elemUnsigned(dt)):
			default:
				return n.unsupported("input type %v", dt)
			}
			p := &mathParams{}
			if u.attrs != nil {
				if err := u.attrs(n, p); err != nil {
					return err
				}
			}
			n.params = p
			sameType(n.out[0], n.in[0])
			return nil
		},
		eval: func(n *node, in, out []*Tensor) {
			p := n.params.(*mathParams)
			if in[0].DType.IsInt() {
				dt := out[0].DType
				o := out[0].I[:len(in[0].I)]
				for k, x := range in[0].I {
					o[k] = wrapInt(dt, u.i(x, p))
				}
				return
			}
			o := out[0].F[:len(in[0].F)]
			for k, x := range in[0].F {
				o[k] = float32(u.f(float64(x), p))
			}
		},
		compile: func(n *node, c *compiler) (Kernel, error) {
			if u.fast == nil {
				return nil, nil
			}
			return sliceCompile(func(n *node) func(dst, src []float32) { return u.fast(n.params.(*mathParams)) })(n, c)
		},
	}
}

// mathSlice is a mathUnary.fast without parameters.
func mathSlice(f func(dst, src []float32)) func(*mathParams) func(dst, src []float32) {
	return func(*mathParams) func(dst, src []float32) { return f }
}

// mathFloatAttrs parses up to two float attributes into p.a and p.b.
func mathFloatAttrs(names [2]string, defs [2]float32) func(n *node, p *mathParams) error {
	return func(n *node, p *mathParams) error {
		for i, name := range names {
			if name == "" {
				continue
			}
			v, err := n.attrFloat(name, defs[i])
			if err != nil {
				return err
			}
			if i == 0 {
				p.a = float64(v)
			} else {
				p.b = float64(v)
			}
		}
		return nil
	}
}

func mathFn(f func(float64) float64) func(float64, *mathParams) float64 {
	return func(x float64, _ *mathParams) float64 { return f(x) }
}

func mathSign(x float64) float64 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return x // 0, -0 and NaN
}

// softplus is log(1+exp(x)) without overflow.
func softplusF64(x float64) float64 {
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}

var (
	absOp = mathUnaryDef(mathUnary{f: mathFn(math.Abs), i: func(x int64, _ *mathParams) int64 {
		if x < 0 {
			return -x
		}
		return x
	}})
	negOp = mathUnaryDef(mathUnary{f: func(x float64, _ *mathParams) float64 { return -x },
		i: func(x int64, _ *mathParams) int64 { return -x }, signed: true})
	signOp = mathUnaryDef(mathUnary{f: mathFn(mathSign), i: func(x int64, _ *mathParams) int64 {
		switch {
		case x > 0:
			return 1
		case x < 0:
			return -1
		}
		return 0
	}})
	sqrtOp       = mathUnaryDef(mathUnary{f: mathFn(math.Sqrt)})
	expOp        = mathUnaryDef(mathUnary{f: mathFn(math.Exp), fast: mathSlice(vmath.Exp)})
	logOp        = mathUnaryDef(mathUnary{f: mathFn(math.Log), fast: mathSlice(vmath.Log)})
	erfOp        = mathUnaryDef(mathUnary{f: mathFn(math.Erf), fast: mathSlice(vmath.Erf)})
	reciprocalOp = mathUnaryDef(mathUnary{f: func(x float64, _ *mathParams) float64 { return 1 / x }})
	floorOp      = mathUnaryDef(mathUnary{f: mathFn(math.Floor)})
	ceilOp       = mathUnaryDef(mathUnary{f: mathFn(math.Ceil)})
	roundOp      = mathUnaryDef(mathUnary{f: mathFn(math.RoundToEven)})
	sinOp        = mathUnaryDef(mathUnary{f: mathFn(math.Sin)})
	cosOp        = mathUnaryDef(mathUnary{f: mathFn(math.Cos)})
	tanOp        = mathUnaryDef(mathUnary{f: mathFn(math.Tan)})
	asinOp       = mathUnaryDef(mathUnary{f: mathFn(math.Asin)})
	acosOp       = mathUnaryDef(mathUnary{f: mathFn(math.Acos)})
	atanOp       = mathUnaryDef(mathUnary{f: mathFn(math.Atan)})
	sinhOp       = mathUnaryDef(mathUnary{f: mathFn(math.Sinh)})
	coshOp       = mathUnaryDef(mathUnary{f: mathFn(math.Cosh)})
	asinhOp      = mathUnaryDef(mathUnary{f: mathFn(math.Asinh)})
	acoshOp      = mathUnaryDef(mathUnary{f: mathFn(math.Acosh)})
	atanhOp      = mathUnaryDef(mathUnary{f: mathFn(math.Atanh)})

	eluOp = mathUnaryDef(mathUnary{attrs: mathFloatAttrs([2]string{"alpha"}, [2]float32{1}), f: func(x float64, p *mathParams) float64 {
		if x < 0 {
			return p.a * math.Expm1(x)
		}
		return x
	}, fast: func(p *mathParams) func(dst, src []float32) { return eluSlice(float32(p.a), 1, false) }})
	seluOp = mathUnaryDef(mathUnary{attrs: mathFloatAttrs([2]string{"alpha", "gamma"}, [2]float32{1.67326319217681884765625, 1.05070102214813232421875}),
		f: func(x float64, p *mathParams) float64 {
			if x <= 0 {
				return p.b * p.a * math.Expm1(x)
			}
			return p.b * x
		}, fast: func(p *mathParams) func(dst, src []float32) { return eluSlice(float32(p.a), float32(p.b), true) }})
	celuOp = mathUnaryDef(mathUnary{attrs: mathFloatAttrs([2]string{"alpha"}, [2]float32{1}), f: func(x float64, p *mathParams) float64 {
		// max(0, x) + min(0, alpha*(exp(x/alpha)-1))
		return max(0, x) + min(0, p.a*math.Expm1(x/p.a))
	}})
	geluOp = mathUnaryDef(mathUnary{attrs: geluAttrs, f: func(x float64, p *mathParams) float64 {
		if p.tanh {
			return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
		}
		return 0.5 * x * (1 + math.Erf(x/math.Sqrt2))
	}, fast: func(p *mathParams) func(dst, src []float32) {
		if p.tanh {
			return geluTanhSlice
		}
		return vmath.Gelu
	}})
	softplusOp        = mathUnaryDef(mathUnary{f: mathFn(softplusF64), fast: mathSlice(softplusSlice)})
	softsignOp        = mathUnaryDef(mathUnary{f: func(x float64, _ *mathParams) float64 { return x / (1 + math.Abs(x)) }})
	mishOp            = mathUnaryDef(mathUnary{f: func(x float64, _ *mathParams) float64 { return x * math.Tanh(softplusF64(x)) }, fast: mathSlice(mishSlice)})
	thresholdedReluOp = mathUnaryDef(mathUnary{attrs: mathFloatAttrs([2]string{"alpha"}, [2]float32{1}), f: func(x float64, p *mathParams) float64 {
		if x > p.a {
			return x
		}
		return 0
	}})
	shrinkOp = mathUnaryDef(mathUnary{attrs: mathFloatAttrs([2]string{"bias", "lambd"}, [2]float32{0, 0.5}), f: shrinkF,
		i: func(x int64, p *mathParams) int64 { return int64(shrinkF(float64(x), p)) }})
)

// shrinkF is Shrink with bias p.a and lambd p.b.
func shrinkF(x float64, p *mathParams) float64 {
	switch {
	case x < -p.b:
		return x + p.a
	case x > p.b:
		return x - p.a
	}
	return 0
}

func geluAttrs(n *node, p *mathParams) error {
	s, err := n.attrString("approximate", "none")
	if err != nil {
		return err
	}
	switch s {
	case "none":
	case "tanh":
		p.tanh = true
	default:
		return n.errorf("attribute approximate %q is neither \"none\" nor \"tanh\"", s)
	}
	return nil
}

// elemInferBroadcast sets output 0 to the broadcast of inputs 0 and 1 with the
// given dtype.
func elemInferBroadcast(n *node, dt DType) error {
	if err := checkLegacyAxis(n, n.in[0].shape, n.in[1].shape); err != nil {
		return err
	}
	shape, err := broadcastShapes(n.in[0].shape, n.in[1].shape)
	if err != nil {
		return n.errorf("%v", err)
	}
	if len(shape) > maxRank {
		return n.unsupported("rank %d above %d", len(shape), maxRank)
	}
	n.out[0].dtype = dt
	n.out[0].shape = shape
	return nil
}

// Pow: the base's type decides the output type; the exponent may be of any
// numeric type (opset 12 and later).
var powOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(2, 2); err != nil {
			return err
		}
		a, b := n.in[0].dtype, n.in[1].dtype
		if !(a.IsFloat() || a.IsInt() && a != Bool) || !(b.IsFloat() || b.IsInt() && b != Bool) {
			return n.unsupported("input types %v and %v", a, b)
		}
		return elemInferBroadcast(n, a)
	},
	eval: func(n *node, in, out []*Tensor) {
		a, b, o := in[0], in[1], out[0]
		dt := o.DType
		broadcastIter(o.Shape, a.Shape, b.Shape, func(oi, ia, ib, cnt, sa, sb int) {
			for k := 0; k < cnt; k++ {
				ja, jb := ia+k*sa, ib+k*sb
				switch {
				case a.DType.IsInt() && b.DType.IsInt():
					o.I[oi+k] = wrapInt(dt, powIntExact(a.I[ja], b.I[jb]))
				case a.DType.IsInt():
					o.I[oi+k] = wrapInt(dt, powFloatToInt(math.Pow(float64(a.I[ja]), float64(b.F[jb]))))
				case b.DType.IsInt():
					o.F[oi+k] = float32(math.Pow(float64(a.F[ja]), float64(b.I[jb])))
				default:
					o.F[oi+k] = float32(math.Pow(float64(a.F[ja]), float64(b.F[jb])))
				}
			}
		})
	},
}

// powIntExact is integer exponentiation; negative exponents truncate toward
// zero as 1/x^n does.
func powIntExact(x, e int64) int64 {
	if e < 0 {
		switch x {
		case 1:
			return 1
		case -1:
			if e&1 == 0 {
				return 1
			}
			return -1
		}
		return 0
	}
	r := int64(1)
	for e > 0 {
		if e&1 != 0 {
			r *= x
		}
		x *= x
		e >>= 1
	}
	return r
}

// powFloatToInt truncates toward zero, mapping NaN to 0 and saturating at the
// int64 range (Go leaves those conversions implementation-defined).
func powFloatToInt(f float64) int64 {
	switch {
	case f != f:
		return 0
	case f >= math.MaxInt64:
		return math.MaxInt64
	case f <= math.MinInt64:
		return math.MinInt64
	}
	return int64(f)
}

// preluParams say how the slope is indexed: through broadcasting, or per
// channel (axis 1) for the opset-6 form whose slope is [C].
type preluParams struct {
	perChannel bool
	c, inner   int
}

var preluOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(2, 2); err != nil {
			return err
		}
		x, s := n.in[0], n.in[1]
		if x.dtype != s.dtype {
			return n.errorf("input types differ: %v and %v", x.dtype, s.dtype)
		}
		if !x.dtype.IsFloat() && !(x.dtype.IsInt() && x.dtype != Bool) {
			return n.unsupported("input type %v", x.dtype)
		}
		if len(x.shape) > maxRank {
			return n.unsupported("rank %d above %d", len(x.shape), maxRank)
		}
		p := &preluParams{}
		shape, err := broadcastShapes(x.shape, s.shape)
		if err != nil || !equalShapes(shape, x.shape) {
			// Before opset 7 a slope of C elements is per channel.
			if n.opset < 7 && len(x.shape) >= 2 && s.numel() == x.shape[1] {
				p.perChannel, p.c, p.inner = true, x.shape[1], numel(x.shape[2:])
			} else {
				return n.errorf("slope of shape %v does not broadcast to input %v", s.shape, x.shape)
			}
		}
		n.params = p
		sameType(n.out[0], x)
		return nil
	},
	eval: func(n *node, in, out []*Tensor) {
		p := n.params.(*preluParams)
		x, s, o := in[0], in[1], out[0]
		if p.perChannel {
			for i := range x.F {
				v := x.F[i]
				if v < 0 {
					v *= s.F[i/p.inner%p.c]
				}
				o.F[i] = v
			}
			return
		}
		dt := o.DType
		broadcastIter(o.Shape, x.Shape, s.Shape, func(oi, ia, ib, cnt, sa, sb int) {
			for k := 0; k < cnt; k++ {
				if x.DType.IsInt() {
					v := x.I[ia+k*sa]
					if v < 0 {
						v = wrapInt(dt, v*s.I[ib+k*sb])
					}
					o.I[oi+k] = v
					continue
				}
				v := x.F[ia+k*sa]
				if v < 0 {
					v *= s.F[ib+k*sb]
				}
				o.F[oi+k] = v
			}
		})
	},
}

// detParams: the input is [batch..., m, m].
type detParams struct{ m, batch int }

// detStack is the largest matrix side whose determinant the reference
// computes without allocating.
const detStack = 16

var detOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(1, 1); err != nil {
			return err
		}
		if err := n.needFloat(0); err != nil {
			return err
		}
		x := n.in[0]
		r := len(x.shape)
		if r < 2 || x.shape[r-1] != x.shape[r-2] {
			return n.errorf("input shape %v is not [..., M, M]", x.shape)
		}
		n.params = &detParams{m: x.shape[r-1], batch: numel(x.shape[:r-2])}
		n.out[0].dtype = x.dtype
		n.out[0].shape = append([]int{}, x.shape[:r-2]...)
		return nil
	},
	eval: func(n *node, in, out []*Tensor) {
		p := n.params.(*detParams)
		var stack [detStack * detStack]float64
		var a []float64
		if p.m <= detStack {
			a = stack[:p.m*p.m]
		} else {
			a = make([]float64, p.m*p.m) // only large matrices (folding, reference runs)
		}
		mm := p.m * p.m
		for b := 0; b < p.batch; b++ {
			for i, v := range in[0].F[b*mm : (b+1)*mm] {
				a[i] = float64(v)
			}
			out[0].F[b] = float32(luDet(a, p.m))
		}
	},
	compile: func(n *node, _ *compiler) (Kernel, error) {
		if p := n.params.(*detParams); p.m > detStack {
			return detKernel{p}, nil
		}
		return nil, nil
	},
}

// luDet returns the determinant of the m x m matrix a (overwritten) by LU
// decomposition with partial pivoting.
func luDet(a []float64, m int) float64 {
	det := 1.0
	for c := 0; c < m; c++ {
		piv, best := c, math.Abs(a[c*m+c])
		for r := c + 1; r < m; r++ {
			if v := math.Abs(a[r*m+c]); v > best {
				piv, best = r, v
			}
		}
		if best == 0 {
			return 0
		}
		if piv != c {
			for k := 0; k < m; k++ {
				a[c*m+k], a[piv*m+k] = a[piv*m+k], a[c*m+k]
			}
			det = -det
		}
		d := a[c*m+c]
		det *= d
		for r := c + 1; r < m; r++ {
			f := a[r*m+c] / d
			if f == 0 {
				continue
			}
			for k := c + 1; k < m; k++ {
				a[r*m+k] -= f * a[c*m+k]
			}
		}
	}
	return det
}

// detKernel computes large determinants in float32 scratch with float64
// pivots products (the reference works in float64).
type detKernel struct{ p *detParams }

func (k detKernel) ScratchSize() int { return k.p.m * k.p.m }

func (k detKernel) Run(x *Exec, in, out []*Tensor) {
	m := k.p.m
	mm := m * m
	a := x.Scratch()[:mm]
	for b := 0; b < k.p.batch; b++ {
		copy(a, in[0].F[b*mm:(b+1)*mm])
		det := 1.0
		for c := 0; c < m; c++ {
			piv, best := c, detAbs32(a[c*m+c])
			for r := c + 1; r < m; r++ {
				if v := detAbs32(a[r*m+c]); v > best {
					piv, best = r, v
				}
			}
			if best == 0 {
				det = 0
				break
			}
			if piv != c {
				for j := 0; j < m; j++ {
					a[c*m+j], a[piv*m+j] = a[piv*m+j], a[c*m+j]
				}
				det = -det
			}
			d := a[c*m+c]
			det *= float64(d)
			for r := c + 1; r < m; r++ {
				f := a[r*m+c] / d
				if f == 0 {
					continue
				}
				row, prow := a[r*m+c+1:r*m+m], a[c*m+c+1:c*m+m]
				for j := range row {
					row[j] -= f * prow[j]
				}
			}
		}
		out[0].F[b] = float32(det)
	}
}

func detAbs32(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}

// variadicKind selects Min, Max, Sum or Mean.
type variadicKind int

const (
	varMin variadicKind = iota
	varMax
	varSum
	varMean
)

// variadicDef builds Min, Max, Sum and Mean over 1..N inputs with
// multidirectional broadcasting (opset 8 and later; opset 6 requires equal
// shapes). Min and Max take integers from opset 12.
func variadicDef(kind variadicKind) opDef {
	return opDef{
		infer: func(n *node) error {
			if len(n.in) == 0 {
				return n.errorf("has no inputs")
			}
			if err := n.needInputs(1, len(n.in)); err != nil {
				return err
			}
			dt := n.in[0].dtype
			shape := n.in[0].shape
			for i, v := range n.in {
				if v == nil {
					return n.errorf("input %d is missing", i)
				}
				if v.dtype != dt {
					return n.errorf("input %d has type %v, input 0 has %v", i, v.dtype, dt)
				}
				if n.opset < 8 && !equalShapes(v.shape, n.in[0].shape) {
					return n.errorf("input %d has shape %v, input 0 has %v (no broadcasting before opset 8)", i, v.shape, n.in[0].shape)
				}
				s, err := broadcastShapes(shape, v.shape)
				if err != nil {
					return n.errorf("%v", err)
				}
				shape = s
			}
			if len(shape) > maxRank {
				return n.unsupported("rank %d above %d", len(shape), maxRank)
			}
			if !dt.IsFloat() && !(dt.IsInt() && dt != Bool && (kind == varMin || kind == varMax)) {
				return n.unsupported("input type %v", dt)
			}
			n.params = kind
			n.out[0].dtype = dt
			n.out[0].shape = shape
			return nil
		},
		eval: func(n *node, in, out []*Tensor) {
			evalVariadic(n.params.(variadicKind), in, out[0])
		},
	}
}

func evalVariadic(kind variadicKind, in []*Tensor, o *Tensor) {
	isInt := o.DType.IsInt()
	x0 := in[0]
	broadcastIter(o.Shape, x0.Shape, x0.Shape, func(oi, ia, _, cnt, sa, _ int) {
		for k := 0; k < cnt; k++ {
			if isInt {
				o.I[oi+k] = x0.I[ia+k*sa]
			} else {
				o.F[oi+k] = x0.F[ia+k*sa]
			}
		}
	})
	for _, x := range in[1:] {
		broadcastIter(o.Shape, o.Shape, x.Shape, func(oi, _, ib, cnt, _, sb int) {
			if isInt {
				for k := 0; k < cnt; k++ {
					v, w := o.I[oi+k], x.I[ib+k*sb]
					if kind == varMin {
						o.I[oi+k] = min(v, w)
					} else {
						o.I[oi+k] = max(v, w)
					}
				}
				return
			}
			for k := 0; k < cnt; k++ {
				v, w := o.F[oi+k], x.F[ib+k*sb]
				switch kind {
				case varMin:
					if w < v || w != w {
						v = w
					}
				case varMax:
					if w > v || w != w {
						v = w
					}
				default:
					v += w
				}
				o.F[oi+k] = v
			}
		})
	}
	if kind == varMean {
		d := float32(len(in))
		for k := range o.F {
			o.F[k] /= d
		}
	}
}

var (
	minOp  = variadicDef(varMin)
	maxOp  = variadicDef(varMax)
	sumOp  = variadicDef(varSum)
	meanOp = variadicDef(varMean)
)
