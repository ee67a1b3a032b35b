package approx

import (
	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/engine/gemm"
)

// actMatMulKernel is reduction sampling of a MatMul of two computed
// operands (attention's Q·Kᵀ and its product with V): each product's
// kept columns of A, rescaled, and the matching rows of B are gathered
// into scratch memory, and one GEMM of inner dimension len(kept) runs
// on them. The work of the GEMM shrinks by the kept fraction; the
// gathers read M·K' + K'·N values of operands that the GEMM would have
// read anyway.
type actMatMulKernel struct {
	ms    *engine.MatMulSpec
	kept  []int
	scale float32
}

func newActMatMulKernel(ms *engine.MatMulSpec, k Knob) engine.Kernel {
	kept, scale := keptTerms(ms.K, k.Keep)
	return &actMatMulKernel{ms: ms, kept: kept, scale: scale}
}

// Run implements engine.Kernel.
func (k *actMatMulKernel) Run(x *engine.Exec, in, out []*engine.Tensor) {
	ms := k.ms
	kk := len(k.kept)
	args := gemm.Args{M: ms.M, N: ms.N, K: kk, LDA: kk, LDB: ms.N, LDC: ms.LDC}
	if ms.Act.On {
		args.Clamp, args.Lo, args.Hi = true, ms.Act.Lo, ms.Act.Hi
	}
	x.GemmArgs(&args)
	na, nb := ms.M*kk, kk*ms.N
	buf := x.Floats(na + nb + gemm.ScratchSize(&args))
	ga, gb, scr := buf[:na], buf[na:na+nb], buf[na+nb:]
	a, b, c := in[0].F, in[1].F, out[0].F
	for p := range ms.OffA {
		src := a[ms.OffA[p]:]
		for i := 0; i < ms.M; i++ {
			row, dst := src[i*ms.LDA:], ga[i*kk:(i+1)*kk]
			for r, t := range k.kept {
				dst[r] = row[t] * k.scale
			}
		}
		src = b[ms.OffB[p]:]
		for r, t := range k.kept {
			copy(gb[r*ms.N:(r+1)*ms.N], src[t*ms.LDB:t*ms.LDB+ms.N])
		}
		args.A, args.B, args.C, args.Scratch = ga, gb, c[ms.OffC[p]:], scr
		gemm.Sgemm(&args)
		if ms.Act.Fn != engine.ActIdentity {
			for i := 0; i < ms.M; i++ {
				ms.Act.ApplyFn(c[ms.OffC[p]+i*ms.LDC : ms.OffC[p]+i*ms.LDC+ms.N])
			}
		}
	}
}

// ReferenceActMatMul computes a MatMul of two computed operands under
// reduction sampling the naive way, from the knob's definition: each
// output is the float64 sum over the kept terms only, rescaled by
// K/len(kept), then the activation. a, b and the result are the node's
// whole input and output buffers (c is the output's length).
func ReferenceActMatMul(ms *engine.MatMulSpec, k Knob, a, b []float32, c int) []float32 {
	y := make([]float32, c)
	keep := func(t int) bool { return true }
	scale := 1.0
	if k.Shape == Red {
		kept, _ := keptTerms(ms.K, k.Keep)
		set := map[int]bool{}
		for _, t := range kept {
			set[t] = true
		}
		keep = func(t int) bool { return set[t] }
		scale = float64(ms.K) / float64(len(kept))
	}
	for p := range ms.OffA {
		for i := 0; i < ms.M; i++ {
			for j := 0; j < ms.N; j++ {
				var s float64
				for t := 0; t < ms.K; t++ {
					if keep(t) {
						s += float64(a[ms.OffA[p]+i*ms.LDA+t]) * float64(b[ms.OffB[p]+t*ms.LDB+j])
					}
				}
				y[ms.OffC[p]+i*ms.LDC+j] = ms.Act.Apply(float32(s * scale))
			}
		}
	}
	return y
}
