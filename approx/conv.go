package approx

import (
	"math"

	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/engine/gemm"
	"github.com/kagen-ai/kagen/engine/qgemm"
	"github.com/kagen-ai/kagen/internal/vec"
)

// supportedPrecision lists the precisions whose kernels this build has.
var supportedPrecision = map[Precision]bool{FP32: true, FP16: true, INT8: true}

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
	every2  bool // along columns, every other output is computed (interleave2)
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
	// Perforation at stride 2 keeps every other column, the first at 0 or 1.
	g.every2 = !g.perfY && g.perforatedOutput() && k.Stride == 2 && len(g.xs) >= 2
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

// scatter places the computed positions of one output channel (src, npos
// values, bias already added) into its full plane, rebuilds the skipped
// outputs from their neighbours, and applies the activation, in one pass.
func (g *convGeom) scatter(src, plane []float32, act engine.Activation) {
	cs := g.cs
	ow := cs.OW
	if g.perfY {
		lo, hi := float32(math.Inf(-1)), float32(math.Inf(1))
		if act.On {
			lo, hi = act.Lo, act.Hi
		}
		for j, oy := range g.ys {
			dst := plane[oy*ow : (oy+1)*ow]
			if act.On {
				vec.Clamp(dst, src[j*ow:(j+1)*ow], lo, hi)
			} else {
				copy(dst, src[j*ow:(j+1)*ow])
			}
		}
		for i := range g.rebuild {
			r := &g.rebuild[i] // a pointer: copying the [3]int stalled on store forwarding
			vec.AvgClamp(plane[r[0]*ow:(r[0]+1)*ow], src[r[1]*ow:(r[1]+1)*ow], src[r[2]*ow:(r[2]+1)*ow], lo, hi)
		}
		act.ApplyFn(plane) // the function after the clamp
		return
	}
	nx := len(g.xs)
	for y := range g.ys {
		row := plane[y*ow : (y+1)*ow]
		s := src[y*nx : (y+1)*nx]
		// Place and rebuild with plain moves, then clamp the row in one
		// vector pass: Go's float min and max handle NaN and signed zeros
		// with branches, which made the clamp per element cost four
		// times the placement.
		if g.every2 {
			interleave2(row, s, g.xs[0])
		} else {
			for j, ox := range g.xs {
				row[ox] = s[j]
			}
			for i := range g.rebuild {
				r := &g.rebuild[i] // a pointer: copying the [3]int stalled on store forwarding
				row[r[0]] = (s[r[1]] + s[r[2]]) * 0.5
			}
		}
		if act.On {
			vec.Clamp(row, row, act.Lo, act.Hi)
		}
		act.ApplyFn(row)
	}
}

// interleave2 writes a row perforated at stride 2 whose computed outputs
// s sit at x0, x0+2, ... (x0 is 0 or 1): each skipped output between two
// computed ones is their mean, and a skipped output at either end copies
// its one neighbour. It is scatter's loop for the common case, one
// sequential pass.
func interleave2(row, s []float32, x0 int) {
	if x0 == 1 {
		row[0] = s[0]
		row = row[1:]
	}
	prev := s[0]
	for j := 1; j < len(s); j++ {
		cur := s[j]
		row[2*j-2] = prev
		row[2*j-1] = (prev + cur) * 0.5
		prev = cur
	}
	n := 2*len(s) - 2
	row[n] = prev
	if n+1 < len(row) {
		row[n+1] = prev
	}
}

// scatterRows is scatter along rows for all mg output channels at once:
// each computed or rebuilt row is placed in every channel's plane by one
// strided call (tmp holds npos values per channel, yg the mg planes).
func (g *convGeom) scatterRows(tmp, yg []float32, act engine.Activation) {
	cs := g.cs
	ow, po := cs.OW, cs.OH*cs.OW
	lo, hi := inf(-1), inf(1)
	if act.On {
		lo, hi = act.Lo, act.Hi
	}
	for j, oy := range g.ys {
		vec.ClampRows(yg[oy*ow:], po, tmp[j*ow:], g.npos, g.mg, ow, lo, hi)
	}
	for i := range g.rebuild {
		r := &g.rebuild[i] // a pointer: copying the [3]int stalled on store forwarding
		vec.AvgClampRows(yg[r[0]*ow:], po, tmp[r[1]*ow:], g.npos, tmp[r[2]*ow:], g.npos, g.mg, ow, lo, hi)
	}
	act.ApplyFn(yg[:g.mg*po]) // the function after the clamp
}

// clampCopy copies src to dst applying the activation.
func clampCopy(dst, src []float32, act engine.Activation) {
	if !act.On {
		copy(dst, src)
	} else {
		vec.Clamp(dst, src, act.Lo, act.Hi)
	}
	act.ApplyFn(dst)
}

// dummySource stands for an im2col source when sizing GEMM scratch.
type dummySource struct{}

func (dummySource) PackB([]float32, int, int, int, int, int) {}

// convKernel is an fp32 approximate convolution: im2col over the kept taps
// and positions, one smaller GEMM per group against weights packed once,
// then reconstruction of perforated outputs.
type convKernel struct {
	g        *convGeom
	prec     Precision
	packed   []*gemm.PackedA   // fp32 weights
	packed6  []*gemm.PackedA16 // fp16 weights
	packed8  []*qgemm.PackedA  // int8 weights, per output channel scales
	im2col   *engine.Im2col
	padSize  int
	colSize  int // bytes of the materialised im2col matrix of codes (int8)
	codeSize int // bytes of the group's (padded) input codes (int8)
	tmpSize  int
	gemmScr  int
	int8Scr  int
}

func newConvKernel(cs *engine.ConvSpec, k Knob) engine.Kernel {
	g := newConvGeom(cs, k)
	if g.cg == 1 && g.mg == 1 && k.Prec == FP32 {
		return newDepthwiseKernel(g)
	}
	taps := make([]engine.Tap, len(g.taps))
	for i, t := range g.taps {
		taps[i] = engine.Tap{C: t.c, KY: t.ky, KX: t.kx}
	}
	ck := &convKernel{g: g, prec: k.Prec, im2col: engine.NewIm2col(cs, taps, g.ys, g.xs)}
	ck.padSize = ck.im2col.PaddedSize()
	kk := len(g.taps)
	args := gemm.Args{M: g.mg, N: g.npos, K: kk, BSource: dummySource{}}
	for grp := 0; grp < cs.Group; grp++ {
		w := g.weights(grp)
		switch k.Prec {
		case FP32:
			ck.packed = append(ck.packed, gemm.PackA(nil, g.mg, kk, w, kk, false))
			args.PackedA = ck.packed[0]
		case FP16:
			ck.packed6 = append(ck.packed6, gemm.PackA16(nil, g.mg, kk, w, kk, false))
			args.PackedA16, args.Half = ck.packed6[0], true
		case INT8:
			ck.packed8 = append(ck.packed8, qgemm.PackWeightsA(w, g.mg, kk))
		}
	}
	if g.perforatedOutput() {
		ck.tmpSize = g.mg * g.npos
	}
	if k.Prec == INT8 {
		// Bytes: the input's codes, the im2col matrix of codes, then the
		// GEMM's scratch.
		ck.codeSize = cs.C / cs.Group * cs.H * cs.W
		if ck.padSize > 0 {
			ck.codeSize = ck.padSize
		}
		ck.colSize = kk * g.npos
		ck.int8Scr = qgemm.ScratchSize(&qgemm.Args{M: g.mg, N: g.npos, K: kk, PackedA: ck.packed8[0], XCodes: make([]uint8, kk*g.npos), XQuant: qgemm.Quant{Scale: 1}, C: make([]float32, g.mg*g.npos)})
	} else {
		ck.gemmScr = gemm.ScratchSize(&args)
	}
	return ck
}

// Run implements engine.Kernel.
func (k *convKernel) Run(x *engine.Exec, in, out []*engine.Tensor) {
	g := k.g
	cs := g.cs
	// k.gemmScr is one task's scratch; a parallel GEMM takes one per
	// thread at most. The int8 GEMM's blocking depends on its tasks.
	scratch := x.Floats(k.padSize + k.tmpSize + k.gemmScr*x.Threads())
	pad := scratch[:k.padSize]
	tmp := scratch[k.padSize : k.padSize+k.tmpSize]
	gs := scratch[k.padSize+k.tmpSize:]
	var codes, col, bs []byte
	if k.prec == INT8 {
		int8Scr := k.int8Scr
		if x.Threads() > 1 {
			sz := qgemm.Args{M: g.mg, N: g.npos, K: len(g.taps), PackedA: k.packed8[0]}
			x.QGemmArgs(&sz)
			int8Scr = max(int8Scr, qgemm.ScratchSize(&sz))
		}
		b := x.Bytes(k.codeSize + k.colSize + int8Scr)
		codes, col, bs = b[:k.codeSize], b[k.codeSize:k.codeSize+k.colSize], b[k.codeSize+k.colSize:]
	}
	planeIn, planeOut := cs.H*cs.W, cs.OH*cs.OW
	src, dst := in[0].F, out[0].F
	for b := 0; b < cs.Batch; b++ {
		for grp := 0; grp < cs.Group; grp++ {
			xg := src[(b*cs.C+grp*g.cg)*planeIn : (b*cs.C+(grp+1)*g.cg)*planeIn]
			yg := dst[(b*cs.M+grp*g.mg)*planeOut : (b*cs.M+(grp+1)*g.mg)*planeOut]
			// Without perforation the GEMM writes the output with bias and
			// activation; with it, the GEMM adds the bias (it commutes with
			// the averaging of neighbours) and the activation comes after
			// reconstruction.
			c, act := yg, cs.Act
			if g.perforatedOutput() {
				c, act = tmp, engine.Activation{}
			}
			var bias []float32
			if cs.Bias != nil {
				bias = cs.Bias[grp*g.mg : (grp+1)*g.mg]
			}
			if k.prec == INT8 {
				// Quantize the input once (its range covers every
				// element of the im2col matrix, and 0 for the border),
				// then gather the matrix as bytes.
				xp := k.im2col.Padded(xg, pad)
				q := qgemm.QuantFor(qgemm.MinMax(xp))
				qgemm.QuantizeActivations(codes, xp, q)
				k.im2col.MatrixCodes(codes, col)
				qa := qgemm.Args{M: g.mg, N: g.npos, K: len(g.taps), PackedA: k.packed8[grp], XCodes: col, XQuant: q, C: c, Scratch: bs,
					Bias: bias, Clamp: act.On, Lo: act.Lo, Hi: act.Hi}
				if bias != nil {
					qa.BiasMode = qgemm.BiasPerRow
				}
				x.QGemmArgs(&qa)
				qgemm.Gemm(&qa)
			} else {
				args := gemm.Args{M: g.mg, N: g.npos, K: len(g.taps), BSource: k.im2col.Source(x, xg, pad), Scratch: gs, C: c,
					Bias: bias, Clamp: act.On, Lo: act.Lo, Hi: act.Hi}
				if bias != nil {
					args.BiasMode = gemm.BiasPerRow
				}
				if k.prec == FP16 {
					args.PackedA16, args.Half = k.packed6[grp], true
				} else {
					args.PackedA = k.packed[grp]
				}
				x.GemmArgs(&args)
				gemm.Sgemm(&args)
			}
			if !g.perforatedOutput() {
				act.ApplyFn(yg) // the function after the GEMM's clamp
				continue
			}
			if g.perfY && cs.OW < 16 {
				// Short rows: one call per row for every channel at once.
				// Longer rows go plane by plane below, which keeps each
				// plane's rows in cache (on kws.onnx's conv1, 33-wide rows:
				// 610-640 us against 715-825 us all channels at once).
				g.scatterRows(tmp, yg, cs.Act)
				continue
			}
			for o := 0; o < g.mg; o++ {
				g.scatter(tmp[o*g.npos:(o+1)*g.npos], yg[o*planeOut:(o+1)*planeOut], cs.Act)
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
	// The stride-1 path (every column computed): the kept taps' offsets
	// in a zero-bordered plane, and the computed rows as progressions.
	fast bool
	offs []int32
	runs []rowRun
	// Short rows without perforation: every channel flat over its
	// bordered plane, groups of channels per call, as the engine's exact
	// kernel does.
	flat *engine.DepthwisePlanes
}

// rowRun is n computed output rows y0, y0+step, ...
type rowRun struct{ y0, n, step int }

func inf(sign int) float32 { return float32(math.Inf(sign)) }

func newDepthwiseKernel(g *convGeom) *depthwiseKernel {
	k := &depthwiseKernel{g: g, w: g.weights0()}
	cs := g.cs
	if cs.SH != 1 || cs.SW != 1 || !g.fullX {
		return k
	}
	k.fast = true
	wp := cs.W + cs.PadL + cs.PadR
	for _, t := range g.taps {
		k.offs = append(k.offs, int32(t.ky*cs.DH*wp+t.kx*cs.DW))
	}
	if !g.perforatedOutput() && engine.FlatDepthwise(cs.OW) {
		k.flat = engine.NewDepthwisePlanes(cs.H, cs.W, cs.PadT, cs.PadL, cs.PadB, cs.PadR, cs.OH, cs.OW, cs.M)
	}
	// One progression if the rows are evenly spaced (every row, or
	// perf-row at stride 2), else runs of consecutive rows.
	ys := g.ys
	if len(ys) == 1 || !g.perfY || g.knob.Stride == 2 {
		step := 1
		if len(ys) > 1 {
			step = ys[1] - ys[0]
		}
		k.runs = []rowRun{{ys[0], len(ys), step}}
		return k
	}
	for j := 0; j < len(ys); {
		n := 1
		for j+n < len(ys) && ys[j+n] == ys[j]+n {
			n++
		}
		k.runs = append(k.runs, rowRun{ys[j], n, 1})
		j += n
	}
	return k
}

// runFast computes the kept taps at the kept rows (every column) over a
// zero-bordered copy of each plane, as the engine's exact depthwise
// kernel does, then rebuilds the skipped rows.
func (k *depthwiseKernel) runFast(x *engine.Exec, in, out []*engine.Tensor) {
	g := k.g
	cs := g.cs
	nt := len(g.taps)
	planeIn, planeOut := cs.H*cs.W, cs.OH*cs.OW
	if k.flat != nil {
		scr := x.Floats(k.flat.ScratchSize())
		for b := 0; b < cs.Batch; b++ {
			o := out[0].F[b*cs.M*planeOut : (b+1)*cs.M*planeOut]
			k.flat.Run(scr, in[0].F[b*cs.C*planeIn:(b+1)*cs.C*planeIn], o, k.offs, k.w, cs.Bias, cs.Act.On, cs.Act.Lo, cs.Act.Hi)
			cs.Act.ApplyFn(o) // the function after the clamp
		}
		return
	}
	hp, wp := cs.H+cs.PadT+cs.PadB, cs.W+cs.PadL+cs.PadR
	pad := x.Floats(hp * wp)
	clear(pad)
	for b := 0; b < cs.Batch; b++ {
		for c := 0; c < cs.M; c++ {
			src := in[0].F[(b*cs.C+c)*planeIn : (b*cs.C+c+1)*planeIn]
			plane := out[0].F[(b*cs.M+c)*planeOut : (b*cs.M+c+1)*planeOut]
			vec.CopyRows(pad[cs.PadT*wp+cs.PadL:], wp, src, cs.W, cs.H, cs.W)
			w := k.w[c*nt : (c+1)*nt]
			bias := float32(0)
			if cs.Bias != nil {
				bias = cs.Bias[c]
			}
			// Computed rows go straight to their place in the plane;
			// skipped ones are then rebuilt from them (bias included,
			// before the activation), and the plane is activated once.
			ow := cs.OW
			for _, r := range k.runs {
				vec.TapSumRows(plane[r.y0*ow:], r.step*ow, pad[r.y0*wp:], r.step*wp, r.n, ow, k.offs, w, bias)
			}
			for i := range g.rebuild {
				r := &g.rebuild[i] // a pointer: copying the [3]int stalled on store forwarding
				a, b := g.ys[r[1]], g.ys[r[2]]
				vec.AvgClamp(plane[r[0]*ow:(r[0]+1)*ow], plane[a*ow:(a+1)*ow], plane[b*ow:(b+1)*ow], inf(-1), inf(1))
			}
			clampCopy(plane, plane, cs.Act)
		}
	}
}

// Run implements engine.Kernel.
func (k *depthwiseKernel) Run(x *engine.Exec, in, out []*engine.Tensor) {
	if k.fast {
		k.runFast(x, in, out)
		return
	}
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
			bias := float32(0)
			if cs.Bias != nil {
				bias = cs.Bias[c]
			}
			d := tmp
			if !g.perforatedOutput() {
				d = plane
			}
			i := 0
			for _, oy := range g.ys {
				for _, ox := range g.xs {
					s := bias
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
				g.scatter(tmp, plane, cs.Act)
			} else {
				clampCopy(plane, plane, cs.Act)
			}
		}
	}
}
