package engine

import (
	"math"

	"github.com/kagen-ai/kagen/internal/vec"
)

// depthwiseKernel runs a convolution with one input and one output channel
// per group directly, without im2col.
type depthwiseKernel struct {
	p    *convParams
	w    []float32
	bias []float32
	act  activation
	offs []int32          // stride 1: each tap's offset in the zero-bordered plane
	flat *DepthwisePlanes // stride 1 with short rows (see FlatDepthwise)
}

// depthwiseGroupFloats bounds the bordered planes of one group of a flat
// depthwise convolution (32 KB of floats, and as many again for their
// outputs): small enough to stay in cache between the copy in, the tap
// sums and the copy out, large enough that a 6x5 map's 160 channels take
// two calls, not 160.
const depthwiseGroupFloats = 8192

// newDepthwiseKernel builds the depthwise kernel of a convolution with
// one input and one output channel per group.
func newDepthwiseKernel(n *node, c *compiler, bias []float32) *depthwiseKernel {
	p := n.params.(*convParams)
	k := &depthwiseKernel{p: p, w: n.in[1].constant.F, bias: bias, act: n.act}
	if w := p.window; w.sh == 1 && w.sw == 1 {
		wp := w.iw + w.padL + w.padR
		for ky := 0; ky < w.kh; ky++ {
			for kx := 0; kx < w.kw; kx++ {
				k.offs = append(k.offs, int32(ky*w.dh*wp+kx*w.dw))
			}
		}
		if FlatDepthwise(w.ow) {
			k.flat = NewDepthwisePlanes(w.ih, w.iw, w.padT, w.padL, w.padB, w.padR, w.oh, w.ow, p.m)
		}
	}
	return k
}

// ScratchSize implements scratchUser: a stride-1 depthwise convolution
// keeps a zero-bordered input plane.
func (k *depthwiseKernel) ScratchSize() int {
	w := k.p.window
	if w.sh != 1 || w.sw != 1 {
		return 0
	}
	hp, wp := w.ih+w.padT+w.padB, w.iw+w.padL+w.padR
	if k.flat != nil {
		return k.flat.ScratchSize()
	}
	return hp * wp
}

// FlatDepthwise reports whether a stride-1 depthwise convolution with
// output rows of ow computes them as one flat run over the bordered plane
// (see DepthwisePlanes): when rows are short, or not a whole number of vectors
// (each row would end in a vector overlapping the one before, and a call
// per channel; the flat run computes the border's few extra columns
// instead: kws-ds's 160 channels of 25x20 took 103-110 us by rows, 87 us
// flat).
func FlatDepthwise(ow int) bool { return ow < 16 || ow%8 != 0 }

// runStride1 computes a stride-1 depthwise convolution plane by plane:
// the plane is copied into a zero-bordered one (hp x wp), where output
// (oy, ox) reads (oy+ky*dh, ox+kx*dw); every output row is then the same
// sum of taps at fixed offsets from its row of the bordered plane
// (vec.TapSumRows: eight outputs per vector, every tap accumulated in
// registers, one call per plane). Short rows go to DepthwisePlanes.
func (k *depthwiseKernel) runStride1(x *Exec, in, out []*Tensor) {
	if k.flat != nil {
		p, w := k.p, k.p.window
		planeIn, planeOut := w.ih*w.iw, w.oh*w.ow
		for b := 0; b < w.batch; b++ {
			k.flat.Run(x.scratch, in[0].F[b*w.c*planeIn:(b+1)*w.c*planeIn], out[0].F[b*p.m*planeOut:(b+1)*p.m*planeOut], k.offs, k.w, k.bias, k.act.on, k.act.lo, k.act.hi)
		}
		return
	}
	p, w := k.p, k.p.window
	src, dst := in[0].F, out[0].F
	hp, wp := w.ih+w.padT+w.padB, w.iw+w.padL+w.padR
	pad := x.scratch[:hp*wp]
	planeIn, planeOut := w.ih*w.iw, w.oh*w.ow
	kk := w.kh * w.kw
	clear(pad)
	for b := 0; b < w.batch; b++ {
		for c := 0; c < p.m; c++ {
			plane := src[(b*w.c+c)*planeIn : (b*w.c+c+1)*planeIn]
			vec.CopyRows(pad[w.padT*wp+w.padL:], wp, plane, w.iw, w.ih, w.iw)
			bias := float32(0)
			if k.bias != nil {
				bias = k.bias[c]
			}
			o := dst[(b*p.m+c)*planeOut : (b*p.m+c+1)*planeOut]
			vec.TapSumRows(o, w.ow, pad, wp, w.oh, w.ow, k.offs, k.w[c*kk:(c+1)*kk], bias)
			if k.act.on {
				vec.Clamp(o, o, k.act.lo, k.act.hi)
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
type DepthwisePlanes struct {
	ih, iw, padT, padL int
	hp, wp, oh, ow     int
	group              int       // channels per group
	zeros              []float32 // the bias of a convolution without one
}

// NewDepthwisePlanes sizes the groups for channels planes of ih x iw,
// padded by padT, padL, padB, padR, giving oh x ow outputs.
func NewDepthwisePlanes(ih, iw, padT, padL, padB, padR, oh, ow, channels int) *DepthwisePlanes {
	d := &DepthwisePlanes{ih: ih, iw: iw, padT: padT, padL: padL, hp: ih + padT + padB, wp: iw + padL + padR, oh: oh, ow: ow}
	d.group = min(channels, max(1, depthwiseGroupFloats/(d.hp*d.wp)))
	d.zeros = make([]float32, channels)
	return d
}

// ScratchSize is the scratch Run needs, in floats: a group's bordered
// planes and their flat outputs.
func (d *DepthwisePlanes) ScratchSize() int { return 2 * d.group * d.hp * d.wp }

// Run convolves the channels of src (one batch item, len(src)/(ih*iw)
// planes) into dst. offs are the taps' offsets in a bordered plane (row
// stride wp), w holds len(offs) weights per channel, bias one per channel
// (nil: none); with clamp the outputs are clamped to [lo, hi]. scratch
// holds at least ScratchSize floats.
func (d *DepthwisePlanes) Run(scratch, src, dst []float32, offs []int32, w, bias []float32, clamp bool, lo, hi float32) {
	plane := d.hp * d.wp
	pad := scratch[:d.group*plane]
	flat := scratch[d.group*plane : 2*d.group*plane]
	n := (d.oh-1)*d.wp + d.ow
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
		vec.CopyPlanesSpill(pad[d.padT*d.wp+d.padL:], d.wp, plane, src[i:i+g*planeIn], d.iw, planeIn, g, d.ih, d.iw)
		vec.TapSumPlanes(flat, pad, plane, g, n, offs, w[c0*kk:(c0+g)*kk], bias[c0:c0+g], lo, hi)
		vec.CopyPlanesSpill(dst[o:o+g*planeOut], d.ow, planeOut, flat, d.wp, plane, g, d.oh, d.ow)
	}
}

// Run implements Kernel.
func (k *depthwiseKernel) Run(x *Exec, in, out []*Tensor) {
	p, w := k.p, k.p.window
	if w.sh == 1 && w.sw == 1 {
		k.runStride1(x, in, out)
		return
	}
	src, dst := in[0].F, out[0].F
	planeIn, planeOut := w.ih*w.iw, w.oh*w.ow
	kk := w.kh * w.kw
	for b := 0; b < w.batch; b++ {
		for c := 0; c < p.m; c++ {
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
			if k.act.on {
				for i, v := range o {
					o[i] = k.act.apply(v)
				}
			}
		}
	}
}
