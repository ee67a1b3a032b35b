//go:build !purego

package engine

import "golang.org/x/sys/cpu"

// gatherArch runs gatherMoves where the CPU has AVX.
func gatherArch(panel, x []float32, kbase []int32, nr int, pl *panelPlan) bool {
	if !cpu.X86.HasAVX {
		return false
	}
	if len(pl.m8) == 4 && len(pl.m1) == 0 {
		gatherPair(&panel[0], &x[0], &kbase[0], len(kbase), nr*4, int(pl.m8[0]), int(pl.m8[1]), int(pl.m8[2]), int(pl.m8[3]))
		return true
	}
	var m8, m1 *int32
	if len(pl.m8) > 0 {
		m8 = &pl.m8[0]
	}
	if len(pl.m1) > 0 {
		m1 = &pl.m1[0]
	}
	gatherMoves(&panel[0], &x[0], &kbase[0], len(kbase), nr*4, m8, len(pl.m8)/2, m1, len(pl.m1)/2)
	return true
}

// maxWindows sets d[i] to the maximum of src[i*kw : (i+1)*kw], NaNs
// skipped (from -Inf); src must hold len(d)*kw floats. Windows of three
// run in AVX2 eight at a time.
func maxWindows(d, src []float32, kw int) {
	n := 0
	if kw == 3 && cpu.X86.HasAVX2 && len(src) >= 3*len(d) {
		n = len(d) &^ 7
		if n > 0 {
			maxPool3(&d[0], &src[0], n)
		}
	}
	maxWindowsGo(d[n:], src[n*kw:], kw)
}

// maxRow folds the kw taps at src[i*sw:] into d[i] for every i, skipping
// NaNs; src must hold (len(d)-1)*sw+kw floats.
func maxRow(d, src []float32, kw, sw int) {
	if !cpu.X86.HasAVX || len(d) == 0 || len(src) < (len(d)-1)*sw+kw {
		maxRowGo(d, src, kw, sw)
		return
	}
	maxPoolRow(&d[0], &src[0], len(d), kw, sw)
}

// gatherBytesArch runs gatherBytes (plain 64-bit moves: any amd64).
func gatherBytesArch(dst, codes []uint8, kbase []int32, stride int, pl *panelPlan) bool {
	var m8, m1 *int32
	if len(pl.m8) > 0 {
		m8 = &pl.m8[0]
	}
	if len(pl.m1) > 0 {
		m1 = &pl.m1[0]
	}
	gatherBytes(&dst[0], &codes[0], &kbase[0], len(kbase), stride, m8, len(pl.m8)/2, m1, len(pl.m1)/2)
	return true
}

// maxPairs is the 2x2 max-pool of two input rows (see maxPairsGo).
func maxPairs(d, r0, r1 []float32) {
	if !cpu.X86.HasAVX2 || len(r0) < 2*len(d) || len(r1) < 2*len(d) {
		maxPairsGo(d, r0, r1)
		return
	}
	maxPairsAVX(d, r0, r1)
}

// maxPool2x2 is the 2x2, stride-2 max-pool of planes planes of src (rows
// of iw, one every srcPlane floats) into dst (oh rows of ow per plane,
// packed), NaNs skipped.
func maxPool2x2(dst, src []float32, planes, oh, ow, iw, srcPlane int) {
	if planes <= 0 || oh <= 0 || ow <= 0 {
		return
	}
	if !cpu.X86.HasAVX2 || ow < 4 || 2*ow > iw || len(dst) < planes*oh*ow || len(src) < (planes-1)*srcPlane+2*oh*iw {
		maxPool2x2Go(dst, src, planes, oh, ow, iw, srcPlane)
		return
	}
	maxPool2x2AVX(&dst[0], &src[0], planes, oh, ow, iw, srcPlane)
}
