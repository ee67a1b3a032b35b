package approx

import (
	"fmt"

	"github.com/kagen-ai/kagen/engine"
)

// tap is one element of a convolution filter within a group: input channel
// (relative to the group), kernel row and column.
type tap struct{ c, ky, kx int }

// keptTaps returns the filter taps that filter sampling keeps, in im2col
// order, and the scale of the kept weights. Without sampling every tap is
// kept with scale 1. Following the reference, the flattened filter index i
// (c*kh*kw + ky*kw + kx) is dropped when i ≡ offset (mod stride); when kh*kw
// is divisible by the stride the offset shifts with the input channel so
// every channel loses different taps.
func keptTaps(cs *engine.ConvSpec, k Knob) ([]tap, float32) {
	cg, khw := cs.C/cs.Group, cs.KH*cs.KW
	var taps []tap
	for c := 0; c < cg; c++ {
		for ky := 0; ky < cs.KH; ky++ {
			for kx := 0; kx < cs.KW; kx++ {
				if k.Shape == Samp {
					i := c*khw + ky*cs.KW + kx
					off := k.Offset
					if khw%k.Stride == 0 {
						off = (k.Offset + c) % k.Stride
					}
					if i%k.Stride == off {
						continue
					}
				}
				taps = append(taps, tap{c, ky, kx})
			}
		}
	}
	if k.Shape != Samp {
		return taps, 1
	}
	return taps, float32(k.Stride) / float32(k.Stride-1)
}

// perforated returns, for n outputs along the perforated axis, which are
// computed and, for each skipped one, the computed neighbours it is rebuilt
// from (a == b for an edge copy).
func perforated(n int, k Knob) (kept []int, rebuild [][3]int) {
	for i := 0; i < n; i++ {
		if i%k.Stride != k.Offset {
			kept = append(kept, i)
		}
	}
	// index of output i among the kept ones
	pos := make([]int, n)
	for j, i := range kept {
		pos[i] = j
	}
	for i := 0; i < n; i++ {
		if i%k.Stride != k.Offset {
			continue
		}
		lo, hi := i-1, i+1
		switch {
		case lo < 0 && hi >= n:
			continue // n == 1: nothing to compute from; never planned
		case lo < 0:
			lo = hi
		case hi >= n:
			hi = lo
		}
		rebuild = append(rebuild, [3]int{i, pos[lo], pos[hi]})
	}
	return kept, rebuild
}

// Applicable lists the knobs that apply to the node at step, exact first.
func Applicable(m *engine.Model, step int) []Knob {
	out := []Knob{Exact}
	precs := []Precision{FP32, FP16, INT8}
	if cs, ok := m.Conv(step); ok {
		var shapes []Knob
		rows, cols := cs.OH, cs.OW
		if cs.OneD {
			rows, cols = cs.OW, 1
		}
		k := cs.C / cs.Group * cs.KH * cs.KW
		for s := 2; s <= 4; s++ {
			for o := 0; o < s; o++ {
				// Perforation is offered where it can pay: it must skip
				// at least minSkipped outputs per channel (one GEMM panel
				// of 16 columns; fewer leave the panel count, and so the
				// GEMM's work, unchanged), and each skipped output must
				// save at least minSavedK multiply-adds (rebuilding it
				// costs a few).
				skipped := skippedOf(rows, s, o)
				if !cs.OneD {
					skipped *= cols
				}
				if rows > 1 && rows >= s && skipped >= minSkipped && k >= minSavedK {
					shapes = append(shapes, Knob{Shape: PerfRow, Stride: s, Offset: o})
				}
				if !cs.OneD && cols > 1 && cols >= s && rows*skippedOf(cols, s, o) >= minSkipped && k >= minSavedK {
					shapes = append(shapes, Knob{Shape: PerfCol, Stride: s, Offset: o})
				}
				if cs.C/cs.Group*cs.KH*cs.KW >= s {
					shapes = append(shapes, Knob{Shape: Samp, Stride: s, Offset: o})
				}
			}
		}
		if cs.C/cs.Group == 1 && cs.M/cs.Group == 1 {
			// Depthwise: the tap-sum kernels are fp32; fp16 and int8
			// would run one tiny GEMM per channel, measured 0.09-0.11x
			// of exact on kws-ds.onnx, so they are not offered.
			precs = precs[:1]
		}
		for _, p := range precs {
			if p != FP32 {
				out = append(out, Knob{Prec: p})
			}
		}
		for _, sh := range shapes {
			for _, p := range precs {
				k := sh
				k.Prec = p
				out = append(out, k)
			}
		}
		return filterSupported(out)
	}
	if ds, ok := m.Dense(step); ok {
		for _, p := range precs[1:] {
			out = append(out, Knob{Prec: p})
		}
		for _, keep := range []int{50, 60, 75} {
			if ds.K >= 4 {
				for _, p := range precs {
					out = append(out, Knob{Shape: Red, Keep: keep, Prec: p})
				}
			}
		}
		return filterSupported(out)
	}
	if rs, ok := m.RNN(step); ok {
		// The temporal hold, where every step's state is not already
		// the whole work (a sequence of 2S steps or more); fp16 and int8
		// of the projections (rnnPrecision says which) and reduction
		// sampling of the input projection's dot products, alone and
		// with the hold, where the weights are constants.
		var holds []Knob
		for st := 2; st <= 4; st++ {
			for o := 0; o < st && rs.Seq >= 2*st; o++ {
				holds = append(holds, Knob{Shape: Hold, Stride: st, Offset: o})
			}
		}
		if !rs.ConstW {
			return append(out, holds...)
		}
		if !rnnPrecisionR(rs, FP16) {
			// fp16 of the input projection alone measured 0.95-1.0x
			// of exact (rnnPrecisionR): not offered.
			precs = []Precision{FP32, INT8}
		}
		for _, p := range precs[1:] {
			out = append(out, Knob{Prec: p})
		}
		for _, keep := range []int{50, 60, 75} {
			if rs.Input >= 4 {
				for _, p := range precs {
					out = append(out, Knob{Shape: Red, Keep: keep, Prec: p})
				}
			}
		}
		for _, h := range holds {
			for _, p := range precs {
				h.Prec = p
				out = append(out, h)
			}
		}
		return filterSupported(out)
	}
	if ms, ok := m.ActMatMul(step); ok && ms.K >= 4 {
		// A product of two activations (attention): reduction sampling
		// in fp32. Its operands change every inference, so fp16 and
		// int8 would convert or quantise both on every call.
		for _, keep := range []int{50, 60, 75} {
			out = append(out, Knob{Shape: Red, Keep: keep})
		}
	}
	return out
}

// Where perforation is offered (see Applicable). Measured on amd64
// (BenchmarkConvKnobs and the report's knob table): on HAR's 1-D layers
// skipping 8 of 16 or 4 of 8 positions left the node 1.0-1.7x slower than
// exact, and skipping 32 of 64 positions with 30 multiply-adds each made
// it 1.6x slower; kws-ds.onnx's first convolution (40 multiply-adds per
// output) ran at 0.70x and its depthwise ones (9) at 0.8x: the rebuild
// cost more than the work it saved.
const (
	minSkipped = 16
	minSavedK  = 64
)

// skippedOf counts the positions i < n with i%s == o, which perforation
// at stride s and offset o skips.
func skippedOf(n, s, o int) int {
	if o >= n {
		return 0
	}
	return (n-1-o)/s + 1
}

// filterSupported drops knobs whose kernels this build does not provide.
func filterSupported(ks []Knob) []Knob {
	out := ks[:0]
	for _, k := range ks {
		if supportedPrecision[k.Prec] {
			out = append(out, k)
		}
	}
	return out
}

// checkApplicable returns an error listing the valid knobs when k does not
// apply to the node at step.
func checkApplicable(m *engine.Model, step int, k Knob) error {
	valid := Applicable(m, step)
	for _, v := range valid {
		if v == k {
			return nil
		}
	}
	n := m.Nodes()[step]
	return fmt.Errorf("knob %s does not apply to node %q (%s); valid: %s", k, n.Name, n.Op, summarize(valid))
}

// summarize lists knobs compactly for error messages.
func summarize(ks []Knob) string {
	fams := map[string]bool{}
	var order []string
	for _, k := range ks {
		var f string
		switch k.Shape {
		case PerfRow:
			f = "perf-row:S:O"
		case PerfCol:
			f = "perf-col:S:O"
		case Samp:
			f = "samp:S:O"
		case Hold:
			f = "hold:S:O"
		case Red:
			f = "red:{0.5,0.6,0.75}"
		default:
			f = k.Prec.String()
		}
		if k.Shape != Full && k.Prec != FP32 {
			f += "+" + k.Prec.String()
		}
		if !fams[f] {
			fams[f] = true
			order = append(order, f)
		}
	}
	s := ""
	for i, f := range order {
		if i > 0 {
			s += ", "
		}
		s += f
	}
	if len(order) > 1 {
		s += " (S in {2,3,4}, O in [0,S))"
	}
	return s
}
