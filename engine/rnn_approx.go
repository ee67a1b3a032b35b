package engine

import (
	"fmt"

	"github.com/kagen-ai/kagen/engine/gemm"
	"github.com/kagen-ai/kagen/engine/qgemm"
)

// This file is the seam of the recurrent knobs beyond the temporal hold:
// the input projection X·Wᵀ and the recurrent product H·Rᵀ of an LSTM,
// GRU or RNN in half precision or int8, and reduction sampling of the
// input projection's dot products. The weights are converted, quantised
// or sampled once, when the kernel is built; the kernel shares the
// node's exact kernel's work memory layout and grows it only by the
// gathered input of reduction sampling.

// RNNPrecision is the arithmetic of one projection of a recurrent node.
type RNNPrecision uint8

// Projection precisions.
const (
	// RNNFP32 is the exact projection.
	RNNFP32 RNNPrecision = iota
	// RNNFP16 holds the weights in half precision (round to nearest even,
	// packed once); the activations and the accumulation stay float32.
	RNNFP16
	// RNNInt8 quantises the weights symmetrically per output row of W or R
	// (per gate unit) to [-127, 127], and the activations of each call
	// with a dynamic per-tensor affine scale (qgemm.QuantFor of their
	// range) to 7-bit codes; the sums are exact in int32 and rescaled in
	// float32 (package qgemm).
	RNNInt8
)

func (p RNNPrecision) String() string {
	switch p {
	case RNNFP16:
		return "fp16"
	case RNNInt8:
		return "int8"
	}
	return "fp32"
}

// RNNApprox describes an approximate kernel of a recurrent node
// (Model.RNNApprox). The zero value is the exact kernel.
type RNNApprox struct {
	// Hold and HoldOffset are the temporal knob (Model.RNNHold); Hold 0
	// updates the state at every step.
	Hold, HoldOffset int
	// W is the precision of the input projection of all steps, R that of
	// the recurrent product of each step.
	W, R RNNPrecision
	// Keep, if not nil, is reduction sampling of the input projection:
	// the indices of the input features whose terms every dot product
	// keeps, increasing; their weights are multiplied by Scale (the
	// number of inputs over the number kept). The other columns of X are
	// never read.
	Keep  []int
	Scale float32
}

// RNNApprox returns the kernel of the recurrent node at step under the
// approximations a. Precision and reduction sampling need constant W
// (and R for a reduced-precision R).
func (m *Model) RNNApprox(step int, a RNNApprox) (Kernel, error) {
	if step < 0 || step >= len(m.steps) {
		return nil, fmt.Errorf("step %d is not a recurrent node", step)
	}
	k0, ok := m.steps[step].kernel.(*rnnKernel)
	if !ok {
		return nil, fmt.Errorf("step %d is not a recurrent node", step)
	}
	if a.Hold != 0 && (a.Hold < 2 || a.HoldOffset < 0 || a.HoldOffset >= a.Hold) {
		return nil, fmt.Errorf("hold stride %d and offset %d, expected a stride of 2 or more and an offset in [0, stride)", a.Hold, a.HoldOffset)
	}
	n := m.steps[step].n
	p := k0.p
	k := *k0
	k.hold, k.holdOff = a.Hold, a.HoldOffset
	h, gh := p.hidden, p.gates*p.hidden
	nw := p.dirs * gh
	if a.W != RNNFP32 || a.Keep != nil {
		w := n.in[rnnInW].constant
		if w == nil {
			return nil, fmt.Errorf("%v: the input weights W are computed; precision and sampling need them constant", n)
		}
		kk := p.input
		if a.Keep != nil {
			kk = len(a.Keep)
			if kk == 0 || kk > p.input {
				return nil, fmt.Errorf("%v: reduction sampling keeps %d of %d inputs", n, kk, p.input)
			}
			for i, c := range a.Keep {
				if c < 0 || c >= p.input || i > 0 && c <= a.Keep[i-1] {
					return nil, fmt.Errorf("%v: kept inputs %v are not increasing indices below %d", n, a.Keep, p.input)
				}
			}
			k.keep = append([]int(nil), a.Keep...)
		}
		scale := float32(1)
		if a.Keep != nil {
			scale = a.Scale
		}
		// Wᵀ over the kept inputs: K=kk rows, N=nw columns, row major.
		wt := make([]float32, kk*nw)
		for r := 0; r < kk; r++ {
			c := r
			if a.Keep != nil {
				c = a.Keep[r]
			}
			for j := 0; j < nw; j++ {
				wt[r*nw+j] = w.F[j*p.input+c] * scale
			}
		}
		k.packW = nil
		switch a.W {
		case RNNFP32:
			k.packW = gemm.PackB(nil, kk, nw, wt, nw, false)
		case RNNFP16:
			k.packW16 = gemm.PackB16(nil, kk, nw, wt, nw, false)
		case RNNInt8:
			k.packW8 = qgemm.PackWeightsB(wt, kk, nw)
		}
	}
	if a.R != RNNFP32 {
		r := n.in[rnnInR].constant
		if r == nil {
			return nil, fmt.Errorf("%v: the recurrent weights R are computed; precision needs them constant", n)
		}
		nr := p.recCols()
		for d := 0; d < p.dirs; d++ {
			rd := r.F[d*gh*h:]
			rt := transposed(rd, nr, h)
			var rht []float32
			if nr < gh {
				rht = transposed(rd[nr*h:], h, h)
			}
			switch a.R {
			case RNNFP16:
				k.packR16[d] = gemm.PackB16(nil, h, nr, rt, nr, false)
				if rht != nil {
					k.packRh16[d] = gemm.PackB16(nil, h, h, rht, h, false)
				}
			case RNNInt8:
				k.packR8[d] = qgemm.PackWeightsB(rt, h, nr)
				if rht != nil {
					k.packRh8[d] = qgemm.PackWeightsB(rht, h, h)
				}
			}
		}
	}
	// Work memory: the exact kernel's, the GEMM scratch of the new
	// products, and the gathered input of reduction sampling.
	c := &compiler{opts: &m.opts}
	rows := rnnMul(p.seq, p.batch)
	kk := p.input
	if k.keep != nil {
		kk = len(k.keep)
	}
	gs := k.size - k.offGemm
	if a.W != RNNFP32 || k.keep != nil {
		gs = max(gs, c.gemmScratch(gemm.Args{M: rows, N: nw, K: kk, PackedB: k.packW, PackedB16: k.packW16}))
	}
	if a.R == RNNFP16 {
		gs = max(gs, c.gemmScratch(gemm.Args{M: p.batch, N: p.recCols(), K: h, PackedB16: k.packR16[0]}))
		if k.packRh16[0] != nil {
			gs = max(gs, c.gemmScratch(gemm.Args{M: p.batch, N: h, K: h, PackedB16: k.packRh16[0]}))
		}
	}
	k.size = k.offGemm + (gs+15)/16*16
	if k.keep != nil {
		k.offXK = k.size
		k.size += rnnMul(rows, kk)
	}
	if k.packW8 != nil || k.packR8[0] != nil {
		qa := []qgemm.Args{{M: rows, N: nw, K: kk, PackedB: k.packW8}, {M: p.batch, N: p.recCols(), K: h, PackedB: k.packR8[0]}}
		for i := range qa {
			if qa[i].PackedB != nil {
				if t := m.opts.Threads; t > 1 {
					qa[i].Parallel, qa[i].Tasks = func(int, func(int)) {}, t
				}
				k.qsize = max(k.qsize, qgemm.ScratchSize(&qa[i]))
			}
		}
	}
	if lim := c.opts.limit(); int64(k.size)*4+int64(k.qsize) > lim {
		return nil, fmt.Errorf("%v: work memory of %d bytes exceeds the size limit of %d bytes", n, int64(k.size)*4+int64(k.qsize), lim)
	}
	return &k, nil
}

// transposed returns the transpose of the rows x cols matrix a.
func transposed(a []float32, rows, cols int) []float32 {
	t := make([]float32, rows*cols)
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			t[j*rows+i] = a[i*cols+j]
		}
	}
	return t
}

// project computes C[m x n] (leading dimension ldc) = A[m x kk] · B (+
// bias per column) with whichever packing of B is set: int8, half, or
// float32 (p32, or the raw Bᵀ b with leading dimension ldb).
func (k *rnnKernel) project(x *Exec, m, n, kk int, a []float32, p32 *gemm.PackedB, p16 *gemm.PackedB16, p8 *qgemm.PackedB,
	b []float32, ldb int, c []float32, ldc int, bias []float32, biasMode gemm.BiasMode, gs []float32) {
	if p8 != nil {
		qa := qgemm.Args{M: m, N: n, K: kk, PackedB: p8, X: a[:m*kk], C: c, LDC: ldc}
		if biasMode == gemm.BiasPerCol {
			qa.Bias, qa.BiasMode = bias, qgemm.BiasPerCol
		}
		x.QGemmArgs(&qa)
		qa.Scratch = x.Bytes(max(k.qsize, qgemm.ScratchSize(&qa)))
		qgemm.Gemm(&qa)
		return
	}
	ga := gemm.Args{M: m, N: n, K: kk, A: a, C: c, LDC: ldc, Bias: bias, BiasMode: biasMode, Scratch: gs}
	switch {
	case p16 != nil:
		ga.PackedB16 = p16
	case p32 != nil:
		ga.PackedB = p32
	default:
		ga.B, ga.TransB, ga.LDB = b, true, ldb
	}
	x.gemmArgs(&ga)
	gemm.Sgemm(&ga)
}
