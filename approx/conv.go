package approx

import (
	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/engine/gemm"
)

// supportedPrecision lists the precisions whose kernels this build has.
var supportedPrecision = map[Precision]bool{FP32: true}

// convGeom is the part of a knob's plan shared by every precision: which
// filter taps and which output positions are computed, and how skipped
// outputs are rebuilt.
type convGeom struct {
	cs      *engine.ConvSpec
	knob    Knob
	taps    []tap
	scale   float32
	ys, xs  []int // computed output rows and columns
	fullX   bool  // xs is 0..OW-1
	rebuild [][3]int
	perfY   bool // rebuild runs along rows (else along columns)
	npos    int  // computed positions per output channel
	cg, mg  int
}

func newConvGeom(cs *engine.ConvSpec, k Knob) *convGeom {
	g := &convGeom{cs: cs, knob: k, cg: cs.C / cs.Group, mg: cs.M / cs.Group}
	g.taps, g.scale = keptTaps(cs, k)
	all := func(n int) []int {
		s := make([]int, n)
		for i := range s {
			s[i] = i
		}
		return s
	}
	g.ys, g.xs, g.fullX = all(cs.OH), all(cs.OW), true
	switch {
	case k.Shape == PerfRow && cs.OneD:
		g.xs, g.rebuild = perforated(cs.OW, k)
		g.fullX = false
	case k.Shape == PerfRow:
		g.ys, g.rebuild = perforated(cs.OH, k)
		g.perfY = true
	case k.Shape == PerfCol:
		g.xs, g.rebuild = perforated(cs.OW, k)
		g.fullX = false
	}
	g.npos = len(g.ys) * len(g.xs)
	return g
}

// perforatedOutput reports whether outputs are rebuilt after the GEMM.
func (g *convGeom) perforatedOutput() bool { return g.knob.Shape == PerfRow || g.knob.Shape == PerfCol }

// weights returns the kept weights of group grp as an [mg x len(taps)]
// matrix, scaled for filter sampling.
func (g *convGeom) weights(grp int) []float32 {
	cs := g.cs
	k := g.cg * cs.KH * cs.KW
	out := make([]float32, g.mg*len(g.taps))
	for o := 0; o < g.mg; o++ {
		src := cs.Weights[(grp*g.mg+o)*k : (grp*g.mg+o+1)*k]
		for j, t := range g.taps {
			out[o*len(g.taps)+j] = src[(t.c*cs.KH+t.ky)*cs.KW+t.kx] * g.scale
		}
	}
	return out
}

// im2col writes the kept taps of channels x[0:cg] at the computed output
// positions: one row per tap, one column per position.
func (g *convGeom) im2col(x []float32, col []float32) {
	cs := g.cs
	n := g.npos
	plane := cs.H * cs.W
	for r, t := range g.taps {
		src := x[t.c*plane : (t.c+1)*plane]
		dst := col[r*n : (r+1)*n]
		d := 0
		for _, oy := range g.ys {
			iy := oy*cs.SH - cs.PadT + t.ky*cs.DH
			row := dst[d : d+len(g.xs)]
			d += len(g.xs)
			if iy < 0 || iy >= cs.H {
				clear(row)
				continue
			}
			srow := src[iy*cs.W : (iy+1)*cs.W]
			off := t.kx*cs.DW - cs.PadL
			if g.fullX && cs.SW == 1 {
				// contiguous: zeros, a copy, zeros
				lo, hi := max(0, -off), min(cs.OW, cs.W-off)
				if lo >= hi {
					clear(row)
					continue
				}
				clear(row[:lo])
				copy(row[lo:hi], srow[lo+off:hi+off])
				clear(row[hi:])
				continue
			}
			for j, ox := range g.xs {
				ix := ox*cs.SW + off
				if ix < 0 || ix >= cs.W {
					row[j] = 0
				} else {
					row[j] = srow[ix]
				}
			}
		}
	}
}

// scatter places the computed positions of one output channel (src, npos
// values) into its full plane and rebuilds the skipped outputs.
func (g *convGeom) scatter(src, plane []float32) {
	cs := g.cs
	ow := cs.OW
	if g.perfY {
		for j, oy := range g.ys {
			copy(plane[oy*ow:(oy+1)*ow], src[j*ow:(j+1)*ow])
		}
		for _, r := range g.rebuild {
			dst := plane[r[0]*ow : (r[0]+1)*ow]
			a := plane[g.ys[r[1]]*ow : (g.ys[r[1]]+1)*ow]
			b := plane[g.ys[r[2]]*ow : (g.ys[r[2]]+1)*ow]
			for i := range dst {
				dst[i] = (a[i] + b[i]) * 0.5
			}
		}
		return
	}
	nx := len(g.xs)
	for y := range g.ys {
		row := plane[y*ow : (y+1)*ow]
		s := src[y*nx : (y+1)*nx]
		for j, ox := range g.xs {
			row[ox] = s[j]
		}
		for _, r := range g.rebuild {
			row[r[0]] = (row[g.xs[r[1]]] + row[g.xs[r[2]]]) * 0.5
		}
	}
}

// finish adds the bias and applies the activation to one output channel.
func finish(plane []float32, bias float32, act engine.Activation) {
	if !act.On {
		if bias != 0 {
			for i := range plane {
				plane[i] += bias
			}
		}
		return
	}
	for i, v := range plane {
		v += bias
		if v < act.Lo {
			v = act.Lo
		}
		if v > act.Hi {
			v = act.Hi
		}
		plane[i] = v
	}
}

// convKernel is an fp32 approximate convolution: im2col over the kept taps
// and positions, one smaller GEMM per group against weights packed once,
// then reconstruction of perforated outputs.
type convKernel struct {
	g       *convGeom
	packed  []*gemm.PackedA
	colSize int
	tmpSize int
	gemmScr int
}

func newConvKernel(cs *engine.ConvSpec, k Knob) engine.Kernel {
	g := newConvGeom(cs, k)
	if g.cg == 1 && g.mg == 1 {
		return &depthwiseKernel{g: g, w: g.weights0()}
	}
	ck := &convKernel{g: g, colSize: len(g.taps) * g.npos}
	for grp := 0; grp < cs.Group; grp++ {
		w := g.weights(grp)
		ck.packed = append(ck.packed, gemm.PackA(nil, g.mg, len(g.taps), w, len(g.taps), false))
	}
	if g.perforatedOutput() {
		ck.tmpSize = g.mg * g.npos
	}
	ck.gemmScr = gemm.ScratchSize(&gemm.Args{M: g.mg, N: g.npos, K: len(g.taps), PackedA: ck.packed[0], LDB: g.npos})
	return ck
}

// Run implements engine.Kernel.
func (k *convKernel) Run(x *engine.Exec, in, out []*engine.Tensor) {
	g := k.g
	cs := g.cs
	scratch := x.Floats(k.colSize + k.tmpSize + k.gemmScr)
	col := scratch[:k.colSize]
	tmp := scratch[k.colSize : k.colSize+k.tmpSize]
	gs := scratch[k.colSize+k.tmpSize:]
	planeIn, planeOut := cs.H*cs.W, cs.OH*cs.OW
	src, dst := in[0].F, out[0].F
	for b := 0; b < cs.Batch; b++ {
		for grp := 0; grp < cs.Group; grp++ {
			xg := src[(b*cs.C+grp*g.cg)*planeIn : (b*cs.C+(grp+1)*g.cg)*planeIn]
			g.im2col(xg, col)
			yg := dst[(b*cs.M+grp*g.mg)*planeOut : (b*cs.M+(grp+1)*g.mg)*planeOut]
			args := gemm.Args{M: g.mg, N: g.npos, K: len(g.taps), PackedA: k.packed[grp], B: col, LDB: g.npos, Scratch: gs}
			if !g.perforatedOutput() {
				args.C = yg
				if cs.Bias != nil {
					args.Bias, args.BiasMode = cs.Bias[grp*g.mg:(grp+1)*g.mg], gemm.BiasPerRow
				}
				if cs.Act.On {
					args.Clamp, args.Lo, args.Hi = true, cs.Act.Lo, cs.Act.Hi
				}
				gemm.Sgemm(&args)
				continue
			}
			args.C = tmp
			gemm.Sgemm(&args)
			for o := 0; o < g.mg; o++ {
				plane := yg[o*planeOut : (o+1)*planeOut]
				g.scatter(tmp[o*g.npos:(o+1)*g.npos], plane)
				bias := float32(0)
				if cs.Bias != nil {
					bias = cs.Bias[grp*g.mg+o]
				}
				finish(plane, bias, cs.Act)
			}
		}
	}
}

// weights0 returns the kept, scaled taps of every channel of a depthwise
// convolution: [M x len(taps)].
func (g *convGeom) weights0() []float32 {
	out := make([]float32, 0, g.cs.M*len(g.taps))
	for grp := 0; grp < g.cs.Group; grp++ {
		out = append(out, g.weights(grp)...)
	}
	return out
}

// depthwiseKernel runs an approximate depthwise convolution directly: each
// channel's kept taps at the computed positions, then reconstruction.
type depthwiseKernel struct {
	g *convGeom
	w []float32
}

// Run implements engine.Kernel.
func (k *depthwiseKernel) Run(x *engine.Exec, in, out []*engine.Tensor) {
	g := k.g
	cs := g.cs
	nt := len(g.taps)
	tmp := x.Floats(g.npos)
	planeIn, planeOut := cs.H*cs.W, cs.OH*cs.OW
	for b := 0; b < cs.Batch; b++ {
		for c := 0; c < cs.M; c++ {
			src := in[0].F[(b*cs.C+c)*planeIn : (b*cs.C+c+1)*planeIn]
			plane := out[0].F[(b*cs.M+c)*planeOut : (b*cs.M+c+1)*planeOut]
			w := k.w[c*nt : (c+1)*nt]
			d := tmp
			if !g.perforatedOutput() {
				d = plane
			}
			i := 0
			for _, oy := range g.ys {
				for _, ox := range g.xs {
					var s float32
					for j, t := range g.taps {
						iy := oy*cs.SH - cs.PadT + t.ky*cs.DH
						ix := ox*cs.SW - cs.PadL + t.kx*cs.DW
						if iy >= 0 && iy < cs.H && ix >= 0 && ix < cs.W {
							s += w[j] * src[iy*cs.W+ix]
						}
					}
					d[i] = s
					i++
				}
			}
			if g.perforatedOutput() {
				g.scatter(tmp, plane)
			}
			bias := float32(0)
			if cs.Bias != nil {
				bias = cs.Bias[c]
			}
			finish(plane, bias, cs.Act)
		}
	}
}
