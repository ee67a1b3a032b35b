package engine

// ndWindow is the geometry of a sliding window over any number of spatial
// dimensions: the general path of Conv, MaxPool, AveragePool and LpPool
// (for 3-D and higher inputs) and of MaxUnpool. The 1-D and 2-D fast paths
// keep using window.
type ndWindow struct {
	batch, c        int
	in, out         []int // spatial input and output sizes
	kernel          []int
	strides, dil    []int
	padBegin        []int
	padEnd          []int
	ceil            bool
	countIncludePad bool
	inSize, outSize int // elements of one spatial plane
}

// maxSpatial bounds the spatial rank of the N-D paths (the loops keep their
// multi-indices in fixed arrays so that they do not allocate).
const maxSpatial = maxRank - 2

// spatialInts reads an integer list attribute with one entry per spatial
// dimension (2 per dimension for pads), or returns def repeated.
func (n *node) spatialInts(name string, nd, per int, def int) ([]int, bool, error) {
	v, ok, err := n.attrInts(name)
	if err != nil {
		return nil, false, err
	}
	if !ok {
		out := make([]int, nd*per)
		for i := range out {
			out[i] = def
		}
		return out, false, nil
	}
	if len(v) != nd*per {
		return nil, false, n.errorf("%s has %d entries, expected %d", name, len(v), nd*per)
	}
	out, err := n.ints(name, v)
	return out, true, err
}

// parseNDWindow reads kernel_shape, strides, dilations, pads, auto_pad and
// ceil_mode for an input of shape [N, C, spatial...], as parseWindow does
// for any number of spatial dimensions. kernel is used when kernel_shape is
// absent (Conv reads it from the weights).
func parseNDWindow(n *node, shape []int, kernel []int, ceilAllowed bool) (*ndWindow, error) {
	nd := len(shape) - 2
	if nd < 1 {
		return nil, n.errorf("input of shape %v has no spatial dimensions", shape)
	}
	if nd > maxSpatial {
		return nil, n.unsupported("%d-D window", nd)
	}
	w := &ndWindow{batch: shape[0], c: shape[1], in: append([]int(nil), shape[2:]...)}
	ks, ok, err := n.attrInts("kernel_shape")
	if err != nil {
		return nil, err
	}
	if ok {
		if len(ks) != nd {
			return nil, n.errorf("kernel_shape has %d entries, expected %d", len(ks), nd)
		}
		if kernel, err = n.ints("kernel_shape", ks); err != nil {
			return nil, err
		}
	}
	if kernel == nil {
		return nil, n.errorf("attribute kernel_shape is missing")
	}
	w.kernel = append([]int(nil), kernel...)
	if w.strides, _, err = n.spatialInts("strides", nd, 1, 1); err != nil {
		return nil, err
	}
	if w.dil, _, err = n.spatialInts("dilations", nd, 1, 1); err != nil {
		return nil, err
	}
	pads, _, err := n.spatialInts("pads", nd, 2, 0)
	if err != nil {
		return nil, err
	}
	autoPad, err := n.attrString("auto_pad", "NOTSET")
	if err != nil {
		return nil, err
	}
	ceil, err := n.attrInt("ceil_mode", 0)
	if err != nil {
		return nil, err
	}
	if ceil != 0 && !ceilAllowed {
		return nil, n.unsupported("ceil_mode")
	}
	w.ceil = ceil != 0
	w.out = make([]int, nd)
	for i := 0; i < nd; i++ {
		k, s, d, in := w.kernel[i], w.strides[i], w.dil[i], w.in[i]
		if k < 1 || s < 1 || d < 1 {
			return nil, n.errorf("kernel %v, strides %v and dilations %v must be positive", w.kernel, w.strides, w.dil)
		}
		if pads[i] < 0 || pads[i+nd] < 0 {
			return nil, n.errorf("pads %v must not be negative", pads)
		}
		ext := (k-1)*d + 1
		switch autoPad {
		case "NOTSET", "":
			span := in + pads[i] + pads[i+nd] - ext
			if span < 0 {
				return nil, n.errorf("window %d (dilated) is larger than the padded input %d", ext, in+pads[i]+pads[i+nd])
			}
			if w.ceil {
				w.out[i] = (span+s-1)/s + 1
				if (w.out[i]-1)*s >= in+pads[i] {
					w.out[i]-- // the last window would start in the end padding
				}
			} else {
				w.out[i] = span/s + 1
			}
		case "VALID":
			pads[i], pads[i+nd] = 0, 0
			if in < ext {
				return nil, n.errorf("window %d is larger than the input %d", ext, in)
			}
			w.out[i] = (in-ext)/s + 1
		case "SAME_UPPER", "SAME_LOWER":
			w.out[i] = (in + s - 1) / s
			total := max(0, (w.out[i]-1)*s+ext-in)
			if autoPad == "SAME_UPPER" {
				pads[i], pads[i+nd] = total/2, total-total/2
			} else {
				pads[i], pads[i+nd] = total-total/2, total/2
			}
		default:
			return nil, n.errorf("auto_pad %q is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER", autoPad)
		}
	}
	w.padBegin, w.padEnd = pads[:nd], pads[nd:]
	if err := n.checkElems("output", w.outShape(w.c)); err != nil {
		return nil, err
	}
	w.inSize, w.outSize = numel(w.in), numel(w.out)
	return w, nil
}

// outShape returns [N, channels, spatial out...].
func (w *ndWindow) outShape(channels int) []int {
	return append([]int{w.batch, channels}, w.out...)
}

// taps returns the number of kernel elements.
func (w *ndWindow) taps() int { return numel(w.kernel) }

// ndIndex is a multi-index over up to maxSpatial dimensions, advanced in
// row-major order without allocating.
type ndIndex [maxSpatial]int

// next advances idx within dims and reports false after the last index.
func (idx *ndIndex) next(dims []int) bool {
	for i := len(dims) - 1; i >= 0; i-- {
		idx[i]++
		if idx[i] < dims[i] {
			return true
		}
		idx[i] = 0
	}
	return false
}

// windowOffset returns the flat offset in the input plane of kernel tap k
// at output position o, and false when it falls in the padding. pad
// reports whether a tap outside the input still lies within the padded
// extent (AveragePool's count_include_pad).
func (w *ndWindow) windowOffset(o, k *ndIndex) (off int, inside, inPad bool) {
	inside, inPad = true, true
	for i := range w.in {
		p := o[i]*w.strides[i] - w.padBegin[i] + k[i]*w.dil[i]
		if p < 0 || p >= w.in[i] {
			inside = false
			if p >= w.in[i]+w.padEnd[i] {
				inPad = false
			}
		}
		off = off*w.in[i] + p
	}
	return off, inside, inPad
}

// maxSpatialElems bounds the element count of a shape computed from
// attributes or constant inputs before the size limit is checked, so that
// the product cannot overflow.
const maxSpatialElems = 1 << 40

// checkElems returns an error naming field when shape has a negative
// dimension or more than maxSpatialElems elements.
func (n *node) checkElems(field string, shape []int) error {
	total := int64(1)
	for _, d := range shape {
		if d < 0 {
			return n.errorf("%s %v has a negative dimension", field, shape)
		}
		if d == 0 {
			return nil
		}
		if int64(d) > maxSpatialElems/total {
			return n.errorf("%s %v is too large", field, shape)
		}
		total *= int64(d)
	}
	return nil
}

// constFloatList reads input i as a list of floats; it must be a constant.
// An absent input gives nil.
func (n *node) constFloatList(i int, field string) ([]float32, error) {
	v := n.input(i)
	if v == nil {
		return nil, nil
	}
	if v.constant == nil {
		return nil, &ConstantInputError{Node: n.name, Op: n.op, Input: v.name}
	}
	if !v.dtype.IsFloat() {
		return nil, n.errorf("input %s %q has type %v, expected a floating-point type", field, v.name, v.dtype)
	}
	return v.constant.F, nil
}

// spatialMACs is implemented by the params of the ops of util_ops_spatial's
// family that count their multiply-accumulates (for Model.MACs; FuzzLoad
// skips models above a budget, which the quadratic references need).
type spatialMACs interface {
	macs(n *node) int64
}

func (p *convNDParams) macs(n *node) int64 {
	return int64(n.out[0].numel()) * int64(p.cg*p.taps())
}

func (p *convTransposeParams) macs(n *node) int64 {
	return int64(n.in[0].numel()) * int64(p.mg*p.taps)
}

func (p *dftParams) macs(*node) int64 {
	return int64(p.outer) * int64(p.inner) * int64(p.nOut) * int64(min(p.nIn, p.n)) * 4
}

func (p *stftParams) macs(*node) int64 {
	return int64(p.batch) * int64(p.frames) * int64(p.bins) * int64(p.n) * 4
}

func (p *gridSampleParams) macs(*node) int64 {
	taps := int64(1)
	for range p.in {
		switch p.mode {
		case gridLinear:
			taps *= 2
		case gridCubic:
			taps *= 4
		}
	}
	return int64(p.batch) * int64(p.c) * int64(p.outSize) * taps
}

func (p *roiAlignParams) macs(*node) int64 {
	s := int64(max(p.sampling, 1))
	return int64(p.rois) * int64(p.c) * int64(p.oh) * int64(p.ow) * 4 * s * s
}

func (p *resizeParams) macs(n *node) int64 {
	taps := int64(1)
	for _, a := range p.axes {
		if a.out > 0 {
			taps *= int64((len(a.idx) + a.out - 1) / a.out)
		}
	}
	return int64(n.out[0].numel()) * taps
}
