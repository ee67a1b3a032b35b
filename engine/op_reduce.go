package engine

import "math"

// reduceParams describe a ReduceMean.
type reduceParams struct {
	reduce []bool // per input axis
	noop   bool
}

var reduceMeanOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(1, 2); err != nil {
			return err
		}
		if err := n.needFloat(0); err != nil {
			return err
		}
		x := n.in[0]
		r := len(x.shape)
		if r > maxRank {
			return n.unsupported("rank %d above %d", r, maxRank)
		}
		axes, ok, err := axesArg(n, 18)
		if err != nil {
			return err
		}
		keep, err := n.attrInt("keepdims", 1)
		if err != nil {
			return err
		}
		noopEmpty, err := n.attrInt("noop_with_empty_axes", 0)
		if err != nil {
			return err
		}
		p := &reduceParams{reduce: make([]bool, r)}
		if !ok || len(axes) == 0 {
			if noopEmpty != 0 {
				p.noop = true
			} else {
				for i := range p.reduce {
					p.reduce[i] = true
				}
			}
		}
		for _, a := range axes {
			i, err := n.normAxis(a, r, "axis")
			if err != nil {
				return err
			}
			p.reduce[i] = true
		}
		shape := []int{}
		for i, d := range x.shape {
			switch {
			case !p.reduce[i]:
				shape = append(shape, d)
			case keep != 0:
				shape = append(shape, 1)
			}
		}
		n.params = p
		n.out[0].dtype = x.dtype
		n.out[0].shape = shape
		return nil
	},
	eval: func(n *node, in, out []*Tensor) {
		p := n.params.(*reduceParams)
		x, o := in[0], out[0]
		if p.noop {
			copy(o.F, x.F)
			return
		}
		r := len(x.Shape)
		var ost, idx [maxRank]int // output stride per input axis (0 if reduced)
		s := 1
		for i := r - 1; i >= 0; i-- {
			if !p.reduce[i] {
				ost[i] = s
				s *= x.Shape[i]
			}
		}
		for i := range o.F {
			o.F[i] = 0
		}
		total := len(x.F)
		if total == 0 {
			for i := range o.F {
				o.F[i] = float32(math.NaN())
			}
			return
		}
		dst := 0
		for k := 0; k < total; k++ {
			o.F[dst] += x.F[k]
			for d := r - 1; d >= 0; d-- {
				idx[d]++
				dst += ost[d]
				if idx[d] < x.Shape[d] {
					break
				}
				dst -= ost[d] * x.Shape[d]
				idx[d] = 0
			}
		}
		inv := float32(len(o.F)) / float32(total)
		for i := range o.F {
			o.F[i] *= inv
		}
	},
}

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

// bnParams describe an inference BatchNormalization.
type bnParams struct {
	eps     float32
	c, size int // channels, elements per channel per batch item
}

var batchNormOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(5, 5); err != nil {
			return err
		}
		x := n.in[0]
		if len(x.shape) < 2 {
			return n.errorf("input %v has rank below 2", x.shape)
		}
		for i := 0; i < 5; i++ {
			if err := n.needFloat(i); err != nil {
				return err
			}
		}
		c := x.shape[1]
		for i := 1; i < 5; i++ {
			if n.in[i].numel() != c {
				return n.errorf("input %d has %d elements, expected %d channels", i, n.in[i].numel(), c)
			}
		}
		eps, err := n.attrFloat("epsilon", 1e-5)
		if err != nil {
			return err
		}
		if tm, err := n.attrInt("training_mode", 0); err != nil || tm != 0 {
			if err != nil {
				return err
			}
			return n.unsupported("training_mode=1")
		}
		if n.opset < 9 {
			if sp, err := n.attrInt("spatial", 1); err != nil || sp != 1 {
				if err != nil {
					return err
				}
				return n.unsupported("spatial=0")
			}
		}
		for i := 1; i < len(n.out); i++ {
			if n.out[i] != nil {
				return n.unsupported("training outputs (mean, var)")
			}
		}
		n.params = &bnParams{eps: eps, c: c, size: numel(x.shape[2:])}
		sameType(n.out[0], x)
		return nil
	},
	eval: func(n *node, in, out []*Tensor) {
		p := n.params.(*bnParams)
		x, y := in[0].F, out[0].F
		scale, bias, mean, vr := in[1].F, in[2].F, in[3].F, in[4].F
		batch := len(x) / max(1, p.c*p.size)
		for b := 0; b < batch; b++ {
			for c := 0; c < p.c; c++ {
				f := scale[c] / float32(math.Sqrt(float64(vr[c]+p.eps)))
				sh := bias[c] - mean[c]*f
				off := (b*p.c + c) * p.size
				for i := off; i < off+p.size; i++ {
					y[i] = x[i]*f + sh
				}
			}
		}
	},
}
