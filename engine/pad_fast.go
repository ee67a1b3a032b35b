package engine

// padKernel is the fast Pad of float tensors: whole rows of the last axis
// are copied with copy(), and only the few border elements of each row are
// computed one by one (the reference visits every element through an
// index vector; MLPerf Tiny's ResNet-8 spent 60% of its time there).
type padKernel struct {
	p *padParams
}

func compilePad(n *node, _ *compiler) (Kernel, error) {
	p := n.params.(*padParams)
	if !n.out[0].dtype.IsFloat() || len(p.outShape) == 0 {
		return nil, nil
	}
	return &padKernel{p: p}, nil
}

// padIndex maps output index o of an axis to its input index under the
// mode, or returns false when it falls outside and the mode is constant.
func padIndex(mode string, o, begin, size int) (int, bool) {
	i := o - begin
	if i >= 0 && i < size {
		return i, true
	}
	switch mode {
	case "edge":
		return min(max(i, 0), size-1), true
	case "reflect":
		if i < 0 {
			return -i, true
		}
		return 2*(size-1) - i, true
	}
	return 0, false
}

// Run implements Kernel.
func (k *padKernel) Run(_ *Exec, in, out []*Tensor) {
	p := k.p
	x, y := in[0].F, out[0].F
	r := len(p.outShape)
	w, ow, b := p.inShape[r-1], p.outShape[r-1], p.begin[r-1]
	rows := len(y) / max(ow, 1)
	if ow == 0 || rows == 0 {
		return
	}
	var ist, idx [maxRank]int
	stridesOf(p.inShape, ist[:r])
	// The output columns [lo, hi) read input columns lo-b .. hi-b-1.
	lo, hi := max(0, b), min(ow, b+w)
	for row := 0; row < rows; row++ {
		dst := y[row*ow : (row+1)*ow]
		src, inside := 0, w > 0
		for d := 0; d < r-1 && inside; d++ {
			i, ok := padIndex(p.mode, idx[d], p.begin[d], p.inShape[d])
			inside = ok
			src += i * ist[d]
		}
		if !inside {
			for j := range dst {
				dst[j] = p.value
			}
		} else {
			s := x[src : src+w]
			if lo < hi {
				copy(dst[lo:hi], s[lo-b:hi-b])
			}
			for j := 0; j < ow; j++ {
				if j == lo && lo < hi {
					j = hi - 1
					continue
				}
				if i, ok := padIndex(p.mode, j, b, w); ok {
					dst[j] = s[i]
				} else {
					dst[j] = p.value
				}
			}
		}
		for d := r - 2; d >= 0; d-- {
			idx[d]++
			if idx[d] < p.outShape[d] {
				break
			}
			idx[d] = 0
		}
	}
}
