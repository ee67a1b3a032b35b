package engine

// transposeParams is a Transpose's permutation.
type transposeParams struct{ perm []int }

var transposeOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(1, 1); err != nil {
			return err
		}
		x := n.in[0]
		r := len(x.shape)
		if r > maxRank {
			return n.unsupported("rank %d above %d", r, maxRank)
		}
		p, ok, err := n.attrInts("perm")
		if err != nil {
			return err
		}
		perm := make([]int, r)
		seen := make([]bool, r)
		for i := range perm {
			perm[i] = r - 1 - i
			if ok {
				if len(p) != r {
					return n.errorf("perm %v has %d entries for rank %d", p, len(p), r)
				}
				a, err := n.normAxis(p[i], r, "perm entry")
				if err != nil {
					return err
				}
				if seen[a] {
					return n.errorf("perm %v repeats %d", p, a)
				}
				seen[a] = true
				perm[i] = a
			}
		}
		n.params = &transposeParams{perm}
		o := n.out[0]
		o.dtype = x.dtype
		o.shape = make([]int, r)
		for i, a := range perm {
			o.shape[i] = x.shape[a]
		}
		return nil
	},
	eval: func(n *node, in, out []*Tensor) {
		perm := n.params.(*transposeParams).perm
		x, o := in[0], out[0]
		r := len(perm)
		var st, ist, idx [maxRank]int
		stridesOf(x.Shape, ist[:r])
		for i, a := range perm {
			st[i] = ist[a]
		}
		total := numel(o.Shape)
		src := 0
		for k := 0; k < total; k++ {
			if x.DType.IsInt() {
				o.I[k] = x.I[src]
			} else {
				o.F[k] = x.F[src]
			}
			for d := r - 1; d >= 0; d-- {
				idx[d]++
				src += st[d]
				if idx[d] < o.Shape[d] {
					break
				}
				src -= st[d] * o.Shape[d]
				idx[d] = 0
			}
		}
	},
}

// concatParams is a Concat's normalised axis.
type concatParams struct{ axis int }

var concatOp = opDef{
	infer: func(n *node) error {
		if len(n.in) == 0 || len(n.out) == 0 || n.out[0] == nil {
			return n.errorf("expected at least one input and one output")
		}
		x := n.in[0]
		if x == nil {
			return n.errorf("input 0 is missing")
		}
		axis, err := n.attrInt("axis", 1)
		if err != nil {
			return err
		}
		if _, ok := n.attrs["axis"]; !ok && n.opset >= 4 {
			return n.errorf("attribute axis is missing")
		}
		a, err := n.normAxis(axis, len(x.shape), "axis")
		if err != nil {
			return err
		}
		shape := append([]int(nil), x.shape...)
		shape[a] = 0
		for i, v := range n.in {
			if v == nil || len(v.shape) != len(x.shape) || v.dtype != x.dtype {
				return n.errorf("input %d does not match input 0 (%v %v)", i, x.dtype, x.shape)
			}
			for d := range shape {
				if d != a && v.shape[d] != x.shape[d] {
					return n.errorf("input %d has shape %v, incompatible with %v on axis %d", i, v.shape, x.shape, d)
				}
			}
			shape[a] += v.shape[a]
		}
		n.params = &concatParams{a}
		n.out[0].dtype = x.dtype
		n.out[0].shape = shape
		return nil
	},
	eval: func(n *node, in, out []*Tensor) {
		a := n.params.(*concatParams).axis
		o := out[0]
		outer := numel(o.Shape[:a])
		inner := numel(o.Shape[a+1:])
		orow := o.Shape[a] * inner
		off := 0
		for _, x := range in {
			row := x.Shape[a] * inner
			for i := 0; i < outer; i++ {
				if o.DType.IsInt() {
					copy(o.I[i*orow+off:i*orow+off+row], x.I[i*row:(i+1)*row])
				} else {
					copy(o.F[i*orow+off:i*orow+off+row], x.F[i*row:(i+1)*row])
				}
			}
			off += row
		}
	},
}

// gatherParams is a Gather's axis.
type gatherParams struct{ axis int }

var gatherOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(2, 2); err != nil {
			return err
		}
		x, idx := n.in[0], n.in[1]
		if !idx.dtype.IsInt() {
			return n.errorf("indices have type %v, expected an integer type", idx.dtype)
		}
		axis, err := n.attrInt("axis", 0)
		if err != nil {
			return err
		}
		a, err := n.normAxis(axis, len(x.shape), "axis")
		if err != nil {
			return err
		}
		if c := idx.constant; c != nil {
			for _, i := range c.I {
				if i < -int64(x.shape[a]) || i >= int64(x.shape[a]) {
					return n.errorf("index %d is out of range for axis %d of size %d", i, a, x.shape[a])
				}
			}
		}
		n.params = &gatherParams{a}
		shape := append(append(append([]int(nil), x.shape[:a]...), idx.shape...), x.shape[a+1:]...)
		n.out[0].dtype = x.dtype
		n.out[0].shape = shape
		return nil
	},
	eval: func(n *node, in, out []*Tensor) {
		a := n.params.(*gatherParams).axis
		x, idx, o := in[0], in[1], out[0]
		outer := numel(x.Shape[:a])
		inner := numel(x.Shape[a+1:])
		dim := x.Shape[a]
		ni := len(idx.I)
		for i := 0; i < outer; i++ {
			for j, k := range idx.I {
				if k < 0 {
					k += int64(dim)
				}
				dst := (i*ni + j) * inner
				if k < 0 || k >= int64(dim) {
					// Out-of-range indices at run time yield zeros, never a panic.
					for t := 0; t < inner; t++ {
						if o.DType.IsInt() {
							o.I[dst+t] = 0
						} else {
							o.F[dst+t] = 0
						}
					}
					continue
				}
				src := (i*dim + int(k)) * inner
				if o.DType.IsInt() {
					copy(o.I[dst:dst+inner], x.I[src:src+inner])
				} else {
					copy(o.F[dst:dst+inner], x.F[src:src+inner])
				}
			}
		}
	},
}

// padParams describe a Pad.
type padParams struct {
	mode       string
	begin, end []int
	value      float32
	ivalue     int64
	inShape    []int
	outShape   []int
}

var padOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(1, 4); err != nil {
			return err
		}
		x := n.in[0]
		r := len(x.shape)
		if r > maxRank {
			return n.unsupported("rank %d above %d", r, maxRank)
		}
		mode, err := n.attrString("mode", "constant")
		if err != nil {
			return err
		}
		if mode != "constant" && mode != "edge" && mode != "reflect" {
			return n.unsupported("mode=%s", mode)
		}
		p := &padParams{mode: mode}
		var pads []int64
		if n.opset < 11 {
			var ok bool
			if pads, ok, err = n.attrInts("pads"); err != nil {
				return err
			} else if !ok {
				pads, _, err = n.attrInts("paddings") // opset 1
				if err != nil {
					return err
				}
			}
			if p.value, err = n.attrFloat("value", 0); err != nil {
				return err
			}
			p.ivalue = int64(p.value)
		} else {
			if pads, err = n.constInts(1, "pads"); err != nil {
				return err
			}
			if pads == nil {
				return n.errorf("pads input is missing")
			}
			if v := n.input(2); v != nil {
				if v.constant == nil {
					return &ConstantInputError{Node: n.name, Op: n.op, Input: v.name}
				}
				if v.numel() != 1 {
					return n.errorf("constant_value must be a scalar")
				}
				if v.dtype.IsInt() {
					p.ivalue = v.constant.I[0]
				} else {
					p.value = v.constant.F[0]
				}
			}
		}
		axes := make([]int, r)
		for i := range axes {
			axes[i] = i
		}
		if v := n.input(3); v != nil {
			ax, err := n.constInts(3, "axes")
			if err != nil {
				return err
			}
			axes = axes[:0]
			for _, a := range ax {
				i, err := n.normAxis(a, r, "axis")
				if err != nil {
					return err
				}
				axes = append(axes, i)
			}
		}
		if len(pads) != 2*len(axes) {
			return n.errorf("pads has %d entries, expected %d", len(pads), 2*len(axes))
		}
		p.begin, p.end = make([]int, r), make([]int, r)
		p.inShape = append([]int(nil), x.shape...)
		p.outShape = make([]int, r)
		for k, a := range axes {
			p.begin[a], p.end[a] = int(pads[k]), int(pads[k+len(axes)])
		}
		for i := range p.outShape {
			p.outShape[i] = x.shape[i] + p.begin[i] + p.end[i]
			if p.outShape[i] < 0 || p.begin[i] < -x.shape[i] || p.end[i] < -x.shape[i] {
				return n.errorf("pads %v do not fit shape %v", pads, x.shape)
			}
			if mode != "constant" && (p.begin[i] > 0 || p.end[i] > 0) && x.shape[i] == 0 {
				return n.errorf("mode %s cannot pad an empty axis", mode)
			}
			if mode == "reflect" && (p.begin[i] >= x.shape[i] || p.end[i] >= x.shape[i]) && (p.begin[i] > 0 || p.end[i] > 0) {
				return n.unsupported("reflect padding wider than the axis")
			}
		}
		n.params = p
		n.out[0].dtype = x.dtype
		n.out[0].shape = append([]int(nil), p.outShape...)
		return nil
	},
	eval: func(n *node, in, out []*Tensor) {
		p := n.params.(*padParams)
		x, o := in[0], out[0]
		r := len(p.outShape)
		var ist, idx [maxRank]int
		stridesOf(p.inShape, ist[:r])
		total := numel(p.outShape)
		for k := 0; k < total; k++ {
			src, inside := 0, true
			for d := 0; d < r; d++ {
				i := idx[d] - p.begin[d]
				sz := p.inShape[d]
				if i < 0 || i >= sz {
					switch p.mode {
					case "edge":
						i = min(max(i, 0), sz-1)
					case "reflect":
						if i < 0 {
							i = -i
						} else {
							i = 2*(sz-1) - i
						}
					default:
						inside = false
					}
				}
				src += i * ist[d]
			}
			switch {
			case o.DType.IsInt() && inside:
				o.I[k] = x.I[src]
			case o.DType.IsInt():
				o.I[k] = p.ivalue
			case inside:
				o.F[k] = x.F[src]
			default:
				o.F[k] = p.value
			}
			for d := r - 1; d >= 0; d-- {
				idx[d]++
				if idx[d] < p.outShape[d] {
					break
				}
				idx[d] = 0
			}
		}
	},
}
