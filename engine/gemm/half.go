package gemm

import (
	"math"
	"unsafe"
)

// Half-precision values are IEEE 754 binary16 bit patterns held in uint16.
// The conversions here follow engine.FloatToHalf and engine.HalfToFloat
// (which this package cannot import): float32 to half rounds to nearest,
// ties to even, overflows to infinity and turns every NaN into the quiet
// NaN 0x7e00 with the sign kept; half to float32 is exact (a NaN keeps its
// payload). The F16C and NEON conversions used on the hot paths give the
// same results for every non-NaN value; for a NaN they give a quiet NaN of
// the same sign whose payload may differ.

// floatToHalf converts f to binary16 bits, rounding to nearest even.
func floatToHalf(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	abs := b & 0x7fffffff
	switch {
	case abs > 0x7f800000: // NaN
		return sign | 0x7e00
	case abs >= 0x477ff000: // rounds to >= 2^16: infinity
		return sign | 0x7c00
	case abs >= 0x38800000: // normal half (|f| >= 2^-14)
		// Rebias the exponent (127 -> 15) and round the 13 dropped bits
		// to nearest even; a carry into the exponent is correct.
		h := (abs - 0x38000000) >> 13
		rest := abs & 0x1fff
		if rest > 0x1000 || rest == 0x1000 && h&1 == 1 {
			h++
		}
		return sign | uint16(h)
	case abs >= 0x33000000: // subnormal half, or rounds up to 2^-24
		man := abs&0x7fffff | 0x800000
		shift := 126 - abs>>23 // 14..24
		h := man >> shift
		rest := man & (1<<shift - 1)
		half := uint32(1) << (shift - 1)
		if rest > half || rest == half && h&1 == 1 {
			h++
		}
		return sign | uint16(h)
	}
	return sign // |f| <= 2^-25: rounds to zero
}

// halfToFloat converts binary16 bits to float32 exactly.
func halfToFloat(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	man := uint32(h & 0x3ff)
	switch exp {
	case 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | man<<13)
	case 0:
		// Zero or subnormal: man * 2^-24, exact in float32.
		f := float32(man) * (1.0 / (1 << 24))
		return math.Float32frombits(sign | math.Float32bits(f))
	}
	return math.Float32frombits(sign | (exp+112)<<23 | man<<13)
}

// toHalf rounds src to half precision into dst (len(dst) >= len(src)).
func toHalf(dst []uint16, src []float32) {
	dst = dst[:len(src)]
	i := archToHalf(dst, src)
	for ; i < len(src); i++ {
		dst[i] = floatToHalf(src[i])
	}
}

// fromHalf widens src into dst (len(dst) >= len(src)).
func fromHalf(dst []float32, src []uint16) {
	dst = dst[:len(src)]
	i := archFromHalf(dst, src)
	for ; i < len(src); i++ {
		dst[i] = halfToFloat(src[i])
	}
}

// roundToHalf replaces every element of x by its nearest half-precision
// value (as a float32).
func roundToHalf(x []float32) { roundToHalfInto(x, x) }

// roundToHalfInto stores in dst (len(dst) >= len(src)) the nearest
// half-precision value of every element of src (as a float32); dst may be
// src.
func roundToHalfInto(dst, src []float32) {
	dst = dst[:len(src)]
	i := archRoundHalf(dst, src)
	for ; i < len(src); i++ {
		dst[i] = halfToFloat(floatToHalf(src[i]))
	}
}

// halvesOf returns the first n halves of the memory of s (which must hold
// at least (n+1)/2 floats), for scratch buffers carved from Args.Scratch.
func halvesOf(s []float32, n int) []uint16 {
	if n == 0 {
		return nil
	}
	_ = s[(n+1)/2-1]
	return unsafe.Slice((*uint16)(unsafe.Pointer(&s[0])), n)
}

// alignHalves returns s advanced to a 64-byte boundary (by at most 31
// elements).
func alignHalves(s []uint16) []uint16 {
	if len(s) == 0 {
		return s
	}
	off := (64 - int(uintptr(unsafe.Pointer(&s[0]))%64)) % 64 / 2
	if off > len(s) {
		return s[len(s):]
	}
	return s[off:]
}
