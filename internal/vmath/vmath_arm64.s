//go:build !purego

#include "textflag.h"

// NEON kernels of vmath: func(dst, src *float32, n int), n a multiple of 4
// (the Go side passes multiples of 8), four lanes per iteration. They
// follow scalar.go step for step, as the amd64 assembly does; constants
// live in V8-V31 for the whole loop, V0-V7 are temporaries. Each loop
// loads V0 from src, computes in place and stores V0 to dst.
//
// The Go assembler has no vector floating-point arithmetic, compares or
// conversions, so those are encoded by hand (Arm ARM, single precision,
// Q=1; arguments are register numbers). FMLA4(d, n, m) is d += n*m,
// FMLS4 d -= n*m (fused); FMIN4/FMAX4 return NaN when either input is
// NaN; FCMxx4(d, n, m) sets d to all ones where n xx m; BIT16(d, n, m)
// copies n's bits into d where m's are set, BIF16 where they are clear.
#define FADD4(d, n, m) WORD $(0x4E20D400 | ((m)<<16) | ((n)<<5) | (d))
#define FSUB4(d, n, m) WORD $(0x4EA0D400 | ((m)<<16) | ((n)<<5) | (d))
#define FMUL4(d, n, m) WORD $(0x6E20DC00 | ((m)<<16) | ((n)<<5) | (d))
#define FDIV4(d, n, m) WORD $(0x6E20FC00 | ((m)<<16) | ((n)<<5) | (d))
#define FMLA4(d, n, m) WORD $(0x4E20CC00 | ((m)<<16) | ((n)<<5) | (d))
#define FMLS4(d, n, m) WORD $(0x4EA0CC00 | ((m)<<16) | ((n)<<5) | (d))
#define FMAX4(d, n, m) WORD $(0x4E20F400 | ((m)<<16) | ((n)<<5) | (d))
#define FMIN4(d, n, m) WORD $(0x4EA0F400 | ((m)<<16) | ((n)<<5) | (d))
#define FCMEQ4(d, n, m) WORD $(0x4E20E400 | ((m)<<16) | ((n)<<5) | (d))
#define FCMGE4(d, n, m) WORD $(0x6E20E400 | ((m)<<16) | ((n)<<5) | (d))
#define FCMGT4(d, n, m) WORD $(0x6EA0E400 | ((m)<<16) | ((n)<<5) | (d))
#define FABS4(d, n) WORD $(0x4EA0F800 | ((n)<<5) | (d))
#define FNEG4(d, n) WORD $(0x6EA0F800 | ((n)<<5) | (d))
#define FRINTN4(d, n) WORD $(0x4E218800 | ((n)<<5) | (d))
#define FCVTZS4(d, n) WORD $(0x4EA1B800 | ((n)<<5) | (d))
#define SCVTF4(d, n) WORD $(0x4E21D800 | ((n)<<5) | (d))
#define ADD4(d, n, m) WORD $(0x4EA08400 | ((m)<<16) | ((n)<<5) | (d))
#define SUB4(d, n, m) WORD $(0x6EA08400 | ((m)<<16) | ((n)<<5) | (d))
#define SSHR4(d, n, sh) WORD $(0x4F000400 | ((64-(sh))<<16) | ((n)<<5) | (d))
#define USHR4(d, n, sh) WORD $(0x6F000400 | ((64-(sh))<<16) | ((n)<<5) | (d))
#define SHL4(d, n, sh) WORD $(0x4F005400 | ((32+(sh))<<16) | ((n)<<5) | (d))
#define AND16(d, n, m) WORD $(0x4E201C00 | ((m)<<16) | ((n)<<5) | (d))
#define ORR16(d, n, m) WORD $(0x4EA01C00 | ((m)<<16) | ((n)<<5) | (d))
#define EOR16(d, n, m) WORD $(0x6E201C00 | ((m)<<16) | ((n)<<5) | (d))
#define BSL16(d, n, m) WORD $(0x6E601C00 | ((m)<<16) | ((n)<<5) | (d))
#define BIT16(d, n, m) WORD $(0x6EA01C00 | ((m)<<16) | ((n)<<5) | (d))
#define BIF16(d, n, m) WORD $(0x6EE01C00 | ((m)<<16) | ((n)<<5) | (d))
#define MOV16(d, n) ORR16(d, n, n)

// CONST fills register V with the 32-bit pattern b in every lane.
#define CONST(V, b) MOVW $(b), R3; VDUP R3, V.S4


// EXPCONSTS loads exp's constants into V8-V20: clamps, log2e, ln2 high
// and low, P0-P5, 1 and the exponent bias 127.
#define EXPCONSTS CONST(V8, 0x42b20000); CONST(V9, 0xc2d00000); CONST(V10, 0x3fb8aa3b); CONST(V11, 0x3f318000); CONST(V12, 0xb95e8083); CONST(V13, 0x39506967); CONST(V14, 0x3ab743ce); CONST(V15, 0x3c088908); CONST(V16, 0x3d2aa9c1); CONST(V17, 0x3e2aaaaa); CONST(V18, 0x3f000000); CONST(V19, 0x3f800000); CONST(V20, 0x0000007f)

// EXP replaces V0 with e^V0 (exp1), using V1-V4.
#define EXP \
	FMIN4(0, 0, 8); FMAX4(0, 0, 9); \
	FMUL4(1, 0, 10); FRINTN4(1, 1); \
	FMLS4(0, 1, 11); FMLS4(0, 1, 12); \
	FMUL4(2, 0, 0); \
	MOV16(3, 14); FMLA4(3, 13, 0); \
	MOV16(4, 15); FMLA4(4, 3, 0); \
	MOV16(3, 16); FMLA4(3, 4, 0); \
	MOV16(4, 17); FMLA4(4, 3, 0); \
	MOV16(3, 18); FMLA4(3, 4, 0); \
	FMLA4(0, 3, 2); FADD4(0, 0, 19); \
	FCVTZS4(1, 1); SSHR4(2, 1, 1); SUB4(1, 1, 2); \
	ADD4(2, 2, 20); SHL4(2, 2, 23); ADD4(1, 1, 20); SHL4(1, 1, 23); \
	FMUL4(0, 0, 2); FMUL4(0, 0, 1)

// func expNEON(dst, src *float32, n int)
TEXT ·expNEON(SB), NOSPLIT, $0-24
	EXPCONSTS
	MOVD dst+0(FP), R0
	MOVD src+8(FP), R1
	MOVD n+16(FP), R2
	LSR  $2, R2
	CBZ  R2, exp_done

exp_loop:
	VLD1.P 16(R1), [V0.S4]
	EXP
	VST1.P [V0.S4], 16(R0)
	SUBS $1, R2
	BNE  exp_loop

exp_done:
	RET

// SIGMOID: e = e^-|x|, (x < 0 ? e : 1) / (1 + e); x kept in V5, the
// sign mask in V6.
#define SIGMOID \
	MOV16(5, 0); FABS4(0, 0); FNEG4(0, 0); \
	EXP; \
	FADD4(1, 0, 19); SSHR4(6, 5, 31); BSL16(6, 0, 19); \
	FDIV4(0, 6, 1)

// func sigmoidNEON(dst, src *float32, n int)
TEXT ·sigmoidNEON(SB), NOSPLIT, $0-24
	EXPCONSTS
	MOVD dst+0(FP), R0
	MOVD src+8(FP), R1
	MOVD n+16(FP), R2
	LSR  $2, R2
	CBZ  R2, sigmoid_done

sigmoid_loop:
	VLD1.P 16(R1), [V0.S4]
	SIGMOID
	VST1.P [V0.S4], 16(R0)
	SUBS $1, R2
	BNE  sigmoid_loop

sigmoid_done:
	RET

// TANH: on a = |x| (V6), a < 0.625 ? P(a^2)*a^2*a + a (V7) :
// 1 - 2/(e^2a + 1), with x's sign (x in V5). Constants V21-V25 P0-P4,
// V26 0.625, V27 2, V28 the sign bit.
#define TANH \
	MOV16(5, 0); FABS4(6, 0); FMUL4(7, 6, 6); \
	MOV16(3, 22); FMLA4(3, 21, 7); \
	MOV16(4, 23); FMLA4(4, 3, 7); \
	MOV16(3, 24); FMLA4(3, 4, 7); \
	MOV16(4, 25); FMLA4(4, 3, 7); \
	FMUL4(4, 4, 7); MOV16(7, 6); FMLA4(7, 4, 6); \
	FADD4(0, 6, 6); \
	EXP; \
	FADD4(0, 0, 19); FDIV4(0, 27, 0); FSUB4(0, 19, 0); \
	FCMGT4(1, 26, 6); BIT16(0, 7, 1); \
	BIT16(0, 5, 28)

// func tanhNEON(dst, src *float32, n int)
TEXT ·tanhNEON(SB), NOSPLIT, $0-24
	EXPCONSTS
	CONST(V21, 0xbbbaf0ea); CONST(V22, 0x3ca9134e); CONST(V23, 0xbd5c1e2d); CONST(V24, 0x3e088393); CONST(V25, 0xbeaaaa99); CONST(V26, 0x3f200000); CONST(V27, 0x40000000); CONST(V28, 0x80000000)
	MOVD dst+0(FP), R0
	MOVD src+8(FP), R1
	MOVD n+16(FP), R2
	LSR  $2, R2
	CBZ  R2, tanh_done

tanh_loop:
	VLD1.P 16(R1), [V0.S4]
	TANH
	VST1.P [V0.S4], 16(R0)
	SUBS $1, R2
	BNE  tanh_loop

tanh_done:
	RET

// LOG: denormals scaled by 2^23, x = m*2^e, f = m-1 with m in
// [sqrt(1/2), sqrt(2)), f + (P(f)*f*f^2 + e*ln2lo - f^2/2) + e*ln2hi; then
// the specials (x in V5). V0 v, V1 fe, V2 f, V4 the result.
#define LOG \
	MOV16(5, 0); FCMGT4(6, 8, 0); FMUL4(1, 0, 9); BIT16(0, 1, 6); \
	AND16(7, 6, 10); \
	USHR4(1, 0, 23); SUB4(1, 1, 11); SCVTF4(1, 1); FSUB4(1, 1, 7); \
	AND16(2, 0, 12); ORR16(2, 2, 13); \
	FCMGT4(3, 14, 2); AND16(4, 3, 15); FSUB4(1, 1, 4); \
	AND16(4, 2, 3); FADD4(2, 2, 4); FSUB4(2, 2, 15); \
	FMUL4(6, 2, 2); \
	MOV16(3, 17); FMLA4(3, 16, 2); \
	MOV16(4, 18); FMLA4(4, 3, 2); \
	MOV16(3, 19); FMLA4(3, 4, 2); \
	MOV16(4, 20); FMLA4(4, 3, 2); \
	MOV16(3, 21); FMLA4(3, 4, 2); \
	MOV16(4, 22); FMLA4(4, 3, 2); \
	MOV16(3, 23); FMLA4(3, 4, 2); \
	MOV16(4, 24); FMLA4(4, 3, 2); \
	FMUL4(4, 4, 2); FMUL4(4, 4, 6); \
	FMLA4(4, 1, 25); FMLA4(4, 6, 26); FADD4(4, 4, 2); FMLA4(4, 1, 27); \
	FCMEQ4(3, 5, 28); BIT16(4, 28, 3); \
	FCMEQ4(3, 5, 31); BIT16(4, 29, 3); \
	FCMGE4(3, 5, 31); BIF16(4, 30, 3); \
	MOV16(0, 4)

// func logNEON(dst, src *float32, n int)
TEXT ·logNEON(SB), NOSPLIT, $0-24
	CONST(V8, 0x00800000); CONST(V9, 0x4b000000); CONST(V10, 0x41b80000); CONST(V11, 0x0000007e); CONST(V12, 0x007fffff); CONST(V13, 0x3f000000); CONST(V14, 0x3f3504f3); CONST(V15, 0x3f800000); CONST(V16, 0x3d9021bb); CONST(V17, 0xbdebd1b8); CONST(V18, 0x3def251a); CONST(V19, 0xbdfe5d4f)
	CONST(V20, 0x3e11e9bf); CONST(V21, 0xbe2aae50); CONST(V22, 0x3e4cceac); CONST(V23, 0xbe7ffffc); CONST(V24, 0x3eaaaaaa); CONST(V25, 0xb95e8083); CONST(V26, 0xbf000000); CONST(V27, 0x3f318000); CONST(V28, 0x7f800000); CONST(V29, 0xff800000); CONST(V30, 0x7fc00000); CONST(V31, 0x00000000)
	MOVD dst+0(FP), R0
	MOVD src+8(FP), R1
	MOVD n+16(FP), R2
	LSR  $2, R2
	CBZ  R2, log_done

log_loop:
	VLD1.P 16(R1), [V0.S4]
	LOG
	VST1.P [V0.S4], 16(R0)
	SUBS $1, R2
	BNE  log_loop

log_done:
	RET

// ERF: x clamped to [-4, 4], A(x^2)/B(x^2)*x clamped to [-1, 1].
// Constants V8-V11 the clamps, V12-V18 A13..A1, V19-V23 B8..B0.
#define ERF \
	FMIN4(0, 0, 8); FMAX4(0, 0, 9); FMUL4(1, 0, 0); \
	MOV16(3, 13); FMLA4(3, 12, 1); \
	MOV16(4, 14); FMLA4(4, 3, 1); \
	MOV16(3, 15); FMLA4(3, 4, 1); \
	MOV16(4, 16); FMLA4(4, 3, 1); \
	MOV16(3, 17); FMLA4(3, 4, 1); \
	MOV16(4, 18); FMLA4(4, 3, 1); \
	MOV16(3, 20); FMLA4(3, 19, 1); \
	MOV16(2, 21); FMLA4(2, 3, 1); \
	MOV16(3, 22); FMLA4(3, 2, 1); \
	MOV16(2, 23); FMLA4(2, 3, 1); \
	FDIV4(4, 4, 2); FMUL4(0, 4, 0); FMIN4(0, 0, 10); FMAX4(0, 0, 11)

// func erfNEON(dst, src *float32, n int)
TEXT ·erfNEON(SB), NOSPLIT, $0-24
	CONST(V8, 0x40800000); CONST(V9, 0xc0800000); CONST(V10, 0x3f800000); CONST(V11, 0xbf800000); CONST(V12, 0xaf95df0b); CONST(V13, 0x32edffee); CONST(V14, 0xb60cff51); CONST(V15, 0xb86ec2d2); CONST(V16, 0xba40ac63); CONST(V17, 0xbb41a1f6)
	CONST(V18, 0xbc83dbd4); CONST(V19, 0xb77460cd); CONST(V20, 0xb95fbd29); CONST(V21, 0xbadc924e); CONST(V22, 0xbbf19bf8); CONST(V23, 0xbc69b6a7)
	MOVD dst+0(FP), R0
	MOVD src+8(FP), R1
	MOVD n+16(FP), R2
	LSR  $2, R2
	CBZ  R2, erf_done

erf_loop:
	VLD1.P 16(R1), [V0.S4]
	ERF
	VST1.P [V0.S4], 16(R0)
	SUBS $1, R2
	BNE  erf_loop

erf_done:
	RET

// func hardSigmoidNEON(dst, src *float32, n int, a, b float32)
TEXT ·hardSigmoidNEON(SB), NOSPLIT, $0-32
	MOVWU a+24(FP), R3
	VDUP  R3, V8.S4
	MOVWU b+28(FP), R3
	VDUP  R3, V9.S4
	CONST(V10, 0x3f800000); CONST(V11, 0)
	MOVD dst+0(FP), R0
	MOVD src+8(FP), R1
	MOVD n+16(FP), R2
	LSR  $2, R2
	CBZ  R2, hardSigmoid_done

hardSigmoid_loop:
	VLD1.P 16(R1), [V0.S4]
	FMUL4(0, 8, 0)
	FADD4(0, 0, 9)
	FMIN4(0, 0, 10)
	FMAX4(0, 0, 11)
	VST1.P [V0.S4], 16(R0)
	SUBS $1, R2
	BNE  hardSigmoid_loop

hardSigmoid_done:
	RET

// func hardSwishNEON(dst, src *float32, n int)
TEXT ·hardSwishNEON(SB), NOSPLIT, $0-24
	CONST(V8, 0x40c00000); CONST(V9, 0x3f000000); CONST(V10, 0x3f800000); CONST(V11, 0)
	MOVD dst+0(FP), R0
	MOVD src+8(FP), R1
	MOVD n+16(FP), R2
	LSR  $2, R2
	CBZ  R2, hardSwish_done

hardSwish_loop:
	VLD1.P 16(R1), [V0.S4]
	FDIV4(1, 0, 8)
	FADD4(1, 1, 9)
	FMIN4(1, 1, 10)
	FMAX4(1, 1, 11)
	FMUL4(0, 0, 1)
	VST1.P [V0.S4], 16(R0)
	SUBS $1, R2
	BNE  hardSwish_loop

hardSwish_done:
	RET

// func siluNEON(dst, src *float32, n int): x (kept in V7) * SIGMOID.
TEXT ·siluNEON(SB), NOSPLIT, $0-24
	EXPCONSTS
	MOVD dst+0(FP), R0
	MOVD src+8(FP), R1
	MOVD n+16(FP), R2
	LSR  $2, R2
	CBZ  R2, silu_done

silu_loop:
	VLD1.P 16(R1), [V0.S4]
	MOV16(7, 0)
	SIGMOID
	FMUL4(0, 7, 0)
	VST1.P [V0.S4], 16(R0)
	SUBS $1, R2
	BNE  silu_loop

silu_done:
	RET

// func geluNEON(dst, src *float32, n int): (0.5*x) * (1 + ERF(x/sqrt(2))),
// x kept in V7; V24 1/sqrt(2), V25 0.5 besides erf's constants.
TEXT ·geluNEON(SB), NOSPLIT, $0-24
	CONST(V8, 0x40800000); CONST(V9, 0xc0800000); CONST(V10, 0x3f800000); CONST(V11, 0xbf800000); CONST(V12, 0xaf95df0b); CONST(V13, 0x32edffee); CONST(V14, 0xb60cff51); CONST(V15, 0xb86ec2d2); CONST(V16, 0xba40ac63); CONST(V17, 0xbb41a1f6)
	CONST(V18, 0xbc83dbd4); CONST(V19, 0xb77460cd); CONST(V20, 0xb95fbd29); CONST(V21, 0xbadc924e); CONST(V22, 0xbbf19bf8); CONST(V23, 0xbc69b6a7)
	CONST(V24, 0x3f3504f3); CONST(V25, 0x3f000000)
	MOVD dst+0(FP), R0
	MOVD src+8(FP), R1
	MOVD n+16(FP), R2
	LSR  $2, R2
	CBZ  R2, gelu_done

gelu_loop:
	VLD1.P 16(R1), [V0.S4]
	MOV16(7, 0)
	FMUL4(0, 0, 24)
	ERF
	FADD4(0, 0, 10)
	FMUL4(6, 25, 7)
	FMUL4(0, 6, 0)
	VST1.P [V0.S4], 16(R0)
	SUBS $1, R2
	BNE  gelu_loop

gelu_done:
	RET
