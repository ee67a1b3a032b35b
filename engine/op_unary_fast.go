package engine

import (
	"math"

	"github.com/kagen-ai/kagen/internal/vmath"
)

// sliceKernel runs a float32 element-wise op as one function over slices
// (the vectorised transcendental functions of internal/vmath, or plain
// loops built on them). The function's parameters are bound when the
// model is compiled; dst and src may be the same slice.
type sliceKernel struct {
	f func(dst, src []float32)
}

// Run implements Kernel: element ranges are split between the session's
// threads, a quarter of elemGrain at least (the functions cost several
// times a memory-bound op per element).
func (k *sliceKernel) Run(x *Exec, in, out []*Tensor) {
	x.split(k, in, out, splitBlocks(len(out[0].F)), max(1, elemGrain/splitBlock/4))
}

// runRange computes the output elements of blocks [lo, hi) (splitBlock
// units): ranges are independent.
func (k *sliceKernel) runRange(_ *Exec, in, out []*Tensor, lo, hi int) {
	e0, e1 := blockRange(len(out[0].F), lo, hi)
	k.f(out[0].F[e0:e1], in[0].F[e0:e1])
}

// sliceCompile returns a compile function running fast (built from the
// node) on float32 inputs; other types keep the reference.
func sliceCompile(fast func(n *node) func(dst, src []float32)) func(n *node, _ *compiler) (Kernel, error) {
	return func(n *node, _ *compiler) (Kernel, error) {
		if n.in[0].dtype != Float32 {
			return nil, nil
		}
		f := fast(n)
		if f == nil {
			return nil, nil
		}
		return &sliceKernel{f}, nil
	}
}

// fnBlock is the number of elements the composite functions below
// compute per step in a stack buffer: small enough to stay in L1 between
// the passes over it.
const fnBlock = 512

// geluTanhSlice is Gelu with approximate="tanh":
// 0.5*x*(1 + tanh(sqrt(2/pi)*(x + 0.044715*x^3))).
func geluTanhSlice(dst, src []float32) {
	src = src[:len(dst)]
	var buf [fnBlock]float32
	const c = 0.7978845608028654 // sqrt(2/pi)
	for lo := 0; lo < len(dst); lo += fnBlock {
		s, d := src[lo:min(lo+fnBlock, len(dst))], dst[lo:min(lo+fnBlock, len(dst))]
		t := buf[:len(s)]
		for i, x := range s {
			t[i] = c * (x + 0.044715*x*x*x)
		}
		vmath.Tanh(t, t)
		for i, x := range s {
			d[i] = 0.5 * x * (1 + t[i])
		}
	}
}

// softplusBlock stores log(1 + e^x) for x of s into d (at most fnBlock
// long; d may be s) as max(x, 0) + log1p(e^-|x|), with log1p(e) =
// e*log(u)/(u-1), u = 1+e (exact where u rounds to 1).
func softplusBlock(d, s []float32) {
	var eb, lb [fnBlock]float32
	e, l := eb[:len(s)], lb[:len(s)]
	for i, x := range s {
		e[i] = -abs32(x)
	}
	vmath.Exp(e, e)
	for i, v := range e {
		l[i] = 1 + v
	}
	vmath.Log(l, l)
	for i, x := range s {
		v := e[i]
		lp := v
		if u := 1 + v; u != 1 {
			lp = l[i] * v / (u - 1)
		}
		d[i] = max(x, 0) + lp
	}
}

func abs32(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }

// softplusSlice is Softplus: log(1 + e^x).
func softplusSlice(dst, src []float32) {
	src = src[:len(dst)]
	for lo := 0; lo < len(dst); lo += fnBlock {
		hi := min(lo+fnBlock, len(dst))
		softplusBlock(dst[lo:hi], src[lo:hi])
	}
}

// mishSlice is Mish: x*tanh(softplus(x)).
func mishSlice(dst, src []float32) {
	src = src[:len(dst)]
	var buf [fnBlock]float32
	for lo := 0; lo < len(dst); lo += fnBlock {
		s, d := src[lo:min(lo+fnBlock, len(dst))], dst[lo:min(lo+fnBlock, len(dst))]
		t := buf[:len(s)]
		softplusBlock(t, s)
		vmath.Tanh(t, t)
		for i, x := range s {
			d[i] = x * t[i]
		}
	}
}

// expm1From is e^x - 1 given e = e^x: by its Taylor polynomial where
// e - 1 would cancel (|x| < 1/16, where the first term left out is below
// 2^-30 relative), e - 1 elsewhere.
func expm1From(x, e float32) float32 {
	if x > -0.0625 && x < 0.0625 {
		return x + x*x*(0.5+x*(1.0/6+x*(1.0/24+x*(1.0/120))))
	}
	return e - 1
}

// eluSlice returns Elu (selu false: x < 0 ? a*(e^x-1) : x) or Selu
// (x <= 0 ? g*a*(e^x-1) : g*x) with its parameters bound.
func eluSlice(a, g float32, selu bool) func(dst, src []float32) {
	ga := g * a
	return func(dst, src []float32) {
		src = src[:len(dst)]
		var buf [fnBlock]float32
		for lo := 0; lo < len(dst); lo += fnBlock {
			s, d := src[lo:min(lo+fnBlock, len(dst))], dst[lo:min(lo+fnBlock, len(dst))]
			t := buf[:len(s)]
			for i, x := range s {
				t[i] = min(x, 0) // e^x of positive x is not used (and may overflow)
			}
			vmath.Exp(t, t)
			if selu {
				for i, x := range s {
					if x <= 0 {
						d[i] = ga * expm1From(x, t[i])
					} else {
						d[i] = g * x
					}
				}
				continue
			}
			for i, x := range s {
				if x < 0 {
					d[i] = a * expm1From(x, t[i])
				} else {
					d[i] = x
				}
			}
		}
	}
}

// hardSigmoidSlice is HardSigmoid with alpha a and beta b (vmath's, in
// the reference's float32 arithmetic: the same values).
func hardSigmoidSlice(a, b float32) func(dst, src []float32) {
	return func(dst, src []float32) { vmath.HardSigmoid(dst, src, a, b) }
}
