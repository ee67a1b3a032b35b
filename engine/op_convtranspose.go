package engine

import (
	"github.com/kagen-ai/kagen/engine/gemm"
	"github.com/kagen-ai/kagen/internal/vec"
)

// convTransposeParams describe a ConvTranspose node over any number of
// spatial dimensions.
type convTransposeParams struct {
	batch, cin, cout int
	group, cg, mg    int // groups, input and output channels per group
	in, out          []int
	kernel           []int
	strides, dil     []int
	padBegin         []int
	inSize, outSize  int
	taps             int
}

var convTransposeOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(2, 3); err != nil {
			return err
		}
		for i := range n.in {
			if err := n.needFloat(i); err != nil {
				return err
			}
		}
		x, w := n.in[0], n.in[1]
		nd := len(x.shape) - 2
		if nd < 1 {
			return n.errorf("input of shape %v has no spatial dimensions", x.shape)
		}
		if nd > maxSpatial {
			return n.unsupported("%d-D window", nd)
		}
		if len(w.shape) != len(x.shape) {
			return n.errorf("weights %v and input %v differ in rank", w.shape, x.shape)
		}
		group, err := n.attrInt("group", 1)
		if err != nil {
			return err
		}
		cin := x.shape[1]
		g := int(group)
		if g < 1 || int64(g) != group || cin%g != 0 {
			return n.errorf("group %d does not divide %d input channels", group, cin)
		}
		if w.shape[0] != cin {
			return n.errorf("weights %v do not have the %d input channels of the input", w.shape, cin)
		}
		p := &convTransposeParams{batch: x.shape[0], cin: cin, group: g, cg: cin / g, mg: w.shape[1]}
		p.cout = p.mg * g
		p.in = append([]int(nil), x.shape[2:]...)
		p.kernel = append([]int(nil), w.shape[2:]...)
		if ks, ok, err := n.attrInts("kernel_shape"); err != nil {
			return err
		} else if ok {
			if len(ks) != nd {
				return n.errorf("kernel_shape has %d entries, expected %d", len(ks), nd)
			}
			for i, k := range ks {
				if k != int64(p.kernel[i]) {
					return n.errorf("kernel_shape %v differs from the weights %v", ks, w.shape)
				}
			}
		}
		if p.strides, _, err = n.spatialInts("strides", nd, 1, 1); err != nil {
			return err
		}
		if p.dil, _, err = n.spatialInts("dilations", nd, 1, 1); err != nil {
			return err
		}
		pads, _, err := n.spatialInts("pads", nd, 2, 0)
		if err != nil {
			return err
		}
		outPad, _, err := n.spatialInts("output_padding", nd, 1, 0)
		if err != nil {
			return err
		}
		autoPad, err := n.attrString("auto_pad", "NOTSET")
		if err != nil {
			return err
		}
		switch autoPad {
		case "NOTSET", "", "VALID", "SAME_UPPER", "SAME_LOWER":
		default:
			return n.errorf("auto_pad %q is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER", autoPad)
		}
		var outShape []int
		if v, ok, err := n.attrInts("output_shape"); err != nil {
			return err
		} else if ok {
			if len(v) != nd && len(v) != nd+2 {
				return n.errorf("output_shape has %d entries, expected %d", len(v), nd)
			}
			if outShape, err = n.ints("output_shape", v[len(v)-nd:]); err != nil {
				return err
			}
		}
		p.out = make([]int, nd)
		for i := 0; i < nd; i++ {
			k, s, d := p.kernel[i], p.strides[i], p.dil[i]
			if k < 1 || s < 1 || d < 1 {
				return n.errorf("kernel %v, strides %v and dilations %v must be positive", p.kernel, p.strides, p.dil)
			}
			if pads[i] < 0 || pads[i+nd] < 0 || outPad[i] < 0 {
				return n.errorf("pads %v and output_padding %v must not be negative", pads, outPad)
			}
			// The full output before any padding is removed.
			full := s*(p.in[i]-1) + outPad[i] + (k-1)*d + 1
			want := -1
			switch {
			case outShape != nil:
				want = outShape[i]
			case autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER":
				want = p.in[i] * s
			case autoPad == "VALID":
				pads[i], pads[i+nd] = 0, 0
			}
			if want >= 0 {
				// The padding is split as the spec says: the smaller half at
				// the start for SAME_UPPER, at the end otherwise.
				total := max(0, full-want)
				if autoPad == "SAME_UPPER" {
					pads[i], pads[i+nd] = total/2, total-total/2
				} else {
					pads[i], pads[i+nd] = total-total/2, total/2
				}
				p.out[i] = want
			} else {
				p.out[i] = full - pads[i] - pads[i+nd]
			}
			if p.out[i] < 1 {
				return n.errorf("output size %d along spatial axis %d is not positive", p.out[i], i)
			}
		}
		p.padBegin = pads[:nd]
		p.inSize, p.outSize, p.taps = numel(p.in), numel(p.out), numel(p.kernel)
		shape := append([]int{p.batch, p.cout}, p.out...)
		if err := n.checkElems("output", shape); err != nil {
			return err
		}
		if b := n.input(2); b != nil && (len(b.shape) != 1 || b.shape[0] != p.cout) {
			return n.errorf("bias %v does not match %d output channels", b.shape, p.cout)
		}
		n.params = p
		n.out[0].dtype = x.dtype
		n.out[0].shape = shape
		return nil
	},
	eval: func(n *node, in, out []*Tensor) {
		var bias []float32
		if len(in) > 2 && in[2] != nil {
			bias = in[2].F
		}
		convTransposeRef(n.params.(*convTransposeParams), in[0].F, in[1].F, bias, out[0].F, n.act)
	},
	compile: compileConvTranspose,
}

// convTransposeRef is the reference transposed convolution: for every
// output element, the sum over the input elements and kernel taps that
// scatter into it (o = i*stride - pad + k*dilation), in float64.
func convTransposeRef(p *convTransposeParams, x, wt, bias, y []float32, act activation) {
	nd := len(p.in)
	for b := 0; b < p.batch; b++ {
		for oc := 0; oc < p.cout; oc++ {
			g, ocg := oc/p.mg, oc%p.mg
			var o ndIndex
			for j := 0; j < p.outSize; j++ {
				var s float64
				if bias != nil {
					s = float64(bias[oc])
				}
				var k ndIndex
				for t := 0; t < p.taps; t++ {
					off, ok := 0, true
					for d := 0; d < nd; d++ {
						v := o[d] + p.padBegin[d] - k[d]*p.dil[d]
						if v < 0 || v%p.strides[d] != 0 || v/p.strides[d] >= p.in[d] {
							ok = false
							break
						}
						off = off*p.in[d] + v/p.strides[d]
					}
					k.next(p.kernel)
					if !ok {
						continue
					}
					for c := 0; c < p.cg; c++ {
						ic := g*p.cg + c
						s += float64(x[(b*p.cin+ic)*p.inSize+off]) * float64(wt[(ic*p.mg+ocg)*p.taps+t])
					}
				}
				y[(b*p.cout+oc)*p.outSize+j] = act.apply(float32(s))
				o.next(p.out)
			}
		}
	}
}

// convTransposeKernel runs a 1-D or 2-D ConvTranspose as one GEMM per group
// and block of input rows, W^T [mg*kh*kw x cg] times X [cg x rows*W] into a
// column buffer, followed by a col2im accumulation into the output (which
// starts as the bias); the activation is applied once at the end.
type convTransposeKernel struct {
	p          *convTransposeParams
	packed     []*gemm.PackedA // one per group
	bias       []float32
	act        activation
	ih, iw     int
	oh, ow     int
	kh, kw     int
	sh, sw     int
	dh, dw     int
	padT, padL int
	rows       int      // input rows per GEMM block
	kyRange    [][2]int // per kernel row and input row block: see run
	xr         [][2]int // per kernel column: the input columns that land in the output
	colSize    int
	gemmSize   int
}

// convTransposeColFloats bounds the column buffer of one GEMM block.
const convTransposeColFloats = 1 << 20

func compileConvTranspose(n *node, c *compiler) (Kernel, error) {
	p := n.params.(*convTransposeParams)
	wv := n.in[1]
	if len(p.in) > 2 || wv.constant == nil || n.input(2) != nil && n.input(2).constant == nil || p.mg == 0 || p.cg == 0 {
		return nil, nil // 3-D and up, weights fed at run time or no channels: the reference
	}
	k := &convTransposeKernel{p: p, act: n.act, ih: 1, oh: 1, kh: 1, sh: 1, dh: 1}
	if b := n.input(2); b != nil {
		k.bias = b.constant.F
	}
	last := len(p.in) - 1
	k.iw, k.ow, k.kw, k.sw, k.dw, k.padL = p.in[last], p.out[last], p.kernel[last], p.strides[last], p.dil[last], p.padBegin[last]
	if last == 1 {
		k.ih, k.oh, k.kh, k.sh, k.dh, k.padT = p.in[0], p.out[0], p.kernel[0], p.strides[0], p.dil[0], p.padBegin[0]
	}
	m := p.mg * p.taps
	for g := 0; g < p.group; g++ {
		wg := wv.constant.F[g*p.cg*m : (g+1)*p.cg*m]
		k.packed = append(k.packed, gemm.PackA(make([]float32, gemm.PackedASize(m, p.cg)), m, p.cg, wg, m, true))
	}
	k.rows = max(1, min(k.ih, convTransposeColFloats/max(1, m*k.iw)))
	k.xr = make([][2]int, k.kw)
	for kx := range k.xr {
		k.xr[kx] = ctRange(k.iw, k.sw, kx*k.dw-k.padL, k.ow)
	}
	k.colSize = m * k.rows * k.iw
	k.gemmSize = c.gemmScratch(gemm.Args{M: m, N: k.rows * k.iw, K: p.cg, PackedA: k.packed[0], LDB: k.iw * k.ih})
	return k, nil
}

// ctRange returns the input positions [lo, hi) of a dimension of size in
// whose scatter target i*s + off lies in [0, out).
func ctRange(in, s, off, out int) [2]int {
	lo := 0
	if off < 0 {
		lo = (-off + s - 1) / s
	}
	hi := 0
	if out-1-off >= 0 {
		hi = (out-1-off)/s + 1
	}
	hi = min(hi, in)
	if lo > hi {
		lo = hi
	}
	return [2]int{lo, hi}
}

// ScratchSize implements scratchUser.
func (k *convTransposeKernel) ScratchSize() int { return k.colSize + k.gemmSize }

// Run implements Kernel.
func (k *convTransposeKernel) Run(x *Exec, in, out []*Tensor) {
	p := k.p
	src, dst := in[0].F, out[0].F
	col, gs := x.scratch[:k.colSize], x.scratch[k.colSize:]
	m := p.mg * p.taps
	planeIn, planeOut := k.ih*k.iw, k.oh*k.ow
	for oc := 0; oc < p.batch*p.cout; oc++ {
		y := dst[oc*planeOut : (oc+1)*planeOut]
		if k.bias != nil {
			b := k.bias[oc%p.cout]
			for i := range y {
				y[i] = b
			}
		} else {
			clear(y)
		}
	}
	for b := 0; b < p.batch; b++ {
		for g := 0; g < p.group; g++ {
			xg := src[(b*p.cin+g*p.cg)*planeIn:]
			yg := dst[(b*p.cout+g*p.mg)*planeOut : (b*p.cout+(g+1)*p.mg)*planeOut]
			for r0 := 0; r0 < k.ih; r0 += k.rows {
				rows := min(k.rows, k.ih-r0)
				cols := rows * k.iw
				args := gemm.Args{
					M: m, N: cols, K: p.cg,
					PackedA: k.packed[g],
					B:       xg[r0*k.iw:], LDB: planeIn,
					C:       col[:m*cols],
					Scratch: gs,
				}
				x.gemmArgs(&args)
				gemm.Sgemm(&args)
				k.col2im(col[:m*cols], yg, r0, rows)
			}
		}
	}
	if k.act.on {
		y := dst[:p.batch*p.cout*planeOut]
		vec.Clamp(y, y, k.act.lo, k.act.hi)
	}
}

// col2im adds the column buffer of input rows [r0, r0+rows) into one
// group's output planes.
func (k *convTransposeKernel) col2im(col, yg []float32, r0, rows int) {
	cols := rows * k.iw
	planeOut := k.oh * k.ow
	row := 0
	for oc := 0; oc < k.p.mg; oc++ {
		yc := yg[oc*planeOut : (oc+1)*planeOut]
		for ky := 0; ky < k.kh; ky++ {
			yr := ctRange(k.ih, k.sh, ky*k.dh-k.padT, k.oh)
			y0, y1 := max(yr[0], r0), min(yr[1], r0+rows)
			for kx := 0; kx < k.kw; kx++ {
				c := col[row*cols : (row+1)*cols]
				row++
				x0, x1 := k.xr[kx][0], k.xr[kx][1]
				if x0 >= x1 {
					continue
				}
				for iy := y0; iy < y1; iy++ {
					oy := iy*k.sh - k.padT + ky*k.dh
					src := c[(iy-r0)*k.iw+x0 : (iy-r0)*k.iw+x1]
					ox0 := x0*k.sw - k.padL + kx*k.dw
					if k.sw == 1 {
						d := yc[oy*k.ow+ox0 : oy*k.ow+ox0+len(src)]
						for i, v := range src {
							d[i] += v
						}
						continue
					}
					d := yc[oy*k.ow+ox0:]
					for i, v := range src {
						d[i*k.sw] += v
					}
				}
			}
		}
	}
}
