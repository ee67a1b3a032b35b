package engine

import "math"

// softmaxParams split the input into [outer, axis, inner].
type softmaxParams struct {
	outer, dim, inner int
	log               bool
}

func softmaxDef(log bool) opDef {
	return opDef{
		infer: func(n *node) error {
			if err := n.needInputs(1, 1); err != nil {
				return err
			}
			if err := n.needFloat(0); err != nil {
				return err
			}
			x := n.in[0]
			def := int64(-1)
			if n.opset < 13 {
				def = 1
			}
			axis, err := n.attrInt("axis", def)
			if err != nil {
				return err
			}
			r := len(x.shape)
			if r == 0 {
				return n.errorf("input is a scalar")
			}
			a, err := n.normAxis(axis, r, "axis")
			if err != nil {
				return err
			}
			p := &softmaxParams{log: log}
			if n.opset < 13 { // the input is coerced to 2-D at axis
				p.outer, p.dim, p.inner = numel(x.shape[:a]), numel(x.shape[a:]), 1
			} else {
				p.outer, p.dim, p.inner = numel(x.shape[:a]), x.shape[a], numel(x.shape[a+1:])
			}
			n.params = p
			sameType(n.out[0], x)
			return nil
		},
		eval: func(n *node, in, out []*Tensor) {
			p := n.params.(*softmaxParams)
			softmax(in[0].F, out[0].F, p.outer, p.dim, p.inner, p.log)
		},
	}
}

var (
	softmaxOp    = softmaxDef(false)
	logSoftmaxOp = softmaxDef(true)
)

// softmax computes a (log-)softmax over the middle axis of [outer,dim,inner].
func softmax(x, y []float32, outer, dim, inner int, log bool) {
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			base := o*dim*inner + i
			m := float32(math.Inf(-1))
			for k := 0; k < dim; k++ {
				m = max(m, x[base+k*inner])
			}
			var sum float64
			for k := 0; k < dim; k++ {
				e := math.Exp(float64(x[base+k*inner] - m))
				sum += e
				if !log {
					y[base+k*inner] = float32(e)
				}
			}
			if log {
				ls := float32(math.Log(sum))
				for k := 0; k < dim; k++ {
					y[base+k*inner] = x[base+k*inner] - m - ls
				}
				continue
			}
			inv := float32(1 / sum)
			for k := 0; k < dim; k++ {
				y[base+k*inner] *= inv
			}
		}
	}
}
