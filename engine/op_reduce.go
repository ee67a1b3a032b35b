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

// reduceOps are the reductions.
var reduceOps = map[string]*opDef{
	"ReduceMean": &reduceMeanOp,
}
