//go:build !amd64 || purego

package engine

// gatherArch reports that there is no assembly gather here.
func gatherArch(panel, x []float32, kbase []int32, nr int, pl *panelPlan) bool { return false }

// maxRow folds the kw taps at src[i*sw:] into d[i] for every i, skipping
// NaNs.
func maxRow(d, src []float32, kw, sw int) { maxRowGo(d, src, kw, sw) }

// gatherBytesArch reports that there is no assembly byte gather here.
func gatherBytesArch(dst, codes []uint8, kbase []int32, stride int, pl *panelPlan) bool {
	return false
}
