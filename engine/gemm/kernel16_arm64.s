//go:build !purego

#include "textflag.h"

// Half-precision kernels and conversions. The Go assembler has none of the
// instructions involved, so they are encoded by hand (Arm ARM: "FMLA (by
// element)" half-precision variant (FEAT_FP16), "FCVTL, FCVTL2", "FCVTN,
// FCVTN2", and the single-precision FMLA (by element), FADD, FMAX, FMIN of
// kernel_arm64.s). Arguments are register numbers.
//
// FMLAH(d, n, m, i) is FMLA Vd.8H, Vn.8H, Vm.H[i] (m < 16; index H:L:M).
#define FMLAH(d, n, m, i) WORD $(0x4F001000 | ((((i)>>1)&1)<<21) | (((i)&1)<<20) | ((m)<<16) | (((i)>>2)<<11) | ((n)<<5) | (d))
// FCVTL(d, n) is FCVTL Vd.4S, Vn.4H; FCVTL2(d, n) is FCVTL2 Vd.4S, Vn.8H.
#define FCVTL(d, n) WORD $(0x0E217800 | ((n)<<5) | (d))
#define FCVTL2(d, n) WORD $(0x4E217800 | ((n)<<5) | (d))
// FCVTN(d, n) is FCVTN Vd.4H, Vn.4S; FCVTN2(d, n) is FCVTN2 Vd.8H, Vn.4S.
#define FCVTN(d, n) WORD $(0x0E216800 | ((n)<<5) | (d))
#define FCVTN2(d, n) WORD $(0x4E216800 | ((n)<<5) | (d))
#define FMLAE(d, n, m, i) WORD $(0x4F801000 | (((i)&1)<<21) | (((m)&16)<<16) | (((m)&15)<<16) | (((i)>>1)<<11) | ((n)<<5) | (d))
#define FADDV(d, n, m) WORD $(0x4E20D400 | ((m)<<16) | ((n)<<5) | (d))
#define FMAXV(d, n, m) WORD $(0x4E20F400 | ((m)<<16) | ((n)<<5) | (d))
#define FMINV(d, n, m) WORD $(0x4EA0F400 | ((m)<<16) | ((n)<<5) | (d))

// STEP accumulates one k step in single precision: row i of the tile
// (V16+2i, V17+2i) += a[i] * b[0:8], with a[0:4] in V(A0), a[4:8] in V(A1),
// b[0:4] in V(B0) and b[4:8] in V(B1).
#define STEP(A0, A1, B0, B1) \
	FMLAE(16, B0, A0, 0); FMLAE(17, B1, A0, 0); \
	FMLAE(18, B0, A0, 1); FMLAE(19, B1, A0, 1); \
	FMLAE(20, B0, A0, 2); FMLAE(21, B1, A0, 2); \
	FMLAE(22, B0, A0, 3); FMLAE(23, B1, A0, 3); \
	FMLAE(24, B0, A1, 0); FMLAE(25, B1, A1, 0); \
	FMLAE(26, B0, A1, 1); FMLAE(27, B1, A1, 1); \
	FMLAE(28, B0, A1, 2); FMLAE(29, B1, A1, 2); \
	FMLAE(30, B0, A1, 3); FMLAE(31, B1, A1, 3)

// STEPH accumulates one k step in half precision: row i of the tile
// (V8+i, 8 halves) += a[i] * b[0:8], with a[0:8] in V(A) and b[0:8] in V(B).
#define STEPH(A, B) \
	FMLAH(8, B, A, 0); FMLAH(9, B, A, 1); \
	FMLAH(10, B, A, 2); FMLAH(11, B, A, 3); \
	FMLAH(12, B, A, 4); FMLAH(13, B, A, 5); \
	FMLAH(14, B, A, 6); FMLAH(15, B, A, 7)

// FLUSH adds the half-precision row i (V8+i) to the single-precision row
// (V16+2i, V17+2i), using T and T+1 as temporaries.
#define FLUSH(i, T) \
	FCVTL(T, 8+(i)); FCVTL2((T)+1, 8+(i)); \
	FADDV(16+2*(i), 16+2*(i), T); FADDV(17+2*(i), 17+2*(i), (T)+1)

// ROWS2 applies OP(d, d, x, y) to every row: OP on the left half with x and
// on the right half with y.
#define ROWS2(OP, X, Y) \
	OP(16, 16, X); OP(17, 17, Y); OP(18, 18, X); OP(19, 19, Y); \
	OP(20, 20, X); OP(21, 21, Y); OP(22, 22, X); OP(23, 23, Y); \
	OP(24, 24, X); OP(25, 25, Y); OP(26, 26, X); OP(27, 27, Y); \
	OP(28, 28, X); OP(29, 29, Y); OP(30, 30, X); OP(31, 31, Y)

// func kernel8x8h(kc int, a *float32, b *uint16, ldb int, c *float32, ldc int, flags uint64, bias *float32, lo float32, hi float32)
TEXT ·kernel8x8h(SB), NOSPLIT, $0-72
	MOVD kc+0(FP), R0
	MOVD a+8(FP), R1
	MOVD b+16(FP), R2
	MOVD ldb+24(FP), R3
	LSL  $1, R3

	VEOR V16.B16, V16.B16, V16.B16
	VEOR V17.B16, V17.B16, V17.B16
	VEOR V18.B16, V18.B16, V18.B16
	VEOR V19.B16, V19.B16, V19.B16
	VEOR V20.B16, V20.B16, V20.B16
	VEOR V21.B16, V21.B16, V21.B16
	VEOR V22.B16, V22.B16, V22.B16
	VEOR V23.B16, V23.B16, V23.B16
	VEOR V24.B16, V24.B16, V24.B16
	VEOR V25.B16, V25.B16, V25.B16
	VEOR V26.B16, V26.B16, V26.B16
	VEOR V27.B16, V27.B16, V27.B16
	VEOR V28.B16, V28.B16, V28.B16
	VEOR V29.B16, V29.B16, V29.B16
	VEOR V30.B16, V30.B16, V30.B16
	VEOR V31.B16, V31.B16, V31.B16

	// Two k steps per iteration; B rows are widened with FCVTL, FCVTL2.
	LSR $1, R0, R8
	AND $1, R0, R0
	CBZ R8, tail

loop:
	VLD1.P 32(R1), [V0.S4, V1.S4]
	VLD1.P (R2)(R3), [V2.H8]
	VLD1.P 32(R1), [V4.S4, V5.S4]
	VLD1.P (R2)(R3), [V6.H8]
	FCVTL2(3, 2); FCVTL(2, 2)
	FCVTL2(7, 6); FCVTL(6, 6)
	STEP(0, 1, 2, 3)
	STEP(4, 5, 6, 7)
	SUBS $1, R8, R8
	BNE  loop

tail:
	CBZ R0, epilogue
	VLD1 (R1), [V0.S4, V1.S4]
	VLD1 (R2), [V2.H8]
	FCVTL2(3, 2); FCVTL(2, 2)
	STEP(0, 1, 2, 3)

epilogue:
	MOVD c+32(FP), R4
	MOVD ldc+40(FP), R5
	LSL  $2, R5
	MOVD flags+48(FP), R6
	MOVD bias+56(FP), R7

	// Accumulate into C.
	TBZ  $0, R6, rowbias
	MOVD R4, R9
	VLD1.P (R9)(R5), [V0.S4, V1.S4]
	FADDV(16, 16, 0); FADDV(17, 17, 1)
	VLD1.P (R9)(R5), [V0.S4, V1.S4]
	FADDV(18, 18, 0); FADDV(19, 19, 1)
	VLD1.P (R9)(R5), [V0.S4, V1.S4]
	FADDV(20, 20, 0); FADDV(21, 21, 1)
	VLD1.P (R9)(R5), [V0.S4, V1.S4]
	FADDV(22, 22, 0); FADDV(23, 23, 1)
	VLD1.P (R9)(R5), [V0.S4, V1.S4]
	FADDV(24, 24, 0); FADDV(25, 25, 1)
	VLD1.P (R9)(R5), [V0.S4, V1.S4]
	FADDV(26, 26, 0); FADDV(27, 27, 1)
	VLD1.P (R9)(R5), [V0.S4, V1.S4]
	FADDV(28, 28, 0); FADDV(29, 29, 1)
	VLD1 (R9), [V0.S4, V1.S4]
	FADDV(30, 30, 0); FADDV(31, 31, 1)

rowbias:
	// Add bias[i] to row i.
	TBZ  $1, R6, colbias
	MOVD R7, R9
	VLD1R.P 4(R9), [V0.S4]
	FADDV(16, 16, 0); FADDV(17, 17, 0)
	VLD1R.P 4(R9), [V0.S4]
	FADDV(18, 18, 0); FADDV(19, 19, 0)
	VLD1R.P 4(R9), [V0.S4]
	FADDV(20, 20, 0); FADDV(21, 21, 0)
	VLD1R.P 4(R9), [V0.S4]
	FADDV(22, 22, 0); FADDV(23, 23, 0)
	VLD1R.P 4(R9), [V0.S4]
	FADDV(24, 24, 0); FADDV(25, 25, 0)
	VLD1R.P 4(R9), [V0.S4]
	FADDV(26, 26, 0); FADDV(27, 27, 0)
	VLD1R.P 4(R9), [V0.S4]
	FADDV(28, 28, 0); FADDV(29, 29, 0)
	VLD1R (R9), [V0.S4]
	FADDV(30, 30, 0); FADDV(31, 31, 0)

colbias:
	// Add bias[j] to column j.
	TBZ $2, R6, clamp
	VLD1 (R7), [V0.S4, V1.S4]
	ROWS2(FADDV, 0, 1)

clamp:
	// Clamp to [lo, hi]; FMAX and FMIN propagate NaN.
	TBZ  $3, R6, store
	MOVD $lo+64(FP), R9
	VLD1R (R9), [V0.S4]
	MOVD $hi+68(FP), R9
	VLD1R (R9), [V1.S4]
	ROWS2(FMAXV, 0, 0)
	ROWS2(FMINV, 1, 1)

store:
	VST1.P [V16.S4, V17.S4], (R4)(R5)
	VST1.P [V18.S4, V19.S4], (R4)(R5)
	VST1.P [V20.S4, V21.S4], (R4)(R5)
	VST1.P [V22.S4, V23.S4], (R4)(R5)
	VST1.P [V24.S4, V25.S4], (R4)(R5)
	VST1.P [V26.S4, V27.S4], (R4)(R5)
	VST1.P [V28.S4, V29.S4], (R4)(R5)
	VST1   [V30.S4, V31.S4], (R4)
	RET

// func kernel8x8hh(kc int, a *uint16, b *uint16, ldb int, c *float32, ldc int, flags uint64, bias *float32, lo float32, hi float32)
TEXT ·kernel8x8hh(SB), NOSPLIT, $0-72
	MOVD kc+0(FP), R0
	MOVD a+8(FP), R1
	MOVD b+16(FP), R2
	MOVD ldb+24(FP), R3
	LSL  $1, R3
	MOVD $32, R9 // k steps per half-precision chunk (halfChunk)

	VEOR V16.B16, V16.B16, V16.B16
	VEOR V17.B16, V17.B16, V17.B16
	VEOR V18.B16, V18.B16, V18.B16
	VEOR V19.B16, V19.B16, V19.B16
	VEOR V20.B16, V20.B16, V20.B16
	VEOR V21.B16, V21.B16, V21.B16
	VEOR V22.B16, V22.B16, V22.B16
	VEOR V23.B16, V23.B16, V23.B16
	VEOR V24.B16, V24.B16, V24.B16
	VEOR V25.B16, V25.B16, V25.B16
	VEOR V26.B16, V26.B16, V26.B16
	VEOR V27.B16, V27.B16, V27.B16
	VEOR V28.B16, V28.B16, V28.B16
	VEOR V29.B16, V29.B16, V29.B16
	VEOR V30.B16, V30.B16, V30.B16
	VEOR V31.B16, V31.B16, V31.B16

chunk:
	// R8 = min(R0, 32) steps summed in half precision in V8-V15.
	CMP  R9, R0
	CSEL LT, R0, R9, R8
	SUB  R8, R0, R0
	VEOR V8.B16, V8.B16, V8.B16
	VEOR V9.B16, V9.B16, V9.B16
	VEOR V10.B16, V10.B16, V10.B16
	VEOR V11.B16, V11.B16, V11.B16
	VEOR V12.B16, V12.B16, V12.B16
	VEOR V13.B16, V13.B16, V13.B16
	VEOR V14.B16, V14.B16, V14.B16
	VEOR V15.B16, V15.B16, V15.B16

	LSR $1, R8, R10
	AND $1, R8, R8
	CBZ R10, chunktail

inner:
	VLD1.P 16(R1), [V0.H8]
	VLD1.P (R2)(R3), [V1.H8]
	VLD1.P 16(R1), [V2.H8]
	VLD1.P (R2)(R3), [V3.H8]
	STEPH(0, 1)
	STEPH(2, 3)
	SUBS $1, R10, R10
	BNE  inner

chunktail:
	CBZ R8, flush
	VLD1.P 16(R1), [V0.H8]
	VLD1.P (R2)(R3), [V1.H8]
	STEPH(0, 1)

flush:
	// Widen the chunk's sums and add them in single precision.
	FLUSH(0, 4); FLUSH(1, 6); FLUSH(2, 4); FLUSH(3, 6)
	FLUSH(4, 4); FLUSH(5, 6); FLUSH(6, 4); FLUSH(7, 6)
	CBNZ R0, chunk

epilogue:
	MOVD c+32(FP), R4
	MOVD ldc+40(FP), R5
	LSL  $2, R5
	MOVD flags+48(FP), R6
	MOVD bias+56(FP), R7

	// Accumulate into C.
	TBZ  $0, R6, rowbias
	MOVD R4, R9
	VLD1.P (R9)(R5), [V0.S4, V1.S4]
	FADDV(16, 16, 0); FADDV(17, 17, 1)
	VLD1.P (R9)(R5), [V0.S4, V1.S4]
	FADDV(18, 18, 0); FADDV(19, 19, 1)
	VLD1.P (R9)(R5), [V0.S4, V1.S4]
	FADDV(20, 20, 0); FADDV(21, 21, 1)
	VLD1.P (R9)(R5), [V0.S4, V1.S4]
	FADDV(22, 22, 0); FADDV(23, 23, 1)
	VLD1.P (R9)(R5), [V0.S4, V1.S4]
	FADDV(24, 24, 0); FADDV(25, 25, 1)
	VLD1.P (R9)(R5), [V0.S4, V1.S4]
	FADDV(26, 26, 0); FADDV(27, 27, 1)
	VLD1.P (R9)(R5), [V0.S4, V1.S4]
	FADDV(28, 28, 0); FADDV(29, 29, 1)
	VLD1 (R9), [V0.S4, V1.S4]
	FADDV(30, 30, 0); FADDV(31, 31, 1)

rowbias:
	// Add bias[i] to row i.
	TBZ  $1, R6, colbias
	MOVD R7, R9
	VLD1R.P 4(R9), [V0.S4]
	FADDV(16, 16, 0); FADDV(17, 17, 0)
	VLD1R.P 4(R9), [V0.S4]
	FADDV(18, 18, 0); FADDV(19, 19, 0)
	VLD1R.P 4(R9), [V0.S4]
	FADDV(20, 20, 0); FADDV(21, 21, 0)
	VLD1R.P 4(R9), [V0.S4]
	FADDV(22, 22, 0); FADDV(23, 23, 0)
	VLD1R.P 4(R9), [V0.S4]
	FADDV(24, 24, 0); FADDV(25, 25, 0)
	VLD1R.P 4(R9), [V0.S4]
	FADDV(26, 26, 0); FADDV(27, 27, 0)
	VLD1R.P 4(R9), [V0.S4]
	FADDV(28, 28, 0); FADDV(29, 29, 0)
	VLD1R (R9), [V0.S4]
	FADDV(30, 30, 0); FADDV(31, 31, 0)

colbias:
	// Add bias[j] to column j.
	TBZ $2, R6, clamp
	VLD1 (R7), [V0.S4, V1.S4]
	ROWS2(FADDV, 0, 1)

clamp:
	// Clamp to [lo, hi]; FMAX and FMIN propagate NaN.
	TBZ  $3, R6, store
	MOVD $lo+64(FP), R9
	VLD1R (R9), [V0.S4]
	MOVD $hi+68(FP), R9
	VLD1R (R9), [V1.S4]
	ROWS2(FMAXV, 0, 0)
	ROWS2(FMINV, 1, 1)

store:
	VST1.P [V16.S4, V17.S4], (R4)(R5)
	VST1.P [V18.S4, V19.S4], (R4)(R5)
	VST1.P [V20.S4, V21.S4], (R4)(R5)
	VST1.P [V22.S4, V23.S4], (R4)(R5)
	VST1.P [V24.S4, V25.S4], (R4)(R5)
	VST1.P [V26.S4, V27.S4], (R4)(R5)
	VST1.P [V28.S4, V29.S4], (R4)(R5)
	VST1   [V30.S4, V31.S4], (R4)
	RET

// func kernel1x8h(kc int, a *float32, b *uint16, ldb int, c *float32, ldc int, flags uint64, bias *float32, lo float32, hi float32)
TEXT ·kernel1x8h(SB), NOSPLIT, $0-72
	MOVD kc+0(FP), R0
	MOVD a+8(FP), R1
	MOVD b+16(FP), R2
	MOVD ldb+24(FP), R3
	LSL  $1, R3
	MOVD $32, R9 // packed A: 8 floats per k step

	// Four accumulator pairs, one per k step of an iteration.
	VEOR V16.B16, V16.B16, V16.B16
	VEOR V17.B16, V17.B16, V17.B16
	VEOR V18.B16, V18.B16, V18.B16
	VEOR V19.B16, V19.B16, V19.B16
	VEOR V20.B16, V20.B16, V20.B16
	VEOR V21.B16, V21.B16, V21.B16
	VEOR V22.B16, V22.B16, V22.B16
	VEOR V23.B16, V23.B16, V23.B16

	LSR $2, R0, R8
	AND $3, R0, R0
	CBZ R8, tail1

loop1:
	VLD1R.P (R1)(R9), [V0.S4]
	VLD1.P  (R2)(R3), [V4.H8]
	VLD1R.P (R1)(R9), [V1.S4]
	VLD1.P  (R2)(R3), [V6.H8]
	VLD1R.P (R1)(R9), [V2.S4]
	VLD1.P  (R2)(R3), [V24.H8]
	VLD1R.P (R1)(R9), [V3.S4]
	VLD1.P  (R2)(R3), [V26.H8]
	FCVTL2(5, 4); FCVTL(4, 4)
	FCVTL2(7, 6); FCVTL(6, 6)
	FCVTL2(25, 24); FCVTL(24, 24)
	FCVTL2(27, 26); FCVTL(26, 26)
	VFMLA   V0.S4, V4.S4, V16.S4
	VFMLA   V0.S4, V5.S4, V17.S4
	VFMLA   V1.S4, V6.S4, V18.S4
	VFMLA   V1.S4, V7.S4, V19.S4
	VFMLA   V2.S4, V24.S4, V20.S4
	VFMLA   V2.S4, V25.S4, V21.S4
	VFMLA   V3.S4, V26.S4, V22.S4
	VFMLA   V3.S4, V27.S4, V23.S4
	SUBS    $1, R8, R8
	BNE     loop1

tail1:
	CBZ R0, reduce1

tailloop1:
	VLD1R.P (R1)(R9), [V0.S4]
	VLD1.P  (R2)(R3), [V4.H8]
	FCVTL2(5, 4); FCVTL(4, 4)
	VFMLA   V0.S4, V4.S4, V16.S4
	VFMLA   V0.S4, V5.S4, V17.S4
	SUBS    $1, R0, R0
	BNE     tailloop1

reduce1:
	FADDV(16, 16, 18); FADDV(17, 17, 19)
	FADDV(20, 20, 22); FADDV(21, 21, 23)
	FADDV(16, 16, 20); FADDV(17, 17, 21)

	MOVD c+32(FP), R4
	MOVD flags+48(FP), R6
	MOVD bias+56(FP), R7

	TBZ  $0, R6, rowbias1
	VLD1 (R4), [V0.S4, V1.S4]
	FADDV(16, 16, 0); FADDV(17, 17, 1)

rowbias1:
	TBZ   $1, R6, colbias1
	VLD1R (R7), [V0.S4]
	FADDV(16, 16, 0); FADDV(17, 17, 0)

colbias1:
	TBZ  $2, R6, clamp1
	VLD1 (R7), [V0.S4, V1.S4]
	FADDV(16, 16, 0); FADDV(17, 17, 1)

clamp1:
	TBZ   $3, R6, store1
	MOVD  $lo+64(FP), R9
	VLD1R (R9), [V0.S4]
	MOVD  $hi+68(FP), R9
	VLD1R (R9), [V1.S4]
	FMAXV(16, 16, 0); FMAXV(17, 17, 0)
	FMINV(16, 16, 1); FMINV(17, 17, 1)

store1:
	VST1 [V16.S4, V17.S4], (R4)
	RET

// func cvtHalfToFloat(n int, src *uint16, dst *float32)
TEXT ·cvtHalfToFloat(SB), NOSPLIT, $0-24
	MOVD n+0(FP), R0
	MOVD src+8(FP), R1
	MOVD dst+16(FP), R2

h2floop:
	VLD1.P 16(R1), [V0.H8]
	FCVTL2(1, 0); FCVTL(0, 0)
	VST1.P [V0.S4, V1.S4], 32(R2)
	SUBS   $8, R0, R0
	BGT    h2floop
	RET

// func cvtFloatToHalf(n int, src *float32, dst *uint16)
TEXT ·cvtFloatToHalf(SB), NOSPLIT, $0-24
	MOVD n+0(FP), R0
	MOVD src+8(FP), R1
	MOVD dst+16(FP), R2

f2hloop:
	VLD1.P 32(R1), [V0.S4, V1.S4]
	FCVTN(2, 0); FCVTN2(2, 1)
	VST1.P [V2.H8], 16(R2)
	SUBS   $8, R0, R0
	BGT    f2hloop
	RET

// func roundFloatHalf(n int, src *float32, dst *float32)
TEXT ·roundFloatHalf(SB), NOSPLIT, $0-24
	MOVD n+0(FP), R0
	MOVD src+8(FP), R1
	MOVD dst+16(FP), R2

roundloop:
	VLD1.P 32(R1), [V0.S4, V1.S4]
	FCVTN(2, 0); FCVTN2(2, 1)
	FCVTL(0, 2); FCVTL2(1, 2)
	VST1.P [V0.S4, V1.S4], 32(R2)
	SUBS   $8, R0, R0
	BGT    roundloop
	RET
