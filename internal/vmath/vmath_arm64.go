//go:build !purego

package vmath

// useAsm selects the NEON kernels (every arm64 CPU has NEON).
const useAsm = true

// kernel runs function k's assembly over n elements (a multiple of 8),
// with parameters a and b where k takes them.
func kernel(k kind, dst, src *float32, n int, a, b float32) {
	switch k {
	case kExp:
		expNEON(dst, src, n)
	case kLog:
		logNEON(dst, src, n)
	case kTanh:
		tanhNEON(dst, src, n)
	case kSigmoid:
		sigmoidNEON(dst, src, n)
	case kErf:
		erfNEON(dst, src, n)
	case kSiLU:
		siluNEON(dst, src, n)
	case kGelu:
		geluNEON(dst, src, n)
	case kHardSigmoid:
		hardSigmoidNEON(dst, src, n, a, b)
	case kHardSwish:
		hardSwishNEON(dst, src, n)
	}
}

//go:noescape
func expNEON(dst, src *float32, n int)

//go:noescape
func logNEON(dst, src *float32, n int)

//go:noescape
func tanhNEON(dst, src *float32, n int)

//go:noescape
func sigmoidNEON(dst, src *float32, n int)

//go:noescape
func erfNEON(dst, src *float32, n int)

//go:noescape
func hardSigmoidNEON(dst, src *float32, n int, a, b float32)

//go:noescape
func hardSwishNEON(dst, src *float32, n int)

//go:noescape
func siluNEON(dst, src *float32, n int)

//go:noescape
func geluNEON(dst, src *float32, n int)

// useReduce: arm64 runs the softmax passes (ExpShiftSum, Max, Scale) as
// Go loops around the NEON exponential.
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
