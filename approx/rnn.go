package approx

import "github.com/kagen-ai/kagen/engine"

// rnnApprox translates knob k of a recurrent node into the engine's
// description of its approximate kernel: the hold, the precision of the
// input projection (and of the recurrent product where rnnPrecisionR
// says it pays), and reduction sampling of the input projection.
func rnnApprox(rs *engine.RNNSpec, k Knob) engine.RNNApprox {
	var a engine.RNNApprox
	if k.Shape == Hold {
		a.Hold, a.HoldOffset = k.Stride, k.Offset
	}
	prec := map[Precision]engine.RNNPrecision{FP32: engine.RNNFP32, FP16: engine.RNNFP16, INT8: engine.RNNInt8}[k.Prec]
	a.W = prec
	if rnnPrecisionR(rs, k.Prec) {
		a.R = prec
	}
	if k.Shape == Red {
		a.Keep, a.Scale = keptTerms(rs.Input, k.Keep)
	}
	return a
}

// rnnPrecisionR reports whether the fp16 or int8 knob of a recurrent
// node also runs its recurrent product H·Rᵀ in that precision. That
// product is one small GEMM per step, M = batch rows: where the hidden
// state is narrow the per-call work of the reduced-precision kernels
// (converting halves; quantising H and rescaling) costs more than the
// arithmetic saved. Measured with BenchmarkRNNProjection (amd64,
// AVX-512 VNNI): see rnnMinHiddenR.
func rnnPrecisionR(rs *engine.RNNSpec, p Precision) bool {
	return p != FP32 && rs.ConstR && rs.Hidden >= rnnMinHiddenR
}

// rnnMinHiddenR is the narrowest hidden state whose recurrent product the
// precision knobs reduce.
const rnnMinHiddenR = 128
