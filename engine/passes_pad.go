package engine

import (
	"slices"

	"github.com/kagen-ai/kagen/engine/onnx"
)

// foldPad merges a zero-valued constant Pad of the spatial axes into the
// padding of the one Conv that reads it: exporters of Keras and TF models
// (MLPerf Tiny's ResNet-8 and MobileNet among them) write explicit Pads
// where PyTorch writes a Conv's pads, and a Pad is a full copy of the
// tensor. The Conv's pads attribute gains the Pad's, its input becomes the
// Pad's input and it is inferred again; a Conv that then fails to infer
// (or any case not covered) keeps the Pad.
func foldPad(g *graph, _ *Options) (int, error) {
	drop := map[*node]bool{}
	for _, pd := range g.nodes {
		if pd.op != "Pad" {
			continue
		}
		p, ok := pd.params.(*padParams)
		out := pd.out[0]
		if !ok || p.mode != "constant" || p.value != 0 || !out.dtype.IsFloat() || out.output {
			continue
		}
		r := len(p.inShape)
		if r != 3 && r != 4 || p.begin[0] != 0 || p.end[0] != 0 || p.begin[1] != 0 || p.end[1] != 0 {
			continue
		}
		negative := false
		for d := 2; d < r; d++ {
			negative = negative || p.begin[d] < 0 || p.end[d] < 0
		}
		cs := g.consumers(out)
		if negative || len(cs) != 1 || cs[0].op != "Conv" || cs[0].in[0] != out || cs[0].input(1) == out || cs[0].input(2) == out {
			continue
		}
		conv := cs[0]
		if ap, err := conv.attrString("auto_pad", "NOTSET"); err != nil || ap != "NOTSET" {
			continue
		}
		old, _, err := conv.attrInts("pads")
		if err != nil || old != nil && len(old) != 2*(r-2) {
			continue
		}
		sp := r - 2
		pads := make([]int64, 2*sp)
		copy(pads, old)
		for d := 0; d < sp; d++ {
			pads[d] += int64(p.begin[d+2])
			pads[d+sp] += int64(p.end[d+2])
		}
		oldIn, oldParams := conv.in[0], conv.params
		oldShape := append([]int(nil), conv.out[0].shape...)
		attrs := make(map[string]*onnx.Attribute, len(conv.attrs)+1)
		for k, v := range conv.attrs {
			attrs[k] = v
		}
		attrs["pads"] = &onnx.Attribute{Name: "pads", Type: onnx.AttrType(7), Ints: pads}
		saved := conv.attrs
		conv.attrs = attrs
		conv.in[0] = pd.in[0]
		if err := conv.def.infer(conv); err != nil || !slices.Equal(conv.out[0].shape, oldShape) {
			conv.attrs, conv.in[0], conv.params = saved, oldIn, oldParams
			conv.out[0].shape = oldShape
			continue
		}
		drop[pd] = true
	}
	g.removeNodes(drop)
	return len(drop), nil
}
