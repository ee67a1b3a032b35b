//go:build !linux

package gemm

// threadCPUTime is not measured on this system.
func threadCPUTime() float64 { return 0 }
