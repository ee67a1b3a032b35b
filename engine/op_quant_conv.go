package engine

// intConvParams describe a ConvInteger or QLinearConv node.
type intConvParams struct {
	*window
	group   int
	m       int // output channels
	cg, mg  int // input and output channels per group
	x, w    int // input indices of the operands
	xZP     int // input indices of the zero points, -1 if none
	wZP     int
	xScale  int // QLinearConv: scales, output zero point and bias (-1)
	wScale  int
	yScale  int
	yZP     int
	bias    int
	qlinear bool
	xShift  int64 // 128 for int8 x
	qlo     int64 // QLinearConv: the output type's range
	qhi     int64
}

var convIntegerOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(2, 4); err != nil {
			return err
		}
		p := &intConvParams{x: 0, w: 1, xZP: -1, wZP: -1, xScale: -1, wScale: -1, yScale: -1, yZP: -1, bias: -1}
		if n.input(2) != nil {
			p.xZP = 2
		}
		if n.input(3) != nil {
			p.wZP = 3
		}
		if err := inferIntConv(n, p); err != nil {
			return err
		}
		n.out[0].dtype = Int32
		return nil
	},
	eval:    func(n *node, in, out []*Tensor) { intConvRef(n.params.(*intConvParams), in, out[0]) },
	compile: compileIntConv,
}

var qlinearConvOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(8, 9); err != nil {
			return err
		}
		p := &intConvParams{x: 0, xScale: 1, xZP: 2, w: 3, wScale: 4, wZP: 5, yScale: 6, yZP: 7, bias: -1, qlinear: true}
		if n.input(8) != nil {
			p.bias = 8
		}
		if err := inferIntConv(n, p); err != nil {
			return err
		}
		yz, ys, xs, ws := n.in[p.yZP], n.in[p.yScale], n.in[p.xScale], n.in[p.wScale]
		lo, hi, ok := quantRange(yz.dtype)
		if !ok || yz.dtype != Uint8 && yz.dtype != Int8 {
			return n.unsupportedQuantType("output zero point", yz.dtype)
		}
		for _, s := range []*value{xs, ws, ys} {
			if !s.dtype.IsFloat() {
				return n.errorf("scale %q has type %v, expected a floating-point type", s.name, s.dtype)
			}
		}
		if yz.numel() != 1 || ys.numel() != 1 || xs.numel() != 1 {
			return n.errorf("x_scale %v, y_scale %v and y_zero_point %v must hold one element", xs.shape, ys.shape, yz.shape)
		}
		if ws.numel() != 1 && (len(ws.shape) != 1 || ws.shape[0] != p.m) {
			return n.errorf("w_scale of shape %v is neither one value nor one per output channel (%d)", ws.shape, p.m)
		}
		if b := n.input(8); b != nil {
			if b.dtype != Int32 || len(b.shape) != 1 || b.shape[0] != p.m {
				return n.errorf("bias %q must be an int32 vector of %d elements, not %v%v", b.name, p.m, b.dtype, b.shape)
			}
		}
		p.qlo, p.qhi = lo, hi
		n.out[0].dtype = yz.dtype
		return nil
	},
	eval:    func(n *node, in, out []*Tensor) { intConvRef(n.params.(*intConvParams), in, out[0]) },
	compile: compileIntConv,
}

// inferIntConv checks the operands, zero points and attributes of an
// integer convolution and sets n.params and the output shape.
func inferIntConv(n *node, p *intConvParams) error {
	x, w := n.in[p.x], n.in[p.w]
	for _, v := range []*value{x, w} {
		if v.dtype != Uint8 && v.dtype != Int8 {
			return n.unsupportedQuantType("input "+v.name, v.dtype)
		}
	}
	if len(w.shape) != len(x.shape) {
		return n.errorf("weights %v and input %v differ in rank", w.shape, x.shape)
	}
	if len(x.shape) < 3 {
		return n.errorf("input of shape %v has no spatial dimensions", x.shape)
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
	p.window, p.group, p.m, p.cg, p.mg = win, g, m, win.c/g, m/g
	if p.xZP >= 0 {
		z := n.in[p.xZP]
		if z.dtype != x.dtype || z.numel() != 1 {
			return n.errorf("x_zero_point %q must be one %v value, not %v%v", z.name, x.dtype, z.dtype, z.shape)
		}
	}
	if p.wZP >= 0 {
		z := n.in[p.wZP]
		if z.dtype != w.dtype || z.numel() != 1 && (len(z.shape) != 1 || z.shape[0] != m) {
			return n.errorf("w_zero_point %q must be one %v value or one per output channel (%d), not %v%v", z.name, w.dtype, m, z.dtype, z.shape)
		}
	}
	if x.dtype == Int8 {
		p.xShift = 128
	}
	n.params = p
	n.out[0].shape = win.outShape(m)
	return nil
}

// intConvRef is the reference integer convolution: int64 sums of
// (x - zx)*(w - zw) over the taps inside the input (padding stands for
// the zero point, so it adds nothing), plus the bias, wrapped to int32, then
// stored (ConvInteger) or requantized (QLinearConv).
func intConvRef(p *intConvParams, in []*Tensor, out *Tensor) {
	w := p.window
	x, wt, y := in[p.x].I, in[p.w].I, out.I
	var zx int64
	if z := optInts(in, p.xZP); z != nil {
		zx = z[0]
	}
	zw, bias := optInts(in, p.wZP), optInts(in, p.bias)
	k := p.cg * w.kh * w.kw
	for b := 0; b < w.batch; b++ {
		for oc := 0; oc < p.m; oc++ {
			g := oc / p.mg
			var z int64
			if zw != nil {
				z = zw[min(oc, len(zw)-1)]
			}
			var mult float32
			if p.qlinear {
				ws := in[p.wScale].F
				mult = outputScale(in[p.xScale].F[0], ws[min(oc, len(ws)-1)], in[p.yScale].F[0])
			}
			for oy := 0; oy < w.oh; oy++ {
				for ox := 0; ox < w.ow; ox++ {
					var s int64
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
								s += (x[((b*w.c+ic)*w.ih+iy)*w.iw+ix] - zx) * (wt[oc*k+(c*w.kh+ky)*w.kw+kx] - z)
							}
						}
					}
					if bias != nil {
						s += bias[oc]
					}
					o := ((b*p.m+oc)*w.oh+oy)*w.ow + ox
					if p.qlinear {
						y[o] = requantize(int32(s), mult, in[p.yZP].I[0], p.qlo, p.qhi)
					} else {
						y[o] = int64(int32(s))
					}
				}
			}
		}
	}
}

// intConvKernel runs an integer convolution against constant weights:
// im2col into activation codes and one exact qgemm product per group (see
// op_quant_int.go), or, for depthwise convolutions (one input and one
// output channel per group), direct int32 sums: a depthwise group is a
// one-row product over kh*kw steps, which would fill one row of qgemm's
// five-row tiles and one group of its K, so the packing would cost more
// than the sums.
type intConvKernel struct {
	p         *intConvParams
	ws        []*intWeights // per group
	wt        []int64       // depthwise: the weights
	kdim      int           // rows of the im2col matrix: cg*kh*kw
	cols      int           // columns: oh*ow
	depthwise bool
}

func compileIntConv(n *node, c *compiler) (Kernel, error) {
	p := n.params.(*intConvParams)
	wv := n.in[p.w]
	if !wv.isConst() {
		return nil, nil // weights fed at run time: the reference kernel
	}
	w := p.window
	k := &intConvKernel{p: p, kdim: p.cg * w.kh * w.kw, cols: w.oh * w.ow}
	if p.cg == 1 && p.mg == 1 {
		k.depthwise, k.wt = true, wv.constant.I
		return k, nil
	}
	if int64(k.kdim)*int64(k.cols)*2 > c.opts.limit() {
		return nil, n.errorf("im2col of %dx%d codes exceeds the size limit of %d bytes", k.kdim, k.cols, c.opts.limit())
	}
	var zp []int64
	if p.wZP >= 0 && n.in[p.wZP].isConst() {
		zp = n.in[p.wZP].constant.I
	}
	for g := 0; g < p.group; g++ {
		var zg []int64
		switch {
		case len(zp) == 1:
			zg = zp
		case zp != nil:
			zg = zp[g*p.mg : (g+1)*p.mg]
		}
		wg := wv.constant.I[g*p.mg*k.kdim : (g+1)*p.mg*k.kdim]
		k.ws = append(k.ws, packIntWeights(wg, p.mg, k.kdim, k.kdim, 1, zg, true))
	}
	return k, nil
}

// ScratchSize implements scratchUser: QLinearConv's per-channel
// multipliers.
func (k *intConvKernel) ScratchSize() int { return k.p.m }

// Run implements Kernel.
func (k *intConvKernel) Run(x *Exec, in, out []*Tensor) {
	p := k.p
	var zx int64
	if z := optInts(in, p.xZP); z != nil {
		zx = z[0]
	}
	zw, bias := optInts(in, p.wZP), optInts(in, p.bias)
	var mults []float32
	var yz int64
	if p.qlinear {
		xs, ws, ys := in[p.xScale].F[0], in[p.wScale].F, in[p.yScale].F[0]
		mults = x.scratch[:p.m]
		for m := range mults {
			mults[m] = outputScale(xs, ws[min(m, len(ws)-1)], ys)
		}
		yz = in[p.yZP].I[0]
	}
	if k.depthwise {
		k.runDepthwise(in[p.x].I, zx, zw, bias, mults, yz, out[0].I)
		return
	}
	w := p.window
	kd, cols := k.kdim, k.cols
	maxCh := 0
	for _, wg := range k.ws {
		maxCh = max(maxCh, wg.nch)
	}
	need := intGemmScratch(x, k.ws[0], 0, cols)
	for _, wg := range k.ws[1:] {
		need = max(need, intGemmScratch(x, wg, 0, cols))
	}
	buf := x.Bytes(2*kd*cols + need)
	lo, hi, scr := buf[:kd*cols], buf[kd*cols:2*kd*cols], buf[2*kd*cols:]
	ints := x.Ints(2*maxCh*cols + cols + p.mg)
	r1, r2 := ints[:maxCh*cols], ints[maxCh*cols:2*maxCh*cols]
	su, beta := ints[2*maxCh*cols:2*maxCh*cols+cols], ints[2*maxCh*cols+cols:]
	alpha := int32(zx + p.xShift)
	k32 := int32(kd)
	src, y := in[p.x].I, out[0].I
	planeIn, planeOut := w.ih*w.iw, w.oh*w.ow
	for b := 0; b < w.batch; b++ {
		for g, wg := range k.ws {
			xg := src[(b*w.c+g*p.cg)*planeIn : (b*w.c+(g+1)*p.cg)*planeIn]
			top := intIm2col(lo, hi, xg, w, p.cg, p.xShift, zx)
			var zg []int64
			switch {
			case len(zw) == 1:
				zg = zw
			case zw != nil:
				zg = zw[g*p.mg : (g+1)*p.mg]
			}
			if wg.beta(beta, zg) {
				colSums(su, lo, hi, kd, cols)
			}
			intGemm(x, wg, 0, cols, lo, r1, scr)
			var r2s []int32
			if top {
				intGemm(x, wg, 0, cols, hi, r2, scr)
				r2s = r2
			}
			for m := 0; m < p.mg; m++ {
				oc := g*p.mg + m
				bm := beta[m]
				base := k32*alpha*bm - alpha*wg.sum[m]
				if bias != nil {
					base += int32(bias[oc])
				}
				e := int(wg.ext[m])
				yr := y[(b*p.m+oc)*planeOut : (b*p.m+oc+1)*planeOut]
				for j := range yr {
					ej := -1
					if e >= 0 {
						ej = e*cols + j
					}
					v := intSum(r1, r2s, m*cols+j, ej) + base
					if bm != 0 {
						v -= bm * su[j]
					}
					if mults != nil {
						yr[j] = requantize(v, mults[oc], yz, p.qlo, p.qhi)
					} else {
						yr[j] = int64(v)
					}
				}
			}
		}
	}
}

// colSums stores the column sums of the shifted codes lo + 128*hi (rows x
// cols) into su.
func colSums(su []int32, lo, hi []uint8, rows, cols int) {
	su = su[:cols]
	clear(su)
	for r := 0; r < rows; r++ {
		l, h := lo[r*cols:(r+1)*cols], hi[r*cols:(r+1)*cols]
		for j := range su {
			su[j] += int32(l[j]) + int32(h[j])<<7
		}
	}
}

// intIm2col writes the im2col matrix of one group's cg input planes x
// (rows (c, ky, kx), columns (oy, ox)) as the codes of the shifted values
// v + shift: low seven bits into lo, top bits into hi. Taps in the padding
// take the zero point zx, which adds nothing to the sums. It reports
// whether any top bit is set.
func intIm2col(lo, hi []uint8, x []int64, w *window, cg int, shift, zx int64) bool {
	cols := w.oh * w.ow
	pu := uint8(zx + shift)
	plo, phi := pu&127, pu>>7
	t := pu
	r := 0
	for c := 0; c < cg; c++ {
		plane := x[c*w.ih*w.iw : (c+1)*w.ih*w.iw]
		for ky := 0; ky < w.kh; ky++ {
			for kx := 0; kx < w.kw; kx++ {
				dl, dh := lo[r*cols:(r+1)*cols], hi[r*cols:(r+1)*cols]
				// The columns whose tap lies inside the row: ox in [ox0, ox1).
				off := kx*w.dw - w.padL
				ox0 := min(max(0, ceilDivInt(-off, w.sw)), w.ow)
				ox1 := min(max(ox0, ceilDivInt(w.iw-off, w.sw)), w.ow)
				o := 0
				for oy := 0; oy < w.oh; oy++ {
					iy := oy*w.sh - w.padT + ky*w.dh
					if iy < 0 || iy >= w.ih {
						for ox := 0; ox < w.ow; ox++ {
							dl[o], dh[o] = plo, phi
							o++
						}
						continue
					}
					row := plane[iy*w.iw : (iy+1)*w.iw]
					for ox := 0; ox < ox0; ox++ {
						dl[o], dh[o] = plo, phi
						o++
					}
					l, h := dl[o:o+ox1-ox0], dh[o:o+ox1-ox0]
					ix := ox0*w.sw + off
					for j := range l {
						u := uint8(row[ix] + shift)
						l[j], h[j] = u&127, u>>7
						t |= u
						ix += w.sw
					}
					o += ox1 - ox0
					for ox := ox1; ox < w.ow; ox++ {
						dl[o], dh[o] = plo, phi
						o++
					}
				}
				r++
			}
		}
	}
	return t&128 != 0
}

// ceilDivInt returns ceil(a/b) for b > 0 and any sign of a.
func ceilDivInt(a, b int) int {
	if a <= 0 {
		return -(-a / b)
	}
	return (a + b - 1) / b
}

// runDepthwise computes a depthwise integer convolution with int32 sums
// (wrapping as the reference's int64 sums do once wrapped to int32).
func (k *intConvKernel) runDepthwise(x []int64, zx int64, zw, bias []int64, mults []float32, yz int64, y []int64) {
	p := k.p
	w := p.window
	taps := w.kh * w.kw
	var wd [64]int32
	var wl []int32
	if taps <= len(wd) {
		wl = wd[:taps]
	}
	planeIn, planeOut := w.ih*w.iw, w.oh*w.ow
	z := int32(zx)
	for b := 0; b < w.batch; b++ {
		for c := 0; c < p.m; c++ {
			var zc int64
			if zw != nil {
				zc = zw[min(c, len(zw)-1)]
			}
			wc := k.wt[c*taps : (c+1)*taps]
			if wl != nil {
				for t, v := range wc {
					wl[t] = int32(v - zc)
				}
			}
			var bc int32
			if bias != nil {
				bc = int32(bias[c])
			}
			plane := x[(b*w.c+c)*planeIn : (b*w.c+c+1)*planeIn]
			yr := y[(b*p.m+c)*planeOut : (b*p.m+c+1)*planeOut]
			o := 0
			for oy := 0; oy < w.oh; oy++ {
				for ox := 0; ox < w.ow; ox++ {
					s := bc
					for ky := 0; ky < w.kh; ky++ {
						iy := oy*w.sh - w.padT + ky*w.dh
						if iy < 0 || iy >= w.ih {
							continue
						}
						row := plane[iy*w.iw : (iy+1)*w.iw]
						for kx := 0; kx < w.kw; kx++ {
							ix := ox*w.sw - w.padL + kx*w.dw
							if ix < 0 || ix >= w.iw {
								continue
							}
							var wv int32
							if wl != nil {
								wv = wl[ky*w.kw+kx]
							} else {
								wv = int32(wc[ky*w.kw+kx] - zc)
							}
							s += (int32(row[ix]) - z) * wv
						}
					}
					if mults != nil {
						yr[o] = requantize(s, mults[c], yz, p.qlo, p.qhi)
					} else {
						yr[o] = int64(s)
					}
					o++
				}
			}
		}
	}
}
