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
	compile: compileTranspose,
}

// compileTranspose moves the elements with a moveKernel.
func compileTranspose(n *node, _ *compiler) (Kernel, error) {
	perm := n.params.(*transposeParams).perm
	x := n.in[0]
	ist := make([]int, len(perm))
	stridesOf(x.shape, ist)
	mp := movePlan{dims: n.out[0].shape, src: make([]int, len(perm))}
	for i, a := range perm {
		mp.src[i] = ist[a]
	}
	return newMoveKernel(mp, moveTableRuns), nil
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
	compile: compilePad,
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
					return n.needConstant(v)
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

// depthSpaceParams describe DepthToSpace and SpaceToDepth: the block
// size, DepthToSpace's mode and the input shape [N, C, H, W].
type depthSpaceParams struct {
	block int
	crd   bool
	in    [4]int
}

// depthSpaceInfer checks the 4-D input and the block size.
func depthSpaceInfer(n *node) (*depthSpaceParams, error) {
	if err := n.needInputs(1, 1); err != nil {
		return nil, err
	}
	x := n.in[0]
	if len(x.shape) != 4 {
		return nil, n.errorf("input has shape %v, expected [N, C, H, W]", x.shape)
	}
	b, err := n.attrInt("blocksize", 0)
	if err != nil {
		return nil, err
	}
	if _, ok := n.attrs["blocksize"]; !ok {
		return nil, n.errorf("attribute blocksize is missing")
	}
	if b < 1 || b > 1<<15 {
		return nil, n.errorf("blocksize %d is out of range", b)
	}
	p := &depthSpaceParams{block: int(b)}
	copy(p.in[:], x.shape)
	return p, nil
}

var depthToSpaceOp = opDef{
	infer: func(n *node) error {
		p, err := depthSpaceInfer(n)
		if err != nil {
			return err
		}
		mode, err := n.attrString("mode", "DCR")
		if err != nil {
			return err
		}
		if mode != "DCR" && mode != "CRD" {
			return n.errorf("mode %q is neither DCR nor CRD", mode)
		}
		p.crd = mode == "CRD"
		b := p.block
		if p.in[1]%(b*b) != 0 {
			return n.errorf("%d channels are not a multiple of blocksize² = %d", p.in[1], b*b)
		}
		n.params = p
		n.out[0].dtype = n.in[0].dtype
		n.out[0].shape = []int{p.in[0], p.in[1] / (b * b), p.in[2] * b, p.in[3] * b}
		return nil
	},
	eval: func(n *node, in, out []*Tensor) {
		p := n.params.(*depthSpaceParams)
		b, N, C, H, W := p.block, p.in[0], p.in[1], p.in[2], p.in[3]
		oc, oh, ow := C/(b*b), H*b, W*b
		for i := 0; i < N; i++ {
			for c := 0; c < oc; c++ {
				for y := 0; y < oh; y++ {
					for x := 0; x < ow; x++ {
						bi, bj := y%b, x%b
						ch := (bi*b+bj)*oc + c // DCR
						if p.crd {
							ch = c*b*b + bi*b + bj
						}
						src := ((i*C+ch)*H+y/b)*W + x/b
						copyElemAt(out[0], ((i*oc+c)*oh+y)*ow+x, in[0], src)
					}
				}
			}
		}
	},
	compile: func(n *node, _ *compiler) (Kernel, error) {
		p := n.params.(*depthSpaceParams)
		b, N, C, H, W := p.block, p.in[0], p.in[1], p.in[2], p.in[3]
		oc, hw := C/(b*b), H*W
		// Output viewed as [N, C', H, b, W, b].
		mp := movePlan{dims: []int{N, oc, H, b, W, b}}
		if p.crd {
			mp.src = []int{C * hw, b * b * hw, W, b * hw, 1, hw}
		} else {
			mp.src = []int{C * hw, hw, W, b * oc * hw, 1, oc * hw}
		}
		return newMoveKernel(mp, moveTableRuns), nil
	},
}

var spaceToDepthOp = opDef{
	infer: func(n *node) error {
		p, err := depthSpaceInfer(n)
		if err != nil {
			return err
		}
		b := p.block
		if p.in[2]%b != 0 || p.in[3]%b != 0 {
			return n.errorf("spatial shape %dx%d is not a multiple of blocksize %d", p.in[2], p.in[3], b)
		}
		n.params = p
		n.out[0].dtype = n.in[0].dtype
		n.out[0].shape = []int{p.in[0], p.in[1] * b * b, p.in[2] / b, p.in[3] / b}
		return nil
	},
	eval: func(n *node, in, out []*Tensor) {
		p := n.params.(*depthSpaceParams)
		b, N, C, H, W := p.block, p.in[0], p.in[1], p.in[2], p.in[3]
		oc, oh, ow := C*b*b, H/b, W/b
		for i := 0; i < N; i++ {
			for ch := 0; ch < oc; ch++ {
				bi, bj, c := ch/(b*C), ch/C%b, ch%C
				for y := 0; y < oh; y++ {
					for x := 0; x < ow; x++ {
						src := ((i*C+c)*H+y*b+bi)*W + x*b + bj
						copyElemAt(out[0], ((i*oc+ch)*oh+y)*ow+x, in[0], src)
					}
				}
			}
		}
	},
	compile: func(n *node, _ *compiler) (Kernel, error) {
		p := n.params.(*depthSpaceParams)
		b, N, C, H, W := p.block, p.in[0], p.in[1], p.in[2], p.in[3]
		// Output viewed as [N, b, b, C, H/b, W/b].
		mp := movePlan{dims: []int{N, b, b, C, H / b, W / b}, src: []int{C * H * W, W, 1, H * W, b * W, b}}
		return newMoveKernel(mp, moveTableRuns), nil
	},
}
