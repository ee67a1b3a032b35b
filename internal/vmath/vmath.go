// Package vmath computes transcendental functions over float32 slices:
// exp, log, tanh, sigmoid and erf, with vectorised kernels where the CPU
// has them and portable Go loops otherwise.
//
// This first version is the portable one (float64 math per element); the
// vectorised kernels and their stated error bounds replace its bodies
// without changing the API.
package vmath

import "math"

// Exp stores e^src[i] into dst[i] for every i of dst (src must be at least
// as long). dst and src may be the same slice.
func Exp(dst, src []float32) {
	src = src[:len(dst)]
	for i, x := range src {
		dst[i] = float32(math.Exp(float64(x)))
	}
}

// Log stores the natural logarithm of src[i] into dst[i].
func Log(dst, src []float32) {
	src = src[:len(dst)]
	for i, x := range src {
		dst[i] = float32(math.Log(float64(x)))
	}
}

// Tanh stores tanh(src[i]) into dst[i].
func Tanh(dst, src []float32) {
	src = src[:len(dst)]
	for i, x := range src {
		dst[i] = float32(math.Tanh(float64(x)))
	}
}

// Sigmoid stores 1/(1+e^-src[i]) into dst[i].
func Sigmoid(dst, src []float32) {
	src = src[:len(dst)]
	for i, x := range src {
		dst[i] = float32(1 / (1 + math.Exp(-float64(x))))
	}
}

// Erf stores erf(src[i]) into dst[i].
func Erf(dst, src []float32) {
	src = src[:len(dst)]
	for i, x := range src {
		dst[i] = float32(math.Erf(float64(x)))
	}
}
