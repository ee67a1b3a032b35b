package engine

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/kagen-ai/kagen/engine/onnx"
)

// ctCase is one ConvTranspose configuration.
type ctCase struct {
	cin, mg, group int
	in, kernel     []int // spatial sizes
	strides, dil   []int
	pads, outPad   []int
	outShape       []int
	autoPad        string
	bias, relu     bool
}

func (c ctCase) String() string {
	return fmt.Sprintf("c%d_m%d_g%d_in%v_k%v_s%v_d%v_p%v_op%v_os%v_%s_b%v_r%v", c.cin, c.mg, c.group, c.in, c.kernel, c.strides, c.dil, c.pads, c.outPad, c.outShape, c.autoPad, c.bias, c.relu)
}

func strAttr(name, v string) *onnx.Attribute {
	return &onnx.Attribute{Name: name, Type: 3, S: []byte(v)}
}

func ctModel(t testing.TB, c ctCase, rng *rand.Rand) (*Model, []*Tensor, []float32, []float32) {
	inShape := append([]int{2, c.cin}, c.in...)
	wShape := append([]int{c.cin, c.mg}, c.kernel...)
	attrs := []*onnx.Attribute{attrInt("group", c.group)}
	if c.strides != nil {
		attrs = append(attrs, attrInts("strides", c.strides...))
	}
	if c.dil != nil {
		attrs = append(attrs, attrInts("dilations", c.dil...))
	}
	if c.pads != nil {
		attrs = append(attrs, attrInts("pads", c.pads...))
	}
	if c.outPad != nil {
		attrs = append(attrs, attrInts("output_padding", c.outPad...))
	}
	if c.outShape != nil {
		attrs = append(attrs, attrInts("output_shape", c.outShape...))
	}
	if c.autoPad != "" {
		attrs = append(attrs, strAttr("auto_pad", c.autoPad))
	}
	w := randFloats(rng, numel(wShape))
	b := newBuilder(17).input("x", inShape...).init("w", w, wShape...)
	ins := []string{"x", "w"}
	var bias []float32
	if c.bias {
		bias = randFloats(rng, c.mg*c.group)
		b.init("b", bias, c.mg*c.group)
		ins = append(ins, "b")
	}
	out := "y"
	if c.relu {
		out = "ct"
	}
	b.node("ConvTranspose", ins, []string{out}, attrs...)
	if c.relu {
		b.node("Relu", []string{"ct"}, []string{"y"})
	}
	b.output("y")
	m := b.load(t, Options{})
	return m, []*Tensor{NewFloat(randFloats(rng, numel(inShape)), inShape...)}, w, bias
}

// ctScatter is an independent oracle: the spec's scatter formula, every
// input element times every kernel tap added at o = i*s - pad + k*d of
// the full (unpadded) output, which is then cropped by pads.
func ctScatter(x *Tensor, w, bias []float32, cout, group int, kernel, strides, dil, padBegin, out []int) []float32 {
	nd := len(kernel)
	n, cin := x.Shape[0], x.Shape[1]
	in := x.Shape[2:]
	cg, mg := cin/group, cout/group
	outSize, inSize, taps := numel(out), numel(in), numel(kernel)
	y := make([]float64, n*cout*outSize)
	for b := 0; b < n; b++ {
		for ic := 0; ic < cin; ic++ {
			g := ic / cg
			for i := 0; i < inSize; i++ {
				// Decode the input position.
				pos := make([]int, nd)
				r := i
				for d := nd - 1; d >= 0; d-- {
					pos[d] = r % in[d]
					r /= in[d]
				}
				for t := 0; t < taps; t++ {
					k := make([]int, nd)
					r := t
					for d := nd - 1; d >= 0; d-- {
						k[d] = r % kernel[d]
						r /= kernel[d]
					}
					off, ok := 0, true
					for d := 0; d < nd; d++ {
						o := pos[d]*strides[d] - padBegin[d] + k[d]*dil[d]
						if o < 0 || o >= out[d] {
							ok = false
						}
						off = off*out[d] + o
					}
					if !ok {
						continue
					}
					for m := 0; m < mg; m++ {
						oc := g*mg + m
						y[(b*cout+oc)*outSize+off] += float64(x.F[(b*cin+ic)*inSize+i]) * float64(w[(ic*mg+m)*taps+t])
					}
				}
			}
		}
	}
	res := make([]float32, len(y))
	for i, v := range y {
		if bias != nil {
			v += float64(bias[(i/outSize)%cout])
		}
		res[i] = float32(v)
	}
	return res
}

func TestConvTransposeFastMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	cases := []ctCase{
		{cin: 1, mg: 2, group: 1, in: []int{3, 3}, kernel: []int{3, 3}},
		{cin: 3, mg: 4, group: 1, in: []int{7, 6}, kernel: []int{3, 3}, strides: []int{3, 2}, pads: []int{1, 1, 1, 1}, outPad: []int{1, 1}, bias: true},
		{cin: 4, mg: 3, group: 2, in: []int{5, 4}, kernel: []int{2, 3}, strides: []int{2, 2}, dil: []int{2, 1}, pads: []int{0, 1, 2, 0}, bias: true, relu: true},
		{cin: 6, mg: 1, group: 6, in: []int{6, 7}, kernel: []int{4, 4}, strides: []int{2, 2}, pads: []int{1, 1, 1, 1}, bias: true},                   // depthwise upsampling
		{cin: 4, mg: 2, group: 4, in: []int{5, 5}, kernel: []int{3, 3}, dil: []int{2, 2}, pads: []int{2, 1, 0, 3}},                                   // depthwise, multiplier 2
		{cin: 2, mg: 3, group: 1, in: []int{3, 3}, kernel: []int{3, 3}, strides: []int{2, 2}, autoPad: "SAME_UPPER"},                                 // odd total padding
		{cin: 2, mg: 3, group: 1, in: []int{3, 4}, kernel: []int{3, 2}, strides: []int{2, 3}, autoPad: "SAME_LOWER", bias: true},                     // odd total padding
		{cin: 2, mg: 2, group: 1, in: []int{3, 3}, kernel: []int{3, 3}, strides: []int{3, 2}, outShape: []int{10, 8}},                                // pads from output_shape
		{cin: 2, mg: 2, group: 1, in: []int{3, 3}, kernel: []int{3, 3}, strides: []int{3, 2}, outPad: []int{1, 1}, outShape: []int{1, 4, 10, 8}},     // full output_shape
		{cin: 3, mg: 2, group: 1, in: []int{4, 4}, kernel: []int{3, 3}, strides: []int{2, 2}, pads: []int{5, 5, 5, 5}, outShape: []int{9, 9}},        // output_shape overrides pads
		{cin: 3, mg: 2, group: 1, in: []int{4, 5}, kernel: []int{3, 3}, strides: []int{2, 2}, pads: []int{1, 1, 1, 1}, autoPad: "VALID", relu: true}, // VALID drops pads
		{cin: 5, mg: 7, group: 1, in: []int{9}, kernel: []int{5}, strides: []int{2}, pads: []int{2, 1}, outPad: []int{1}, bias: true},
		{cin: 6, mg: 2, group: 3, in: []int{11}, kernel: []int{3}, strides: []int{3}, dil: []int{2}, bias: true, relu: true},
		{cin: 4, mg: 1, group: 4, in: []int{8}, kernel: []int{4}, strides: []int{4}},
		{cin: 16, mg: 8, group: 1, in: []int{9, 9}, kernel: []int{4, 4}, strides: []int{2, 2}, pads: []int{1, 1, 1, 1}, bias: true, relu: true},
		{cin: 2, mg: 2, group: 1, in: []int{3, 4, 5}, kernel: []int{3, 2, 3}, strides: []int{2, 1, 2}, pads: []int{1, 0, 1, 0, 1, 1}, bias: true}, // 3-D: reference only
		{cin: 4, mg: 1, group: 2, in: []int{2, 3, 3}, kernel: []int{2, 2, 2}, strides: []int{2, 2, 2}, dil: []int{1, 2, 1}, outPad: []int{1, 0, 1}},
	}
	for i := 0; i < 16; i++ { // random 1-D and 2-D shapes with ragged edges
		g := 1 + rng.IntN(3)
		nd := 1 + rng.IntN(2)
		c := ctCase{cin: g * (1 + rng.IntN(3)), mg: 1 + rng.IntN(4), group: g, bias: rng.IntN(2) == 0, relu: rng.IntN(2) == 0}
		for d := 0; d < nd; d++ {
			s := 1 + rng.IntN(3)
			c.in = append(c.in, 1+rng.IntN(7))
			c.kernel = append(c.kernel, 1+rng.IntN(4))
			c.strides = append(c.strides, s)
			c.dil = append(c.dil, 1+rng.IntN(2))
			c.outPad = append(c.outPad, rng.IntN(s))
		}
		for d := 0; d < 2*nd; d++ {
			c.pads = append(c.pads, rng.IntN(2))
		}
		cases = append(cases, c)
	}
	for _, c := range cases {
		t.Run(c.String(), func(t *testing.T) {
			m, in, w, bias := ctModel(t, c, rng)
			if c.relu && !m.steps[0].n.act.on {
				t.Fatal("Relu was not fused")
			}
			p := m.steps[0].n.params.(*convTransposeParams)
			_, fast := m.steps[0].kernel.(*convTransposeKernel)
			if fast != (len(c.in) <= 2) {
				t.Fatalf("fast kernel %v for %d spatial dimensions", fast, len(c.in))
			}
			want := ctScatter(in[0], w, bias, c.mg*c.group, c.group, c.kernel, p.strides, p.dil, p.padBegin, p.out)
			if c.relu {
				for i, v := range want {
					want[i] = max(v, 0)
				}
			}
			ref, err := m.NewSession().RunWith(in, referenceSelector{m})
			if err != nil {
				t.Fatal(err)
			}
			compareFloats(t, ref[0].F, want, 1e-5)
			checkAgainstReference(t, m, in, 1e-5)
		})
	}
}

// TestConvTransposeShapes pins the output sizes and pads of the spec's
// formulas: out = s*(in-1) + output_padding + (k-1)*d + 1 - pads, with
// output_shape or SAME_* giving the total padding, split with the smaller
// half first for SAME_UPPER and last otherwise.
func TestConvTransposeShapes(t *testing.T) {
	tests := []struct {
		c        ctCase
		out      []int
		padBegin []int
	}{
		{ctCase{cin: 1, mg: 1, group: 1, in: []int{3, 3}, kernel: []int{3, 3}}, []int{5, 5}, []int{0, 0}},
		{ctCase{cin: 1, mg: 1, group: 1, in: []int{3, 3}, kernel: []int{3, 3}, strides: []int{3, 2}, pads: []int{1, 2, 1, 2}}, []int{7, 3}, []int{1, 2}},
		{ctCase{cin: 1, mg: 1, group: 1, in: []int{3, 3}, kernel: []int{3, 3}, strides: []int{3, 2}, outPad: []int{1, 1}}, []int{10, 8}, []int{0, 0}},
		// total padding 9+0+3-10 = 2 (1 each side) and 4+0+3-8 < 0:
		// clamped to 0.
		{ctCase{cin: 1, mg: 1, group: 1, in: []int{4, 3}, kernel: []int{3, 3}, strides: []int{3, 2}, outShape: []int{10, 8}}, []int{10, 8}, []int{1, 0}},
		// SAME_UPPER: out = in*s = 6, total = 2*2+3-6 = 1: begin 0, end 1.
		{ctCase{cin: 1, mg: 1, group: 1, in: []int{3, 3}, kernel: []int{3, 3}, strides: []int{2, 2}, autoPad: "SAME_UPPER"}, []int{6, 6}, []int{0, 0}},
		// SAME_LOWER: begin 1, end 0.
		{ctCase{cin: 1, mg: 1, group: 1, in: []int{3, 3}, kernel: []int{3, 3}, strides: []int{2, 2}, autoPad: "SAME_LOWER"}, []int{6, 6}, []int{1, 1}},
		// NOTSET with output_shape: the larger half first (total 10-7 = 3:
		// 2 and 1).
		{ctCase{cin: 1, mg: 1, group: 1, in: []int{4}, kernel: []int{4}, strides: []int{2}, outShape: []int{7}}, []int{7}, []int{2}},
		{ctCase{cin: 1, mg: 1, group: 1, in: []int{4}, kernel: []int{4}, strides: []int{2}, outShape: []int{7}, autoPad: "SAME_UPPER"}, []int{7}, []int{1}},
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for _, tc := range tests {
		m, _, _, _ := ctModel(t, tc.c, rng)
		p := m.steps[0].n.params.(*convTransposeParams)
		if !equalShapes(p.out, tc.out) || !equalShapes(p.padBegin, tc.padBegin) {
			t.Errorf("%v: out %v pads %v, want %v %v", tc.c, p.out, p.padBegin, tc.out, tc.padBegin)
		}
	}
}

// TestConvTransposeExample is the ONNX documentation's example: x =
// arange(9) as 3x3, W all ones with two output channels: each output is the
// sum of the inputs whose 3x3 footprint covers it.
func TestConvTransposeExample(t *testing.T) {
	ones := make([]float32, 18)
	for i := range ones {
		ones[i] = 1
	}
	m := newBuilder(11).input("x", 1, 1, 3, 3).init("w", ones, 1, 2, 3, 3).
		node("ConvTranspose", []string{"x", "w"}, []string{"y"}).output("y").load(t, Options{})
	x := NewFloat([]float32{0, 1, 2, 3, 4, 5, 6, 7, 8}, 1, 1, 3, 3)
	plane := []float32{
		0, 1, 3, 3, 2,
		3, 8, 15, 12, 7,
		9, 21, 36, 27, 15,
		9, 20, 33, 24, 13,
		6, 13, 21, 15, 8,
	}
	got, err := m.NewSession().Run([]*Tensor{x})
	if err != nil {
		t.Fatal(err)
	}
	compareFloats(t, got[0].F, append(append([]float32(nil), plane...), plane...), 1e-6)
}

func TestConvTransposeRunAllocatesNothing(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, threads := range []int{1, 2} {
		b := newBuilder(17).input("x", 1, 8, 6, 6).init("w", randFloats(rng, 8*4*4*4), 8, 4, 4, 4).init("b", randFloats(rng, 4), 4).
			init("w3", randFloats(rng, 4*2*2*2*2), 4, 2, 2, 2, 2).initInts("axes", []int64{2}, 1).
			node("ConvTranspose", []string{"x", "w", "b"}, []string{"c"}, attrInts("strides", 2, 2), attrInts("pads", 1, 1, 1, 1)).
			node("Relu", []string{"c"}, []string{"r"}).
			node("Unsqueeze", []string{"r", "axes"}, []string{"u"}).
			node("ConvTranspose", []string{"u", "w3"}, []string{"y"}, attrInts("strides", 1, 2, 2)).output("y")
		m := b.load(t, Options{Threads: threads})
		s := m.NewSession()
		x := []*Tensor{NewFloat(randFloats(rng, 8*36), 1, 8, 6, 6)}
		if _, err := s.Run(x); err != nil {
			t.Fatal(err)
		}
		if a := testing.AllocsPerRun(10, func() { s.Run(x) }); a != 0 && !(raceBuild && threads > 1) {
			t.Fatalf("threads %d: Run allocates %.0f times per call", threads, a)
		}
		checkAgainstReference(t, m, x, 1e-5)
	}
}

func TestConvTransposeErrors(t *testing.T) {
	w := make([]float32, 2*3*3*3)
	tests := []struct {
		name  string
		attrs []*onnx.Attribute
		x     []int
		w     []int
		want  string
	}{
		{"rank", nil, []int{1, 2, 4}, []int{2, 3, 3, 3}, "differ in rank"},
		{"channels", nil, []int{1, 3, 4, 4}, []int{2, 3, 3, 3}, "input channels"},
		{"group", []*onnx.Attribute{attrInt("group", 4)}, []int{1, 2, 4, 4}, []int{2, 3, 3, 3}, "group 4"},
		{"strides", []*onnx.Attribute{attrInts("strides", 1)}, []int{1, 2, 4, 4}, []int{2, 3, 3, 3}, "strides has 1 entries"},
		{"zero stride", []*onnx.Attribute{attrInts("strides", 0, 1)}, []int{1, 2, 4, 4}, []int{2, 3, 3, 3}, "must be positive"},
		{"pads", []*onnx.Attribute{attrInts("pads", 1, 1)}, []int{1, 2, 4, 4}, []int{2, 3, 3, 3}, "pads has 2 entries"},
		{"negative pads", []*onnx.Attribute{attrInts("pads", -1, 0, 0, 0)}, []int{1, 2, 4, 4}, []int{2, 3, 3, 3}, "must not be negative"},
		{"pads eat output", []*onnx.Attribute{attrInts("pads", 3, 3, 3, 3)}, []int{1, 2, 4, 4}, []int{2, 3, 3, 3}, "not positive"},
		{"kernel_shape", []*onnx.Attribute{attrInts("kernel_shape", 2, 2)}, []int{1, 2, 4, 4}, []int{2, 3, 3, 3}, "kernel_shape"},
		{"output_shape", []*onnx.Attribute{attrInts("output_shape", 5)}, []int{1, 2, 4, 4}, []int{2, 3, 3, 3}, "output_shape has 1 entries"},
		{"huge output", []*onnx.Attribute{attrInts("strides", 1<<30, 1<<30)}, []int{1, 2, 4, 4}, []int{2, 3, 3, 3}, "too large"},
		{"auto_pad", []*onnx.Attribute{strAttr("auto_pad", "SAME")}, []int{1, 2, 4, 4}, []int{2, 3, 3, 3}, "auto_pad"},
	}
	for _, tc := range tests {
		b := newBuilder(17).input("x", tc.x...).init("w", w[:numel(tc.w)], tc.w...).
			node("ConvTranspose", []string{"x", "w"}, []string{"y"}, tc.attrs...).output("y")
		_, err := loadDecoded(b.m, "", Options{})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `"y_node" (ConvTranspose)`) {
			t.Errorf("%s: got %v, want an error naming the node and %q", tc.name, err, tc.want)
		}
	}
}
