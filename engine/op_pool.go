package engine

import (
	"math"

	"github.com/kagen-ai/kagen/internal/vec"
)

// poolParams describe MaxPool and AveragePool.
type poolParams struct {
	*window
	max      bool
	indices  bool
	colMajor bool // storage_order=1: indices count down columns first
}

func poolDef(isMax bool) opDef {
	return opDef{
		infer: func(n *node) error {
			if err := n.needInputs(1, 1); err != nil {
				return err
			}
			x := n.in[0]
			if !x.dtype.IsFloat() && !(isMax && x.dtype.IsInt()) {
				return n.unsupported("input type %v", x.dtype)
			}
			if len(x.shape) > 4 {
				return inferPoolND(n, isMax)
			}
			w, err := parseWindow(n, x.shape, nil, true)
			if err != nil {
				return err
			}
			if !isMax && n.opset < 19 && (w.dh != 1 || w.dw != 1) {
				return n.errorf("dilations need opset 19")
			}
			cip, err := n.attrInt("count_include_pad", 0)
			if err != nil {
				return err
			}
			w.countIncludePad = cip != 0
			p := &poolParams{window: w, max: isMax}
			so, err := n.attrInt("storage_order", 0)
			if err != nil {
				return err
			}
			p.colMajor = so == 1
			n.params = p
			n.out[0].dtype = x.dtype
			n.out[0].shape = w.outShape(w.c)
			if len(n.out) > 1 && n.out[1] != nil {
				if !isMax {
					return n.errorf("AveragePool has one output")
				}
				p.indices = true
				n.out[1].dtype = Int64
				n.out[1].shape = w.outShape(w.c)
			}
			return nil
		},
		eval: func(n *node, in, out []*Tensor) {
			if p, ok := n.params.(*poolNDParams); ok {
				var idx *Tensor
				if p.indices {
					idx = out[1]
				}
				poolNDRef(p, in[0], out[0], idx)
				return
			}
			p := n.params.(*poolParams)
			var idx *Tensor
			if p.indices {
				idx = out[1]
			}
			poolRef(p, in[0], out[0], idx)
		},
		compile: func(n *node, c *compiler) (Kernel, error) {
			if _, ok := n.params.(*poolNDParams); ok {
				return nil, nil // 3-D and up: the reference kernel
			}
			return compilePool(n, c)
		},
	}
}

var (
	maxPoolOp = poolDef(true)
	avgPoolOp = poolDef(false)
)

// poolRef is the reference pooling loop.
func poolRef(p *poolParams, x, y, idx *Tensor) {
	w := p.window
	isInt := x.DType.IsInt()
	planeIn, planeOut := w.ih*w.iw, w.oh*w.ow
	plane := [2]int{w.ih, w.iw}
	for b := 0; b < w.batch*w.c; b++ {
		for oy := 0; oy < w.oh; oy++ {
			for ox := 0; ox < w.ow; ox++ {
				best, bestAt := math.Inf(-1), -1
				var sum float64
				var cnt int
				for ky := 0; ky < w.kh; ky++ {
					iy := oy*w.sh - w.padT + ky*w.dh
					for kx := 0; kx < w.kw; kx++ {
						ix := ox*w.sw - w.padL + kx*w.dw
						if iy < 0 || iy >= w.ih || ix < 0 || ix >= w.iw {
							if w.countIncludePad && iy < w.ih+w.padB && ix < w.iw+w.padR {
								cnt++ // padding inside the padded extent counts
							}
							continue
						}
						at := b*planeIn + iy*w.iw + ix
						var v float64
						if isInt {
							v = float64(x.I[at])
						} else {
							v = float64(x.F[at])
						}
						if v > best || bestAt < 0 {
							best, bestAt = v, at
						}
						sum += v
						cnt++
					}
				}
				poolStore(p.max, p.colMajor, y, idx, b*planeOut+oy*w.ow+ox, best, bestAt, sum, cnt, plane[:])
			}
		}
	}
}

// globalPoolDef builds GlobalAveragePool and GlobalMaxPool.
func globalPoolDef(isMax bool) opDef {
	return opDef{
		infer: func(n *node) error {
			if err := n.needInputs(1, 1); err != nil {
				return err
			}
			if err := n.needFloat(0); err != nil {
				return err
			}
			x := n.in[0]
			if len(x.shape) < 2 {
				return n.errorf("input %v has rank below 2", x.shape)
			}
			shape := append([]int(nil), x.shape...)
			for i := 2; i < len(shape); i++ {
				shape[i] = 1
			}
			n.out[0].dtype = x.dtype
			n.out[0].shape = shape
			return nil
		},
		eval: func(n *node, in, out []*Tensor) {
			x, y := in[0], out[0]
			planes := numel(x.Shape[:2])
			size := numel(x.Shape[2:])
			for p := 0; p < planes; p++ {
				row := x.F[p*size : (p+1)*size]
				if isMax {
					m := float32(math.Inf(-1))
					for _, v := range row {
						m = max(m, v)
					}
					y.F[p] = m
					continue
				}
				var s float32
				for _, v := range row {
					s += v
				}
				y.F[p] = s / float32(size)
			}
		},
	}
}

var (
	globalAvgPoolOp = withCompile(globalPoolDef(false), compileGlobalAvg)
	globalMaxPoolOp = globalPoolDef(true)
)

func withCompile(d opDef, c func(*node, *compiler) (Kernel, error)) opDef {
	d.compile = c
	return d
}

// globalAvgKernel is GlobalAveragePool over float32 planes with vector
// partial sums (the reference adds in order: results differ in the last
// bits).
type globalAvgKernel struct{ size int }

func compileGlobalAvg(n *node, _ *compiler) (Kernel, error) {
	if n.in[0].dtype != Float32 {
		return nil, nil
	}
	return &globalAvgKernel{size: numel(n.in[0].shape[2:])}, nil
}

// Run implements Kernel: the planes are split between the session's
// threads.
func (k *globalAvgKernel) Run(x *Exec, in, out []*Tensor) {
	x.split(k, in, out, len(out[0].F), max(1, elemGrain/max(1, k.size)))
}

// runRange averages planes [lo, hi).
func (k *globalAvgKernel) runRange(_ *Exec, in, out []*Tensor, lo, hi int) {
	vec.SumPlanes(out[0].F[lo:hi], in[0].F[lo*k.size:hi*k.size], k.size, 1/float32(k.size))
}

// poolOps are the pooling operators.
var poolOps = map[string]*opDef{
	"MaxPool": &maxPoolOp, "AveragePool": &avgPoolOp,
	"GlobalAveragePool": &globalAvgPoolOp, "GlobalMaxPool": &globalMaxPoolOp,
	"LpPool": &lpPoolOp, "GlobalLpPool": &globalLpPoolOp, "MaxUnpool": &maxUnpoolOp,
	"Resize": &resizeOp, "Upsample": &upsampleOp, // op_resize.go
	"GridSample": &gridSampleOp, // op_gridsample.go
	"RoiAlign":   &roiAlignOp,   // op_roialign.go
}

// poolNDParams describe MaxPool and AveragePool over three or more spatial
// dimensions, which run the reference loop (the 1-D and 2-D pools keep
// poolParams and their fast kernels).
type poolNDParams struct {
	*ndWindow
	max      bool
	indices  bool
	colMajor bool
}

// inferPoolND is MaxPool's and AveragePool's shape inference for three or
// more spatial dimensions.
func inferPoolND(n *node, isMax bool) error {
	x := n.in[0]
	w, err := parseNDWindow(n, x.shape, nil, true)
	if err != nil {
		return err
	}
	if !isMax && n.opset < 19 {
		for _, d := range w.dil {
			if d != 1 {
				return n.errorf("dilations need opset 19")
			}
		}
	}
	cip, err := n.attrInt("count_include_pad", 0)
	if err != nil {
		return err
	}
	w.countIncludePad = cip != 0
	so, err := n.attrInt("storage_order", 0)
	if err != nil {
		return err
	}
	p := &poolNDParams{ndWindow: w, max: isMax, colMajor: so == 1}
	n.params = p
	n.out[0].dtype = x.dtype
	n.out[0].shape = w.outShape(w.c)
	if len(n.out) > 1 && n.out[1] != nil {
		if !isMax {
			return n.errorf("AveragePool has one output")
		}
		p.indices = true
		n.out[1].dtype = Int64
		n.out[1].shape = w.outShape(w.c)
	}
	return nil
}

// poolNDRef is the reference pooling loop over any number of spatial
// dimensions.
func poolNDRef(p *poolNDParams, x, y, idx *Tensor) {
	w := p.ndWindow
	isInt := x.DType.IsInt()
	taps := w.taps()
	for b := 0; b < w.batch*w.c; b++ {
		var o ndIndex
		for i := 0; i < w.outSize; i++ {
			best, bestAt := math.Inf(-1), -1
			var sum float64
			var cnt int
			var k ndIndex
			for t := 0; t < taps; t++ {
				off, inside, inPad := w.windowOffset(&o, &k)
				k.next(w.kernel)
				if !inside {
					if w.countIncludePad && inPad {
						cnt++
					}
					continue
				}
				at := b*w.inSize + off
				var v float64
				if isInt {
					v = float64(x.I[at])
				} else {
					v = float64(x.F[at])
				}
				if v > best || bestAt < 0 {
					best, bestAt = v, at
				}
				sum += v
				cnt++
			}
			poolStore(p.max, p.colMajor, y, idx, b*w.outSize+i, best, bestAt, sum, cnt, w.in)
			o.next(w.out)
		}
	}
}

// poolStore writes output o of a pooling window: its maximum (best, at
// flat input index bestAt) or its average (sum over cnt), and with idx
// MaxPool's index, counted in storage_order=1 form when colMajor over the
// spatial dimensions.
func poolStore(isMax, colMajor bool, y, idx *Tensor, o int, best float64, bestAt int, sum float64, cnt int, spatial []int) {
	var r float64
	switch {
	case isMax:
		r = best
	case cnt > 0:
		r = sum / float64(cnt)
	}
	if y.DType.IsInt() {
		y.I[o] = int64(r)
	} else {
		y.F[o] = float32(r)
	}
	if idx != nil {
		at := max(bestAt, 0)
		if colMajor {
			at = colMajorIndex(spatial, at)
		}
		idx.I[o] = int64(at)
	}
}

// colMajorIndex turns a flat row-major index into the whole tensor into
// MaxPool's storage_order=1 form: the plane is counted first, then the
// position in the plane with the first spatial dimension varying fastest.
func colMajorIndex(spatial []int, at int) int {
	size := numel(spatial)
	r := at % size
	base := at - r
	var pos ndIndex
	for i := len(spatial) - 1; i >= 0; i-- {
		pos[i] = r % spatial[i]
		r /= spatial[i]
	}
	c, stride := 0, 1
	for i, d := range spatial {
		c += pos[i] * stride
		stride *= d
	}
	return base + c
}

// lpPoolParams describe LpPool, which runs the N-D reference loop for any
// number of spatial dimensions.
type lpPoolParams struct {
	*ndWindow
	p float64
}

// lpNorm reads LpPool's and GlobalLpPool's p: a float before opset 2, an
// integer since, 2 by default.
func lpNorm(n *node) (float64, error) {
	a, ok := n.attrs["p"]
	if !ok {
		return 2, nil
	}
	var p float64
	switch {
	case a.Type == 1:
		p = float64(a.F)
	default:
		v, err := n.attrInt("p", 2)
		if err != nil {
			return 0, err
		}
		p = float64(v)
	}
	if !(p > 0) || math.IsInf(p, 0) {
		return 0, n.errorf("p %g must be positive", p)
	}
	return p, nil
}

var lpPoolOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(1, 1); err != nil {
			return err
		}
		if err := n.needFloat(0); err != nil {
			return err
		}
		x := n.in[0]
		w, err := parseNDWindow(n, x.shape, nil, n.opset >= 18)
		if err != nil {
			return err
		}
		if n.opset < 18 {
			for _, d := range w.dil {
				if d != 1 {
					return n.errorf("dilations need opset 18")
				}
			}
		}
		p, err := lpNorm(n)
		if err != nil {
			return err
		}
		n.params = &lpPoolParams{ndWindow: w, p: p}
		n.out[0].dtype = x.dtype
		n.out[0].shape = w.outShape(w.c)
		return nil
	},
	eval: func(n *node, in, out []*Tensor) {
		p := n.params.(*lpPoolParams)
		w := p.ndWindow
		x, y := in[0].F, out[0].F
		taps := w.taps()
		for b := 0; b < w.batch*w.c; b++ {
			var o ndIndex
			for i := 0; i < w.outSize; i++ {
				var s float64
				var k ndIndex
				for t := 0; t < taps; t++ {
					if off, inside, _ := w.windowOffset(&o, &k); inside {
						s += lpPow(float64(x[b*w.inSize+off]), p.p)
					}
					k.next(w.kernel)
				}
				y[b*w.outSize+i] = float32(lpRoot(s, p.p))
				o.next(w.out)
			}
		}
	},
}

// lpPow is |v|^p with the common powers done exactly.
func lpPow(v, p float64) float64 {
	v = math.Abs(v)
	switch p {
	case 1:
		return v
	case 2:
		return v * v
	}
	return math.Pow(v, p)
}

// lpRoot is s^(1/p).
func lpRoot(s, p float64) float64 {
	switch p {
	case 1:
		return s
	case 2:
		return math.Sqrt(s)
	}
	return math.Pow(s, 1/p)
}

var globalLpPoolOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(1, 1); err != nil {
			return err
		}
		if err := n.needFloat(0); err != nil {
			return err
		}
		x := n.in[0]
		if len(x.shape) < 3 {
			return n.errorf("input %v has rank below 3", x.shape)
		}
		p, err := lpNorm(n)
		if err != nil {
			return err
		}
		n.params = p
		shape := append([]int(nil), x.shape...)
		for i := 2; i < len(shape); i++ {
			shape[i] = 1
		}
		n.out[0].dtype = x.dtype
		n.out[0].shape = shape
		return nil
	},
	eval: func(n *node, in, out []*Tensor) {
		p := n.params.(float64)
		x, y := in[0], out[0]
		size := numel(x.Shape[2:])
		for c := range y.F {
			var s float64
			for _, v := range x.F[c*size : (c+1)*size] {
				s += lpPow(float64(v), p)
			}
			y.F[c] = float32(lpRoot(s, p))
		}
	},
}

// maxUnpoolParams describe MaxUnpool. The indices address a tensor of the
// inferred shape (the MaxPool input the kernel, strides and pads give
// back); an output_shape input larger than that pads it with zeros at the
// end of each spatial dimension, as the ONNX reference does.
type maxUnpoolParams struct {
	inferred, shape []int
	same            bool
}

var maxUnpoolOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(2, 3); err != nil {
			return err
		}
		if err := n.needFloat(0); err != nil {
			return err
		}
		x, ind := n.in[0], n.in[1]
		if !ind.dtype.IsInt() {
			return n.errorf("indices have type %v, expected INT64", ind.dtype)
		}
		if !equalShapes(x.shape, ind.shape) {
			return n.errorf("indices %v and input %v differ in shape", ind.shape, x.shape)
		}
		nd := len(x.shape) - 2
		if nd < 1 {
			return n.errorf("input of shape %v has no spatial dimensions", x.shape)
		}
		ks, ok, err := n.attrInts("kernel_shape")
		if err != nil {
			return err
		}
		if !ok || len(ks) != nd {
			return n.errorf("kernel_shape must have %d entries", nd)
		}
		kernel, err := n.ints("kernel_shape", ks)
		if err != nil {
			return err
		}
		strides, _, err := n.spatialInts("strides", nd, 1, 1)
		if err != nil {
			return err
		}
		pads, _, err := n.spatialInts("pads", nd, 2, 0)
		if err != nil {
			return err
		}
		if err := n.checkElems("input", x.shape); err != nil {
			return err
		}
		shape := append([]int(nil), x.shape...)
		for i := 0; i < nd; i++ {
			if kernel[i] < 1 || strides[i] < 1 || pads[i] < 0 || pads[i+nd] < 0 {
				return n.errorf("kernel_shape %v, strides %v and pads %v must be positive", kernel, strides, pads)
			}
			shape[i+2] = (x.shape[i+2]-1)*strides[i] + kernel[i] - pads[i] - pads[i+nd]
			if shape[i+2] < 0 {
				return n.errorf("pads %v leave a negative output size", pads)
			}
		}
		if err := n.checkElems("inferred output shape", shape); err != nil {
			return err
		}
		p := &maxUnpoolParams{inferred: shape, shape: shape, same: true}
		if n.input(2) != nil {
			os, err := n.constInts(2, "output_shape")
			if err != nil {
				return err
			}
			if len(os) != len(x.shape) {
				return n.errorf("output_shape %v does not have rank %d", os, len(x.shape))
			}
			given, err := n.ints("output_shape", os)
			if err != nil {
				return err
			}
			for i, d := range given {
				if d < 0 || i < 2 && d != x.shape[i] {
					return n.errorf("output_shape %v does not match the input %v", os, x.shape)
				}
			}
			if err := n.checkElems("output_shape", given); err != nil {
				return err
			}
			p.shape, p.same = given, equalShapes(given, shape)
		}
		n.params = p
		n.out[0].dtype = x.dtype
		n.out[0].shape = p.shape
		return nil
	},
	eval: func(n *node, in, out []*Tensor) {
		p := n.params.(*maxUnpoolParams)
		y := out[0].F
		clear(y)
		total := int64(numel(p.inferred))
		for i, at := range in[1].I {
			if at < 0 || at >= total {
				continue // an index outside the unpooled tensor
			}
			if p.same {
				y[at] = in[0].F[i]
				continue
			}
			// Re-address the element in the larger output.
			o, stride, ok := 0, 1, true
			for d := len(p.inferred) - 1; d >= 0; d-- {
				c := int(at % int64(p.inferred[d]))
				at /= int64(p.inferred[d])
				if c >= p.shape[d] {
					ok = false
					break
				}
				o += c * stride
				stride *= p.shape[d]
			}
			if ok {
				y[o] = in[0].F[i]
			}
		}
	},
}
