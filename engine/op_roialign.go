package engine

import "math"

// roiAlignParams describe a RoiAlign node.
type roiAlignParams struct {
	batch, c, h, w int
	rois           int
	oh, ow         int
	sampling       int
	scale          float64
	max            bool
	halfPixel      bool
}

// roiAlignMaxSamples bounds the sampling grid of one bin along each axis
// (the adaptive grid grows with the region, which comes at run time).
const roiAlignMaxSamples = 256

var roiAlignOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(3, 3); err != nil {
			return err
		}
		for i := 0; i < 2; i++ {
			if err := n.needFloat(i); err != nil {
				return err
			}
		}
		x, rois, bi := n.in[0], n.in[1], n.in[2]
		if len(x.shape) != 4 {
			return n.errorf("input %v must have rank 4", x.shape)
		}
		if len(rois.shape) != 2 || rois.shape[1] != 4 {
			return n.errorf("rois %v must have shape [num_rois, 4]", rois.shape)
		}
		if !bi.dtype.IsInt() || len(bi.shape) != 1 || bi.shape[0] != rois.shape[0] {
			return n.errorf("batch_indices %v (%v) must be %d integers", bi.shape, bi.dtype, rois.shape[0])
		}
		p := &roiAlignParams{batch: x.shape[0], c: x.shape[1], h: x.shape[2], w: x.shape[3], rois: rois.shape[0]}
		mode, err := n.attrString("mode", "avg")
		if err != nil {
			return err
		}
		switch mode {
		case "avg":
		case "max":
			p.max = true
		default:
			return n.errorf("mode %q is not one of avg, max", mode)
		}
		oh, err := n.attrInt("output_height", 1)
		if err != nil {
			return err
		}
		ow, err := n.attrInt("output_width", 1)
		if err != nil {
			return err
		}
		sr, err := n.attrInt("sampling_ratio", 0)
		if err != nil {
			return err
		}
		if oh < 1 || ow < 1 || oh > maxSpatialElems || ow > maxSpatialElems || sr < 0 || sr > roiAlignMaxSamples {
			return n.errorf("output_height %d and output_width %d must be positive, sampling_ratio %d in [0, %d]", oh, ow, sr, roiAlignMaxSamples)
		}
		p.oh, p.ow, p.sampling = int(oh), int(ow), int(sr)
		sc, err := n.attrFloat("spatial_scale", 1)
		if err != nil {
			return err
		}
		p.scale = float64(sc)
		ctm := "output_half_pixel" // opset 10's behaviour
		if n.opset >= 16 {
			if ctm, err = n.attrString("coordinate_transformation_mode", "half_pixel"); err != nil {
				return err
			}
		}
		switch ctm {
		case "half_pixel":
			p.halfPixel = true
		case "output_half_pixel":
		default:
			return n.errorf("coordinate_transformation_mode %q is not one of half_pixel, output_half_pixel", ctm)
		}
		shape := []int{p.rois, p.c, p.oh, p.ow}
		if err := n.checkElems("output", shape); err != nil {
			return err
		}
		n.params = p
		n.out[0].dtype = x.dtype
		n.out[0].shape = shape
		return nil
	},
	eval: func(n *node, in, out []*Tensor) {
		roiAlignRef(n.params.(*roiAlignParams), in[0].F, in[1].F, in[2].I, out[0].F)
	},
}

// roiAlignSample is one bilinear sample: four input positions and weights.
type roiAlignSample struct {
	pos [4]int
	w   [4]float64
}

// roiAlignAt returns the sample at (y, x) of an h x w map as ONNX Runtime
// computes it: zero weights outside [-1, h] x [-1, w], coordinates clamped
// at 0 and the last row and column.
func roiAlignAt(y, x float64, h, w int) roiAlignSample {
	var s roiAlignSample
	if y < -1 || y > float64(h) || x < -1 || x > float64(w) || h == 0 || w == 0 {
		return s
	}
	y, x = max(y, 0), max(x, 0)
	yl, xl := int(y), int(x)
	yh, xh := yl+1, xl+1
	if yl >= h-1 {
		yl, yh, y = h-1, h-1, float64(h-1)
	}
	if xl >= w-1 {
		xl, xh, x = w-1, w-1, float64(w-1)
	}
	ly, lx := y-float64(yl), x-float64(xl)
	hy, hx := 1-ly, 1-lx
	s.pos = [4]int{yl*w + xl, yl*w + xh, yh*w + xl, yh*w + xh}
	s.w = [4]float64{hy * hx, hy * lx, ly * hx, ly * lx}
	return s
}

// roiAlignRef is the reference RoiAlign (ONNX Runtime's algorithm, which
// the ONNX reference follows): each output bin averages (or, for max, takes
// the largest weighted corner of) a grid of bilinear samples.
func roiAlignRef(p *roiAlignParams, x, rois []float32, batch []int64, y []float32) {
	offset := 0.0
	if p.halfPixel {
		offset = 0.5
	}
	plane := p.h * p.w
	for r := 0; r < p.rois; r++ {
		out := y[r*p.c*p.oh*p.ow : (r+1)*p.c*p.oh*p.ow]
		b := batch[r]
		if b < 0 || b >= int64(p.batch) {
			clear(out) // an index outside the batch
			continue
		}
		roi := rois[r*4 : r*4+4]
		x0, y0 := float64(roi[0])*p.scale-offset, float64(roi[1])*p.scale-offset
		x1, y1 := float64(roi[2])*p.scale-offset, float64(roi[3])*p.scale-offset
		rw, rh := x1-x0, y1-y0
		if !p.halfPixel {
			rw, rh = max(rw, 1), max(rh, 1)
		}
		bh, bw := rh/float64(p.oh), rw/float64(p.ow)
		gh, gw := p.sampling, p.sampling
		if p.sampling == 0 {
			gh, gw = roiAlignGrid(rh/float64(p.oh)), roiAlignGrid(rw/float64(p.ow))
		}
		count := float64(max(gh*gw, 1))
		for c := 0; c < p.c; c++ {
			xc := x[(int(b)*p.c+c)*plane : (int(b)*p.c+c+1)*plane]
			for ph := 0; ph < p.oh; ph++ {
				for pw := 0; pw < p.ow; pw++ {
					var sum float64
					best, first := 0.0, true
					for iy := 0; iy < gh; iy++ {
						sy := y0 + float64(ph)*bh + (float64(iy)+0.5)*bh/float64(gh)
						for ix := 0; ix < gw; ix++ {
							sx := x0 + float64(pw)*bw + (float64(ix)+0.5)*bw/float64(gw)
							s := roiAlignAt(sy, sx, p.h, p.w)
							if p.max {
								v := max(s.w[0]*float64(xc[s.pos[0]]), s.w[1]*float64(xc[s.pos[1]]), s.w[2]*float64(xc[s.pos[2]]), s.w[3]*float64(xc[s.pos[3]]))
								if first || v > best {
									best, first = v, false
								}
								continue
							}
							for k := 0; k < 4; k++ {
								sum += s.w[k] * float64(xc[s.pos[k]])
							}
						}
					}
					v := sum / count
					if p.max {
						v = best
					}
					out[(c*p.oh+ph)*p.ow+pw] = float32(v)
				}
			}
		}
	}
}

// roiAlignGrid is the adaptive sampling grid along one axis: ceil of the
// bin size, within [1, roiAlignMaxSamples] (NaN gives 1).
func roiAlignGrid(bin float64) int {
	g := math.Ceil(bin)
	if !(g >= 1) {
		return 1
	}
	return int(min(g, roiAlignMaxSamples))
}
