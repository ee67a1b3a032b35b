package engine

import "math"

// poolKernel is the float32 fast path of MaxPool and AveragePool: the
// valid taps of every output row and column are computed once at load.
type poolKernel struct {
	p *poolParams
	// rows[oy] and cols[ox] are the first and last+1 valid taps; div[i] is
	// the divisor of output i for AveragePool.
	rows, cols [][2]int
	div        []float32
	// inner is the range of output columns whose window lies inside the
	// input row (every column tap valid).
	inner [2]int
	// flat: MaxPool whose windows are one row high and tile each row
	// without gaps, overlap or padding (kws.onnx's 1x3 pool over
	// frequency).
	flat bool
	// twoByTwo: MaxPool 2x2, stride 2, no padding or dilation, every
	// window inside the input (the DS-CNN's pools).
	twoByTwo bool
}

// maxPlane is MaxPool without dilation over one plane: each tap row is
// folded into the output row, the columns whose window is inside the row
// by maxRow (assembly where there is a routine), the border columns
// (padding) by maxBorder. NaN inputs are skipped, as the reference does.
func (k *poolKernel) maxPlane(src, dst []float32) {
	w := k.p.window
	negInf := float32(math.Inf(-1))
	x0, x1 := k.inner[0], k.inner[1]
	c0 := x0*w.sw - w.padL
	span := (x1-1-x0)*w.sw + w.kw // input columns the inner outputs read
	for oy := 0; oy < w.oh; oy++ {
		d := dst[oy*w.ow : (oy+1)*w.ow]
		ky0, ky1 := k.rows[oy][0], k.rows[oy][1]
		y0 := oy*w.sh - w.padT
		for ox := range d {
			d[ox] = negInf
		}
		for ky := ky0; ky < ky1; ky++ {
			row := src[(y0+ky)*w.iw : (y0+ky+1)*w.iw]
			for ox := 0; ox < x0; ox++ {
				k.maxBorder(row, d, ox)
			}
			maxRow(d[x0:x1], row[c0:c0+span], w.kw, w.sw)
			for ox := x1; ox < w.ow; ox++ {
				k.maxBorder(row, d, ox)
			}
		}
	}
}

// maxRowGo folds the kw taps at src[i*sw:] into d[i], skipping NaNs.
func maxRowGo(d, src []float32, kw, sw int) {
	for i := range d {
		m := d[i]
		for _, v := range src[i*sw : i*sw+kw] {
			if v > m {
				m = v
			}
		}
		d[i] = m
	}
}

// maxWindowsGo is maxWindows in Go.
func maxWindowsGo(d, src []float32, kw int) {
	negInf := float32(math.Inf(-1))
	for i := range d {
		m := negInf
		for _, v := range src[i*kw : (i+1)*kw] {
			if v > m {
				m = v
			}
		}
		d[i] = m
	}
}

// maxPairsGo sets d[i] to the maximum of r0[2i], r0[2i+1], r1[2i],
// r1[2i+1], folded in that order from -Inf (NaNs skipped).
func maxPairsGo(d, r0, r1 []float32) {
	r0, r1 = r0[:2*len(d)], r1[:2*len(d)]
	negInf := float32(math.Inf(-1))
	for i := range d {
		a, b, c, e := r0[2*i], r0[2*i+1], r1[2*i], r1[2*i+1]
		m := negInf
		if a > m {
			m = a
		}
		if b > m {
			m = b
		}
		if c > m {
			m = c
		}
		if e > m {
			m = e
		}
		d[i] = m
	}
}

// maxPool2x2Go is the 2x2, stride-2 max-pool of planes planes of src
// (rows of iw, one plane every srcPlane floats) into dst (oh rows of ow per
// plane, packed): output row oy from input rows 2oy and 2oy+1, by
// maxPairs.
func maxPool2x2Go(dst, src []float32, planes, oh, ow, iw, srcPlane int) {
	for p := 0; p < planes; p++ {
		s, d := src[p*srcPlane:], dst[p*oh*ow:(p+1)*oh*ow]
		for oy := 0; oy < oh; oy++ {
			maxPairs(d[oy*ow:(oy+1)*ow], s[2*oy*iw:(2*oy+1)*iw], s[(2*oy+1)*iw:(2*oy+2)*iw])
		}
	}
}

// maxBorder folds the valid taps of row into output column ox.
func (k *poolKernel) maxBorder(row, d []float32, ox int) {
	w := k.p.window
	x0 := ox*w.sw - w.padL
	for kx := k.cols[ox][0]; kx < k.cols[ox][1]; kx++ {
		if v := row[x0+kx]; v > d[ox] {
			d[ox] = v
		}
	}
}

func compilePool(n *node, _ *compiler) (Kernel, error) {
	p := n.params.(*poolParams)
	if p.indices || !n.in[0].dtype.IsFloat() {
		return nil, nil
	}
	w := p.window
	k := &poolKernel{p: p, rows: make([][2]int, w.oh), cols: make([][2]int, w.ow)}
	for oy := range k.rows {
		lo, hi := tapRange(oy*w.sh-w.padT, w.dh, w.kh, w.ih)
		k.rows[oy] = [2]int{lo, hi}
	}
	for ox := range k.cols {
		lo, hi := tapRange(ox*w.sw-w.padL, w.dw, w.kw, w.iw)
		k.cols[ox] = [2]int{lo, hi}
	}
	k.inner = [2]int{w.ow, w.ow}
	for ox := range k.cols {
		if k.cols[ox] == [2]int{0, w.kw} {
			k.inner[0] = min(k.inner[0], ox)
			k.inner[1] = ox + 1
		}
	}
	if k.inner[0] >= k.inner[1] {
		k.inner = [2]int{}
	}
	for ox := k.inner[0]; ox < k.inner[1]; ox++ {
		if k.cols[ox] != [2]int{0, w.kw} {
			k.inner = [2]int{} // not one contiguous range: general path
			break
		}
	}
	k.flat = p.max && w.kh == 1 && w.sh == 1 && w.oh == w.ih && w.kw == w.sw && w.ow*w.sw == w.iw &&
		w.dh == 1 && w.dw == 1 && w.padT == 0 && w.padB == 0 && w.padL == 0 && w.padR == 0
	k.twoByTwo = p.max && !k.flat && w.kh == 2 && w.kw == 2 && w.sh == 2 && w.sw == 2 && w.dh == 1 && w.dw == 1 &&
		w.padT == 0 && w.padB == 0 && w.padL == 0 && w.padR == 0 && 2*w.oh <= w.ih && 2*w.ow <= w.iw
	if !p.max {
		k.div = make([]float32, w.oh*w.ow)
		for oy := 0; oy < w.oh; oy++ {
			for ox := 0; ox < w.ow; ox++ {
				cnt := (k.rows[oy][1] - k.rows[oy][0]) * (k.cols[ox][1] - k.cols[ox][0])
				if w.countIncludePad {
					y0, y1 := padTapRange(oy*w.sh-w.padT, w.dh, w.kh, w.ih+w.padB, -w.padT)
					x0, x1 := padTapRange(ox*w.sw-w.padL, w.dw, w.kw, w.iw+w.padR, -w.padL)
					cnt = (y1 - y0) * (x1 - x0)
				}
				if cnt > 0 {
					k.div[oy*w.ow+ox] = 1 / float32(cnt)
				}
			}
		}
	}
	return k, nil
}

// Run implements Kernel: the planes are split between the session's
// threads.
func (k *poolKernel) Run(x *Exec, in, out []*Tensor) {
	w := k.p.window
	x.split(k, in, out, w.batch*w.c, max(1, elemGrain/(w.ih*w.iw)))
}

// runRange pools planes [lo, hi).
func (k *poolKernel) runRange(_ *Exec, in, out []*Tensor, lo, hi int) {
	p := k.p
	w := p.window
	planeIn, planeOut := w.ih*w.iw, w.oh*w.ow
	x, y := in[0].F[lo*planeIn:], out[0].F[lo*planeOut:hi*planeOut]
	negInf := float32(math.Inf(-1))
	if k.twoByTwo {
		maxPool2x2(y, x, hi-lo, w.oh, w.ow, w.iw, planeIn)
		return
	}
	if k.flat {
		// Windows tile the input exactly, one row high: the whole tensor
		// is a sequence of windows of kw consecutive floats.
		maxWindows(y, x[:(hi-lo)*planeIn], w.kw)
		return
	}
	if p.max && w.dh == 1 && w.dw == 1 && k.inner[0] < k.inner[1] {
		for b := 0; b < hi-lo; b++ {
			k.maxPlane(x[b*planeIn:(b+1)*planeIn], y[b*planeOut:(b+1)*planeOut])
		}
		return
	}
	for b := 0; b < hi-lo; b++ {
		src := x[b*planeIn : (b+1)*planeIn]
		dst := y[b*planeOut : (b+1)*planeOut]
		for oy := 0; oy < w.oh; oy++ {
			y0 := oy*w.sh - w.padT
			ky0, ky1 := k.rows[oy][0], k.rows[oy][1]
			for ox := 0; ox < w.ow; ox++ {
				x0 := ox*w.sw - w.padL
				kx0, kx1 := k.cols[ox][0], k.cols[ox][1]
				if p.max && w.dw == 1 && ky1-ky0 == 1 {
					row := src[(y0+ky0*w.dh)*w.iw+x0+kx0 : (y0+ky0*w.dh)*w.iw+x0+kx1]
					m := row[0]
					for _, v := range row[1:] {
						if v > m {
							m = v
						}
					}
					dst[oy*w.ow+ox] = m
					continue
				}
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
					r = s * k.div[oy*w.ow+ox]
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
