//go:build !purego

package gemm

import "golang.org/x/sys/cpu"

// hasF16C reports whether the CPU has the F16C conversions. Without them
// half-precision operands are converted in Go.
var hasF16C = cpu.X86.HasF16C && cpu.X86.HasAVX

// archToHalf converts the longest multiple of 8 elements of src with F16C
// and returns how many it converted.
func archToHalf(dst []uint16, src []float32) int {
	n := len(src) &^ 7
	if !hasF16C || n == 0 {
		return 0
	}
	_ = dst[n-1]
	cvtFloatToHalf(n, &src[0], &dst[0])
	return n
}

// archFromHalf widens the longest multiple of 8 elements of src with F16C
// and returns how many it converted.
func archFromHalf(dst []float32, src []uint16) int {
	n := len(src) &^ 7
	if !hasF16C || n == 0 {
		return 0
	}
	_ = dst[n-1]
	cvtHalfToFloat(n, &src[0], &dst[0])
	return n
}

// archRoundHalf rounds the longest multiple of 8 elements of src into dst
// with F16C and returns how many it rounded.
func archRoundHalf(dst, src []float32) int {
	n := len(src) &^ 7
	if !hasF16C || n == 0 {
		return 0
	}
	_ = dst[n-1]
	roundFloatHalf(n, &src[0], &dst[0])
	return n
}
