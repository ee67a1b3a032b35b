package engine

import (
	"math"

	"github.com/kagen-ai/kagen/internal/vec"
)

// This file holds the range splits of element-wise kernels: their Run
// methods hand [0, n) to Exec.split, and runRange does one range.

// elemGrain is the smallest number of elements (or of elements' worth of
// planes and rows) handed to another thread: a few microseconds of
// memory-bound work, against a handoff of well under one microsecond to a
// spinning worker and about ten to a parked one (BenchmarkParallelRegion).
const elemGrain = 1 << 14

// splitBlock is the unit of an element range: ranges start on multiples of
// 64 elements, so that vector loops split into whole vectors and cache
// lines are not shared between threads.
const splitBlock = 64

// splitBlocks is the number of splitBlock units covering n elements.
func splitBlocks(n int) int { return (n + splitBlock - 1) / splitBlock }

// blockRange converts a range of splitBlock units to elements of n.
func blockRange(n, lo, hi int) (int, int) {
	return lo * splitBlock, min(hi*splitBlock, n)
}

// Run implements Kernel: element ranges are split between the session's
// threads.
func (k *arithKernel) Run(x *Exec, in, out []*Tensor) {
	x.split(k, in, out, splitBlocks(len(out[0].F)), elemGrain/splitBlock)
}

// runRange computes output elements [lo, hi) (in splitBlock units).
func (k *arithKernel) runRange(_ *Exec, in, out []*Tensor, lo, hi int) {
	full, bc := in[0].F, in[1].F
	if k.swap {
		full, bc = bc, full
	}
	o := out[0].F
	e0, e1 := blockRange(k.outer*k.mid*k.inner, lo, hi)
	if k.across {
		// Row q of inner elements takes bc's row q/mid.
		for e := e0; e < e1; {
			q, i := e/k.inner, e%k.inner
			end := min(e1, (q+1)*k.inner)
			b := q / k.mid * k.inner
			arithVec(k.op, k.swap, o[e:end], full[e:end], bc[b+i:b+i+end-e])
			e = end
		}
		return
	}
	if k.inner == 1 {
		for e := e0; e < e1; {
			r, c := e/k.mid, e%k.mid
			end := min(e1, (r+1)*k.mid)
			arithVec(k.op, k.swap, o[e:end], full[e:end], bc[c:c+end-e])
			e = end
		}
		return
	}
	for e := e0; e < e1; {
		q := e / k.inner
		end := min(e1, (q+1)*k.inner)
		arithScalar(k.op, k.swap, o[e:end], full[e:end], bc[q%k.mid])
		e = end
	}
}

// unaryKernel is a float element-wise op run over element ranges with the
// op's scalar function (the fast versions of particular ops replace f's
// loop with vector code).
type unaryKernel struct {
	f func(x float32, p [2]float32) float32
	p [2]float32
}

// compileUnary returns the compile function of a unary op with scalar
// function f: a unaryKernel for float tensors, the reference otherwise.
func compileUnary(f func(x float32, p [2]float32) float32) func(n *node, _ *compiler) (Kernel, error) {
	return func(n *node, _ *compiler) (Kernel, error) {
		if n.in[0].dtype != Float32 {
			return nil, nil
		}
		return &unaryKernel{f: f, p: n.params.([2]float32)}, nil
	}
}

// Run implements Kernel.
func (k *unaryKernel) Run(x *Exec, in, out []*Tensor) {
	x.split(k, in, out, splitBlocks(len(in[0].F)), elemGrain/splitBlock/4)
}

// runRange computes elements [lo, hi) (in splitBlock units).
func (k *unaryKernel) runRange(_ *Exec, in, out []*Tensor, lo, hi int) {
	e0, e1 := blockRange(len(in[0].F), lo, hi)
	src, o := in[0].F[e0:e1], out[0].F[e0:e1]
	for i, v := range src {
		o[i] = k.f(v, k.p)
	}
}

// clampKernel is Relu and float Clip: a vector clamp over element ranges.
type clampKernel struct{ lo, hi float32 }

// compileRelu returns Relu's kernel for float32 tensors.
func compileRelu(n *node, _ *compiler) (Kernel, error) {
	if n.in[0].dtype != Float32 {
		return nil, nil
	}
	return &clampKernel{lo: 0, hi: float32(math.Inf(1))}, nil
}

// compileClip returns Clip's kernel for float32 tensors.
func compileClip(n *node, _ *compiler) (Kernel, error) {
	p := n.params.(*clipParams)
	if n.in[0].dtype != Float32 || !p.known {
		return nil, nil
	}
	return &clampKernel{lo: p.lo, hi: p.hi}, nil
}

// Run implements Kernel.
func (k *clampKernel) Run(x *Exec, in, out []*Tensor) {
	x.split(k, in, out, splitBlocks(len(in[0].F)), elemGrain/splitBlock)
}

// runRange clamps elements [lo, hi) (in splitBlock units).
func (k *clampKernel) runRange(_ *Exec, in, out []*Tensor, lo, hi int) {
	e0, e1 := blockRange(len(in[0].F), lo, hi)
	vec.Clamp(out[0].F[e0:e1], in[0].F[e0:e1], k.lo, k.hi)
}
