//go:build !purego

package vec

import "golang.org/x/sys/cpu"

// hasAVX2 gates the depthwise routines of dw_amd64.s (VPERMPD).
var hasAVX2 = cpu.X86.HasAVX && cpu.X86.HasAVX2

// hasAVX512 gates the 512-bit forms of the flat depthwise routines.
var hasAVX512 = hasFMA && cpu.X86.HasAVX512F
