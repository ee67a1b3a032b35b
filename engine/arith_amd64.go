//go:build !purego

package engine

//go:generate go run ../tools/asm/arith_amd64 -out arith_amd64.s -stubs arith_stubs_amd64.go -pkg engine

import "golang.org/x/sys/cpu"

// arithVecArch computes the longest multiple-of-8 prefix of arithVec with
// AVX and returns its length (0 without AVX). len(o), len(y) >= len(x).
func arithVecArch(op byte, swap bool, o, x, y []float32) int {
	n := len(x) &^ 7
	if n == 0 || !cpu.X86.HasAVX {
		return 0
	}
	_, _ = o[n-1], y[n-1]
	if swap {
		x, y = y, x
	}
	switch op {
	case '+':
		arithVVAdd(&o[0], &x[0], &y[0], n)
	case '-':
		arithVVSub(&o[0], &x[0], &y[0], n)
	case '*':
		arithVVMul(&o[0], &x[0], &y[0], n)
	default:
		arithVVDiv(&o[0], &x[0], &y[0], n)
	}
	return n
}

// arithScalarArch computes the longest multiple-of-8 prefix of arithScalar
// with AVX and returns its length (0 without AVX).
func arithScalarArch(op byte, swap bool, o, x []float32, s float32) int {
	n := len(x) &^ 7
	if n == 0 || !cpu.X86.HasAVX {
		return 0
	}
	_ = o[n-1]
	switch {
	case op == '+':
		arithVSAdd(&o[0], &x[0], n, s)
	case op == '*':
		arithVSMul(&o[0], &x[0], n, s)
	case op == '-' && swap:
		arithSVSub(&o[0], &x[0], n, s)
	case op == '-':
		arithVSSub(&o[0], &x[0], n, s)
	case swap:
		arithSVDiv(&o[0], &x[0], n, s)
	default:
		arithVSDiv(&o[0], &x[0], n, s)
	}
	return n
}
