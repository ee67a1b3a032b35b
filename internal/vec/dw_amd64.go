//go:build !purego

package vec

import "golang.org/x/sys/cpu"

// hasAVX2 gates the depthwise routines of dw_amd64.s (VPERMPD).
var hasAVX2 = cpu.X86.HasAVX && cpu.X86.HasAVX2
