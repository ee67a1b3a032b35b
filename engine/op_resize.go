package engine

import "math"

// Resize modes.
const (
	resizeNearest = iota
	resizeLinear
	resizeCubic
)

// resizeAxis is the resampling of one dimension, computed once at load from
// the spec's per-axis formulas: output element o of this axis is the sum
// over taps k in [start[o], start[o+1]) of w[k] times input element idx[k].
type resizeAxis struct {
	in, out  int
	start    []int32
	idx      []int32
	w        []float64
	outside  []bool // tf_crop_and_resize: o takes the extrapolation value
	identity bool   // every output element is the input element o
}

// resizeParams describe Resize and Upsample.
type resizeParams struct {
	axes          []resizeAxis
	mode          int
	extrapolation float32
	inStrides     []int
	outShape      []int
	crop          bool
}

// resizeSettings are the attributes and inputs resizeTables needs.
type resizeSettings struct {
	mode           int
	coord          string
	nearest        string
	cubicA         float64
	excludeOutside bool
	antialias      bool
}

func resizeDef(upsample bool) opDef {
	return opDef{
		infer:   func(n *node) error { return inferResize(n, upsample) },
		eval:    func(n *node, in, out []*Tensor) { resizeRef(n.params.(*resizeParams), in[0], out[0]) },
		compile: compileResize,
	}
}

var (
	resizeOp   = resizeDef(false)
	upsampleOp = resizeDef(true)
)

// inferResize parses Resize (opsets 10, 11, 13, 18, 19) and Upsample
// (opsets 7 and 9) and builds the per-axis tables.
func inferResize(n *node, upsample bool) error {
	var err error
	legacy := upsample || n.opset < 11 // Upsample and Resize-10
	switch {
	case upsample && n.opset < 9:
		err = n.needInputs(1, 1)
	case legacy:
		err = n.needInputs(2, 2)
	default:
		err = n.needInputs(1, 4)
	}
	if err != nil {
		return err
	}
	x := n.in[0]
	if !x.dtype.Supported() {
		return n.unsupported("input type %v", x.dtype)
	}
	rank := len(x.shape)
	if rank < 1 {
		return n.errorf("input is a scalar")
	}
	if rank > maxRank {
		return n.unsupported("rank above %d", maxRank)
	}
	s := resizeSettings{coord: "asymmetric", nearest: "simple", cubicA: -0.75}
	mode, err := n.attrString("mode", "nearest")
	if err != nil {
		return err
	}
	switch mode {
	case "nearest":
		s.mode = resizeNearest
	case "linear", "bilinear", "trilinear":
		s.mode = resizeLinear
	case "cubic", "bicubic":
		s.mode = resizeCubic
	default:
		return n.errorf("mode %q is not one of nearest, linear, cubic", mode)
	}
	if s.mode != resizeNearest && !x.dtype.IsFloat() {
		return n.unsupported("%s mode on %v", mode, x.dtype)
	}
	if !legacy {
		if s.coord, err = n.attrString("coordinate_transformation_mode", "half_pixel"); err != nil {
			return err
		}
		switch s.coord {
		case "half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn", "tf_crop_and_resize":
		default:
			return n.errorf("coordinate_transformation_mode %q is not supported by the spec", s.coord)
		}
		if s.nearest, err = n.attrString("nearest_mode", "round_prefer_floor"); err != nil {
			return err
		}
		switch s.nearest {
		case "round_prefer_floor", "round_prefer_ceil", "floor", "ceil":
		default:
			return n.errorf("nearest_mode %q is not one of round_prefer_floor, round_prefer_ceil, floor, ceil", s.nearest)
		}
		a, err := n.attrFloat("cubic_coeff_a", -0.75)
		if err != nil {
			return err
		}
		s.cubicA = float64(a)
		eo, err := n.attrInt("exclude_outside", 0)
		if err != nil {
			return err
		}
		s.excludeOutside = eo != 0
	}
	p := &resizeParams{mode: s.mode, crop: s.coord == "tf_crop_and_resize"}
	if p.extrapolation, err = n.attrFloat("extrapolation_value", 0); err != nil {
		return err
	}
	// The resized axes (opset 18's axes attribute).
	axes := make([]int, rank)
	for i := range axes {
		axes[i] = i
	}
	policy := "stretch"
	if !legacy && n.opset >= 18 {
		aa, err := n.attrInt("antialias", 0)
		if err != nil {
			return err
		}
		s.antialias = aa != 0 && s.mode != resizeNearest
		if v, ok, err := n.attrInts("axes"); err != nil {
			return err
		} else if ok {
			axes = axes[:0]
			seen := make([]bool, rank)
			for _, a := range v {
				d, err := n.normAxis(a, rank, "axes")
				if err != nil {
					return err
				}
				if seen[d] {
					return n.errorf("axes %v repeat axis %d", v, a)
				}
				seen[d] = true
				axes = append(axes, d)
			}
		}
		if policy, err = n.attrString("keep_aspect_ratio_policy", "stretch"); err != nil {
			return err
		}
		switch policy {
		case "stretch", "not_larger", "not_smaller":
		default:
			return n.errorf("keep_aspect_ratio_policy %q is not one of stretch, not_larger, not_smaller", policy)
		}
	}
	// Scales or sizes.
	var scales []float32
	var sizes []int64
	switch {
	case upsample && n.opset < 9:
		v, ok, err := n.attrFloats("scales")
		if err != nil {
			return err
		}
		if !ok {
			return n.errorf("attribute scales is missing")
		}
		scales = v
	case legacy:
		if scales, err = n.constFloatList(1, "scales"); err != nil {
			return err
		}
	default:
		if scales, err = n.constFloatList(2, "scales"); err != nil {
			return err
		}
		if sizes, err = n.constInts(3, "sizes"); err != nil {
			return err
		}
	}
	if len(scales) > 0 && len(sizes) > 0 {
		return n.errorf("has both scales and sizes")
	}
	if len(scales) == 0 && len(sizes) == 0 {
		return n.errorf("has neither scales nor sizes")
	}
	scale := make([]float64, rank)
	out := append([]int(nil), x.shape...)
	for i := range scale {
		scale[i] = 1
	}
	if len(scales) > 0 {
		if len(scales) != len(axes) {
			return n.errorf("scales has %d entries, expected %d", len(scales), len(axes))
		}
		for i, d := range axes {
			sc := float64(scales[i])
			if !(sc > 0) || math.IsInf(sc, 0) || upsample && sc < 1 {
				return n.errorf("scales %v must be finite and positive (at least 1 for Upsample)", scales)
			}
			o := math.Floor(sc * float64(x.shape[d]))
			if o > maxSpatialElems {
				return n.errorf("scales %v give an output that is too large", scales)
			}
			scale[d], out[d] = sc, int(o)
		}
	} else {
		if len(sizes) != len(axes) {
			return n.errorf("sizes has %d entries, expected %d", len(sizes), len(axes))
		}
		for i, d := range axes {
			if sizes[i] < 0 || sizes[i] > maxSpatialElems {
				return n.errorf("sizes %v must be non-negative and not too large", sizes)
			}
			if x.shape[d] == 0 && sizes[i] != 0 {
				return n.errorf("cannot resize the empty axis %d to %d", d, sizes[i])
			}
			out[d] = int(sizes[i])
			if x.shape[d] > 0 {
				scale[d] = float64(sizes[i]) / float64(x.shape[d])
			}
		}
		if policy != "stretch" {
			pick := scale[axes[0]]
			for _, d := range axes {
				if policy == "not_larger" {
					pick = min(pick, scale[d])
				} else {
					pick = max(pick, scale[d])
				}
			}
			for _, d := range axes {
				scale[d] = pick
				out[d] = int(pick*float64(x.shape[d]) + 0.5)
			}
		}
	}
	if err := n.checkElems("output", out); err != nil {
		return err
	}
	// The region of interest of tf_crop_and_resize.
	roiStart, roiEnd := make([]float64, rank), make([]float64, rank)
	for i := range roiEnd {
		roiEnd[i] = 1
	}
	if p.crop {
		roi, err := n.constFloatList(1, "roi")
		if err != nil {
			return err
		}
		if len(roi) > 0 {
			if len(roi) != 2*len(axes) {
				return n.errorf("roi has %d entries, expected %d", len(roi), 2*len(axes))
			}
			for i, d := range axes {
				roiStart[d], roiEnd[d] = float64(roi[i]), float64(roi[len(axes)+i])
			}
		}
	}
	p.axes = make([]resizeAxis, rank)
	for d := range p.axes {
		p.axes[d] = resizeTable(&s, x.shape[d], out[d], scale[d], roiStart[d], roiEnd[d])
	}
	p.inStrides = stridesOf(x.shape, make([]int, rank))
	p.outShape = out
	n.params = p
	n.out[0].dtype = x.dtype
	n.out[0].shape = append([]int(nil), out...)
	return nil
}

// resizeCoordinate maps output coordinate x of an axis to the input, as
// the spec's coordinate_transformation_mode says. lengthResized is
// scale*in (not the integer output size), as in the ONNX reference.
func resizeCoordinate(s *resizeSettings, x float64, in, out int, scale, roiStart, roiEnd float64) float64 {
	lengthResized := scale * float64(in)
	switch s.coord {
	case "half_pixel":
		return (x+0.5)/scale - 0.5
	case "half_pixel_symmetric":
		adjustment := float64(out) / lengthResized
		center := float64(in) / 2
		offset := center * (1 - adjustment)
		return offset + (x+0.5)/scale - 0.5
	case "pytorch_half_pixel":
		if out <= 1 {
			return 0
		}
		return (x+0.5)/scale - 0.5
	case "align_corners":
		if lengthResized == 1 {
			return 0
		}
		return x * float64(in-1) / (lengthResized - 1)
	case "tf_half_pixel_for_nn":
		return (x + 0.5) / scale
	case "tf_crop_and_resize":
		if lengthResized == 1 {
			return (roiEnd-roiStart)*float64(in-1)/2 + roiStart*float64(in-1)
		}
		return x*(roiEnd-roiStart)*float64(in-1)/(lengthResized-1) + roiStart*float64(in-1)
	}
	return x / scale // asymmetric
}

// resizeTable builds the taps of one axis.
func resizeTable(s *resizeSettings, in, out int, scale, roiStart, roiEnd float64) resizeAxis {
	ax := resizeAxis{in: in, out: out, start: make([]int32, 1, out+1), identity: in == out}
	crop := s.coord == "tf_crop_and_resize"
	if crop {
		ax.outside = make([]bool, out)
	}
	clampIdx := func(i int) int32 { return int32(min(max(i, 0), in-1)) }
	var coeffs []float64
	for o := 0; o < out; o++ {
		x := resizeCoordinate(s, float64(o), in, out, scale, roiStart, roiEnd)
		switch {
		case crop && (x < 0 || x > float64(in-1)):
			ax.outside[o] = true
			ax.identity = false
		case s.mode == resizeNearest:
			ax.idx = append(ax.idx, clampIdx(resizeNearestIndex(s.nearest, x, scale)))
			ax.w = append(ax.w, 1)
		case x == math.Floor(x) && (!s.antialias || scale >= 1):
			// An input sample: the filter is 1 there and 0 at the others.
			ax.idx = append(ax.idx, clampIdx(int(x)))
			ax.w = append(ax.w, 1)
		default:
			// The taps are fl+i for i in [first, first+len(coeffs)), with
			// fl = ceil(x)-1 and the ratio x-fl in (0, 1], as the reference
			// picks its neighbours.
			fl := math.Ceil(x) - 1
			r := x - fl
			var first int
			first, coeffs = resizeCoeffs(s, r, scale, coeffs[:0])
			var sum float64
			for i := range coeffs {
				j := int(fl) + first + i
				if s.excludeOutside && (j < 0 || j >= in) {
					coeffs[i] = 0
				}
				sum += coeffs[i]
			}
			for i, c := range coeffs {
				if s.excludeOutside || s.antialias {
					if sum != 0 {
						c /= sum
					}
				}
				ax.idx = append(ax.idx, clampIdx(int(fl)+first+i))
				ax.w = append(ax.w, c)
			}
		}
		ax.start = append(ax.start, int32(len(ax.idx)))
		if ax.identity && (len(ax.idx) != o+1 || ax.idx[o] != int32(o) || ax.w[o] != 1) {
			ax.identity = false
		}
	}
	return ax
}

// resizeNearestIndex rounds an input coordinate as nearest_mode says
// ("simple" is Upsample's and Resize-10's: down when upsampling, up when
// downsampling).
func resizeNearestIndex(mode string, x, scale float64) int {
	fl := math.Floor(x)
	r := x - fl
	switch mode {
	case "simple":
		if scale < 1 {
			return int(math.Ceil(x))
		}
		return int(fl)
	case "floor":
		return int(fl)
	case "ceil":
		return int(math.Ceil(x))
	case "round_prefer_ceil":
		if r < 0.5 {
			return int(fl)
		}
		return int(fl) + 1
	}
	if r <= 0.5 { // round_prefer_floor
		return int(fl)
	}
	return int(fl) + 1
}

// resizeCoeffs appends the filter weights of the taps around a coordinate
// whose ratio to the tap before it is r in (0, 1], and returns the offset
// of the first tap from that one. Antialiasing stretches the filter by
// 1/scale when downsampling; the weights are then normalised by the
// caller.
func resizeCoeffs(s *resizeSettings, r, scale float64, c []float64) (int, []float64) {
	if s.mode == resizeLinear {
		if !s.antialias {
			return 0, append(c, 1-r, r)
		}
		sc := min(scale, 1)
		start := int(math.Floor(-1/sc) + 1)
		for i := start; i < 2-start; i++ {
			c = append(c, max(0, min(1, 1-math.Abs((float64(i)-r)*sc))))
		}
		return start, c
	}
	a := s.cubicA
	if !s.antialias {
		return -1, append(c,
			((a*(r+1)-5*a)*(r+1)+8*a)*(r+1)-4*a,
			((a+2)*r-(a+3))*r*r+1,
			((a+2)*(1-r)-(a+3))*(1-r)*(1-r)+1,
			((a*((1-r)+1)-5*a)*((1-r)+1)+8*a)*((1-r)+1)-4*a)
	}
	sc := min(scale, 1)
	start := int(math.Floor(-2/sc) + 1)
	for i := start; i < 2-start; i++ {
		t := math.Abs(sc * (float64(i) - r))
		var w float64
		switch {
		case t <= 1:
			w = ((a+2)*t-(a+3))*t*t + 1
		case t < 2:
			w = ((a*t-5*a)*t+8*a)*t - 4*a
		}
		c = append(c, w)
	}
	return start, c
}

// resizeIndex is a multi-index over up to maxRank dimensions.
type resizeIndex [maxRank]int

// resizeRef is the reference Resize: every output element is the sum, over
// the product of its per-axis taps, of the weights' product times the
// input element, in float64.
func resizeRef(p *resizeParams, x, y *Tensor) {
	rank := len(p.axes)
	total := numel(p.outShape)
	isInt := x.DType.IsInt()
	var o resizeIndex
	for i := 0; i < total; i++ {
		outside := false
		for a := 0; a < rank; a++ {
			if ax := &p.axes[a]; ax.outside != nil && ax.outside[o[a]] {
				outside = true
			}
		}
		var sum float64
		if outside {
			sum = float64(p.extrapolation)
		} else {
			var t resizeIndex // tap cursor per axis
			for {
				w, off := 1.0, 0
				for a := 0; a < rank; a++ {
					ax := &p.axes[a]
					k := int(ax.start[o[a]]) + t[a]
					w *= ax.w[k]
					off += int(ax.idx[k]) * p.inStrides[a]
				}
				if isInt {
					sum += w * float64(x.I[off])
				} else {
					sum += w * float64(x.F[off])
				}
				a := rank - 1
				for ; a >= 0; a-- {
					ax := &p.axes[a]
					t[a]++
					if t[a] < int(ax.start[o[a]+1]-ax.start[o[a]]) {
						break
					}
					t[a] = 0
				}
				if a < 0 {
					break
				}
			}
		}
		if isInt {
			y.I[i] = int64(sum)
		} else {
			y.F[i] = float32(sum)
		}
		for a := rank - 1; a >= 0; a-- {
			o[a]++
			if o[a] < p.outShape[a] {
				break
			}
			o[a] = 0
		}
	}
}

// resize2DKernel is the fast path of a nearest or (non-antialiased)
// bilinear Resize that leaves every axis but the last two unchanged:
// per-row and per-column source indices and weights are computed once at
// load.
type resize2DKernel struct {
	planes         int
	ih, iw, oh, ow int
	linear         bool
	// Nearest: the source row and column of every output row and column.
	// Linear: the two source rows/columns and their weights.
	y0, y1, x0, x1     []int32
	wy0, wy1, wx0, wx1 []float32
}

func compileResize(n *node, _ *compiler) (Kernel, error) {
	p := n.params.(*resizeParams)
	rank := len(p.axes)
	if rank < 2 || p.crop || p.mode == resizeCubic {
		return nil, nil
	}
	k := &resize2DKernel{planes: 1, linear: p.mode == resizeLinear}
	for a := 0; a < rank-2; a++ {
		if !p.axes[a].identity {
			return nil, nil
		}
		k.planes *= p.axes[a].in
	}
	if k.linear && !n.in[0].dtype.IsFloat() {
		return nil, nil
	}
	ay, ax := &p.axes[rank-2], &p.axes[rank-1]
	k.ih, k.iw, k.oh, k.ow = ay.in, ax.in, ay.out, ax.out
	var ok bool
	if k.y0, k.y1, k.wy0, k.wy1, ok = resizeTaps2(ay); !ok {
		return nil, nil
	}
	if k.x0, k.x1, k.wx0, k.wx1, ok = resizeTaps2(ax); !ok {
		return nil, nil
	}
	return k, nil
}

// resizeTaps2 turns an axis of one- and two-tap outputs into two index and
// weight tables; a single tap becomes two halves of the same element, which
// keeps an infinite input infinite.
func resizeTaps2(ax *resizeAxis) (i0, i1 []int32, w0, w1 []float32, ok bool) {
	for o := 0; o < ax.out; o++ {
		s, e := ax.start[o], ax.start[o+1]
		switch e - s {
		case 1:
			i0, i1 = append(i0, ax.idx[s]), append(i1, ax.idx[s])
			w0, w1 = append(w0, 0.5), append(w1, 0.5)
		case 2:
			i0, i1 = append(i0, ax.idx[s]), append(i1, ax.idx[s+1])
			w0, w1 = append(w0, float32(ax.w[s])), append(w1, float32(ax.w[s+1]))
		default:
			return nil, nil, nil, nil, false
		}
	}
	return i0, i1, w0, w1, true
}

// ScratchSize implements scratchUser: two horizontally interpolated rows.
func (k *resize2DKernel) ScratchSize() int {
	if k.linear {
		return 2 * k.ow
	}
	return 0
}

// Run implements Kernel.
func (k *resize2DKernel) Run(x *Exec, in, out []*Tensor) {
	planeIn, planeOut := k.ih*k.iw, k.oh*k.ow
	if !k.linear {
		for p := 0; p < k.planes; p++ {
			if in[0].I != nil {
				nearestPlane(out[0].I[p*planeOut:(p+1)*planeOut], in[0].I[p*planeIn:(p+1)*planeIn], k)
			} else {
				nearestPlane(out[0].F[p*planeOut:(p+1)*planeOut], in[0].F[p*planeIn:(p+1)*planeIn], k)
			}
		}
		return
	}
	rows := x.scratch[:2*k.ow]
	for p := 0; p < k.planes; p++ {
		src, dst := in[0].F[p*planeIn:(p+1)*planeIn], out[0].F[p*planeOut:(p+1)*planeOut]
		have := [2]int32{-1, -1} // the input rows held in rows[0:ow] and rows[ow:2ow]
		for oy := 0; oy < k.oh; oy++ {
			r0, r1 := k.y0[oy], k.y1[oy]
			if have[0] != r0 && have[1] != r0 {
				slot := 0
				if have[0] == r1 {
					slot = 1
				}
				k.hrow(rows[slot*k.ow:(slot+1)*k.ow], src[int(r0)*k.iw:(int(r0)+1)*k.iw])
				have[slot] = r0
			}
			if have[0] != r1 && have[1] != r1 {
				slot := 0
				if have[0] == r0 {
					slot = 1
				}
				k.hrow(rows[slot*k.ow:(slot+1)*k.ow], src[int(r1)*k.iw:(int(r1)+1)*k.iw])
				have[slot] = r1
			}
			a, b := rows[:k.ow], rows[k.ow:]
			if have[0] != r0 {
				a, b = b, a
			}
			if r0 == r1 {
				b = a
			}
			w0, w1 := k.wy0[oy], k.wy1[oy]
			d := dst[oy*k.ow : (oy+1)*k.ow]
			b = b[:len(d)]
			a = a[:len(d)]
			for i := range d {
				d[i] = w0*a[i] + w1*b[i]
			}
		}
	}
}

// hrow interpolates one input row along the columns.
func (k *resize2DKernel) hrow(dst, src []float32) {
	x0, x1, w0, w1 := k.x0[:len(dst)], k.x1[:len(dst)], k.wx0[:len(dst)], k.wx1[:len(dst)]
	for i := range dst {
		dst[i] = w0[i]*src[x0[i]] + w1[i]*src[x1[i]]
	}
}

// nearestPlane copies the nearest input element of every output element of
// one plane; output rows with the same source row are copied whole.
func nearestPlane[T float32 | int64](dst, src []T, k *resize2DKernel) {
	for oy := 0; oy < k.oh; oy++ {
		d := dst[oy*k.ow : (oy+1)*k.ow]
		if oy > 0 && k.y0[oy] == k.y0[oy-1] {
			copy(d, dst[(oy-1)*k.ow:oy*k.ow])
			continue
		}
		row := src[int(k.y0[oy])*k.iw : (int(k.y0[oy])+1)*k.iw]
		for ox, c := range k.x0[:len(d)] {
			d[ox] = row[c]
		}
	}
}
