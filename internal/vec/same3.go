package vec

// Same3Masks returns the lane masks of DepthwiseSame3 for h x w planes:
// for each vector v of sixteen outputs (positions 16v to 16v+15 of the
// flat plane), 16 uint16 of which the first nine are the taps' (ky*3+kx):
// bit l is set when position p = 16v+l is inside the plane (p < h*w) and
// its input for that tap, row p/w+ky-1 and column p%w+kx-1, is too.
func Same3Masks(h, w int) []uint16 {
	n := h * w
	nv := (n + 15) / 16
	m := make([]uint16, 16*nv)
	for v := 0; v < nv; v++ {
		for l := 0; l < 16; l++ {
			p := 16*v + l
			if p >= n {
				continue
			}
			y, x := p/w, p%w
			for ky := 0; ky < 3; ky++ {
				for kx := 0; kx < 3; kx++ {
					if iy, ix := y+ky-1, x+kx-1; iy >= 0 && iy < h && ix >= 0 && ix < w {
						m[16*v+ky*3+kx] |= 1 << l
					}
				}
			}
		}
	}
	return m
}

// HasDepthwiseSame3 reports whether DepthwiseSame3 has its assembly on
// this CPU (AVX-512); without it DepthwiseSame3 does nothing and returns
// false.
func HasDepthwiseSame3() bool { return hasAVX512 }

// DepthwiseSame3 computes a stride-1 3x3 depthwise convolution padded by
// one on every side (dilation 1), straight from planes contiguous planes
// of h x w floats in src into as many in dst, without a bordered copy:
// dst[p*h*w + y*w + x] is the clamp to [lo, hi] of bias[p] + the sum over
// ky, kx < 3 of wt[p*9+ky*3+kx] * src[p*h*w + (y+ky-1)*w + x+kx-1], the
// taps outside the plane left out. masks is Same3Masks(h, w). It returns
// false, having done nothing, when the CPU lacks the assembly (see
// HasDepthwiseSame3); it panics if a slice is short.
func DepthwiseSame3(dst, src []float32, planes, h, w int, masks []uint16, wt, bias []float32, lo, hi float32) bool {
	if !hasAVX512 {
		return false
	}
	n := h * w
	if planes <= 0 || n <= 0 {
		return true
	}
	nv := (n + 15) / 16
	if len(src) < planes*n || len(dst) < planes*n || len(masks) < 16*nv || len(wt) < 9*planes || len(bias) < planes {
		panic("vec: DepthwiseSame3 slices too short")
	}
	dwSame3AVX512(&dst[0], &src[0], planes, n, w, &masks[0], nv, &wt[0], &bias[0], lo, hi)
	return true
}
