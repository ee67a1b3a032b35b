//go:build !amd64 || purego

package vmath

// useReduce: without AVX2 assembly (arm64, other architectures, purego)
// the softmax and normalisation passes are Go loops (around the NEON
// exponential on arm64); the kernels below are never called.
const useReduce = false

func expShiftSumKernel(dst, src *float32, n int, shift float32) float32 { panic("vmath: no assembly") }
func maxKernel(src *float32, n int) float32                             { panic("vmath: no assembly") }
func minKernel(src *float32, n int) float32                             { panic("vmath: no assembly") }
func scaleKernel(dst *float32, n int, a float32)                        { panic("vmath: no assembly") }
func sumSquaresKernel(src *float32, n int) (s, q float64)               { panic("vmath: no assembly") }
func normalizeKernel(dst, src, scale, bias *float32, n int, m, a float32) {
	panic("vmath: no assembly")
}
func affineKernel(dst, src *float32, n int, m, a, b float32) { panic("vmath: no assembly") }
