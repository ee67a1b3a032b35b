package approx

import "github.com/kagen-ai/kagen/engine"

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
