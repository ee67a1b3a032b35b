//go:build !amd64 || purego

package engine

// gatherArch reports that there is no assembly gather here.
func gatherArch(panel, x []float32, kbase []int32, nr int, pl *panelPlan) bool { return false }

// maxWindows sets d[i] to the maximum of src[i*kw : (i+1)*kw], NaNs
// skipped (from -Inf).
func maxWindows(d, src []float32, kw int) { maxWindowsGo(d, src, kw) }

// maxRow folds the kw taps at src[i*sw:] into d[i] for every i, skipping
// NaNs.
func maxRow(d, src []float32, kw, sw int) { maxRowGo(d, src, kw, sw) }

// gatherBytesArch reports that there is no assembly byte gather here.
func gatherBytesArch(dst, codes []uint8, kbase []int32, stride int, pl *panelPlan) bool {
	return false
}

// maxPairs is the 2x2 max-pool of two input rows (see maxPairsGo).
func maxPairs(d, r0, r1 []float32) { maxPairsGo(d, r0, r1) }

// maxPool2x2 is the 2x2, stride-2 max-pool of planes (see maxPool2x2Go).
func maxPool2x2(dst, src []float32, planes, oh, ow, iw, srcPlane int) {
	maxPool2x2Go(dst, src, planes, oh, ow, iw, srcPlane)
}
