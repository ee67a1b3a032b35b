package engine

import "math"

// poolKernel is the float32 fast path of MaxPool and AveragePool: window
// bounds are clipped once per output instead of tested per tap.
type poolKernel struct{ p *poolParams }

func compilePool(n *node, _ *compiler) (Kernel, error) {
	p := n.params.(*poolParams)
	if p.indices || !n.in[0].dtype.IsFloat() {
		return nil, nil
	}
	return poolKernel{p}, nil
}

// Run implements Kernel.
func (k poolKernel) Run(_ *Exec, in, out []*Tensor) {
	p := k.p
	w := p.window
	x, y := in[0].F, out[0].F
	planeIn, planeOut := w.ih*w.iw, w.oh*w.ow
	negInf := float32(math.Inf(-1))
	for b := 0; b < w.batch*w.c; b++ {
		src := x[b*planeIn : (b+1)*planeIn]
		dst := y[b*planeOut : (b+1)*planeOut]
		for oy := 0; oy < w.oh; oy++ {
			y0 := oy*w.sh - w.padT
			ky0, ky1 := tapRange(y0, w.dh, w.kh, w.ih)
			for ox := 0; ox < w.ow; ox++ {
				x0 := ox*w.sw - w.padL
				kx0, kx1 := tapRange(x0, w.dw, w.kw, w.iw)
				var r float32
				if p.max {
					m := negInf
					for ky := ky0; ky < ky1; ky++ {
						row := src[(y0+ky*w.dh)*w.iw:]
						for kx := kx0; kx < kx1; kx++ {
							if v := row[x0+kx*w.dw]; v > m {
								m = v
							}
						}
					}
					r = m
				} else {
					var s float32
					for ky := ky0; ky < ky1; ky++ {
						row := src[(y0+ky*w.dh)*w.iw:]
						for kx := kx0; kx < kx1; kx++ {
							s += row[x0+kx*w.dw]
						}
					}
					cnt := (ky1 - ky0) * (kx1 - kx0)
					if w.countIncludePad {
						cy0, cy1 := padTapRange(y0, w.dh, w.kh, w.ih+w.padB, -w.padT)
						cx0, cx1 := padTapRange(x0, w.dw, w.kw, w.iw+w.padR, -w.padL)
						cnt = (cy1 - cy0) * (cx1 - cx0)
					}
					if cnt > 0 {
						r = s / float32(cnt)
					}
				}
				dst[oy*w.ow+ox] = r
			}
		}
	}
}

// tapRange returns the taps t in [lo, hi) of a window starting at start
// with dilation d and k taps whose position start+t*d lies in [0, size).
func tapRange(start, d, k, size int) (lo, hi int) {
	return padTapRange(start, d, k, size, 0)
}

// padTapRange is tapRange for positions in [from, size).
func padTapRange(start, d, k, size, from int) (lo, hi int) {
	lo = 0
	if start < from {
		lo = (from - start + d - 1) / d
	}
	hi = k
	if last := start + (k-1)*d; last >= size {
		hi = (size-1-start)/d + 1
		if size-1-start < 0 {
			hi = 0
		}
	}
	if lo > hi {
		lo = hi
	}
	return lo, hi
}
