package approx

import (
	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/engine/gemm"
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
	ds     *engine.DenseSpec
	kept   []int
	packed *gemm.PackedB
	scr    int
}

func newDenseKernel(ds *engine.DenseSpec, k Knob) engine.Kernel {
	kept, scale := keptTerms(ds.K, k.Keep)
	w := make([]float32, len(kept)*ds.N)
	for r, kk := range kept {
		for j := 0; j < ds.N; j++ {
			w[r*ds.N+j] = ds.Weights[kk*ds.N+j] * scale
		}
	}
	dk := &denseKernel{ds: ds, kept: kept}
	dk.packed = gemm.PackB(nil, len(kept), ds.N, w, ds.N, false)
	dk.scr = gemm.ScratchSize(&gemm.Args{M: ds.M, N: ds.N, K: len(kept), PackedB: dk.packed})
	return dk
}

// Run implements engine.Kernel.
func (k *denseKernel) Run(x *engine.Exec, in, out []*engine.Tensor) {
	ds := k.ds
	kk := len(k.kept)
	buf := x.Floats(ds.M*kk + k.scr)
	a, scr := buf[:ds.M*kk], buf[ds.M*kk:]
	src := in[0].F
	for i := 0; i < ds.M; i++ {
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
	args := gemm.Args{M: ds.M, N: ds.N, K: kk, A: a, PackedB: k.packed, C: out[0].F, Scratch: scr}
	if ds.Bias != nil {
		args.Bias, args.BiasMode = ds.Bias, gemm.BiasPerCol
		if ds.BiasPerRow {
			args.BiasMode = gemm.BiasPerRow
		}
	}
	if ds.Act.On {
		args.Clamp, args.Lo, args.Hi = true, ds.Act.Lo, ds.Act.Hi
	}
	gemm.Sgemm(&args)
}
