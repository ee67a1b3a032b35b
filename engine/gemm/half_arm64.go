//go:build !purego

package gemm

// cvtHalfToFloat widens the n (a positive multiple of 8) half-precision
// values at src to float32 at dst (FCVTL, FCVTL2).
//
//go:noescape
func cvtHalfToFloat(n int, src *uint16, dst *float32)

// cvtFloatToHalf rounds the n (a positive multiple of 8) floats at src to
// half precision at dst (FCVTN, FCVTN2; to nearest even, the FPCR default).
//
//go:noescape
func cvtFloatToHalf(n int, src *float32, dst *uint16)

// roundFloatHalf rounds the n (a positive multiple of 8) floats at src to
// the nearest half-precision values, stored as floats at dst (which may be
// src).
//
//go:noescape
func roundFloatHalf(n int, src *float32, dst *float32)

// archToHalf converts the longest multiple of 8 elements of src with NEON
// and returns how many it converted. Half-precision conversions are part
// of every ARMv8-A Advanced SIMD unit.
func archToHalf(dst []uint16, src []float32) int {
	n := len(src) &^ 7
	if n == 0 {
		return 0
	}
	_ = dst[n-1]
	cvtFloatToHalf(n, &src[0], &dst[0])
	return n
}

// archFromHalf widens the longest multiple of 8 elements of src with NEON
// and returns how many it converted.
func archFromHalf(dst []float32, src []uint16) int {
	n := len(src) &^ 7
	if n == 0 {
		return 0
	}
	_ = dst[n-1]
	cvtHalfToFloat(n, &src[0], &dst[0])
	return n
}

// archRoundHalf rounds the longest multiple of 8 elements of src into dst
// with NEON and returns how many it rounded.
func archRoundHalf(dst, src []float32) int {
	n := len(src) &^ 7
	if n == 0 {
		return 0
	}
	_ = dst[n-1]
	roundFloatHalf(n, &src[0], &dst[0])
	return n
}
