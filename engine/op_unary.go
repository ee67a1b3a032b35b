package engine

import (
	"math"

	"github.com/kagen-ai/kagen/internal/vmath"
)

// unaryDef builds an element-wise op from its float function. param parses
// the op's attributes into the constants f receives.
func unaryDef(param func(n *node) ([2]float32, error), f func(x float32, p [2]float32) float32, ints bool) opDef {
	return opDef{
		infer: func(n *node) error {
			if err := n.needInputs(1, 1); err != nil {
				return err
			}
			if !n.in[0].dtype.IsFloat() && !(ints && n.in[0].dtype.IsInt()) {
				return n.unsupported("input type %v", n.in[0].dtype)
			}
			var p [2]float32
			if param != nil {
				var err error
				if p, err = param(n); err != nil {
					return err
				}
			}
			n.params = p
			sameType(n.out[0], n.in[0])
			return nil
		},
		compile: compileUnary(f),
		eval: func(n *node, in, out []*Tensor) {
			p := n.params.([2]float32)
			if in[0].DType.IsInt() {
				for i, x := range in[0].I {
					out[0].I[i] = int64(f(float32(x), p))
				}
				return
			}
			o := out[0].F[:len(in[0].F)]
			for i, x := range in[0].F {
				o[i] = f(x, p)
			}
		},
	}
}

func attrParams(names [2]string, defs [2]float32) func(n *node) ([2]float32, error) {
	return func(n *node) ([2]float32, error) {
		var p [2]float32
		for i, name := range names {
			if name == "" {
				continue
			}
			v, err := n.attrFloat(name, defs[i])
			if err != nil {
				return p, err
			}
			p[i] = v
		}
		return p, nil
	}
}

// unaryParams are a unaryDef node's parsed constants.
func unaryParams(n *node) [2]float32 { return n.params.([2]float32) }

var (
	reluOp = withCompile(unaryDef(nil, func(x float32, _ [2]float32) float32 {
		if x < 0 {
			return 0
		}
		return x
	}, true), compileRelu)
	leakyReluOp = unaryDef(attrParams([2]string{"alpha"}, [2]float32{0.01}), func(x float32, p [2]float32) float32 {
		if x < 0 {
			return x * p[0]
		}
		return x
	}, false)
	// Sigmoid, Tanh, HardSigmoid and HardSwish run on float32 through
	// the slice functions of op_unary_fast.go (vmath's within a few ulp;
	// the hard ones in the reference's arithmetic).
	sigmoidOp = withCompile(unaryDef(nil, func(x float32, _ [2]float32) float32 {
		return float32(1 / (1 + math.Exp(-float64(x))))
	}, false), sliceCompile(func(*node) func(dst, src []float32) { return vmath.Sigmoid }))
	tanhOp = withCompile(unaryDef(nil, func(x float32, _ [2]float32) float32 {
		return float32(math.Tanh(float64(x)))
	}, false), sliceCompile(func(*node) func(dst, src []float32) { return vmath.Tanh }))
	hardSigmoidOp = withCompile(unaryDef(attrParams([2]string{"alpha", "beta"}, [2]float32{0.2, 0.5}), func(x float32, p [2]float32) float32 {
		return max(0, min(1, p[0]*x+p[1]))
	}, false), sliceCompile(func(n *node) func(dst, src []float32) {
		p := unaryParams(n)
		return hardSigmoidSlice(p[0], p[1])
	}))
	hardSwishOp = withCompile(unaryDef(nil, func(x float32, _ [2]float32) float32 {
		return x * max(0, min(1, x/6+0.5))
	}, false), sliceCompile(func(*node) func(dst, src []float32) { return vmath.HardSwish }))
)

// clipParams are the bounds of a Clip node.
type clipParams struct {
	known  bool // bounds are constants (always, once inferred)
	lo, hi float32
	ilo    int64
	ihi    int64
}

var clipOp = opDef{
	compile: compileClip,
	infer: func(n *node) error {
		if err := n.needInputs(1, 3); err != nil {
			return err
		}
		x := n.in[0]
		p := &clipParams{known: true, lo: float32(math.Inf(-1)), hi: float32(math.Inf(1)), ilo: math.MinInt64, ihi: math.MaxInt64}
		if n.opset < 11 {
			lo, err := n.attrFloat("min", p.lo)
			if err != nil {
				return err
			}
			hi, err := n.attrFloat("max", p.hi)
			if err != nil {
				return err
			}
			p.lo, p.hi = lo, hi
		} else {
			for i, dst := range []*float32{&p.lo, &p.hi} {
				v := n.input(i + 1)
				if v == nil {
					continue
				}
				if v.constant == nil {
					return &ConstantInputError{Node: n.name, Op: n.op, Input: v.name}
				}
				if v.numel() != 1 || v.dtype != x.dtype {
					return n.errorf("bound %q must be a scalar of type %v", v.name, x.dtype)
				}
				if x.dtype.IsInt() {
					if i == 0 {
						p.ilo = v.constant.I[0]
					} else {
						p.ihi = v.constant.I[0]
					}
				} else {
					*dst = v.constant.F[0]
				}
			}
		}
		if !x.dtype.IsFloat() && !x.dtype.IsInt() {
			return n.unsupported("input type %v", x.dtype)
		}
		n.params = p
		sameType(n.out[0], x)
		return nil
	},
	eval: func(n *node, in, out []*Tensor) {
		p := n.params.(*clipParams)
		if in[0].DType.IsInt() {
			for i, x := range in[0].I {
				out[0].I[i] = min(max(x, p.ilo), p.ihi)
			}
			return
		}
		o := out[0].F[:len(in[0].F)]
		for i, x := range in[0].F {
			if x < p.lo {
				x = p.lo
			}
			if x > p.hi {
				x = p.hi
			}
			o[i] = x
		}
	},
}

// ConstantInputError reports a node input that must be known when the
// model is planned (a Reshape's shape, a Clip's bounds) but is computed or
// fed at run time. Bind it with Options.Constants.
type ConstantInputError struct {
	Node, Op, Input string
	// Via, when set, is the node's input that must be constant, computed
	// from the graph input named by Input (the one to bind).
	Via string
}

func (e *ConstantInputError) Error() string {
	if e.Via != "" {
		return "node " + quote(e.Node) + " (" + e.Op + "): input " + quote(e.Via) + " must be constant when planning; it is computed from graph input " + quote(e.Input) + " (bind it with Options.Constants)"
	}
	return "node " + quote(e.Node) + " (" + e.Op + "): input " + quote(e.Input) + " must be constant when planning (bind it with Options.Constants)"
}

func quote(s string) string { return `"` + s + `"` }
