//go:build !linux

package qgemm

// threadCPUTime is unknown on this system.
func threadCPUTime() float64 { return 0 }
