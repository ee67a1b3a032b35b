package engine

// The gather/scatter family: GatherElements, GatherND, ScatterND,
// ScatterElements and Scatter. Indices may be negative (counted from the
// end). Constant indices out of range are refused at load; indices out of
// range at run time read zeros and write nothing, never a panic.

// indexAxisParams describe GatherElements, ScatterElements and Scatter.
type indexAxisParams struct {
	axis      int
	reduction scatterReduction
}

// scatterReduction combines an update with the existing element.
type scatterReduction uint8

const (
	scatterNone scatterReduction = iota
	scatterAdd
	scatterMul
	scatterMax
	scatterMin
)

// scatterReductionAttr reads the reduction attribute of ScatterND and
// ScatterElements: add and mul from opset 16, max and min from 18.
func scatterReductionAttr(n *node) (scatterReduction, error) {
	s, err := n.attrString("reduction", "none")
	if err != nil {
		return 0, err
	}
	switch {
	case s == "none":
		return scatterNone, nil
	case s == "add" && n.opset >= 16:
		return scatterAdd, nil
	case s == "mul" && n.opset >= 16:
		return scatterMul, nil
	case s == "max" && n.opset >= 18:
		return scatterMax, nil
	case s == "min" && n.opset >= 18:
		return scatterMin, nil
	}
	return 0, n.errorf("reduction %q is not defined at opset %d", s, n.opset)
}

// scatterApply combines update element s of u into element d of o.
func scatterApply(r scatterReduction, o *Tensor, d int, u *Tensor, s int) {
	if o.DType.IsInt() {
		a, b := o.I[d], u.I[s]
		switch r {
		case scatterAdd:
			b = wrapInt(o.DType, a+b)
		case scatterMul:
			b = wrapInt(o.DType, a*b)
		case scatterMax:
			b = max(a, b)
		case scatterMin:
			b = min(a, b)
		}
		o.I[d] = b
		return
	}
	a, b := o.F[d], u.F[s]
	switch r {
	case scatterAdd:
		b = roundTo(o.DType, a+b)
	case scatterMul:
		b = roundTo(o.DType, a*b)
	case scatterMax:
		b = max(a, b)
	case scatterMin:
		b = min(a, b)
	}
	o.F[d] = b
}

// checkConstIndices refuses constant indices outside [-dim, dim).
func checkConstIndices(n *node, i int, dim func(k int) int) error {
	v := n.input(i)
	if v == nil || v.constant == nil {
		return nil
	}
	for k, x := range v.constant.I {
		d := int64(dim(k))
		if x < -d || x >= d {
			return n.errorf("index %d (element %d of %q) is out of range for a dimension of %d", x, k, v.name, d)
		}
	}
	return nil
}

// wrapIndex maps a possibly negative index into [0, dim), or -1.
func wrapIndex(k int64, dim int) int {
	if k < 0 {
		k += int64(dim)
	}
	if k < 0 || k >= int64(dim) {
		return -1
	}
	return int(k)
}

var gatherElementsOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(2, 2); err != nil {
			return err
		}
		x, idx := n.in[0], n.in[1]
		if !idx.dtype.IsInt() {
			return n.errorf("indices have type %v, expected an integer type", idx.dtype)
		}
		r := len(x.shape)
		if r == 0 || len(idx.shape) != r {
			return n.errorf("indices have rank %d, data %d (both must be equal and at least 1)", len(idx.shape), r)
		}
		if r > maxRank {
			return n.unsupported("rank %d above %d", r, maxRank)
		}
		a, err := n.elementsAxis(x.shape, idx.shape)
		if err != nil {
			return err
		}
		n.params = &indexAxisParams{axis: a}
		n.out[0].dtype = x.dtype
		n.out[0].shape = append([]int(nil), idx.shape...)
		return nil
	},
	eval: func(n *node, in, out []*Tensor) {
		a := n.params.(*indexAxisParams).axis
		x, idx, o := in[0], in[1], out[0]
		r := len(x.Shape)
		var st, pos [maxRank]int
		stridesOf(x.Shape, st[:r])
		for k := range idx.I {
			j := wrapIndex(idx.I[k], x.Shape[a])
			if j < 0 {
				zeroElemAt(o, k)
			} else {
				src := 0
				for d := 0; d < r; d++ {
					if d == a {
						src += j * st[d]
					} else {
						src += pos[d] * st[d]
					}
				}
				copyElemAt(o, k, x, src)
			}
			for d := r - 1; d >= 0; d-- {
				pos[d]++
				if pos[d] < idx.Shape[d] {
					break
				}
				pos[d] = 0
			}
		}
	},
}

// scatterElementsDef is ScatterElements, and Scatter (opsets 9 and 10,
// its earlier name, without reductions).
func scatterElementsDef() opDef {
	return opDef{
		infer: func(n *node) error {
			if err := n.needInputs(3, 3); err != nil {
				return err
			}
			x, idx, upd := n.in[0], n.in[1], n.in[2]
			if !idx.dtype.IsInt() {
				return n.errorf("indices have type %v, expected an integer type", idx.dtype)
			}
			r := len(x.shape)
			if r == 0 || len(idx.shape) != r || !equalShapes(idx.shape, upd.shape) {
				return n.errorf("indices %v and updates %v must have one shape of the rank of data %v", idx.shape, upd.shape, x.shape)
			}
			if upd.dtype != x.dtype {
				return n.errorf("updates have type %v, data %v", upd.dtype, x.dtype)
			}
			if r > maxRank {
				return n.unsupported("rank %d above %d", r, maxRank)
			}
			a, err := n.elementsAxis(x.shape, idx.shape)
			if err != nil {
				return err
			}
			p := &indexAxisParams{axis: a}
			if n.op == "ScatterElements" {
				if p.reduction, err = scatterReductionAttr(n); err != nil {
					return err
				}
			}
			n.params = p
			sameType(n.out[0], x)
			return nil
		},
		eval: func(n *node, in, out []*Tensor) {
			p := n.params.(*indexAxisParams)
			x, idx, upd, o := in[0], in[1], in[2], out[0]
			copyData(o, x)
			r := len(x.Shape)
			var st, pos [maxRank]int
			stridesOf(x.Shape, st[:r])
			for k := range idx.I {
				if j := wrapIndex(idx.I[k], x.Shape[p.axis]); j >= 0 {
					dst := 0
					for d := 0; d < r; d++ {
						if d == p.axis {
							dst += j * st[d]
						} else {
							dst += pos[d] * st[d]
						}
					}
					scatterApply(p.reduction, o, dst, upd, k)
				}
				for d := r - 1; d >= 0; d-- {
					pos[d]++
					if pos[d] < idx.Shape[d] {
						break
					}
					pos[d] = 0
				}
			}
		},
	}
}

var (
	scatterElementsOp = scatterElementsDef()
	scatterOp         = scatterElementsDef()
)

// gatherNDParams describe a GatherND: batch_dims, the batch count, the
// index tuples per batch, the tuple length and the slice each selects.
type gatherNDParams struct {
	batchDims, batches, tuples, m, slice int
	dims, strides                        []int // data dims and strides after the batch dims
}

var gatherNDOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(2, 2); err != nil {
			return err
		}
		x, idx := n.in[0], n.in[1]
		if !idx.dtype.IsInt() {
			return n.errorf("indices have type %v, expected an integer type", idx.dtype)
		}
		r, q := len(x.shape), len(idx.shape)
		if r == 0 || q == 0 {
			return n.errorf("data and indices must have rank at least 1")
		}
		b, err := n.attrInt("batch_dims", 0)
		if err != nil {
			return err
		}
		if b < 0 || b >= int64(min(r, q)) {
			return n.errorf("batch_dims %d is out of range for ranks %d and %d", b, r, q)
		}
		bd := int(b)
		m := idx.shape[q-1]
		if m < 1 || m > r-bd {
			return n.errorf("indices' last dimension %d is out of range for data rank %d and batch_dims %d", m, r, bd)
		}
		for d := 0; d < bd; d++ {
			if x.shape[d] != idx.shape[d] {
				return n.errorf("batch dimension %d differs: data %v, indices %v", d, x.shape, idx.shape)
			}
		}
		p := &gatherNDParams{batchDims: bd, batches: numel(x.shape[:bd]), tuples: numel(idx.shape[bd : q-1]), m: m,
			slice: numel(x.shape[bd+m:]), dims: append([]int(nil), x.shape[bd:]...)}
		p.strides = make([]int, len(p.dims))
		stridesOf(p.dims, p.strides)
		if err := checkConstIndices(n, 1, func(k int) int { return p.dims[k%m] }); err != nil {
			return err
		}
		n.params = p
		n.out[0].dtype = x.dtype
		n.out[0].shape = append(append([]int(nil), idx.shape[:q-1]...), x.shape[bd+m:]...)
		return nil
	},
	eval: func(n *node, in, out []*Tensor) {
		p := n.params.(*gatherNDParams)
		x, idx, o := in[0], in[1], out[0]
		block := numel(p.dims)
		for bt := 0; bt < p.batches; bt++ {
			for t := 0; t < p.tuples; t++ {
				tup := idx.I[(bt*p.tuples+t)*p.m:][:p.m]
				src, ok := bt*block, true
				for j, k := range tup {
					v := wrapIndex(k, p.dims[j])
					if v < 0 {
						ok = false
						break
					}
					src += v * p.strides[j]
				}
				dst := (bt*p.tuples + t) * p.slice
				for e := 0; e < p.slice; e++ {
					if ok {
						copyElemAt(o, dst+e, x, src+e)
					} else {
						zeroElemAt(o, dst+e)
					}
				}
			}
		}
	},
}

// scatterNDParams describe a ScatterND.
type scatterNDParams struct {
	tuples, m, slice int
	dims, strides    []int
	reduction        scatterReduction
}

var scatterNDOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(3, 3); err != nil {
			return err
		}
		x, idx, upd := n.in[0], n.in[1], n.in[2]
		if !idx.dtype.IsInt() {
			return n.errorf("indices have type %v, expected an integer type", idx.dtype)
		}
		if upd.dtype != x.dtype {
			return n.errorf("updates have type %v, data %v", upd.dtype, x.dtype)
		}
		r, q := len(x.shape), len(idx.shape)
		if r == 0 || q == 0 {
			return n.errorf("data and indices must have rank at least 1")
		}
		m := idx.shape[q-1]
		if m < 1 || m > r {
			return n.errorf("indices' last dimension %d is out of range for data rank %d", m, r)
		}
		want := append(append([]int(nil), idx.shape[:q-1]...), x.shape[m:]...)
		if !equalShapes(upd.shape, want) {
			return n.errorf("updates have shape %v, expected %v", upd.shape, want)
		}
		red, err := scatterReductionAttr(n)
		if err != nil {
			return err
		}
		p := &scatterNDParams{tuples: numel(idx.shape[:q-1]), m: m, slice: numel(x.shape[m:]), dims: append([]int(nil), x.shape...), reduction: red}
		p.strides = make([]int, r)
		stridesOf(p.dims, p.strides)
		if err := checkConstIndices(n, 1, func(k int) int { return p.dims[k%m] }); err != nil {
			return err
		}
		n.params = p
		sameType(n.out[0], x)
		return nil
	},
	eval: func(n *node, in, out []*Tensor) {
		p := n.params.(*scatterNDParams)
		x, idx, upd, o := in[0], in[1], in[2], out[0]
		copyData(o, x)
		for t := 0; t < p.tuples; t++ {
			dst, ok := 0, true
			for j, k := range idx.I[t*p.m : (t+1)*p.m] {
				v := wrapIndex(k, p.dims[j])
				if v < 0 {
					ok = false
					break
				}
				dst += v * p.strides[j]
			}
			if !ok {
				continue
			}
			for e := 0; e < p.slice; e++ {
				scatterApply(p.reduction, o, dst+e, upd, t*p.slice+e)
			}
		}
	},
}

// elementsAxis reads the axis of GatherElements and ScatterElements and
// checks that the indices (shape idx, input 1) fit the data (shape x) on
// every other axis and, when constant, index inside the axis.
func (n *node) elementsAxis(x, idx []int) (int, error) {
	axis, err := n.attrInt("axis", 0)
	if err != nil {
		return 0, err
	}
	a, err := n.normAxis(axis, len(x), "axis")
	if err != nil {
		return 0, err
	}
	for d := range x {
		if d != a && idx[d] > x[d] {
			return 0, n.errorf("indices shape %v exceeds data shape %v on axis %d", idx, x, d)
		}
	}
	if err := checkConstIndices(n, 1, func(int) int { return x[a] }); err != nil {
		return 0, err
	}
	return a, nil
}
