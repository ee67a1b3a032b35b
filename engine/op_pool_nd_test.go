package engine

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/kagen-ai/kagen/engine/onnx"
)

// inputOf adds a graph input of any element type.
func (b *builder) inputOf(name string, dt DType, shape ...int) *builder {
	b.input(name, shape...)
	b.m.Graph.Inputs[len(b.m.Graph.Inputs)-1].ElemType = int32(dt)
	return b
}

func runModel(t *testing.T, m *Model, in ...*Tensor) []*Tensor {
	t.Helper()
	out, err := m.NewSession().Run(in)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// conv3dDirect is an independent 3-D convolution written out with seven
// nested loops (no groups): the oracle of the N-D reference.
func conv3dDirect(x *Tensor, w []float32, wShape []int, bias []float32, s, d, pb []int, out []int) []float32 {
	n, c, id, ih, iw := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3], x.Shape[4]
	m, kd, kh, kw := wShape[0], wShape[2], wShape[3], wShape[4]
	od, oh, ow := out[0], out[1], out[2]
	y := make([]float32, n*m*od*oh*ow)
	i := 0
	for b := 0; b < n; b++ {
		for oc := 0; oc < m; oc++ {
			for z := 0; z < od; z++ {
				for yy := 0; yy < oh; yy++ {
					for xx := 0; xx < ow; xx++ {
						var acc float64
						if bias != nil {
							acc = float64(bias[oc])
						}
						for ic := 0; ic < c; ic++ {
							for a := 0; a < kd; a++ {
								for e := 0; e < kh; e++ {
									for f := 0; f < kw; f++ {
										pz, py, px := z*s[0]-pb[0]+a*d[0], yy*s[1]-pb[1]+e*d[1], xx*s[2]-pb[2]+f*d[2]
										if pz < 0 || pz >= id || py < 0 || py >= ih || px < 0 || px >= iw {
											continue
										}
										acc += float64(x.F[(((b*c+ic)*id+pz)*ih+py)*iw+px]) * float64(w[(((oc*c+ic)*kd+a)*kh+e)*kw+f])
									}
								}
							}
						}
						y[i] = float32(acc)
						i++
					}
				}
			}
		}
	}
	return y
}

func TestConv3DReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	type c3 struct {
		c, m       int
		in, k      []int
		s, d, pads []int
		autoPad    string
	}
	cases := []c3{
		{2, 3, []int{3, 4, 5}, []int{2, 3, 2}, []int{1, 1, 1}, []int{1, 1, 1}, []int{0, 0, 0, 0, 0, 0}, ""},
		{3, 2, []int{5, 5, 6}, []int{2, 2, 3}, []int{2, 1, 2}, []int{2, 1, 1}, []int{1, 0, 2, 0, 1, 1}, ""},
		{1, 4, []int{4, 3, 5}, []int{3, 3, 3}, []int{2, 2, 1}, []int{1, 1, 1}, nil, "SAME_UPPER"},
		{2, 2, []int{4, 6, 3}, []int{2, 3, 2}, []int{1, 2, 1}, []int{1, 1, 1}, nil, "SAME_LOWER"},
	}
	for _, tc := range cases {
		wShape := append([]int{tc.m, tc.c}, tc.k...)
		w, bias := randFloats(rng, numel(wShape)), randFloats(rng, tc.m)
		attrs := []*onnx.Attribute{attrInts("strides", tc.s...), attrInts("dilations", tc.d...)}
		if tc.pads != nil {
			attrs = append(attrs, attrInts("pads", tc.pads...))
		} else {
			attrs = append(attrs, strAttr("auto_pad", tc.autoPad))
		}
		xShape := append([]int{2, tc.c}, tc.in...)
		m := newBuilder(13).input("x", xShape...).init("w", w, wShape...).init("b", bias, tc.m).
			node("Conv", []string{"x", "w", "b"}, []string{"y"}, attrs...).output("y").load(t, Options{})
		p := m.steps[0].n.params.(*convNDParams)
		x := NewFloat(randFloats(rng, numel(xShape)), xShape...)
		got := runModel(t, m, x)
		compareFloats(t, got[0].F, conv3dDirect(x, w, wShape, bias, tc.s, tc.d, p.padBegin, p.out), 1e-5)
	}
}

// TestNDMatches2D checks the N-D paths against the 2-D fast kernels: a 3-D
// window of depth 1 over an input of depth 1 is the 2-D window.
func TestNDMatches2D(t *testing.T) {
	rng := rand.New(rand.NewPCG(33, 34))
	type tc struct {
		op    string
		attrs func(three bool) []*onnx.Attribute
	}
	dup := func(three bool, first int, v ...int) []int {
		if !three {
			return v
		}
		if len(v) == 4 { // pads
			return []int{first, v[0], v[1], first, v[2], v[3]}
		}
		return append([]int{first}, v...)
	}
	cases := []tc{
		{"MaxPool", func(th bool) []*onnx.Attribute {
			return []*onnx.Attribute{attrInts("kernel_shape", dup(th, 1, 3, 2)...), attrInts("strides", dup(th, 1, 2, 1)...), attrInts("pads", dup(th, 0, 1, 0, 1, 1)...)}
		}},
		{"MaxPool", func(th bool) []*onnx.Attribute {
			return []*onnx.Attribute{attrInts("kernel_shape", dup(th, 1, 3, 3)...), attrInts("strides", dup(th, 1, 2, 2)...), attrInt("ceil_mode", 1), attrInts("dilations", dup(th, 1, 1, 2)...)}
		}},
		{"AveragePool", func(th bool) []*onnx.Attribute {
			return []*onnx.Attribute{attrInts("kernel_shape", dup(th, 1, 3, 3)...), attrInts("strides", dup(th, 1, 2, 2)...), attrInts("pads", dup(th, 0, 1, 1, 1, 1)...), attrInt("count_include_pad", 1)}
		}},
		{"AveragePool", func(th bool) []*onnx.Attribute {
			return []*onnx.Attribute{attrInts("kernel_shape", dup(th, 1, 2, 3)...), attrInts("strides", dup(th, 1, 2, 2)...), attrInt("ceil_mode", 1), attrInts("pads", dup(th, 0, 1, 0, 0, 1)...)}
		}},
		{"AveragePool", func(th bool) []*onnx.Attribute {
			return []*onnx.Attribute{attrInts("kernel_shape", dup(th, 1, 3, 3)...), strAttr("auto_pad", "SAME_LOWER"), attrInts("strides", dup(th, 1, 2, 2)...)}
		}},
		{"LpPool", func(th bool) []*onnx.Attribute {
			return []*onnx.Attribute{attrInts("kernel_shape", dup(th, 1, 3, 2)...), attrInts("pads", dup(th, 0, 1, 1, 1, 1)...), attrInt("p", 3)}
		}},
	}
	for i, c := range cases {
		x2 := NewFloat(randFloats(rng, 2*3*7*8), 2, 3, 7, 8)
		x3 := NewFloat(x2.F, 2, 3, 1, 7, 8)
		m2 := newBuilder(19).input("x", 2, 3, 7, 8).node(c.op, []string{"x"}, []string{"y"}, c.attrs(false)...).output("y").load(t, Options{})
		m3 := newBuilder(19).input("x", 2, 3, 1, 7, 8).node(c.op, []string{"x"}, []string{"y"}, c.attrs(true)...).output("y").load(t, Options{})
		y2, y3 := runModel(t, m2, x2), runModel(t, m3, x3)
		if !equalShapes(y3[0].Shape[3:], y2[0].Shape[2:]) || y3[0].Shape[2] != 1 {
			t.Fatalf("case %d %s: shapes %v and %v", i, c.op, y2[0].Shape, y3[0].Shape)
		}
		compareFloats(t, y3[0].F, y2[0].F, 1e-6)
	}
	// Conv with groups, bias and a fused Relu.
	w2 := randFloats(rng, 6*2*3*3)
	b := randFloats(rng, 6)
	x2 := NewFloat(randFloats(rng, 2*4*7*8), 2, 4, 7, 8)
	x3 := NewFloat(x2.F, 2, 4, 1, 7, 8)
	m2 := newBuilder(13).input("x", 2, 4, 7, 8).init("w", w2, 6, 2, 3, 3).init("b", b, 6).
		node("Conv", []string{"x", "w", "b"}, []string{"c"}, attrInt("group", 2), attrInts("pads", 1, 0, 1, 2), attrInts("strides", 2, 1)).
		node("Relu", []string{"c"}, []string{"y"}).output("y").load(t, Options{})
	m3 := newBuilder(13).input("x", 2, 4, 1, 7, 8).init("w", w2, 6, 2, 1, 3, 3).init("b", b, 6).
		node("Conv", []string{"x", "w", "b"}, []string{"c"}, attrInt("group", 2), attrInts("pads", 0, 1, 0, 0, 1, 2), attrInts("strides", 1, 2, 1)).
		node("Relu", []string{"c"}, []string{"y"}).output("y").load(t, Options{})
	if !m3.steps[0].n.act.on {
		t.Fatal("Relu was not fused into the 3-D Conv")
	}
	compareFloats(t, runModel(t, m3, x3)[0].F, runModel(t, m2, x2)[0].F, 1e-5)
}

// TestMaxPool3DIndices pins the argmax indices of a 3-D MaxPool in both
// storage orders. Each channel is a 2x3x1 volume (d, h, w) whose maximum
// is at (0, 2, 0): row-major that is 0*3 + 2 = 2, with storage_order=1
// (the first axis varies fastest) 0 + 2*2 = 4; the second channel adds
// its plane offset 6.
func TestMaxPool3DIndices(t *testing.T) {
	for _, tc := range []struct {
		order int
		want  []int64
	}{{0, []int64{2, 8}}, {1, []int64{4, 10}}} {
		m := newBuilder(12).input("x", 1, 2, 2, 3, 1).
			node("MaxPool", []string{"x"}, []string{"y", "i"}, attrInts("kernel_shape", 2, 3, 1), attrInt("storage_order", tc.order)).
			output("y", "i").load(t, Options{})
		x := NewFloat([]float32{1, 2, 9, 3, 4, 5, 0, 1, 8, 2, 3, 4}, 1, 2, 2, 3, 1)
		out := runModel(t, m, x)
		compareFloats(t, out[0].F, []float32{9, 8}, 0)
		if out[1].I[0] != tc.want[0] || out[1].I[1] != tc.want[1] {
			t.Errorf("storage_order %d: indices %v, want %v", tc.order, out[1].I, tc.want)
		}
	}
}

func TestLpPool(t *testing.T) {
	// [3, 4, 0, 5] in windows of 2: p=2 gives 5 and 5; p=1 gives 7 and 5;
	// p=3 gives (27+64)^(1/3) and 5. Opset 1 reads p as a float.
	x := NewFloat([]float32{3, -4, 0, 5}, 1, 1, 4)
	for _, tc := range []struct {
		opset int64
		p     *onnx.Attribute
		want  []float32
	}{
		{11, nil, []float32{5, 5}},
		{11, attrInt("p", 1), []float32{7, 5}},
		{18, attrInt("p", 3), []float32{float32(math.Cbrt(91)), 5}},
		{1, attrFloat("p", 1), []float32{7, 5}},
	} {
		attrs := []*onnx.Attribute{attrInts("kernel_shape", 2), attrInts("strides", 2)}
		if tc.p != nil {
			attrs = append(attrs, tc.p)
		}
		m := newBuilder(tc.opset).input("x", 1, 1, 4).node("LpPool", []string{"x"}, []string{"y"}, attrs...).output("y").load(t, Options{})
		compareFloats(t, runModel(t, m, x)[0].F, tc.want, 1e-6)
	}
	// Opset 18: dilation 2 pairs 3 with 0 and -4 with 5; ceil_mode over
	// [3, 4, 6, 8, 2] adds a last window holding only the 2.
	m := newBuilder(18).input("x", 1, 1, 4).node("LpPool", []string{"x"}, []string{"y"}, attrInts("kernel_shape", 2), attrInts("dilations", 2)).output("y").load(t, Options{})
	compareFloats(t, runModel(t, m, x)[0].F, []float32{3, float32(math.Sqrt(41))}, 1e-6)
	m = newBuilder(18).input("x", 1, 1, 5).node("LpPool", []string{"x"}, []string{"y"}, attrInts("kernel_shape", 2), attrInts("strides", 2), attrInt("ceil_mode", 1)).output("y").load(t, Options{})
	compareFloats(t, runModel(t, m, NewFloat([]float32{3, 4, 6, 8, 2}, 1, 1, 5))[0].F, []float32{5, 10, 2}, 1e-6)
	// GlobalLpPool: per channel over every spatial element.
	m = newBuilder(2).input("x", 1, 2, 2, 2).node("GlobalLpPool", []string{"x"}, []string{"y"}).output("y").load(t, Options{})
	got := runModel(t, m, NewFloat([]float32{1, 2, 2, 4, 0, 0, 3, 4}, 1, 2, 2, 2))
	if !equalShapes(got[0].Shape, []int{1, 2, 1, 1}) {
		t.Fatalf("GlobalLpPool shape %v", got[0].Shape)
	}
	compareFloats(t, got[0].F, []float32{5, 5}, 1e-6)
	m = newBuilder(2).input("x", 1, 1, 3).node("GlobalLpPool", []string{"x"}, []string{"y"}, attrInt("p", 1)).output("y").load(t, Options{})
	compareFloats(t, runModel(t, m, NewFloat([]float32{1, -2, 3}, 1, 1, 3))[0].F, []float32{6}, 1e-6)
}

func TestMaxUnpool(t *testing.T) {
	// MaxPool 2x2/2 of a 4x4 input, then MaxUnpool puts each maximum back
	// where it was and zeros elsewhere.
	x := NewFloat([]float32{
		1, 9, 2, 3,
		4, 5, 6, 8,
		7, 0, 1, 1,
		2, 3, 1, 4,
	}, 1, 1, 4, 4)
	m := newBuilder(11).input("x", 1, 1, 4, 4).
		node("MaxPool", []string{"x"}, []string{"p", "i"}, attrInts("kernel_shape", 2, 2), attrInts("strides", 2, 2)).
		node("MaxUnpool", []string{"p", "i"}, []string{"y"}, attrInts("kernel_shape", 2, 2), attrInts("strides", 2, 2)).output("y").load(t, Options{})
	compareFloats(t, runModel(t, m, x)[0].F, []float32{
		0, 9, 0, 0,
		0, 0, 0, 8,
		7, 0, 0, 0,
		0, 0, 0, 4,
	}, 0)
	// A larger output_shape keeps the coordinates and pads at the end.
	m = newBuilder(11).input("x", 1, 1, 4, 4).initInts("shape", []int64{1, 1, 5, 4}, 4).
		node("MaxPool", []string{"x"}, []string{"p", "i"}, attrInts("kernel_shape", 2, 2), attrInts("strides", 2, 2)).
		node("MaxUnpool", []string{"p", "i", "shape"}, []string{"y"}, attrInts("kernel_shape", 2, 2), attrInts("strides", 2, 2)).output("y").load(t, Options{})
	got := runModel(t, m, x)[0]
	if !equalShapes(got.Shape, []int{1, 1, 5, 4}) {
		t.Fatalf("shape %v", got.Shape)
	}
	compareFloats(t, got.F, []float32{0, 9, 0, 0, 0, 0, 0, 8, 7, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0}, 0)
	// Out-of-range indices are skipped, not a panic.
	m = newBuilder(11).input("x", 1, 1, 2).inputOf("i", Int64, 1, 1, 2).
		node("MaxUnpool", []string{"x", "i"}, []string{"y"}, attrInts("kernel_shape", 2), attrInts("strides", 2)).output("y").load(t, Options{})
	compareFloats(t, runModel(t, m, NewFloat([]float32{5, 6}, 1, 1, 2), NewInt([]int64{-1, 3}, 1, 1, 2))[0].F, []float32{0, 0, 0, 6}, 0)
	// output_shape computed at run time must be bound.
	b := newBuilder(11).input("x", 1, 1, 2).inputOf("i", Int64, 1, 1, 2).inputOf("s", Int64, 3).
		node("MaxUnpool", []string{"x", "i", "s"}, []string{"y"}, attrInts("kernel_shape", 2)).output("y")
	_, err := loadDecoded(b.m, "", Options{})
	var ce *ConstantInputError
	if !errors.As(err, &ce) || ce.Input != "s" {
		t.Fatalf("got %v, want a ConstantInputError for s", err)
	}
}

func TestSpatialPoolErrors(t *testing.T) {
	tests := []struct {
		name string
		b    *builder
		want string
	}{
		{"lppool p", newBuilder(11).input("x", 1, 1, 4).node("LpPool", []string{"x"}, []string{"y"}, attrInts("kernel_shape", 2), attrInt("p", 0)), "p 0 must be positive"},
		{"lppool dilations", newBuilder(11).input("x", 1, 1, 4).node("LpPool", []string{"x"}, []string{"y"}, attrInts("kernel_shape", 2), attrInts("dilations", 2)), "dilations need opset 18"},
		{"lppool kernel", newBuilder(11).input("x", 1, 1, 4).node("LpPool", []string{"x"}, []string{"y"}), "kernel_shape is missing"},
		{"pool3d strides", newBuilder(11).input("x", 1, 1, 4, 4, 4).node("MaxPool", []string{"x"}, []string{"y"}, attrInts("kernel_shape", 2, 2, 2), attrInts("strides", 1, 1)), "strides has 2 entries"},
		{"pool3d window", newBuilder(11).input("x", 1, 1, 4, 4, 4).node("AveragePool", []string{"x"}, []string{"y"}, attrInts("kernel_shape", 2, 5, 2)), "larger than the padded input"},
		{"avgpool3d dilations", newBuilder(11).input("x", 1, 1, 4, 4, 4).node("AveragePool", []string{"x"}, []string{"y"}, attrInts("kernel_shape", 2, 2, 2), attrInts("dilations", 1, 2, 1)), "dilations need opset 19"},
		{"conv3d group", newBuilder(11).input("x", 1, 3, 4, 4, 4).init("w", make([]float32, 4*3*8), 4, 3, 2, 2, 2).node("Conv", []string{"x", "w"}, []string{"y"}, attrInt("group", 2)), "group 2"},
		{"unpool shape", newBuilder(11).input("x", 1, 1, 2).inputOf("i", Int64, 1, 1, 3).node("MaxUnpool", []string{"x", "i"}, []string{"y"}, attrInts("kernel_shape", 2)), "differ in shape"},
		{"unpool kernel", newBuilder(11).input("x", 1, 1, 2).inputOf("i", Int64, 1, 1, 2).node("MaxUnpool", []string{"x", "i"}, []string{"y"}), "kernel_shape must have 1 entries"},
		{"unpool output_shape", newBuilder(11).input("x", 1, 1, 2).inputOf("i", Int64, 1, 1, 2).initInts("s", []int64{2, 1, 4}, 3).node("MaxUnpool", []string{"x", "i", "s"}, []string{"y"}, attrInts("kernel_shape", 2)), "does not match the input"},
		{"unpool huge", newBuilder(11).input("x", 1, 1, 2, 2).inputOf("i", Int64, 1, 1, 2, 2).node("MaxUnpool", []string{"x", "i"}, []string{"y"}, attrInts("kernel_shape", 2, 2), attrInts("strides", 1<<30, 1<<30)), "too large"},
		{"huge 3-D pads", newBuilder(11).input("x", 1, 1, 2, 2, 2).node("MaxPool", []string{"x"}, []string{"y"}, attrInts("kernel_shape", 1, 1, 1), attrInts("pads", 1<<30, 1<<30, 1<<30, 1<<30, 1<<30, 1<<30)), "too large"},
		{"nine spatial dims", newBuilder(11).input("x", 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1).node("LpPool", []string{"x"}, []string{"y"}, attrInts("kernel_shape", 1, 1, 1, 1, 1, 1, 1, 1, 1)), "unsupported LpPool/9-D window"},
	}
	for _, tc := range tests {
		_, err := loadDecoded(tc.b.output("y").m, "", Options{})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `"y_node"`) {
			t.Errorf("%s: got %v, want an error naming the node and %q", tc.name, err, tc.want)
		}
	}
}

func TestSpatialNDRunAllocatesNothing(t *testing.T) {
	rng := rand.New(rand.NewPCG(35, 36))
	b := newBuilder(18).input("x", 1, 2, 4, 6, 6).init("w", randFloats(rng, 4*2*27), 4, 2, 3, 3, 3).
		node("Conv", []string{"x", "w"}, []string{"c"}, attrInts("pads", 1, 1, 1, 1, 1, 1)).
		node("MaxPool", []string{"c"}, []string{"p", "i"}, attrInts("kernel_shape", 2, 2, 2), attrInts("strides", 2, 2, 2)).
		node("MaxUnpool", []string{"p", "i"}, []string{"u"}, attrInts("kernel_shape", 2, 2, 2), attrInts("strides", 2, 2, 2)).
		node("AveragePool", []string{"u"}, []string{"a"}, attrInts("kernel_shape", 3, 3, 3), attrInt("ceil_mode", 1), attrInts("strides", 2, 2, 2)).
		node("LpPool", []string{"a"}, []string{"l"}, attrInts("kernel_shape", 1, 2, 2)).
		node("GlobalLpPool", []string{"l"}, []string{"y"}).output("y")
	m := b.load(t, Options{Threads: 2})
	s := m.NewSession()
	x := []*Tensor{NewFloat(randFloats(rng, 2*4*36), 1, 2, 4, 6, 6)}
	if _, err := s.Run(x); err != nil {
		t.Fatal(err)
	}
	if a := testing.AllocsPerRun(10, func() { s.Run(x) }); a != 0 {
		t.Fatalf("Run allocates %.0f times per call", a)
	}
}
