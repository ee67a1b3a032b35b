package engine

// convParams describe a Conv node.
type convParams struct {
	*window
	group   int
	m       int // output channels
	cg, mg  int // input and output channels per group
	hasBias bool
}

var convOp = opDef{
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
		if len(w.shape) != len(x.shape) {
			return n.errorf("weights %v and input %v differ in rank", w.shape, x.shape)
		}
		win, err := parseWindow(n, x.shape, w.shape[2:], false)
		if err != nil {
			return err
		}
		for i, k := range w.shape[2:] {
			if k != win.spatialKernel(i) {
				return n.errorf("kernel_shape differs from the weights %v", w.shape)
			}
		}
		group, err := n.attrInt("group", 1)
		if err != nil {
			return err
		}
		g := int(group)
		m := w.shape[0]
		if g < 1 || int64(g) != group || win.c%g != 0 || m%g != 0 {
			return n.errorf("group %d does not divide %d input and %d output channels", group, win.c, m)
		}
		if w.shape[1] != win.c/g {
			return n.errorf("weights %v expect %d input channels per group, input has %d in %d groups", w.shape, w.shape[1], win.c, g)
		}
		p := &convParams{window: win, group: g, m: m, cg: win.c / g, mg: m / g}
		if b := n.input(2); b != nil {
			if b.numel() != m || len(b.shape) != 1 {
				return n.errorf("bias %v does not match %d output channels", b.shape, m)
			}
			p.hasBias = true
		}
		n.params = p
		n.out[0].dtype = x.dtype
		n.out[0].shape = win.outShape(m)
		return nil
	},
	eval: func(n *node, in, out []*Tensor) {
		var bias []float32
		if len(in) > 2 && in[2] != nil {
			bias = in[2].F
		}
		convRef(n.params.(*convParams), in[0].F, in[1].F, bias, out[0].F, n.act)
	},
	compile: compileConv,
}

// spatialKernel returns the kernel size of spatial dimension i.
func (w *window) spatialKernel(i int) int {
	if w.nd == 1 {
		return w.kw
	}
	if i == 0 {
		return w.kh
	}
	return w.kw
}

// convRef is the reference convolution: direct loops, float64 sums.
func convRef(p *convParams, x, wt, bias, y []float32, act activation) {
	w := p.window
	k := p.cg * w.kh * w.kw
	for b := 0; b < w.batch; b++ {
		for oc := 0; oc < p.m; oc++ {
			g := oc / p.mg
			for oy := 0; oy < w.oh; oy++ {
				for ox := 0; ox < w.ow; ox++ {
					var s float64
					for c := 0; c < p.cg; c++ {
						ic := g*p.cg + c
						for ky := 0; ky < w.kh; ky++ {
							iy := oy*w.sh - w.padT + ky*w.dh
							if iy < 0 || iy >= w.ih {
								continue
							}
							for kx := 0; kx < w.kw; kx++ {
								ix := ox*w.sw - w.padL + kx*w.dw
								if ix < 0 || ix >= w.iw {
									continue
								}
								s += float64(x[((b*w.c+ic)*w.ih+iy)*w.iw+ix]) * float64(wt[oc*k+(c*w.kh+ky)*w.kw+kx])
							}
						}
					}
					if bias != nil {
						s += float64(bias[oc])
					}
					y[((b*p.m+oc)*w.oh+oy)*w.ow+ox] = act.apply(float32(s))
				}
			}
		}
	}
}
