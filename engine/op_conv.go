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
		if len(x.shape) > 4 {
			return inferConvND(n)
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
		g, m, err := n.convGroups(win.c, w.shape)
		if err != nil {
			return err
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
		if p, ok := n.params.(*convNDParams); ok {
			convNDRef(p, in[0].F, in[1].F, bias, out[0].F, n.act)
			return
		}
		convRef(n.params.(*convParams), in[0].F, in[1].F, bias, out[0].F, n.act)
	},
	compile: func(n *node, c *compiler) (Kernel, error) {
		if _, ok := n.params.(*convNDParams); ok {
			return nil, nil // 3-D and up: the reference kernel
		}
		return compileConv(n, c)
	},
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

// convNDParams describe a Conv over three or more spatial dimensions,
// which runs the reference loop (the 1-D and 2-D convolutions keep
// convParams and their fast kernels).
type convNDParams struct {
	*ndWindow
	group  int
	m      int
	cg, mg int
}

// inferConvND is Conv's shape inference for three or more spatial
// dimensions.
func inferConvND(n *node) error {
	x, w := n.in[0], n.in[1]
	win, err := parseNDWindow(n, x.shape, w.shape[2:], false)
	if err != nil {
		return err
	}
	for i, k := range w.shape[2:] {
		if k != win.kernel[i] {
			return n.errorf("kernel_shape differs from the weights %v", w.shape)
		}
	}
	g, m, err := n.convGroups(win.c, w.shape)
	if err != nil {
		return err
	}
	if b := n.input(2); b != nil && (b.numel() != m || len(b.shape) != 1) {
		return n.errorf("bias %v does not match %d output channels", b.shape, m)
	}
	n.params = &convNDParams{ndWindow: win, group: g, m: m, cg: win.c / g, mg: m / g}
	n.out[0].dtype = x.dtype
	n.out[0].shape = win.outShape(m)
	return nil
}

// convNDRef is the reference convolution over any number of spatial
// dimensions: direct loops, float64 sums.
func convNDRef(p *convNDParams, x, wt, bias, y []float32, act activation) {
	w := p.ndWindow
	taps := w.taps()
	if w.outSize == 0 {
		return
	}
	for b := 0; b < w.batch; b++ {
		for oc := 0; oc < p.m; oc++ {
			g := oc / p.mg
			yo := (b*p.m + oc) * w.outSize
			var o ndIndex
			for i := 0; i < w.outSize; i++ {
				var s float64
				for c := 0; c < p.cg; c++ {
					xc := x[(b*w.c+g*p.cg+c)*w.inSize:]
					wc := wt[(oc*p.cg+c)*taps:]
					var k ndIndex
					for t := 0; t < taps; t++ {
						if off, inside, _ := w.windowOffset(&o, &k); inside {
							s += float64(xc[off]) * float64(wc[t])
						}
						k.next(w.kernel)
					}
				}
				if bias != nil {
					s += float64(bias[oc])
				}
				y[yo+i] = act.apply(float32(s))
				o.next(w.out)
			}
		}
	}
}

// convGroups reads a convolution's group attribute and checks it against c
// input channels and weights w [M, C/group, k...]: it returns the group
// count and M.
func (n *node) convGroups(c int, w []int) (g, m int, err error) {
	group, err := n.attrInt("group", 1)
	if err != nil {
		return 0, 0, err
	}
	g, m = int(group), w[0]
	if g < 1 || int64(g) != group || c%g != 0 || m%g != 0 {
		return 0, 0, n.errorf("group %d does not divide %d input and %d output channels", group, c, m)
	}
	if w[1] != c/g {
		return 0, 0, n.errorf("weights %v expect %d input channels per group, input has %d in %d groups", w, w[1], c, g)
	}
	return g, m, nil
}
