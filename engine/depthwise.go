package engine

import (
	"math"
	"sync"

	"github.com/kagen-ai/kagen/internal/vec"
)

// depthwiseKernel runs a convolution with one input and one output channel
// per group directly, without im2col. Its work is a loop over channel
// ranges (runRange), split over the session's threads.
type depthwiseKernel struct {
	p    *convParams
	w    []float32
	bias []float32
	act  activation
	// The clamp done inside the kernel's loops: the activation when it is
	// a plain clamp; otherwise none (-Inf, +Inf) and act.applySlice on
	// the finished outputs.
	clamp  bool
	lo, hi float32
	offs   []int32          // stride 1 and 2: each tap's offset in the zero-bordered plane
	flat   *DepthwisePlanes // stride 1 with short rows (see FlatDepthwise), stride 2
	same3  []uint16         // a 3x3 "same" convolution straight from its planes: vec.Same3Masks (see useSame3)
	zeros  []float32        // same3's bias when the convolution has none
	task   int              // scratch floats of one task
	tasks  int              // the most tasks a Run splits into (the model's threads)
	jobs   sync.Pool        // *depthwiseJob, bound once each
}

// depthwiseJob is one parallel Run: task t computes a range of channels
// with its own part of the scratch. Jobs are pooled so that steady-state
// runs do not allocate; run is bound once per job.
type depthwiseJob struct {
	k       *depthwiseKernel
	x       *Exec
	in, out []*Tensor
	tasks   int
	run     func(task int)
}

func (j *depthwiseJob) do(t int) {
	m := j.k.p.m
	lo, hi := t*m/j.tasks, (t+1)*m/j.tasks
	j.k.runRange(j.x, j.in, j.out, lo, hi, j.x.scratch[t*j.k.task:(t+1)*j.k.task])
}

// depthwiseGroupFloats bounds the bordered planes of one group of a flat
// depthwise convolution (32 KB of floats, and as many again for their
// outputs): small enough to stay in cache between the copy in, the tap
// sums and the copy out, large enough that a 6x5 map's 160 channels take
// two calls, not 160.
const depthwiseGroupFloats = 8192

// depthwiseSerialMACs is the work below which a depthwise convolution runs
// on one thread (tens of microseconds of work at most: a VWW-sized layer,
// where handing half to another thread is not worth its wake-up).
const depthwiseSerialMACs = 1 << 16

// isClamp reports whether the activation is at most a clamp to [lo, hi]
// (what the depthwise kernels apply inside their loops): true unless it
// has more to it than on, lo and hi.
func (a activation) isClamp() bool {
	b := a
	b.on, b.lo, b.hi, b.from = false, 0, 0, ""
	return b == activation{}
}

// newDepthwiseKernel builds the depthwise kernel of a convolution with
// one input and one output channel per group.
func newDepthwiseKernel(n *node, c *compiler, bias []float32) *depthwiseKernel {
	p := n.params.(*convParams)
	k := &depthwiseKernel{p: p, w: n.in[1].constant.F, bias: bias, act: n.act}
	k.lo, k.hi = float32(math.Inf(-1)), float32(math.Inf(1))
	if n.act.on && n.act.isClamp() {
		k.clamp, k.lo, k.hi = true, n.act.lo, n.act.hi
	}
	w := p.window
	if oneRow(w) && w.sw == 2 && w.sh == 1 {
		// A 1-D convolution (one row, no vertical taps or pads) has one
		// output row at any row stride: run it as stride 2 both ways,
		// on the phase-split planes, not tap by tap (runGeneral).
		w2 := *w
		w2.sh = 2
		w = &w2
	}
	switch {
	case useSame3(w):
		k.same3 = vec.Same3Masks(w.ih, w.iw)
		if bias == nil {
			k.zeros = make([]float32, p.m)
		}
	case w.sh == 1 && w.sw == 1:
		wp := w.iw + w.padL + w.padR
		if FlatDepthwise(w.ow) || oneRow(w) {
			k.flat = newDepthwisePlanesTight(w.ih, w.iw, w.padT, w.padL, w.padB, w.padR, w.oh, w.ow, p.m)
			wp = k.flat.row
			if w.kh == w.kw && (w.kh == 3 || w.kh == 5) && w.dh == 1 && w.dw == 1 {
				k.flat.k = w.kh
			}
		}
		for ky := 0; ky < w.kh; ky++ {
			for kx := 0; kx < w.kw; kx++ {
				k.offs = append(k.offs, int32(ky*w.dh*wp+kx*w.dw))
			}
		}
	case w.sh == 2 && w.sw == 2:
		k.flat = newDepthwisePlanes2(w, p.m)
		k.offs = k.flat.offsets2(w.kh, w.kw, w.dh, w.dw)
	}
	switch {
	case k.same3 != nil:
	case k.flat != nil:
		k.task = k.flat.ScratchSize()
	case w.sh == 1 && w.sw == 1:
		k.task = (w.ih + w.padT + w.padB) * (w.iw + w.padL + w.padR)
	}
	k.tasks = max(1, c.opts.Threads)
	if p.m*w.oh*w.ow*w.kh*w.kw < depthwiseSerialMACs {
		k.tasks = 1
	}
	k.jobs.New = func() any {
		j := &depthwiseJob{k: k}
		j.run = j.do
		return j
	}
	return k
}

// oneRow reports whether w is a 1-D convolution's window: one input and
// one output row, one tap and no pads vertically. Its channels' rows are
// best computed flat, several channels a call (DepthwisePlanes), not a
// call per channel for a few outputs each (runRows: a MobileNet's
// 192-channel 1-D maps of 8-16 steps ran at 0.7-3.3 GMAC/s).
func oneRow(w *window) bool {
	return w.ih == 1 && w.oh == 1 && w.kh == 1 && w.padT == 0 && w.padB == 0
}

// ScratchSize implements scratchUser: each task's bordered planes.
func (k *depthwiseKernel) ScratchSize() int { return k.tasks * k.task }

// Run implements Kernel: the channels split in equal ranges over the
// session's threads.
func (k *depthwiseKernel) Run(x *Exec, in, out []*Tensor) {
	tasks := min(k.tasks, x.Threads(), k.p.m)
	if tasks <= 1 {
		k.runRange(x, in, out, 0, k.p.m, x.scratch[:k.task])
		return
	}
	j := k.jobs.Get().(*depthwiseJob)
	j.x, j.in, j.out, j.tasks = x, in, out, tasks
	x.Parallel(tasks, j.run)
	j.x, j.in, j.out = nil, nil, nil
	k.jobs.Put(j)
}

// runRange computes output channels [lo, hi) of every batch item, with
// scratch (k.task floats) for the bordered planes.
func (k *depthwiseKernel) runRange(x *Exec, in, out []*Tensor, lo, hi int, scratch []float32) {
	if lo >= hi {
		return
	}
	p, w := k.p, k.p.window
	planeIn, planeOut := w.ih*w.iw, w.oh*w.ow
	kk := w.kh * w.kw
	switch {
	case k.same3 != nil:
		bias := k.bias
		if bias == nil {
			bias = k.zeros
		}
		for b := 0; b < w.batch; b++ {
			o := out[0].F[(b*p.m+lo)*planeOut : (b*p.m+hi)*planeOut]
			vec.DepthwiseSame3(o, in[0].F[(b*w.c+lo)*planeIn:(b*w.c+hi)*planeIn], hi-lo, w.ih, w.iw, k.same3, k.w[lo*kk:hi*kk], bias[lo:hi], k.lo, k.hi)
			if !k.clamp {
				k.act.applySlice(o)
			}
		}
	case k.flat != nil:
		var bias []float32
		if k.bias != nil {
			bias = k.bias[lo:hi]
		}
		for b := 0; b < w.batch; b++ {
			o := out[0].F[(b*p.m+lo)*planeOut : (b*p.m+hi)*planeOut]
			k.flat.Run(scratch, in[0].F[(b*w.c+lo)*planeIn:(b*w.c+hi)*planeIn], o, k.offs, k.w[lo*kk:hi*kk], bias, k.clamp, k.lo, k.hi)
			if !k.clamp {
				k.act.applySlice(o)
			}
		}
	case w.sh == 1 && w.sw == 1:
		k.runRows(in, out, lo, hi, scratch)
	default:
		k.runGeneral(in, out, lo, hi)
	}
}

// useSame3 reports whether a depthwise convolution runs as
// vec.DepthwiseSame3, straight from its planes with the taps outside them
// masked off, where the other kernels first copy each plane into a
// zero-bordered one and (flat) copy the outputs out of a wider grid:
// stride 1, 3x3, dilation 1, one pixel of padding on every side, on a CPU
// with AVX-512. On kws-ds's 160 channels of 25x20, 12x10 and 6x5 the
// copies cost as much as the tap sums.
func useSame3(w *window) bool {
	return vec.HasDepthwiseSame3() && w.nd == 2 && w.sh == 1 && w.sw == 1 && w.kh == 3 && w.kw == 3 && w.dh == 1 && w.dw == 1 &&
		w.padT == 1 && w.padL == 1 && w.padB == 1 && w.padR == 1
}

// FlatDepthwise reports whether a stride-1 depthwise convolution with
// output rows of ow computes them as one flat run over the bordered plane
// (see DepthwisePlanes): when rows are short, or not a whole number of vectors
// (each row would end in a vector overlapping the one before, and a call
// per channel; the flat run computes the border's few extra columns
// instead: kws-ds's 160 channels of 25x20 took 103-110 us by rows, 87 us
// flat).
func FlatDepthwise(ow int) bool { return ow < 16 || ow%8 != 0 }

// runRows computes a stride-1 depthwise convolution plane by plane:
// the plane is copied into a zero-bordered one (hp x wp), where output
// (oy, ox) reads (oy+ky*dh, ox+kx*dw); every output row is then the same
// sum of taps at fixed offsets from its row of the bordered plane
// (vec.TapSumRows: eight outputs per vector, every tap accumulated in
// registers, one call per plane). Short rows go to DepthwisePlanes
// (see FlatDepthwise).
func (k *depthwiseKernel) runRows(in, out []*Tensor, lo, hi int, scratch []float32) {
	p, w := k.p, k.p.window
	src, dst := in[0].F, out[0].F
	hp, wp := w.ih+w.padT+w.padB, w.iw+w.padL+w.padR
	pad := scratch[:hp*wp]
	planeIn, planeOut := w.ih*w.iw, w.oh*w.ow
	kk := w.kh * w.kw
	clear(pad)
	for b := 0; b < w.batch; b++ {
		for c := lo; c < hi; c++ {
			plane := src[(b*w.c+c)*planeIn : (b*w.c+c+1)*planeIn]
			vec.CopyRows(pad[w.padT*wp+w.padL:], wp, plane, w.iw, w.ih, w.iw)
			bias := float32(0)
			if k.bias != nil {
				bias = k.bias[c]
			}
			o := dst[(b*p.m+c)*planeOut : (b*p.m+c+1)*planeOut]
			vec.TapSumRows(o, w.ow, pad, wp, w.oh, w.ow, k.offs, k.w[c*kk:(c+1)*kk], bias)
			if k.clamp {
				vec.Clamp(o, o, k.lo, k.hi)
			} else {
				k.act.applySlice(o)
			}
		}
	}
}

// DepthwisePlanes computes stride-1 depthwise convolutions whose output
// rows are short (see FlatDepthwise: a DS-CNN's 25x20 to 6x5 maps), where
// row-by-row work is all call overhead and scalar tails. Each channel's
// outputs are computed on its zero-bordered plane's grid, (oy, ox) at
// oy*wp+ox, as one run (the columns past ow are computed and dropped); a
// group of channels' bordered planes are laid end to end (at most
// depthwiseGroupFloats, so they stay in cache), copied in with one
// vec.CopyPlanesSpill call, computed with one vec.TapSumPlanes call (each
// channel's taps and bias, clamped), and ow of every wp outputs copied out
// with another. The exact kernel and the approximate one (which computes
// only its kept taps) share it.
//
// The engine's stride-2 convolutions run on it too: each bordered plane
// is stored as its four phases (even and odd rows times even and odd
// columns, copied in with vec.Deinterleave), where padded
// element (2a+py, 2b+px) is at phase (py, px), row a, column b. Output
// (oy, ox) then reads tap (ky, kx) from phase (ky%2, kx%2) at row
// oy+ky/2, column ox+kx/2: the same sum of taps at fixed offsets from
// oy*pw+ox (pw the phase rows' stride), computed flat as at stride 1
// (about ow/pw of it kept), where a strided loop did a multiply-add per
// load.
type DepthwisePlanes struct {
	ih, iw, padT, padL int
	hp, wp, oh, ow     int
	group              int       // channels per group
	zeros              []float32 // the bias of a convolution without one
	stride             int       // 1, or 2: planes stored as phases
	hq, pw             int       // stride 2: a phase's rows, and its row stride
	plane, row         int       // floats of a channel's bordered plane, and of an output grid row
	k                  int       // a k x k kernel at stride 1, dilation 1: vec.DepthwiseGrid5 or DepthwiseFlat (0: TapSumPlanes)
}

// NewDepthwisePlanes sizes the groups for channels planes of ih x iw,
// padded by padT, padL, padB, padR, giving oh x ow outputs.
func NewDepthwisePlanes(ih, iw, padT, padL, padB, padR, oh, ow, channels int) *DepthwisePlanes {
	d := &DepthwisePlanes{ih: ih, iw: iw, padT: padT, padL: padL, hp: ih + padT + padB, wp: iw + padL + padR, oh: oh, ow: ow, stride: 1}
	d.plane, d.row = d.hp*d.wp, d.wp
	d.size(channels)
	return d
}

// newDepthwisePlanesTight is NewDepthwisePlanes with the bordered rows
// overlapping: each row's right border is the next one's left border
// (rows of iw+max(padL, padR), where NewDepthwisePlanes' are
// iw+padL+padR), so fewer columns are computed and dropped (a 5x5
// convolution over 7x7 maps computes 9 columns a row, not 11). Its taps'
// offsets use row stride d.row.
func newDepthwisePlanesTight(ih, iw, padT, padL, padB, padR, oh, ow, channels int) *DepthwisePlanes {
	d := NewDepthwisePlanes(ih, iw, padT, padL, padB, padR, oh, ow, channels)
	d.row = iw + max(padL, padR)
	// The last row reads min(padL, padR) floats past its end.
	d.plane = d.hp*d.row + min(padL, padR)
	d.size(channels)
	return d
}

// newDepthwisePlanes2 is NewDepthwisePlanes for the stride-2 convolution
// of w: planes stored as phases (see DepthwisePlanes), whose rows overlap
// as newDepthwisePlanesTight's do: a phase row is as short as its data
// and the columns read past it allow, the next row's left border serving
// as its right one.
func newDepthwisePlanes2(w *window, channels int) *DepthwisePlanes {
	d := &DepthwisePlanes{ih: w.ih, iw: w.iw, padT: w.padT, padL: w.padL, hp: w.ih + w.padT + w.padB, wp: w.iw + w.padL + w.padR, oh: w.oh, ow: w.ow, stride: 2}
	d.hq = (d.hp + 1) / 2
	p := 1
	for px := 0; px < 2; px++ {
		// Phase px holds padded columns 2b+px: leftZ border columns, data
		// up to column end; outputs read columns up to last.
		leftZ := 0
		if w.padL > px {
			leftZ = (w.padL - px + 1) / 2
		}
		end := (w.padL + w.iw - px + 1) / 2
		p = max(p, end)
		for kx := 0; kx < w.kw; kx++ {
			if x := kx * w.dw; x%2 == px {
				last := w.ow - 1 + x/2
				p = max(p, last+1-leftZ)
			}
		}
	}
	d.pw = p
	// A phase: hq rows of pw, and one more whose left border the last
	// row reads on into.
	d.plane, d.row = 4*(d.hq+1)*d.pw, d.pw
	d.size(channels)
	return d
}

func (d *DepthwisePlanes) size(channels int) {
	d.group = min(channels, max(1, depthwiseGroupFloats/d.plane))
	d.zeros = make([]float32, channels)
}

// offsets2 returns the offsets of a stride-2 convolution's kh x kw taps
// (dilations dh, dw) in a phase-split plane.
func (d *DepthwisePlanes) offsets2(kh, kw, dh, dw int) []int32 {
	var offs []int32
	q := d.plane / 4
	for ky := 0; ky < kh; ky++ {
		for kx := 0; kx < kw; kx++ {
			y, x := ky*dh, kx*dw
			offs = append(offs, int32(((y%2)*2+x%2)*q+(y/2)*d.pw+x/2))
		}
	}
	return offs
}

// ScratchSize is the scratch Run needs, in floats: a group's bordered
// planes and their flat outputs.
func (d *DepthwisePlanes) ScratchSize() int { return 2 * (d.group*d.plane + depthwiseSlack) }

// depthwiseSlack pads the bordered planes and the flat outputs of a group
// for vec.DepthwiseGrid5's whole-vector rows.
const depthwiseSlack = 16

// Run convolves the channels of src (one batch item, len(src)/(ih*iw)
// planes) into dst. offs are the taps' offsets in a bordered plane (row
// stride wp for NewDepthwisePlanes' layout; the engine's own layouts have
// their own, see offsets2), w holds len(offs) weights per channel, bias one per channel
// (nil: none); with clamp the outputs are clamped to [lo, hi]. scratch
// holds at least ScratchSize floats.
func (d *DepthwisePlanes) Run(scratch, src, dst []float32, offs []int32, w, bias []float32, clamp bool, lo, hi float32) {
	plane := d.plane
	span := d.group*plane + depthwiseSlack
	pad := scratch[:span]
	flat := scratch[span : 2*span]
	n := (d.oh-1)*d.row + d.ow
	planeIn, planeOut := d.ih*d.iw, d.oh*d.ow
	channels := len(src) / planeIn
	kk := len(offs)
	if bias == nil {
		bias = d.zeros
	}
	if !clamp {
		lo, hi = float32(math.Inf(-1)), float32(math.Inf(1))
	}
	clear(pad) // the borders; every group overwrites the same interiors
	for c0 := 0; c0 < channels; c0 += d.group {
		g := min(d.group, channels-c0)
		i, o := c0*planeIn, c0*planeOut
		if d.stride == 2 {
			d.copyPhases(pad, src[i:i+g*planeIn], g)
		} else {
			vec.CopyPlanesSpill(pad[d.padT*d.row+d.padL:], d.row, plane, src[i:i+g*planeIn], d.iw, planeIn, g, d.ih, d.iw)
		}
		switch {
		case d.k == 5:
			vec.DepthwiseGrid5(flat, pad, plane, g, d.oh, d.ow, d.row, w[c0*kk:(c0+g)*kk], bias[c0:c0+g], lo, hi)
		case d.k > 0:
			vec.DepthwiseFlat(flat, pad, plane, g, n, d.row, d.k, w[c0*kk:(c0+g)*kk], bias[c0:c0+g], lo, hi)
		default:
			vec.TapSumPlanes(flat, pad, plane, g, n, offs, w[c0*kk:(c0+g)*kk], bias[c0:c0+g], lo, hi)
		}
		vec.CopyPlanesSpill(dst[o:o+g*planeOut], d.ow, planeOut, flat, d.row, plane, g, d.oh, d.ow)
	}
}

// copyPhases copies g input planes into the phases of their bordered
// planes in pad: the even and the odd input rows of the g planes each in
// one vec.DeinterleavePlanes call, which sends even and odd columns to
// their phases.
func (d *DepthwisePlanes) copyPhases(pad, src []float32, g int) {
	q := d.plane / 4 // a phase
	// Input column ix is padded column ix+padL: the even input columns
	// go to phase padL%2 from column padL/2, the odd ones to the other
	// from (padL+1)/2.
	pxE, pxO := d.padL%2, 1-d.padL%2
	cE, cO := d.padL/2, (d.padL+1)/2
	for r := 0; r < 2 && r < d.ih; r++ {
		y := r + d.padT
		base := (y%2)*2*q + (y/2)*d.pw
		vec.DeinterleavePlanes(pad[base+pxE*q+cE:], pad[base+pxO*q+cO:], d.pw, d.plane, src[r*d.iw:], 2*d.iw, d.ih*d.iw, g, (d.ih-r+1)/2, d.iw)
	}
}

// runGeneral computes channels [lo, hi) of any depthwise convolution
// (strides other than 1 and 2): tap by tap over the outputs whose input is
// inside the plane.
func (k *depthwiseKernel) runGeneral(in, out []*Tensor, lo, hi int) {
	p, w := k.p, k.p.window
	src, dst := in[0].F, out[0].F
	planeIn, planeOut := w.ih*w.iw, w.oh*w.ow
	kk := w.kh * w.kw
	for b := 0; b < w.batch; b++ {
		for c := lo; c < hi; c++ {
			plane := src[(b*w.c+c)*planeIn : (b*w.c+c+1)*planeIn]
			o := dst[(b*p.m+c)*planeOut : (b*p.m+c+1)*planeOut]
			bias := float32(0)
			if k.bias != nil {
				bias = k.bias[c]
			}
			for i := range o {
				o[i] = bias
			}
			wc := k.w[c*kk : (c+1)*kk]
			for kx := 0; kx < w.kw; kx++ {
				x0, x1 := validRange(w.ow, w.sw, kx*w.dw-w.padL, w.iw)
				if x0 >= x1 {
					continue
				}
				for oy := 0; oy < w.oh; oy++ {
					orow := o[oy*w.ow+x0 : oy*w.ow+x1]
					for ky := 0; ky < w.kh; ky++ {
						iy := oy*w.sh - w.padT + ky*w.dh
						if iy < 0 || iy >= w.ih {
							continue
						}
						wv := wc[ky*w.kw+kx]
						ix := x0*w.sw + kx*w.dw - w.padL
						srow := plane[iy*w.iw:]
						if w.sw == 1 {
							s := srow[ix : ix+len(orow)]
							for i := range orow {
								orow[i] += wv * s[i]
							}
							continue
						}
						for i := range orow {
							orow[i] += wv * srow[ix]
							ix += w.sw
						}
					}
				}
			}
			if k.clamp {
				vec.Clamp(o, o, k.lo, k.hi)
			} else {
				k.act.applySlice(o)
			}
		}
	}
}
