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
// product is one small GEMM per step, M = batch rows: where it is narrow
// the per-call work of the reduced-precision kernels (quantising H and
// rescaling; converting halves) costs more than the arithmetic saved.
// Measured with BenchmarkRNNProjection (amd64, AVX-512 VNNI, 16 steps,
// 64 inputs, load ~5), the node with W and R in int8 against fp32: LSTM
// 0.81x at 32 units (gates·hidden 128), 1.07x at 64 (256), 1.30x at 96,
// 1.42x at 128; GRU 0.88x at 64 (192), 1.28x at 96 (288), 1.45x at 128;
// in fp16: 0.96x (LSTM) and 1.04x (GRU) at 96 units, 1.10x and 1.12x
// at 128. With W alone in int8 or fp16 the node ran at 0.95-1.05x.
func rnnPrecisionR(rs *engine.RNNSpec, p Precision) bool {
	if !rs.ConstR {
		return false
	}
	gates := map[string]int{"LSTM": 4, "GRU": 3}[rs.Op]
	switch p {
	case INT8:
		return max(gates, 1)*rs.Hidden >= rnnMinColsR8 || rs.Hidden >= rnnMinHiddenR
	case FP16:
		return rs.Hidden >= rnnMinHiddenR
	}
	return false
}

// Where the precision knobs reduce the recurrent product (rnnPrecisionR):
// int8 from 256 columns of the step's product (gates·hidden: an LSTM of
// 64 units) or from 128 hidden units, fp16 from 128 hidden units.
const (
	rnnMinColsR8  = 256
	rnnMinHiddenR = 128
)
