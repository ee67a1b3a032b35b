//go:build !purego

#include "textflag.h"

// int8 GEMM micro-kernels for arm64 NEON. Each computes an m x 16 int32
// tile (m = 4 or 1 with SDOT, 2 or 1 without) from m rows of A read in
// place (row i at a + i*lda, 4 bytes per k group) and a packed B panel
// (per group, 64 bytes: 16 columns x 4 steps), then applies the epilogue
// (see kernel.go; flags as there, plus 32: the channel is the column).
// Activation codes (0..127) and weight codes (-127..127) are both read as
// signed bytes, so SDOT and SMULL compute the exact products.
//
// The Go assembler lacks these NEON instructions, so they are encoded by
// hand (Arm ARM encodings; arguments are register numbers, verified with
// GNU as): SDOTE(d, n, m, i) is SDOT Vd.4S, Vn.16B, Vm.4B[i].
#define SDOTE(d, n, m, i) WORD $(0x4F80E000 | (((i)&1)<<21) | (((m)&16)<<16) | (((m)&15)<<16) | (((i)>>1)<<11) | ((n)<<5) | (d))
#define SMULL8(d, n, m) WORD $(0x0E20C000 | ((m)<<16) | ((n)<<5) | (d))
#define SMULL16(d, n, m) WORD $(0x4E20C000 | ((m)<<16) | ((n)<<5) | (d))
#define SMLAL8(d, n, m) WORD $(0x0E208000 | ((m)<<16) | ((n)<<5) | (d))
#define SMLAL16(d, n, m) WORD $(0x4E208000 | ((m)<<16) | ((n)<<5) | (d))
#define SADALP(d, n) WORD $(0x4E606800 | ((n)<<5) | (d))
#define ADDP(d, n, m) WORD $(0x4EA0BC00 | ((m)<<16) | ((n)<<5) | (d))
#define ADDV(d, n, m) WORD $(0x4EA08400 | ((m)<<16) | ((n)<<5) | (d))
#define SUBV(d, n, m) WORD $(0x6EA08400 | ((m)<<16) | ((n)<<5) | (d))
#define MULV(d, n, m) WORD $(0x4EA09C00 | ((m)<<16) | ((n)<<5) | (d))
#define SCVTF(d, n) WORD $(0x4E21D800 | ((n)<<5) | (d))
#define FMULV(d, n, m) WORD $(0x6E20DC00 | ((m)<<16) | ((n)<<5) | (d))
#define FMULE(d, n, m, i) WORD $(0x4F809000 | (((i)&1)<<21) | (((m)&16)<<16) | (((m)&15)<<16) | (((i)>>1)<<11) | ((n)<<5) | (d))
#define FADDV(d, n, m) WORD $(0x4E20D400 | ((m)<<16) | ((n)<<5) | (d))
#define FCMGT(d, n, m) WORD $(0x6EA0E400 | ((m)<<16) | ((n)<<5) | (d))
#define BIT(d, n, m) WORD $(0x6EA01C00 | ((m)<<16) | ((n)<<5) | (d))

// Register use: R0 k groups, R1/R4/R5/R6 rows of A, R2 lda, R3 B, R10 C,
// R11 ldc in bytes, R12 flags, R7 bias, R13 zp, R14 wsum, R15 wscale;
// accumulators from V16 (row i of a tile at V16+4i .. V19+4i once final).

// ARGS loads the arguments used by every kernel.
#define ARGS \
	MOVD kg+0(FP), R0; MOVD a+8(FP), R1; MOVD lda+16(FP), R2; MOVD b+24(FP), R3; \
	MOVD c+32(FP), R10; MOVD ldc+40(FP), R11; LSL $2, R11; MOVD flags+88(FP), R12

#define ZERO4(a, b, c, d) VEOR a.B16, a.B16, a.B16; VEOR b.B16, b.B16, b.B16; VEOR c.B16, c.B16, c.B16; VEOR d.B16, d.B16, d.B16

// SDOT4ROW accumulates group i of A register an into the row at V(acc).
#define SDOT4ROW(acc, an, b0, i) SDOTE(acc, b0, an, i); SDOTE(acc+1, b0+1, an, i); SDOTE(acc+2, b0+2, an, i); SDOTE(acc+3, b0+3, an, i)

// LOADADD adds the int32 partial sums of the next row of C (R9, advanced
// by R11) to the row at V(a).
#define LOADADD(a) VLD1.P (R9)(R11), [V0.S4, V1.S4, V2.S4, V3.S4]; ADDV(a, a, 0); ADDV(a+1, a+1, 1); ADDV(a+2, a+2, 2); ADDV(a+3, a+3, 3)

// CONVROW: acc -= zp*wsum[i]; acc = float32(acc) * (wscale[i]*xscale),
// the channel being the row (R14 wsum, R15 wscale advance; zp in R13,
// xscale in V12.S[0]).
#define CONVROW(a) \
	MOVW.P 4(R14), R9; MULW R13, R9, R9; VDUP R9, V0.S4; \
	SUBV(a, a, 0); SUBV(a+1, a+1, 0); SUBV(a+2, a+2, 0); SUBV(a+3, a+3, 0); \
	FMOVS.P 4(R15), F1; FMULS F12, F1, F1; \
	SCVTF(a, a); SCVTF(a+1, a+1); SCVTF(a+2, a+2); SCVTF(a+3, a+3); \
	FMULE(a, a, 1, 0); FMULE(a+1, a+1, 1, 0); FMULE(a+2, a+2, 1, 0); FMULE(a+3, a+3, 1, 0)

// DENSESETUP loads the per-column terms: zp*wsum[j] into V4-V7 and
// wscale[j]*xscale into V8-V11.
#define DENSESETUP \
	VLD1 (R14), [V4.S4, V5.S4, V6.S4, V7.S4]; VDUP R13, V0.S4; \
	MULV(4, 4, 0); MULV(5, 5, 0); MULV(6, 6, 0); MULV(7, 7, 0); \
	VLD1 (R15), [V8.S4, V9.S4, V10.S4, V11.S4]; \
	FMULE(8, 8, 12, 0); FMULE(9, 9, 12, 0); FMULE(10, 10, 12, 0); FMULE(11, 11, 12, 0)

// DENSEROW requantizes a row with the per-column terms.
#define DENSEROW(a) \
	SUBV(a, a, 4); SUBV(a+1, a+1, 5); SUBV(a+2, a+2, 6); SUBV(a+3, a+3, 7); \
	SCVTF(a, a); SCVTF(a+1, a+1); SCVTF(a+2, a+2); SCVTF(a+3, a+3); \
	FMULV(a, a, 8); FMULV(a+1, a+1, 9); FMULV(a+2, a+2, 10); FMULV(a+3, a+3, 11)

#define ROWBIAS(a) VLD1R.P 4(R7), [V0.S4]; FADDV(a, a, 0); FADDV(a+1, a+1, 0); FADDV(a+2, a+2, 0); FADDV(a+3, a+3, 0)
#define COLBIAS(a) FADDV(a, a, 0); FADDV(a+1, a+1, 1); FADDV(a+2, a+2, 2); FADDV(a+3, a+3, 3)

// CLAMP1 sets each lane of V(a) below lo (V0) to lo and then each lane
// above hi (V1) to hi, as the Go epilogue does (NaN and -0 stay).
#define CLAMP1(a) FCMGT(2, 0, a); BIT(a, 0, 2); FCMGT(2, a, 1); BIT(a, 1, 2)
#define CLAMP(a) CLAMP1(a); CLAMP1(a+1); CLAMP1(a+2); CLAMP1(a+3)

#define STOREROW(r0, r1, r2, r3) VST1.P [r0.S4, r1.S4, r2.S4, r3.S4], (R10)(R11)

#define EPILOGUE_ARGS \
	MOVW zp+72(FP), R13; FMOVS xscale+76(FP), F12; MOVD wsum+48(FP), R14; MOVD wscale+56(FP), R15; \
	MOVD bias+64(FP), R7; FMOVS lo+80(FP), F13; FMOVS hi+84(FP), F14

// EPI(ROWS, STORES) emits the epilogue after the partial-sum load (flag
// 16): the raw store (flag 1), or the requantization, bias and clamp.
// ROWS(OP) applies OP to each row. (Labels are local to each function.)
#define EPI(ROWS, STORES) \
	TBZ $0, R12, requant; \
	STORES; \
	RET; \
requant: \
	EPILOGUE_ARGS; \
	TBNZ $5, R12, dense; \
	ROWS(CONVROW); \
	B rowbias; \
dense: \
	DENSESETUP; \
	ROWS(DENSEROW); \
rowbias: \
	TBZ $1, R12, colbias; \
	ROWS(ROWBIAS); \
colbias: \
	TBZ $2, R12, clamp; \
	VLD1 (R7), [V0.S4, V1.S4, V2.S4, V3.S4]; \
	ROWS(COLBIAS); \
clamp: \
	TBZ $3, R12, store; \
	VDUP V13.S[0], V0.S4; VDUP V14.S[0], V1.S4; \
	ROWS(CLAMP); \
store: \
	STORES; \
	RET

#define ROWS4(OP) OP(16); OP(20); OP(24); OP(28)
#define ROWS2(OP) OP(16); OP(20)
#define ROWS1(OP) OP(16)
#define STORES4 STOREROW(V16, V17, V18, V19); STOREROW(V20, V21, V22, V23); STOREROW(V24, V25, V26, V27); STOREROW(V28, V29, V30, V31)
#define STORES2 STOREROW(V16, V17, V18, V19); STOREROW(V20, V21, V22, V23)
#define STORES1 STOREROW(V16, V17, V18, V19)

// func sdotKernel4x16(kg int, a *uint8, lda int, b *uint8, c *float32, ldc int, wsum *int32, wscale *float32, bias *float32, zp int32, xscale float32, lo float32, hi float32, flags uint64)
TEXT ·sdotKernel4x16(SB), NOSPLIT, $0-96
	ARGS
	ADD  R2, R1, R4
	ADD  R2, R4, R5
	ADD  R2, R5, R6
	ZERO4(V16, V17, V18, V19)
	ZERO4(V20, V21, V22, V23)
	ZERO4(V24, V25, V26, V27)
	ZERO4(V28, V29, V30, V31)

	// Four groups per iteration: 16 bytes of each row of A.
	LSR $2, R0, R8
	AND $3, R0, R0
	CBZ R8, sdot4_tail

sdot4_loop:
	VLD1.P 16(R1), [V0.B16]
	VLD1.P 16(R4), [V1.B16]
	VLD1.P 16(R5), [V2.B16]
	VLD1.P 16(R6), [V3.B16]
	VLD1.P 64(R3), [V4.B16, V5.B16, V6.B16, V7.B16]
	VLD1.P 64(R3), [V8.B16, V9.B16, V10.B16, V11.B16]
	SDOT4ROW(16, 0, 4, 0); SDOT4ROW(20, 1, 4, 0); SDOT4ROW(24, 2, 4, 0); SDOT4ROW(28, 3, 4, 0)
	VLD1.P 64(R3), [V4.B16, V5.B16, V6.B16, V7.B16]
	SDOT4ROW(16, 0, 8, 1); SDOT4ROW(20, 1, 8, 1); SDOT4ROW(24, 2, 8, 1); SDOT4ROW(28, 3, 8, 1)
	VLD1.P 64(R3), [V8.B16, V9.B16, V10.B16, V11.B16]
	SDOT4ROW(16, 0, 4, 2); SDOT4ROW(20, 1, 4, 2); SDOT4ROW(24, 2, 4, 2); SDOT4ROW(28, 3, 4, 2)
	SDOT4ROW(16, 0, 8, 3); SDOT4ROW(20, 1, 8, 3); SDOT4ROW(24, 2, 8, 3); SDOT4ROW(28, 3, 8, 3)
	SUBS $1, R8, R8
	BNE  sdot4_loop

sdot4_tail:
	CBZ R0, sdot4_done

sdot4_tailloop:
	FMOVS.P 4(R1), F0
	FMOVS.P 4(R4), F1
	FMOVS.P 4(R5), F2
	FMOVS.P 4(R6), F3
	VLD1.P  64(R3), [V4.B16, V5.B16, V6.B16, V7.B16]
	SDOT4ROW(16, 0, 4, 0); SDOT4ROW(20, 1, 4, 0); SDOT4ROW(24, 2, 4, 0); SDOT4ROW(28, 3, 4, 0)
	SUBS $1, R0, R0
	BNE  sdot4_tailloop

sdot4_done:
	TBZ  $4, R12, sdot4_epi
	MOVD R10, R9
	LOADADD(16); LOADADD(20); LOADADD(24); LOADADD(28)

sdot4_epi:
	EPI(ROWS4, STORES4)

// func sdotKernel1x16(kg int, a *uint8, lda int, b *uint8, c *float32, ldc int, wsum *int32, wscale *float32, bias *float32, zp int32, xscale float32, lo float32, hi float32, flags uint64)
TEXT ·sdotKernel1x16(SB), NOSPLIT, $0-96
	ARGS
	// Two sets of accumulators (even and odd groups) hide SDOT latency.
	ZERO4(V16, V17, V18, V19)
	ZERO4(V20, V21, V22, V23)
	LSR $2, R0, R8
	AND $3, R0, R0
	CBZ R8, sdot1_tail

sdot1_loop:
	VLD1.P 16(R1), [V0.B16]
	VLD1.P 64(R3), [V4.B16, V5.B16, V6.B16, V7.B16]
	VLD1.P 64(R3), [V8.B16, V9.B16, V10.B16, V11.B16]
	SDOT4ROW(16, 0, 4, 0)
	SDOT4ROW(20, 0, 8, 1)
	VLD1.P 64(R3), [V4.B16, V5.B16, V6.B16, V7.B16]
	VLD1.P 64(R3), [V8.B16, V9.B16, V10.B16, V11.B16]
	SDOT4ROW(16, 0, 4, 2)
	SDOT4ROW(20, 0, 8, 3)
	SUBS $1, R8, R8
	BNE  sdot1_loop

sdot1_tail:
	CBZ R0, sdot1_done

sdot1_tailloop:
	FMOVS.P 4(R1), F0
	VLD1.P  64(R3), [V4.B16, V5.B16, V6.B16, V7.B16]
	SDOT4ROW(16, 0, 4, 0)
	SUBS $1, R0, R0
	BNE  sdot1_tailloop

sdot1_done:
	ADDV(16, 16, 20); ADDV(17, 17, 21); ADDV(18, 18, 22); ADDV(19, 19, 23)
	TBZ  $4, R12, sdot1_epi
	MOVD R10, R9
	LOADADD(16)

sdot1_epi:
	EPI(ROWS1, STORES1)

// SMLALROW accumulates two groups of one row: A group g repeated in V(x),
// group g+1 in V(y), B groups in V0-V3 and V4-V7; the row's 8
// accumulators from V(acc) hold, per pair of columns, two partial sums
// each. The int16 sum of two products is at most 2*127*127 = 32258: exact.
#define SMLALHALF(acc, b0, b1, x, y) \
	SMULL8(14, b0, x); SMLAL8(14, b1, y); SADALP(acc, 14); \
	SMULL16(15, b0, x); SMLAL16(15, b1, y); SADALP(acc+1, 15)
#define SMLALROW(acc, x, y) \
	SMLALHALF(acc, 0, 4, x, y); SMLALHALF(acc+2, 1, 5, x, y); \
	SMLALHALF(acc+4, 2, 6, x, y); SMLALHALF(acc+6, 3, 7, x, y)
// SMULLROW accumulates one group (A in V(x), B in V0-V3).
#define SMULLHALF(acc, b0, x) SMULL8(14, b0, x); SADALP(acc, 14); SMULL16(15, b0, x); SADALP(acc+1, 15)
#define SMULLROW(acc, x) SMULLHALF(acc, 0, x); SMULLHALF(acc+2, 1, x); SMULLHALF(acc+4, 2, x); SMULLHALF(acc+6, 3, x)
// PAIRS folds a row's 8 accumulators at V(s) into 4 at V(d).
#define PAIRS(d, s) ADDP(d, s, s+1); ADDP(d+1, s+2, s+3); ADDP(d+2, s+4, s+5); ADDP(d+3, s+6, s+7)

// func smlalKernel2x16(kg int, a *uint8, lda int, b *uint8, c *float32, ldc int, wsum *int32, wscale *float32, bias *float32, zp int32, xscale float32, lo float32, hi float32, flags uint64)
TEXT ·smlalKernel2x16(SB), NOSPLIT, $0-96
	ARGS
	ADD R2, R1, R4
	ZERO4(V16, V17, V18, V19)
	ZERO4(V20, V21, V22, V23)
	ZERO4(V24, V25, V26, V27)
	ZERO4(V28, V29, V30, V31)
	LSR $1, R0, R8
	AND $1, R0, R0
	CBZ R8, smlal2_tail

smlal2_loop:
	FMOVD.P 8(R1), F8
	FMOVD.P 8(R4), F9
	VLD1.P  64(R3), [V0.B16, V1.B16, V2.B16, V3.B16]
	VLD1.P  64(R3), [V4.B16, V5.B16, V6.B16, V7.B16]
	VDUP    V8.S[0], V10.S4
	VDUP    V8.S[1], V11.S4
	VDUP    V9.S[0], V12.S4
	VDUP    V9.S[1], V13.S4
	SMLALROW(16, 10, 11)
	SMLALROW(24, 12, 13)
	SUBS $1, R8, R8
	BNE  smlal2_loop

smlal2_tail:
	CBZ     R0, smlal2_done
	FMOVS   (R1), F8
	FMOVS   (R4), F9
	VLD1    (R3), [V0.B16, V1.B16, V2.B16, V3.B16]
	VDUP    V8.S[0], V10.S4
	VDUP    V9.S[0], V12.S4
	SMULLROW(16, 10)
	SMULLROW(24, 12)

smlal2_done:
	PAIRS(16, 16)
	PAIRS(20, 24)
	TBZ  $4, R12, smlal2_epi
	MOVD R10, R9
	LOADADD(16); LOADADD(20)

smlal2_epi:
	EPI(ROWS2, STORES2)

// func smlalKernel1x16(kg int, a *uint8, lda int, b *uint8, c *float32, ldc int, wsum *int32, wscale *float32, bias *float32, zp int32, xscale float32, lo float32, hi float32, flags uint64)
TEXT ·smlalKernel1x16(SB), NOSPLIT, $0-96
	ARGS
	ZERO4(V16, V17, V18, V19)
	ZERO4(V20, V21, V22, V23)
	LSR $1, R0, R8
	AND $1, R0, R0
	CBZ R8, smlal1_tail

smlal1_loop:
	FMOVD.P 8(R1), F8
	VLD1.P  64(R3), [V0.B16, V1.B16, V2.B16, V3.B16]
	VLD1.P  64(R3), [V4.B16, V5.B16, V6.B16, V7.B16]
	VDUP    V8.S[0], V10.S4
	VDUP    V8.S[1], V11.S4
	SMLALROW(16, 10, 11)
	SUBS $1, R8, R8
	BNE  smlal1_loop

smlal1_tail:
	CBZ     R0, smlal1_done
	FMOVS   (R1), F8
	VLD1    (R3), [V0.B16, V1.B16, V2.B16, V3.B16]
	VDUP    V8.S[0], V10.S4
	SMULLROW(16, 10)

smlal1_done:
	PAIRS(16, 16)
	TBZ  $4, R12, smlal1_epi
	MOVD R10, R9
	LOADADD(16)

smlal1_epi:
	EPI(ROWS1, STORES1)

// Quantizers (see Quant): x*inv, clamped to [lo, hi] with FMAX/FMIN (NaN
// stays NaN), converted by FCVTNS (round to nearest, ties to even; NaN
// gives 0, the value of the zero point), narrowed to bytes and offset by
// the zero point: the same codes as the Go quantizer.
#define FMAXV(d, n, m) WORD $(0x4E20F400 | ((m)<<16) | ((n)<<5) | (d))
#define FMINV(d, n, m) WORD $(0x4EA0F400 | ((m)<<16) | ((n)<<5) | (d))
#define FCVTNS(d, n) WORD $(0x4E21A800 | ((n)<<5) | (d))
#define SQXTN4H(d, n) WORD $(0x0E614800 | ((n)<<5) | (d))
#define SQXTN8H(d, n) WORD $(0x4E614800 | ((n)<<5) | (d))
#define SQXTN8B(d, n) WORD $(0x0E214800 | ((n)<<5) | (d))
#define SQXTN16B(d, n) WORD $(0x4E214800 | ((n)<<5) | (d))
#define ZIP1B(d, n, m) WORD $(0x4E003800 | ((m)<<16) | ((n)<<5) | (d))
#define ZIP2B(d, n, m) WORD $(0x4E007800 | ((m)<<16) | ((n)<<5) | (d))
#define ZIP1H(d, n, m) WORD $(0x4E403800 | ((m)<<16) | ((n)<<5) | (d))
#define ZIP2H(d, n, m) WORD $(0x4E407800 | ((m)<<16) | ((n)<<5) | (d))
#define ADDB(d, n, m) WORD $(0x4E208400 | ((m)<<16) | ((n)<<5) | (d))

// QUANT converts the floats of V(v) to int32 codes relative to the zero
// point (inv in V28, lo in V29, hi in V30).
#define QUANT(v) FMULV(v, v, 28); FMAXV(v, v, 29); FMINV(v, v, 30); FCVTNS(v, v)
#define QUANT4(a) QUANT(a); QUANT(a+1); QUANT(a+2); QUANT(a+3)

// NARROW packs the int32 codes in V(a)..V(a+3) (16 values in [-127, 127])
// into the bytes of V(d), using V(t).
#define NARROW(d, a, t) \
	SQXTN4H(d, a); SQXTN8H(d, a+1); SQXTN4H(t, a+2); SQXTN8H(t, a+3); \
	SQXTN8B(d, d); SQXTN16B(d, t)

// QCONSTS loads the quantizer constants from the arguments at offsets.
#define QCONSTS(inv, lo, hi, zp) \
	FMOVS inv(FP), F28; VDUP V28.S[0], V28.S4; \
	FMOVS lo(FP), F29; VDUP V29.S[0], V29.S4; \
	FMOVS hi(FP), F30; VDUP V30.S[0], V30.S4; \
	MOVW zp(FP), R6; VDUP R6, V31.B16

// func quantBlockNEON(kg int, np int, src *float32, ldx int, dst *uint8, pstride int, inv float32, lo float32, hi float32, zp int32)
TEXT ·quantBlockNEON(SB), NOSPLIT, $0-64
	MOVD kg+0(FP), R0
	MOVD np+8(FP), R1
	MOVD src+16(FP), R2
	MOVD ldx+24(FP), R3
	LSL  $2, R3
	MOVD dst+32(FP), R4
	MOVD pstride+40(FP), R5
	QCONSTS(inv+48, lo+52, hi+56, zp+60)
	CBZ  R0, qb_done
	CBZ  R1, qb_done

qb_group:
	MOVD R2, R7
	MOVD R4, R8
	MOVD R1, R9

qb_panel:
	ADD  R3, R7, R10
	ADD  R3, R10, R11
	ADD  R3, R11, R12
	VLD1 (R7), [V0.S4, V1.S4, V2.S4, V3.S4]
	VLD1 (R10), [V4.S4, V5.S4, V6.S4, V7.S4]
	VLD1 (R11), [V8.S4, V9.S4, V10.S4, V11.S4]
	VLD1 (R12), [V12.S4, V13.S4, V14.S4, V15.S4]
	QUANT4(0); QUANT4(4); QUANT4(8); QUANT4(12)
	NARROW(16, 0, 20); NARROW(17, 4, 21); NARROW(18, 8, 22); NARROW(19, 12, 23)
	// Rows t = 0..3 of 16 columns in V16-V19 to [column][t].
	ZIP1B(20, 16, 17); ZIP2B(21, 16, 17); ZIP1B(22, 18, 19); ZIP2B(23, 18, 19)
	ZIP1H(24, 20, 22); ZIP2H(25, 20, 22); ZIP1H(26, 21, 23); ZIP2H(27, 21, 23)
	ADDB(24, 24, 31); ADDB(25, 25, 31); ADDB(26, 26, 31); ADDB(27, 27, 31)
	VST1 [V24.B16, V25.B16, V26.B16, V27.B16], (R8)
	ADD  $64, R7
	ADD  R5, R8
	SUBS $1, R9, R9
	BNE  qb_panel

	ADD  R3<<2, R2, R2
	ADD  $64, R4
	SUBS $1, R0, R0
	BNE  qb_group

qb_done:
	RET

// func quantRowNEON(n int, src *float32, dst *uint8, inv float32, lo float32, hi float32, zp int32)
TEXT ·quantRowNEON(SB), NOSPLIT, $0-40
	MOVD n+0(FP), R0
	MOVD src+8(FP), R2
	MOVD dst+16(FP), R4
	QCONSTS(inv+24, lo+28, hi+32, zp+36)
	LSR  $4, R0, R0
	CBZ  R0, qr_done

qr_loop:
	VLD1.P 64(R2), [V0.S4, V1.S4, V2.S4, V3.S4]
	QUANT4(0)
	NARROW(16, 0, 20)
	ADDB(16, 16, 31)
	VST1.P [V16.B16], 16(R4)
	SUBS   $1, R0, R0
	BNE    qr_loop

qr_done:
	RET
