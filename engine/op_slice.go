package engine

import "math"

// sliceParams describe a Slice: per input axis the first index, the step
// and the number of elements taken.
type sliceParams struct {
	start, step, count []int
	inShape            []int
}

// sliceAxis clamps one axis' start and end as the ONNX spec says (negative
// values count from the end; out-of-range values, INT64_MAX and INT64_MIN
// included, clamp to the axis) and returns the first index and the count.
func sliceAxis(start, end, step int64, dim int) (int, int) {
	d := int64(dim)
	if d == 0 {
		return 0, 0
	}
	// A step longer than the axis takes at most one element: clamping it
	// keeps the arithmetic below from overflowing.
	step = min(max(step, -(d+1)), d+1)
	if start < 0 {
		start += d
	}
	if end < 0 {
		end += d
	}
	var count int64
	if step > 0 {
		start = min(max(start, 0), d)
		end = min(max(end, 0), d)
		if end > start {
			count = (end - start + step - 1) / step
		}
	} else {
		start = min(max(start, 0), d-1)
		end = min(max(end, -1), d-1)
		if start > end {
			count = (start - end - step - 1) / -step
		}
	}
	return int(start), int(count)
}

var sliceOp = opDef{
	infer: func(n *node) error {
		var starts, ends, axes, steps []int64
		if n.opset < 10 {
			if err := n.needInputs(1, 1); err != nil {
				return err
			}
			var ok bool
			var err error
			if starts, ok, err = n.attrInts("starts"); err != nil {
				return err
			} else if !ok {
				return n.errorf("attribute starts is missing")
			}
			if ends, ok, err = n.attrInts("ends"); err != nil {
				return err
			} else if !ok {
				return n.errorf("attribute ends is missing")
			}
			if axes, ok, err = n.attrInts("axes"); err != nil {
				return err
			} else if !ok {
				axes = nil
			}
		} else {
			if err := n.needInputs(3, 5); err != nil {
				return err
			}
			var err error
			if starts, err = n.constInts(1, "starts"); err != nil {
				return err
			}
			if ends, err = n.constInts(2, "ends"); err != nil {
				return err
			}
			if axes, err = n.constInts(3, "axes"); err != nil {
				return err
			}
			if steps, err = n.constInts(4, "steps"); err != nil {
				return err
			}
		}
		x := n.in[0]
		r := len(x.shape)
		if r > maxRank {
			return n.unsupported("rank %d above %d", r, maxRank)
		}
		if len(starts) != len(ends) {
			return n.errorf("starts has %d entries, ends %d", len(starts), len(ends))
		}
		if axes != nil && len(axes) != len(starts) {
			return n.errorf("axes has %d entries, starts %d", len(axes), len(starts))
		}
		if steps != nil && len(steps) != len(starts) {
			return n.errorf("steps has %d entries, starts %d", len(steps), len(starts))
		}
		if len(starts) > r {
			return n.errorf("starts has %d entries for rank %d", len(starts), r)
		}
		p := &sliceParams{start: make([]int, r), step: make([]int, r), count: append([]int(nil), x.shape...), inShape: append([]int(nil), x.shape...)}
		for i := range p.step {
			p.step[i] = 1
		}
		seen := make([]bool, r)
		for i := range starts {
			a := i
			if axes != nil {
				var err error
				if a, err = n.normAxis(axes[i], r, "axis"); err != nil {
					return err
				}
			}
			if seen[a] {
				return n.errorf("axis %d is repeated", a)
			}
			seen[a] = true
			step := int64(1)
			if steps != nil {
				step = steps[i]
			}
			if step == 0 {
				return n.errorf("steps[%d] is 0", i)
			}
			p.start[a], p.count[a] = sliceAxis(starts[i], ends[i], step, x.shape[a])
			p.step[a] = int(min(max(step, -math.MaxInt32), math.MaxInt32))
			if p.count[a] <= 1 {
				p.step[a] = 1
			}
		}
		n.params = p
		n.out[0].dtype = x.dtype
		n.out[0].shape = append([]int(nil), p.count...)
		return nil
	},
	eval: func(n *node, in, out []*Tensor) {
		p := n.params.(*sliceParams)
		x, o := in[0], out[0]
		r := len(p.count)
		var ist, idx [maxRank]int
		stridesOf(p.inShape, ist[:r])
		total := numel(p.count)
		for k := 0; k < total; k++ {
			src := 0
			for d := 0; d < r; d++ {
				src += (p.start[d] + idx[d]*p.step[d]) * ist[d]
			}
			if o.DType.IsInt() {
				o.I[k] = x.I[src]
			} else {
				o.F[k] = x.F[src]
			}
			for d := r - 1; d >= 0; d-- {
				idx[d]++
				if idx[d] < p.count[d] {
					break
				}
				idx[d] = 0
			}
		}
	},
	compile: func(n *node, _ *compiler) (Kernel, error) {
		p := n.params.(*sliceParams)
		r := len(p.count)
		ist := make([]int, r)
		stridesOf(p.inShape, ist)
		mp := movePlan{dims: p.count, src: make([]int, r)}
		for d := 0; d < r; d++ {
			mp.src[d] = p.step[d] * ist[d]
			mp.base += p.start[d] * ist[d]
		}
		return newMoveKernel(mp, moveTableRuns), nil
	},
}

// splitParams describe a Split: the axis and each output's length on it.
type splitParams struct {
	axis  int
	sizes []int
}

var splitOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(1, 2); err != nil {
			return err
		}
		x := n.in[0]
		axis, err := n.attrInt("axis", 0)
		if err != nil {
			return err
		}
		a, err := n.normAxis(axis, len(x.shape), "axis")
		if err != nil {
			return err
		}
		var split []int64
		haveSplit := false
		if n.opset < 13 {
			if split, haveSplit, err = n.attrInts("split"); err != nil {
				return err
			}
		}
		if !haveSplit && n.input(1) != nil {
			if n.opset >= 2 && n.opset < 13 {
				return n.errorf("split is an attribute before opset 13, not an input")
			}
			if split, err = n.constInts(1, "split"); err != nil {
				return err
			}
			haveSplit = true
		}
		outs := len(n.out)
		dim := x.shape[a]
		var sizes []int
		num, err := n.attrInt("num_outputs", 0)
		if err != nil {
			return err
		}
		switch {
		case haveSplit:
			if num != 0 {
				return n.errorf("split and num_outputs are both given")
			}
			if len(split) != outs {
				return n.errorf("split has %d entries for %d outputs", len(split), outs)
			}
			sum := int64(0)
			for i, s := range split {
				if s < 0 || s > int64(dim) {
					return n.errorf("split[%d] = %d is out of range for axis of size %d", i, s, dim)
				}
				sum += s
				sizes = append(sizes, int(s))
			}
			if sum != int64(dim) {
				return n.errorf("split %v sums to %d, the axis has %d", split, sum, dim)
			}
		case num != 0 && n.opset >= 18:
			if num != int64(outs) {
				return n.errorf("num_outputs %d differs from the %d outputs", num, outs)
			}
			chunk := (dim + outs - 1) / outs
			left := dim
			for i := 0; i < outs; i++ {
				s := min(chunk, left)
				if i == outs-1 {
					s = left
				}
				sizes = append(sizes, s)
				left -= s
			}
			if left != 0 || chunk*(outs-1) > dim {
				return n.errorf("cannot split an axis of size %d into %d outputs", dim, outs)
			}
		default:
			if num != 0 {
				return n.errorf("attribute num_outputs is not defined before opset 18")
			}
			if outs == 0 || dim%outs != 0 {
				return n.errorf("cannot split an axis of size %d into %d equal parts", dim, outs)
			}
			for i := 0; i < outs; i++ {
				sizes = append(sizes, dim/outs)
			}
		}
		n.params = &splitParams{axis: a, sizes: sizes}
		for i, o := range n.out {
			if o == nil {
				continue
			}
			o.dtype = x.dtype
			o.shape = append([]int(nil), x.shape...)
			o.shape[a] = sizes[i]
		}
		return nil
	},
	eval: func(n *node, in, out []*Tensor) {
		p := n.params.(*splitParams)
		x := in[0]
		outer := numel(x.Shape[:p.axis])
		inner := numel(x.Shape[p.axis+1:])
		dim := x.Shape[p.axis]
		off := 0
		for i, o := range out {
			sz := p.sizes[i]
			if o != nil {
				for a := 0; a < outer; a++ {
					for j := 0; j < sz; j++ {
						for b := 0; b < inner; b++ {
							src := (a*dim+off+j)*inner + b
							dst := (a*sz+j)*inner + b
							if x.DType.IsInt() {
								o.I[dst] = x.I[src]
							} else {
								o.F[dst] = x.F[src]
							}
						}
					}
				}
			}
			off += sz
		}
	},
	compile: func(n *node, _ *compiler) (Kernel, error) {
		p := n.params.(*splitParams)
		x := n.in[0]
		return &splitKernel{sizes: p.sizes, outer: numel(x.shape[:p.axis]), inner: numel(x.shape[p.axis+1:]), dim: x.shape[p.axis]}, nil
	},
}

// splitKernel copies each output's block of every outer row with copy().
type splitKernel struct {
	sizes             []int
	outer, inner, dim int
}

func (k *splitKernel) Run(_ *Exec, in, out []*Tensor) {
	if in[0].DType.IsInt() {
		splitRun(k, in[0].I, out, func(t *Tensor) []int64 { return t.I })
	} else {
		splitRun(k, in[0].F, out, func(t *Tensor) []float32 { return t.F })
	}
}

func splitRun[T float32 | int64](k *splitKernel, src []T, out []*Tensor, data func(*Tensor) []T) {
	row := k.dim * k.inner
	off := 0
	for i, o := range out {
		n := k.sizes[i] * k.inner
		if o != nil && n > 0 {
			dst := data(o)
			for a := 0; a < k.outer; a++ {
				copy(dst[a*n:(a+1)*n], src[a*row+off:a*row+off+n])
			}
		}
		off += n
	}
}
