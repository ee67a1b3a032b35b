//go:build !purego

package vmath

import "golang.org/x/sys/cpu"

// useAsm selects the AVX2+FMA kernels.
var useAsm = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// kernel runs function k's assembly over n elements (a multiple of 8),
// with parameters a and b where k takes them.
func kernel(k kind, dst, src *float32, n int, a, b float32) {
	switch k {
	case kExp:
		expAVX2(dst, src, n)
	case kLog:
		logAVX2(dst, src, n)
	case kTanh:
		tanhAVX2(dst, src, n)
	case kSigmoid:
		sigmoidAVX2(dst, src, n)
	case kErf:
		erfAVX2(dst, src, n)
	case kSiLU:
		siluAVX2(dst, src, n)
	case kGelu:
		geluAVX2(dst, src, n)
	case kHardSigmoid:
		hardSigmoidAVX2(dst, src, n, a, b)
	case kHardSwish:
		hardSwishAVX2(dst, src, n)
	}
}

// useReduce selects the AVX2 softmax passes (ExpShiftSum, Max, Scale).
var useReduce = useAsm

func expShiftSumKernel(dst, src *float32, n int, shift float32) float32 {
	return expShiftSumAVX2(dst, src, n, shift)
}
func maxKernel(src *float32, n int) float32               { return maxAVX2(src, n) }
func minKernel(src *float32, n int) float32               { return minAVX2(src, n) }
func scaleKernel(dst *float32, n int, a float32)          { scaleAVX2(dst, n, a) }
func sumSquaresKernel(src *float32, n int) (s, q float64) { return sumSquaresAVX2(src, n) }
func normalizeKernel(dst, src, scale, bias *float32, n int, m, a float32) {
	normalizeAVX2(dst, src, scale, bias, n, m, a)
}
func affineKernel(dst, src *float32, n int, m, a, b float32) { affineAVX2(dst, src, n, m, a, b) }
