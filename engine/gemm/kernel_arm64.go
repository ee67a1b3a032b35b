//go:build !purego

package gemm

import "golang.org/x/sys/cpu"

var neonKernel = &kernel{name: "neon-8x8", id: kernelNEON, mr: 8, nr: 8, mc: 128, kc: 256, nc: 2048}

// kernel8x8 computes an 8x8 tile of C = A*B from kc k steps, then applies
// the epilogue selected by flags (see the flag* constants). A is a packed
// micro-panel (8 floats per k step); row k of B starts at b + k*ldb.
//
//go:noescape
func kernel8x8(kc int, a *float32, b *float32, ldb int, c *float32, ldc int, flags uint64, bias *float32, lo float32, hi float32)

// archKernels returns the assembly kernels this CPU supports, best first.
// Advanced SIMD is part of every ARMv8-A CPU Go runs on.
func archKernels() []*kernel {
	if cpu.ARM64.HasASIMD {
		return []*kernel{neonKernel}
	}
	return nil
}

// archTile is kernel.tile for the assembly kernels.
func archTile(id kernelID, m, n, kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, flags uint64, bias []float32, lo, hi float32) {
	if m == 8 && n == 8 {
		var bp *float32
		if flags&(flagRowBias|flagColBias) != 0 {
			bp = &bias[0]
		}
		_ = c[7*ldc+7]
		kernel8x8(kc, &a[0], &b[0], ldb, &c[0], ldc, flags, bp, lo, hi)
		return
	}
	// Partial tile: compute the whole tile into t (A and B are zero-padded
	// packed panels), then store the valid part.
	var t [8 * 8]float32
	kernel8x8(kc, &a[0], &b[0], ldb, &t[0], 8, 0, nil, 0, 0)
	mergeTile(t[:], 8, m, n, c, ldc, flags, bias, lo, hi)
}

// packRows has no assembly routine on arm64.
func packRows(kern *kernel, dst, src []float32, ld, kc int) bool { return false }
