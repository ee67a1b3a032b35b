package engine

import (
	"github.com/kagen-ai/kagen/engine/gemm"
	"github.com/kagen-ai/kagen/internal/vec"
)

// convKernel runs a convolution as im2col plus a GEMM against weights that
// were packed once at load (one packed matrix per group).
type convKernel struct {
	p        *convParams
	packed   []*gemm.PackedA
	bias     []float32
	act      activation
	kdim     int  // rows of the im2col matrix: cg*kh*kw
	cols     int  // columns: oh*ow
	direct   bool // a 1x1 convolution reads its input as the matrix
	im2col   *Im2col
	padSize  int
	gemmSize int
}

func compileConv(n *node, c *compiler) (Kernel, error) {
	p := n.params.(*convParams)
	wv := n.in[1]
	if wv.constant == nil || n.input(2) != nil && n.input(2).constant == nil {
		return nil, nil // weights fed at run time: the reference kernel
	}
	var bias []float32
	if b := n.input(2); b != nil {
		bias = b.constant.F
	}
	if p.cg == 1 && p.mg == 1 {
		return newDepthwiseKernel(n, c, bias), nil
	}
	w := p.window
	k := &convKernel{p: p, bias: bias, act: n.act, kdim: p.cg * w.kh * w.kw, cols: w.oh * w.ow}
	k.direct = w.kh == 1 && w.kw == 1 && w.sh == 1 && w.sw == 1 && w.padT == 0 && w.padL == 0 && w.padB == 0 && w.padR == 0
	for g := 0; g < p.group; g++ {
		wg := wv.constant.F[g*p.mg*k.kdim : (g+1)*p.mg*k.kdim]
		buf := make([]float32, gemm.PackedASize(p.mg, k.kdim))
		k.packed = append(k.packed, gemm.PackA(buf, p.mg, k.kdim, wg, k.kdim, false))
	}
	if !k.direct {
		if rk := compileConvRows(p, k.packed, bias, n.act, c); rk != nil {
			return rk, nil
		}
	}
	args := gemm.Args{M: p.mg, N: k.cols, K: k.kdim, PackedA: k.packed[0], LDB: k.cols}
	if !k.direct {
		args.BSource = &im2colSource{}
		cs, _ := convSpecOf(n)
		k.im2col = NewIm2col(cs, nil, nil, nil)
		k.padSize = k.im2col.PaddedSize()
	}
	k.gemmSize = c.gemmScratch(args)
	return k, nil
}

// ScratchSize implements scratchUser.
func (k *convKernel) ScratchSize() int { return k.padSize + k.gemmSize }

// Run implements Kernel.
func (k *convKernel) Run(x *Exec, in, out []*Tensor) {
	p, w := k.p, k.p.window
	src, dst := in[0].F, out[0].F
	scratch := x.scratch
	planeIn, planeOut := w.ih*w.iw, w.oh*w.ow
	for b := 0; b < w.batch; b++ {
		for g := 0; g < p.group; g++ {
			xg := src[(b*w.c+g*p.cg)*planeIn : (b*w.c+(g+1)*p.cg)*planeIn]
			args := gemm.Args{
				M: p.mg, N: k.cols, K: k.kdim,
				PackedA: k.packed[g],
				C:       dst[(b*p.m+g*p.mg)*planeOut : (b*p.m+(g+1)*p.mg)*planeOut],
				Scratch: scratch[k.padSize:],
			}
			if k.direct {
				args.B, args.LDB = xg, k.cols
			} else {
				args.BSource = k.im2col.Source(x, xg, scratch[:k.padSize])
			}
			if k.bias != nil {
				args.Bias, args.BiasMode = k.bias[g*p.mg:(g+1)*p.mg], gemm.BiasPerRow
			}
			if k.act.on {
				args.Clamp, args.Lo, args.Hi = true, k.act.lo, k.act.hi
			}
			// The GEMM clamps in its own epilogue and hands each finished
			// block to the function (SiLU, sigmoid, ...).
			args.Epilogue = k.act.epilogue()
			x.gemmArgs(&args)
			gemm.Sgemm(&args)
		}
	}
}

// im2colSource packs blocks of a convolution's im2col matrix (one row per
// input channel and kernel tap, one column per output position) straight
// into the GEMM's panel layout, without materialising the matrix. The input
// is first copied into a zero-bordered buffer when the convolution pads, so
// that every element is a plain gather: row k starts at kbase[k] and column
// j adds pos[j], both computed once at load.
type im2colSource struct {
	x     []float32 // the group's input channels, padded
	pos   []int32
	kbase []int32
	plans *panelPlans
	need  int // floats of x the moves read: max(kbase) + plans.limit
}

// PackB implements gemm.BSource.
func (s *im2colSource) PackB(dst []float32, k0, kc, j0, n, nr int) {
	kbase := s.kbase[k0 : k0+kc]
	x := s.x
	var plans []panelPlan
	switch {
	case s.plans == nil:
	case nr == 16:
		plans = s.plans.p16
	case nr == 8:
		plans = s.plans.p8
	}
	for jr := 0; jr < n; jr += nr {
		cnt := min(nr, n-jr)
		panel := dst[jr*kc : (jr+nr)*kc]
		if plans != nil && j0%nr == 0 && len(x) >= s.need && len(x) > 0 {
			if pl := &plans[(j0+jr)/nr]; pl.ok {
				gatherPanel(panel, x, kbase, nr, pl, cnt)
				continue
			}
		}
		pos := s.pos[j0+jr : j0+jr+cnt]
		for k, b := range kbase {
			d := panel[k*nr : (k+1)*nr]
			src := x[b:]
			for t, p := range pos {
				d[t] = src[p]
			}
			clear(d[cnt:])
		}
	}
}

// Im2col is the im2col matrix of a convolution restricted to chosen filter
// taps (rows) and output positions (columns), packed straight into GEMM
// panels by gathering from a zero-bordered copy of the input. Its tables
// are built once; the exact and the approximate convolutions share it.
type Im2col struct {
	hp, wp, cg int // padded input plane and channels per group
	h, w       int
	padT, padL int
	padded     bool
	// The padded copy's rows are split into q phases of pw elements:
	// padded column x is at phase x%q, index x/q of its row, whose length
	// is q*pw. With q = the distance between consecutive computed columns
	// in the input (the stride times the step of the kept columns), every
	// output row's receptive fields are contiguous runs again, which the
	// panel plans move eight at a time. q is 1 for stride-1 convolutions
	// over every column.
	q, pw      int
	pos, kbase []int32
	plans      *panelPlans
	need       int
}

// Tap is a filter element: input channel within the group, kernel row and
// column.
type Tap struct{ C, KY, KX int }

// NewIm2col builds the gather tables of cs for the given taps (nil: every
// tap in im2col order) at output rows ys and columns xs (nil: all).
func NewIm2col(cs *ConvSpec, taps []Tap, ys, xs []int) *Im2col {
	g := &Im2col{h: cs.H, w: cs.W, cg: cs.C / cs.Group, padT: cs.PadT, padL: cs.PadL}
	g.hp, g.wp = cs.H+cs.PadT+cs.PadB, cs.W+cs.PadL+cs.PadR
	g.padded = g.hp != cs.H || g.wp != cs.W
	if taps == nil {
		for c := 0; c < g.cg; c++ {
			for ky := 0; ky < cs.KH; ky++ {
				for kx := 0; kx < cs.KW; kx++ {
					taps = append(taps, Tap{c, ky, kx})
				}
			}
		}
	}
	if ys == nil {
		ys = seq(cs.OH)
	}
	if xs == nil {
		xs = seq(cs.OW)
	}
	g.q, g.pw = 1, g.wp
	if d := progression(xs); d > 0 && d*cs.SW > 1 {
		g.q = d * cs.SW
		g.pw = (g.wp + g.q - 1) / g.q
		g.padded = true
	}
	row := g.q * g.pw // a padded row's length
	x0 := 0
	if len(xs) > 0 {
		x0 = xs[0] * cs.SW
	}
	for _, oy := range ys {
		for j, ox := range xs {
			x := ox * cs.SW
			if g.q > 1 {
				x = j // the column's index within its phase, from x0's
			}
			g.pos = append(g.pos, int32(oy*cs.SH*row+x))
		}
	}
	for _, t := range taps {
		x := t.KX * cs.DW
		if g.q > 1 {
			u := x0 + x
			x = u%g.q*g.pw + u/g.q
		}
		g.kbase = append(g.kbase, int32(t.C*g.hp*row+t.KY*cs.DH*row+x))
	}
	g.plans = newPanelPlans(g.pos)
	for _, b := range g.kbase {
		g.need = max(g.need, int(b)+int(g.plans.limit))
	}
	return g
}

// progression returns the common difference of xs when it has at least two
// elements in arithmetic progression, else 0.
func progression(xs []int) int {
	if len(xs) < 2 {
		return 0
	}
	d := xs[1] - xs[0]
	for i := 2; i < len(xs); i++ {
		if xs[i]-xs[i-1] != d {
			return 0
		}
	}
	return d
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// Rows and Cols are the matrix's dimensions (K and N of the GEMM).
func (g *Im2col) Rows() int { return len(g.kbase) }

// Cols is the number of output positions.
func (g *Im2col) Cols() int { return len(g.pos) }

// PaddedSize is the scratch (in floats) Source needs for the padded input;
// 0 when the convolution does not pad.
func (g *Im2col) PaddedSize() int {
	if !g.padded {
		return 0
	}
	return g.cg * g.hp * g.q * g.pw
}

// Source returns the session's GEMM source of this matrix over x, the
// group's input channels. pad is PaddedSize() floats of scratch. The source
// is owned by x and valid until the next call.
func (g *Im2col) Source(x *Exec, in, pad []float32) gemm.BSource {
	in = g.pad(in, pad)
	x.im2col = im2colSource{x: in, pos: g.pos, kbase: g.kbase, plans: g.plans, need: g.need}
	return &x.im2col
}

// im2col lays out the receptive fields of channels x[0:cg] as a matrix with
// one row per (channel, ky, kx) and one column per output position.
func im2col(w *window, x []float32, cg int, col []float32) {
	n := w.oh * w.ow
	row := 0
	for c := 0; c < cg; c++ {
		plane := x[c*w.ih*w.iw : (c+1)*w.ih*w.iw]
		for ky := 0; ky < w.kh; ky++ {
			for kx := 0; kx < w.kw; kx++ {
				dst := col[row*n : (row+1)*n]
				im2colRow(w, plane, ky, kx, dst)
				row++
			}
		}
	}
}

// im2colRow fills one im2col row: input tap (ky, kx) for every output.
func im2colRow(w *window, plane []float32, ky, kx int, dst []float32) {
	// Output columns whose input column is inside the image.
	x0, x1 := validRange(w.ow, w.sw, kx*w.dw-w.padL, w.iw)
	for oy := 0; oy < w.oh; oy++ {
		d := dst[oy*w.ow : (oy+1)*w.ow]
		iy := oy*w.sh - w.padT + ky*w.dh
		if iy < 0 || iy >= w.ih || x0 >= x1 {
			clear(d)
			continue
		}
		clear(d[:x0])
		clear(d[x1:])
		srow := plane[iy*w.iw : (iy+1)*w.iw]
		ix := x0*w.sw + kx*w.dw - w.padL
		if w.sw == 1 {
			copy(d[x0:x1], srow[ix:ix+x1-x0])
			continue
		}
		for ox := x0; ox < x1; ox++ {
			d[ox] = srow[ix]
			ix += w.sw
		}
	}
}

// validRange returns the outputs o in [lo, hi) with 0 <= o*stride+off < size.
func validRange(outs, stride, off, size int) (lo, hi int) {
	lo = 0
	if off < 0 {
		lo = (-off + stride - 1) / stride
	}
	hi = outs
	if last := size - 1 - off; last < 0 {
		hi = 0
	} else {
		hi = min(outs, last/stride+1)
	}
	if lo > hi {
		lo = hi
	}
	return lo, hi
}

// pad returns in, or its copy into a zero-bordered buffer when the
// convolution pads.
func (g *Im2col) pad(in, pad []float32) []float32 {
	if !g.padded {
		return in
	}
	clear(pad)
	if g.q == 1 {
		for c := 0; c < g.cg; c++ {
			for y := 0; y < g.h; y++ {
				copy(pad[c*g.hp*g.wp+(y+g.padT)*g.wp+g.padL:], in[(c*g.h+y)*g.w:(c*g.h+y+1)*g.w])
			}
		}
		return pad
	}
	// Phase-split rows: padded column x = i*q + ph goes to ph*pw + i.
	row := g.q * g.pw
	if g.q == 2 && g.w > 1 {
		// Input column sx is padded column sx+padL: the even ones go to
		// phase padL%2 from index padL/2, the odd ones to the other from
		// (padL+1)/2, a whole plane's rows in one vec.Deinterleave
		// (kws-ds's first convolution, stride (4, 2): the loop below was
		// 7% of the node).
		pE, pO := g.padL%2, 1-g.padL%2
		cE, cO := g.padL/2, (g.padL+1)/2
		for c := 0; c < g.cg; c++ {
			base := (c*g.hp + g.padT) * row
			vec.Deinterleave(pad[base+pE*g.pw+cE:], pad[base+pO*g.pw+cO:], row, in[c*g.h*g.w:(c+1)*g.h*g.w], g.w, g.h, g.w)
		}
		return pad
	}
	for c := 0; c < g.cg; c++ {
		for y := 0; y < g.h; y++ {
			src := in[(c*g.h+y)*g.w : (c*g.h+y+1)*g.w]
			dst := pad[(c*g.hp+y+g.padT)*row : (c*g.hp+y+g.padT+1)*row]
			for ph := 0; ph < g.q; ph++ {
				// Input columns of this phase: x-padL for x = ph, ph+q, ...
				i0 := 0
				if ph < g.padL {
					i0 = (g.padL - ph + g.q - 1) / g.q
				}
				d := dst[ph*g.pw : (ph+1)*g.pw]
				for i, sx := i0, i0*g.q+ph-g.padL; sx < g.w && i < g.pw; i, sx = i+1, sx+g.q {
					d[i] = src[sx]
				}
			}
		}
	}
	return pad
}

// Padded returns the group's input channels in as the matrix gathers them:
// in itself, or its copy into pad (PaddedSize() floats) with a zero border
// when the convolution pads. Element (k, j) of the matrix is then
// Padded[Base(k) + Pos(j)] (see MatrixCodes).
func (g *Im2col) Padded(in, pad []float32) []float32 { return g.pad(in, pad) }

// MatrixCodes writes the im2col matrix of byte codes row-major ([Rows() x
// Cols()]) into dst, gathering from codes, the padded input's codes (one
// per element of Padded's result, at the same index): the int8 kernels
// quantize a convolution's input once and gather bytes, a quarter of the
// float traffic. It panics if codes or dst is too short.
func (g *Im2col) MatrixCodes(codes, dst []uint8) {
	n := len(g.pos)
	kn := len(g.kbase)
	if kn == 0 || n == 0 {
		return
	}
	_ = dst[kn*n-1]
	if len(codes) < g.need {
		panic("engine: MatrixCodes: codes shorter than the padded input")
	}
	// Blocks of rows, so that the rows being written stay in L1 while
	// every panel's moves fill them.
	const rows = 32
	for k0 := 0; k0 < kn; k0 += rows {
		kb := g.kbase[k0:min(k0+rows, kn)]
		d := dst[k0*n:]
		for p := range g.plans.p16 {
			pl := &g.plans.p16[p]
			if !gatherBytesArch(d[16*p:], codes, kb, n, pl) {
				gatherBytesGo(d[16*p:], codes, kb, n, pl)
			}
		}
	}
}
