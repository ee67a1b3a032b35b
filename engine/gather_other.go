//go:build !amd64 || purego

package engine

// gatherArch reports that there is no assembly gather here.
func gatherArch(panel, x []float32, kbase []int32, nr int, pl *panelPlan) bool { return false }
