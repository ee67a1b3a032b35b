package approx

import (
	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/engine/gemm"
	"github.com/kagen-ai/kagen/engine/qgemm"
)

// keptTerms returns the dot-product terms reduction sampling keeps out of k:
// a regular pattern (every other term for 0.5, 3 of every 5 for 0.6, 3 of
// every 4 for 0.75) and the rescale factor k/len(kept).
func keptTerms(k int, keep int) ([]int, float32) {
	var out []int
	for i := 0; i < k; i++ {
		var ok bool
		switch keep {
		case 50:
			ok = i%2 == 0
		case 60:
			ok = i%5 < 3
		case 75:
			ok = i%4 != 3
		default:
			ok = true
		}
		if ok {
			out = append(out, i)
		}
	}
	return out, float32(k) / float32(len(out))
}

// denseKernel is reduction sampling of a dense layer in fp32: the kept
// terms of the input are gathered and multiplied by the matching rows of
// the weights, packed (and rescaled) once.
type denseKernel struct {
	ds      *engine.DenseSpec
	prec    Precision
	kept    []int // nil: every term, read in place
	packed  *gemm.PackedB
	packed6 *gemm.PackedB16
	packed8 *qgemm.PackedB
	scr     int
}

func newDenseKernel(ds *engine.DenseSpec, k Knob) engine.Kernel {
	kept, scale := keptTerms(ds.K, k.Keep)
	w := make([]float32, len(kept)*ds.N)
	for r, kk := range kept {
		for j := 0; j < ds.N; j++ {
			w[r*ds.N+j] = ds.Weights[kk*ds.N+j] * scale
		}
	}
	dk := &denseKernel{ds: ds, prec: k.Prec}
	if k.Shape == Red || ds.TransA {
		dk.kept = kept
	}
	kk := len(kept)
	switch k.Prec {
	case FP32:
		dk.packed = gemm.PackB(nil, kk, ds.N, w, ds.N, false)
		dk.scr = gemm.ScratchSize(&gemm.Args{M: ds.M, N: ds.N, K: kk, PackedB: dk.packed})
	case FP16:
		// Weights in half precision; the activation row stays fp32 (rounding
		// it would cost time and save no traffic for a vector).
		dk.packed6 = gemm.PackB16(nil, kk, ds.N, w, ds.N, false)
		dk.scr = gemm.ScratchSize(&gemm.Args{M: ds.M, N: ds.N, K: kk, PackedB16: dk.packed6})
	case INT8:
		dk.packed8 = qgemm.PackWeightsB(w, kk, ds.N)
		dk.scr = qgemm.ScratchSize(&qgemm.Args{M: ds.M, N: ds.N, K: kk, PackedB: dk.packed8, X: make([]float32, ds.M*kk), C: make([]float32, ds.M*ds.N)})
	}
	return dk
}

// Run implements engine.Kernel.
func (k *denseKernel) Run(x *engine.Exec, in, out []*engine.Tensor) {
	ds := k.ds
	src := in[0].F
	kk := ds.K
	fscr := k.scr * x.Threads() // k.scr is one task's; a parallel call takes one per thread at most
	if k.prec == INT8 {
		fscr = 0
	}
	var a, scr []float32
	if k.kept == nil {
		a, scr = src, x.Floats(fscr)
	} else {
		kk = len(k.kept)
		buf := x.Floats(ds.M*kk + fscr)
		a, scr = buf[:ds.M*kk], buf[ds.M*kk:]
	}
	for i := 0; k.kept != nil && i < ds.M; i++ {
		row := a[i*kk : (i+1)*kk]
		if ds.TransA {
			for r, c := range k.kept {
				row[r] = src[c*ds.M+i]
			}
			continue
		}
		s := src[i*ds.K : (i+1)*ds.K]
		for r, c := range k.kept {
			row[r] = s[c]
		}
	}
	if k.prec == INT8 {
		qa := qgemm.Args{M: ds.M, N: ds.N, K: kk, PackedB: k.packed8, X: a, C: out[0].F,
			Bias: ds.Bias, Clamp: ds.Act.On, Lo: ds.Act.Lo, Hi: ds.Act.Hi}
		x.QGemmArgs(&qa)
		qa.Scratch = x.Bytes(max(k.scr, qgemm.ScratchSize(&qa)))
		if ds.Bias != nil {
			qa.BiasMode = qgemm.BiasPerCol
			if ds.BiasPerRow {
				qa.BiasMode = qgemm.BiasPerRow
			}
		}
		qgemm.Gemm(&qa)
		ds.Act.ApplyFn(out[0].F[:ds.M*ds.N]) // the function after the GEMM's clamp
		return
	}
	args := gemm.Args{M: ds.M, N: ds.N, K: kk, A: a, PackedB: k.packed, PackedB16: k.packed6, C: out[0].F, Scratch: scr}
	if ds.Bias != nil {
		args.Bias, args.BiasMode = ds.Bias, gemm.BiasPerCol
		if ds.BiasPerRow {
			args.BiasMode = gemm.BiasPerRow
		}
	}
	if ds.Act.On {
		args.Clamp, args.Lo, args.Hi = true, ds.Act.Lo, ds.Act.Hi
	}
	x.GemmArgs(&args)
	gemm.Sgemm(&args)
	ds.Act.ApplyFn(out[0].F[:ds.M*ds.N]) // the function after the GEMM's clamp
}
