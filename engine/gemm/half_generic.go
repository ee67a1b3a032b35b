//go:build purego || !(amd64 || arm64)

package gemm

// archToHalf has no vector conversion in this build.
func archToHalf(dst []uint16, src []float32) int { return 0 }

// archFromHalf has no vector conversion in this build.
func archFromHalf(dst []float32, src []uint16) int { return 0 }

// archRoundHalf has no vector conversion in this build.
func archRoundHalf(dst, src []float32) int { return 0 }
