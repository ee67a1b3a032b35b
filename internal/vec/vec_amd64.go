//go:build !purego

package vec

import "golang.org/x/sys/cpu"

var (
	hasAVX = cpu.X86.HasAVX
	hasFMA = cpu.X86.HasAVX && cpu.X86.HasFMA
)
