package approx

import (
	"math"

	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/engine/qgemm"
)

// ReferenceConv computes a convolution under knob k the naive way, straight
// from the knob's definition: every kept output is a direct sum over the
// kept filter taps (sampled taps scaled by S/(S-1)); skipped outputs are the
// mean of their computed neighbours (an edge copies its neighbour); the bias
// is added after reconstruction, then the activation. It is the oracle of
// the fast kernels. Precision knobs are not simulated here: the oracle of an
// fp16 or int8 kernel is its fp32 counterpart plus a documented tolerance.
func ReferenceConv(cs *engine.ConvSpec, k Knob, x []float32) []float32 {
	cg, mg := cs.C/cs.Group, cs.M/cs.Group
	khw := cs.KH * cs.KW
	dropped := func(c, ky, kx int) bool {
		if k.Shape != Samp {
			return false
		}
		i := c*khw + ky*cs.KW + kx
		if khw%k.Stride == 0 {
			return i%k.Stride == (k.Offset+c)%k.Stride
		}
		return i%k.Stride == k.Offset
	}
	scale := 1.0
	if k.Shape == Samp {
		scale = float64(k.Stride) / float64(k.Stride-1)
	}
	// skipped reports whether output (oy, ox) is perforated.
	skipped := func(oy, ox int) bool {
		switch {
		case k.Shape == PerfRow && cs.OneD:
			return ox%k.Stride == k.Offset
		case k.Shape == PerfRow:
			return oy%k.Stride == k.Offset
		case k.Shape == PerfCol:
			return ox%k.Stride == k.Offset
		}
		return false
	}
	y := make([]float32, cs.Batch*cs.M*cs.OH*cs.OW)
	for b := 0; b < cs.Batch; b++ {
		for oc := 0; oc < cs.M; oc++ {
			g := oc / mg
			plane := y[(b*cs.M+oc)*cs.OH*cs.OW : (b*cs.M+oc+1)*cs.OH*cs.OW]
			for oy := 0; oy < cs.OH; oy++ {
				for ox := 0; ox < cs.OW; ox++ {
					if skipped(oy, ox) {
						continue
					}
					var s float64
					for c := 0; c < cg; c++ {
						for ky := 0; ky < cs.KH; ky++ {
							for kx := 0; kx < cs.KW; kx++ {
								if dropped(c, ky, kx) {
									continue
								}
								iy := oy*cs.SH - cs.PadT + ky*cs.DH
								ix := ox*cs.SW - cs.PadL + kx*cs.DW
								if iy < 0 || iy >= cs.H || ix < 0 || ix >= cs.W {
									continue
								}
								w := float64(cs.Weights[((oc*cg+c)*cs.KH+ky)*cs.KW+kx]) * scale
								s += w * float64(x[((b*cs.C+g*cg+c)*cs.H+iy)*cs.W+ix])
							}
						}
					}
					plane[oy*cs.OW+ox] = float32(s)
				}
			}
			// Rebuild skipped outputs from computed neighbours.
			for oy := 0; oy < cs.OH; oy++ {
				for ox := 0; ox < cs.OW; ox++ {
					if !skipped(oy, ox) {
						continue
					}
					alongY := k.Shape == PerfRow && !cs.OneD
					n := cs.OW
					i := ox
					if alongY {
						n, i = cs.OH, oy
					}
					at := func(j int) float32 {
						if alongY {
							return plane[j*cs.OW+ox]
						}
						return plane[oy*cs.OW+j]
					}
					var v float32
					switch {
					case i == 0:
						v = at(1)
					case i == n-1:
						v = at(n - 2)
					default:
						v = (at(i-1) + at(i+1)) * 0.5
					}
					plane[oy*cs.OW+ox] = v
				}
			}
			for i := range plane {
				v := plane[i]
				if cs.Bias != nil {
					v += cs.Bias[oc]
				}
				plane[i] = cs.Act.Apply(v)
			}
		}
	}
	return y
}

// ReferenceDense computes a dense layer under knob k naively: the kept
// terms of each dot product, rescaled by K over their number.
func ReferenceDense(ds *engine.DenseSpec, k Knob, x []float32) []float32 {
	kept := make([]bool, ds.K)
	n := 0
	for i := range kept {
		switch k.Keep {
		case 50:
			kept[i] = i%2 == 0
		case 60:
			kept[i] = i%5 < 3
		case 75:
			kept[i] = i%4 != 3
		default:
			kept[i] = true
		}
		if kept[i] {
			n++
		}
	}
	scale := float64(ds.K) / float64(n)
	y := make([]float32, ds.M*ds.N)
	for i := 0; i < ds.M; i++ {
		for j := 0; j < ds.N; j++ {
			var s float64
			for kk := 0; kk < ds.K; kk++ {
				if !kept[kk] {
					continue
				}
				xv := x[i*ds.K+kk]
				if ds.TransA {
					xv = x[kk*ds.M+i]
				}
				s += float64(xv) * float64(ds.Weights[kk*ds.N+j])
			}
			v := float32(s * scale)
			if ds.Bias != nil {
				if ds.BiasPerRow {
					v += ds.Bias[i]
				} else {
					v += ds.Bias[j]
				}
			}
			y[i*ds.N+j] = ds.Act.Apply(v)
		}
	}
	return y
}

// ReferenceHold computes a forward recurrent node of seq steps under the
// temporal knob k (hold:S:O) from its definition: the exact recurrence
// runs over the kept steps alone, in order (exact is given their indices
// and returns its output at each, [len(kept)][...], and its last hidden
// state); a held step's output repeats the state before it: the last
// kept step's output, or h0 when none came yet. It returns the output at
// every step and the last hidden state.
func ReferenceHold(seq int, k Knob, h0 []float32, exact func(kept []int) (y [][]float32, last []float32)) ([][]float32, []float32) {
	var kept []int
	for t := 0; t < seq; t++ {
		if k.Shape != Hold || t%k.Stride != k.Offset {
			kept = append(kept, t)
		}
	}
	if len(kept) == 0 {
		y := make([][]float32, seq)
		for t := range y {
			y[t] = h0
		}
		return y, h0
	}
	ky, last := exact(kept)
	y := make([][]float32, seq)
	prev, j := h0, 0
	for t := 0; t < seq; t++ {
		if j < len(kept) && kept[j] == t {
			prev = ky[j]
			j++
		}
		y[t] = prev
	}
	return y, last
}

// RNNRef is a recurrent node for ReferenceRNN: an ONNX LSTM, GRU or RNN
// in layout 0 with the default activations (sigmoid, tanh, tanh) and no
// clipping, its weights and optional inputs in the ONNX layouts.
type RNNRef struct {
	Op                        string // "LSTM", "GRU" or "RNN"
	Direction                 string // "forward" (or ""), "reverse" or "bidirectional"
	Seq, Batch, Input, Hidden int
	LinearBeforeReset         bool      // GRU
	W, R                      []float32 // [dirs, gates*hidden, input], [dirs, gates*hidden, hidden]
	B                         []float32 // [dirs, 2*gates*hidden] or nil
	H0, C0                    []float32 // [dirs, batch, hidden] or nil
	P                         []float32 // LSTM peepholes [dirs, 3*hidden] (i, o, f) or nil
	Lens                      []int     // per batch item, or nil (all Seq)
}

// ReferenceRNN computes a recurrent node under knob k the naive way, in
// float64, straight from the knobs' definitions (docs/knobs.md):
//
//   - hold:S:O skips the update at the steps st (counted from each
//     direction's first step) with st mod S = O: the state is held and
//     Y repeats it;
//   - red:R keeps the input features keptTerms lists in every dot
//     product of the input projection, their weights scaled by
//     Input/kept;
//   - fp16 rounds the input weights (after sampling) to half precision,
//     int8 quantises them per gate row (qgemm.QuantizeWeightsPerRow) and
//     X over all steps with one dynamic affine scale per call
//     (qgemm.QuantFor of its range, qgemm.QuantizeActivations); where
//     the knob also covers the recurrent product (rnnPrecisionR) R is
//     rounded or quantised likewise and the hidden state of all batch
//     items is quantised before each step's product (for a GRU without
//     linear_before_reset, the reset-gated state before its product with
//     R[h] too).
//
// The products are then sums of the dequantised (or rounded) values. It
// returns Y [seq, dirs, batch, hidden] (zeros past a sequence's length),
// Y_h and, for an LSTM, Y_c [dirs, batch, hidden].
func ReferenceRNN(r *RNNRef, k Knob, x []float32) (y, yh, yc []float32) {
	g := map[string]int{"LSTM": 4, "GRU": 3, "RNN": 1}[r.Op]
	dirs := 1
	if r.Direction == "bidirectional" {
		dirs = 2
	}
	h, gh, in := r.Hidden, g*r.Hidden, r.Input
	// Input weights as used: kept features, scaled, rounded or quantised.
	kept, scale := make([]int, in), float32(1)
	for i := range kept {
		kept[i] = i
	}
	if k.Shape == Red {
		kept, scale = keptTerms(in, k.Keep)
	}
	kk := len(kept)
	nw := dirs * gh
	wu := make([]float32, nw*kk) // [dirs*gh, kk]
	for j := 0; j < nw; j++ {
		for c, f := range kept {
			wu[j*kk+c] = r.W[j*in+f] * scale
		}
	}
	wq := precWeights(wu, nw, kk, k.Prec)
	precR := rnnPrecisionR(&engine.RNNSpec{Op: r.Op, Hidden: h, ConstR: true}, k.Prec)
	rPrec := FP32
	if precR {
		rPrec = k.Prec
	}
	// R per direction: [gh, h]; for a GRU without linear_before_reset
	// R[zr] and R[h] are separate products, each quantised per row.
	rq := make([]float64, dirs*gh*h)
	for d := 0; d < dirs; d++ {
		copy(rq[d*gh*h:], precWeights(r.R[d*gh*h:(d+1)*gh*h], gh, h, rPrec))
	}
	// X's kept columns over all steps, dequantised for int8.
	rows := r.Seq * r.Batch
	xk := make([]float32, rows*kk)
	for i := 0; i < rows; i++ {
		for c, f := range kept {
			xk[i*kk+c] = x[i*in+f]
		}
	}
	xq := precActs(xk, k.Prec)
	// The input projection of every step (without bias).
	xw := make([]float64, rows*nw)
	for i := 0; i < rows; i++ {
		for j := 0; j < nw; j++ {
			var s float64
			for c := 0; c < kk; c++ {
				s += xq[i*kk+c] * wq[j*kk+c]
			}
			xw[i*nw+j] = s
		}
	}
	sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	y = make([]float32, r.Seq*dirs*r.Batch*h)
	yh = make([]float32, dirs*r.Batch*h)
	yc = make([]float32, dirs*r.Batch*h)
	lenOf := func(b int) int {
		if r.Lens == nil {
			return r.Seq
		}
		return r.Lens[b]
	}
	maxLen := 0
	for b := 0; b < r.Batch; b++ {
		maxLen = max(maxLen, lenOf(b))
	}
	for d := 0; d < dirs; d++ {
		bias := func(part, j int) float64 { // part 0: Wb, 1: Rb
			if r.B == nil {
				return 0
			}
			return float64(r.B[d*2*gh+part*gh+j])
		}
		hs := make([][]float64, r.Batch)
		cs := make([][]float64, r.Batch)
		for b := range hs {
			hs[b], cs[b] = make([]float64, h), make([]float64, h)
			for j := 0; j < h; j++ {
				if r.H0 != nil {
					hs[b][j] = float64(r.H0[(d*r.Batch+b)*h+j])
				}
				if r.C0 != nil && r.Op == "LSTM" {
					cs[b][j] = float64(r.C0[(d*r.Batch+b)*h+j])
				}
			}
		}
		// prod multiplies the batch's vectors v[b] (quantised together
		// for int8) by rows [r0, r0+n) of direction d's R.
		prod := func(v [][]float64, r0, n int) [][]float64 {
			flat := make([]float32, 0, r.Batch*h)
			for _, vb := range v {
				for _, e := range vb {
					flat = append(flat, float32(e))
				}
			}
			vq := precActs(flat, rPrec)
			if rPrec != INT8 {
				for i := range vq {
					vq[i] = 0
				}
				for b, vb := range v {
					copy(vq[b*h:], vb) // fp32 and fp16: the state unrounded
				}
			}
			out := make([][]float64, len(v))
			for b := range v {
				out[b] = make([]float64, n)
				for j := 0; j < n; j++ {
					var s float64
					for c := 0; c < h; c++ {
						s += vq[b*h+c] * rq[(d*gh+r0+j)*h+c]
					}
					out[b][j] = s
				}
			}
			return out
		}
		for st := 0; st < maxLen; st++ {
			held := k.Shape == Hold && st%k.Stride == k.Offset
			tOf := func(b int) int {
				if d == 1 || r.Direction == "reverse" {
					return lenOf(b) - 1 - st
				}
				return st
			}
			if held {
				for b := 0; b < r.Batch; b++ {
					if st < lenOf(b) {
						for j := 0; j < h; j++ {
							y[((tOf(b)*dirs+d)*r.Batch+b)*h+j] = float32(hs[b][j])
						}
					}
				}
				continue
			}
			var rec [][]float64
			if r.Op == "GRU" && !r.LinearBeforeReset {
				rec = prod(hs, 0, 2*h)
			} else {
				rec = prod(hs, 0, gh)
			}
			var rhProd [][]float64
			if r.Op == "GRU" && !r.LinearBeforeReset {
				rh := make([][]float64, r.Batch)
				for b := range rh {
					rh[b] = make([]float64, h)
					if st >= lenOf(b) {
						continue
					}
					xo := (tOf(b)*r.Batch + b) * nw
					for j := 0; j < h; j++ {
						rg := sig(xw[xo+d*gh+h+j] + bias(0, h+j) + bias(1, h+j) + rec[b][h+j])
						rh[b][j] = rg * hs[b][j]
					}
				}
				rhProd = prod(rh, 2*h, h)
			}
			for b := 0; b < r.Batch; b++ {
				if st >= lenOf(b) {
					continue
				}
				t := tOf(b)
				xo := (t*r.Batch+b)*nw + d*gh
				pre := func(gate, j int) float64 {
					return xw[xo+gate*h+j] + bias(0, gate*h+j) + bias(1, gate*h+j) + rec[b][gate*h+j]
				}
				hb, cb := hs[b], cs[b]
				switch r.Op {
				case "RNN":
					for j := 0; j < h; j++ {
						hb[j] = math.Tanh(pre(0, j))
					}
				case "GRU":
					nh := make([]float64, h)
					for j := 0; j < h; j++ {
						z := sig(pre(0, j))
						var hh float64
						if r.LinearBeforeReset {
							rg := sig(pre(1, j))
							hh = math.Tanh(xw[xo+2*h+j] + bias(0, 2*h+j) + rg*(rec[b][2*h+j]+bias(1, 2*h+j)))
						} else {
							hh = math.Tanh(xw[xo+2*h+j] + bias(0, 2*h+j) + bias(1, 2*h+j) + rhProd[b][j])
						}
						nh[j] = (1-z)*hh + z*hb[j]
					}
					copy(hb, nh)
				case "LSTM":
					peep := func(i, j int) float64 {
						if r.P == nil {
							return 0
						}
						return float64(r.P[d*3*h+i*h+j])
					}
					for j := 0; j < h; j++ {
						ig := sig(pre(0, j) + peep(0, j)*cb[j])
						fg := sig(pre(2, j) + peep(2, j)*cb[j])
						cg := math.Tanh(pre(3, j))
						cb[j] = fg*cb[j] + ig*cg
						og := sig(pre(1, j) + peep(1, j)*cb[j])
						hb[j] = og * math.Tanh(cb[j])
					}
				}
				for j := 0; j < h; j++ {
					y[((t*dirs+d)*r.Batch+b)*h+j] = float32(hb[j])
				}
			}
		}
		for b := 0; b < r.Batch; b++ {
			if lenOf(b) == 0 {
				continue
			}
			for j := 0; j < h; j++ {
				yh[(d*r.Batch+b)*h+j] = float32(hs[b][j])
				yc[(d*r.Batch+b)*h+j] = float32(cs[b][j])
			}
		}
	}
	return y, yh, yc
}

// precWeights returns the rows x cols weights w as precision p uses them:
// unchanged (fp32), rounded to half precision (fp16), or quantised
// symmetrically per row and dequantised (int8).
func precWeights(w []float32, rows, cols int, p Precision) []float64 {
	out := make([]float64, rows*cols)
	switch p {
	case FP16:
		for i, v := range w[:rows*cols] {
			out[i] = float64(engine.HalfToFloat(engine.FloatToHalf(v)))
		}
	case INT8:
		q, s := qgemm.QuantizeWeightsPerRow(w[:rows*cols], rows, cols)
		for i := range out {
			out[i] = float64(q[i]) * float64(s[i/cols])
		}
	default:
		for i, v := range w[:rows*cols] {
			out[i] = float64(v)
		}
	}
	return out
}

// precActs returns activations as precision p uses them: unchanged
// except for int8, which quantises them all with one dynamic affine
// scale (qgemm.QuantFor of their range widened to 0) and dequantises.
func precActs(x []float32, p Precision) []float64 {
	out := make([]float64, len(x))
	if p != INT8 {
		for i, v := range x {
			out[i] = float64(v)
		}
		return out
	}
	var lo, hi float32
	for _, v := range x {
		lo, hi = min(lo, v), max(hi, v)
	}
	q := qgemm.QuantFor(lo, hi)
	codes := make([]uint8, len(x))
	qgemm.QuantizeActivations(codes, x, q)
	for i, c := range codes {
		out[i] = float64(int32(c)-q.Zero) * float64(q.Scale)
	}
	return out
}
