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
