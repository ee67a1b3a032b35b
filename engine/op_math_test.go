package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/kagen-ai/kagen/engine/onnx"
)

// elemInput declares a graph input of any type.
func (b *builder) elemInput(name string, dt DType, shape ...int) *builder {
	vi := &onnx.ValueInfo{Name: name, ElemType: int32(dt), HasShape: true, IsTensor: true}
	for _, d := range shape {
		vi.Dims = append(vi.Dims, onnx.Dim{Value: int64(d), Known: true})
	}
	b.m.Graph.Inputs = append(b.m.Graph.Inputs, vi)
	return b
}

func elemAttrStr(name, v string) *onnx.Attribute {
	return &onnx.Attribute{Name: name, Type: 3, S: []byte(v)}
}

// elemModel builds a one-node model over the given input tensors (named
// x0, x1, ...) with outputs y0..y(nOut-1).
func elemModel(t testing.TB, opset int64, op string, ins []*Tensor, nOut int, attrs ...*onnx.Attribute) (*Model, error) {
	t.Helper()
	b := newBuilder(opset)
	var names, outs []string
	for i, x := range ins {
		name := "x" + string(rune('0'+i))
		if x == nil {
			names = append(names, "")
			continue
		}
		b.elemInput(name, x.DType, x.Shape...)
		names = append(names, name)
	}
	for i := 0; i < nOut; i++ {
		outs = append(outs, "y"+string(rune('0'+i)))
	}
	b.node(op, names, outs, attrs...)
	b.output(outs...)
	return loadDecoded(b.m, "test", Options{})
}

// elemRun runs a one-node model and returns its outputs.
func elemRun(t testing.TB, opset int64, op string, ins []*Tensor, nOut int, attrs ...*onnx.Attribute) []*Tensor {
	t.Helper()
	m, err := elemModel(t, opset, op, ins, nOut, attrs...)
	if err != nil {
		t.Fatal(err)
	}
	var feed []*Tensor
	for _, x := range ins {
		if x != nil {
			feed = append(feed, x)
		}
	}
	out, err := m.NewSession().Run(feed)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func elemInts(dt DType, data []int64, shape ...int) *Tensor {
	return &Tensor{DType: dt, Shape: shape, I: data}
}

func elemFloats(data []float32, shape ...int) *Tensor { return NewFloat(data, shape...) }

// elemWantFloats compares within rel/abs 1e-6 (NaN matches NaN).
func elemWantFloats(t *testing.T, what string, got *Tensor, want []float32) {
	t.Helper()
	if len(got.F) != len(want) {
		t.Fatalf("%s: got %d elements %v, want %v", what, len(got.F), got.F, want)
	}
	for i, w := range want {
		g := got.F[i]
		if g != g && w != w || g == w {
			continue
		}
		if d := math.Abs(float64(g) - float64(w)); d > 1e-6+1e-6*math.Abs(float64(w)) {
			t.Fatalf("%s: element %d is %g, want %g (all %v)", what, i, g, w, got.F)
		}
	}
}

func elemWantInts(t *testing.T, what string, got *Tensor, dt DType, want []int64) {
	t.Helper()
	if got.DType != dt {
		t.Fatalf("%s: type %v, want %v", what, got.DType, dt)
	}
	if len(got.I) != len(want) {
		t.Fatalf("%s: got %v, want %v", what, got.I, want)
	}
	for i := range want {
		if got.I[i] != want[i] {
			t.Fatalf("%s: got %v, want %v", what, got.I, want)
		}
	}
}

func TestUnaryMathValues(t *testing.T) {
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	cases := []struct {
		op    string
		opset int64
		attrs []*onnx.Attribute
		in    []float32
		want  []float32
	}{
		// numpy.round: half to even.
		{"Round", 11, nil, []float32{0.5, 1.5, 2.5, -0.5, -1.5, 0.49, -2.6}, []float32{0, 2, 2, 0, -2, 0, -3}},
		{"Sign", 13, nil, []float32{-3, 0, 2, nan}, []float32{-1, 0, 1, nan}},
		{"Reciprocal", 13, nil, []float32{2, -0.5, 0}, []float32{0.5, -2, inf}},
		{"Floor", 13, nil, []float32{-1.5, 1.5}, []float32{-2, 1}},
		{"Ceil", 13, nil, []float32{-1.5, 1.5}, []float32{-1, 2}},
		{"Abs", 13, nil, []float32{-1.5, 2}, []float32{1.5, 2}},
		{"Neg", 13, nil, []float32{-1.5, 2}, []float32{1.5, -2}},
		// Elu alpha=2: 2*(e^-1-1) = -1.2642411.
		{"Elu", 6, []*onnx.Attribute{attrFloat("alpha", 2)}, []float32{-1, 3}, []float32{-1.2642411, 3}},
		// Selu defaults: 1.0507010*1.6732632*(e^-1-1) = -1.1113307.
		{"Selu", 6, nil, []float32{-1, 2}, []float32{-1.1113307, 2.101402}},
		// Celu alpha=2: 2*(e^(-1/2)-1) = -0.7869387.
		{"Celu", 12, []*onnx.Attribute{attrFloat("alpha", 2)}, []float32{-1, 1}, []float32{-0.7869387, 1}},
		// Gelu: 0.5*x*(1+erf(x/sqrt2)); x=1 -> 0.8413447, x=-1 -> -0.1586553.
		{"Gelu", 20, nil, []float32{1, -1, 0}, []float32{0.8413447, -0.1586553, 0}},
		// tanh form: 0.5*(1+tanh(0.7978846*(1.044715))) = 0.8411920.
		{"Gelu", 20, []*onnx.Attribute{elemAttrStr("approximate", "tanh")}, []float32{1}, []float32{0.841192}},
		// Softplus must not overflow: log(1+e^100) = 100.
		{"Softplus", 1, nil, []float32{100, 0, -100}, []float32{100, 0.6931472, 3.7200760e-44}},
		{"Softsign", 1, nil, []float32{1, -3}, []float32{0.5, -0.75}},
		// Mish: x*tanh(softplusF64(x)); 1 -> 0.8650984, large x -> x.
		{"Mish", 18, nil, []float32{1, 50, -50}, []float32{0.8650984, 50, -9.643749e-21}},
		{"ThresholdedRelu", 10, []*onnx.Attribute{attrFloat("alpha", 2)}, []float32{1, 2, 3}, []float32{0, 0, 3}},
		{"Shrink", 9, []*onnx.Attribute{attrFloat("bias", 1), attrFloat("lambd", 1.5)}, []float32{-2, -1, 0, 1, 2}, []float32{-1, 0, 0, 0, 1}},
		{"Erf", 13, nil, []float32{0.5, -1}, []float32{0.5204999, -0.8427008}},
		{"Atanh", 9, nil, []float32{0.5}, []float32{0.5493061}},
		{"Acosh", 9, nil, []float32{2}, []float32{1.3169579}},
	}
	for _, c := range cases {
		out := elemRun(t, c.opset, c.op, []*Tensor{elemFloats(c.in, len(c.in))}, 1, c.attrs...)
		elemWantFloats(t, c.op, out[0], c.want)
	}
}

func TestUnaryMathIntegers(t *testing.T) {
	// int8 wraps: |-128| and -(-128) are -128 as in numpy.
	out := elemRun(t, 13, "Abs", []*Tensor{elemInts(Int8, []int64{-128, -3, 4}, 3)}, 1)
	elemWantInts(t, "Abs int8", out[0], Int8, []int64{-128, 3, 4})
	out = elemRun(t, 13, "Neg", []*Tensor{elemInts(Int8, []int64{-128, -3, 4}, 3)}, 1)
	elemWantInts(t, "Neg int8", out[0], Int8, []int64{-128, 3, -4})
	out = elemRun(t, 13, "Sign", []*Tensor{elemInts(Int32, []int64{-7, 0, 9}, 3)}, 1)
	elemWantInts(t, "Sign int32", out[0], Int32, []int64{-1, 0, 1})
	out = elemRun(t, 13, "Abs", []*Tensor{elemInts(Uint8, []int64{200}, 1)}, 1)
	elemWantInts(t, "Abs uint8", out[0], Uint8, []int64{200})
	if _, err := elemModel(t, 13, "Neg", []*Tensor{elemInts(Uint8, []int64{1}, 1)}, 1); !IsUnsupported(err) {
		t.Fatalf("Neg on UINT8: got %v, want an unsupported error", err)
	}
	if _, err := elemModel(t, 13, "Sqrt", []*Tensor{elemInts(Int32, []int64{1}, 1)}, 1); !IsUnsupported(err) {
		t.Fatalf("Sqrt on INT32: got %v, want an unsupported error", err)
	}
}

func TestPowTypes(t *testing.T) {
	// float ^ float with broadcasting.
	out := elemRun(t, 15, "Pow", []*Tensor{elemFloats([]float32{1, 2, 3, 4, 5, 6}, 2, 3), elemFloats([]float32{2, 0.5, -1}, 3)}, 1)
	elemWantFloats(t, "Pow", out[0], []float32{1, 1.4142135, 1.0 / 3, 16, 2.236068, 1.0 / 6})
	// int base, float exponent: the output keeps the base's type.
	out = elemRun(t, 15, "Pow", []*Tensor{elemInts(Int32, []int64{1, 2, 3}, 3), elemFloats([]float32{4, 5, 0.5}, 3)}, 1)
	elemWantInts(t, "Pow int32^float", out[0], Int32, []int64{1, 32, 1})
	// int ^ int exactly, negative exponents truncating like 1/x^n.
	out = elemRun(t, 15, "Pow", []*Tensor{elemInts(Int64, []int64{3, 2, -1, 1, 5}, 5), elemInts(Int64, []int64{39, -1, -3, -4, 0}, 5)}, 1)
	elemWantInts(t, "Pow int64^int64", out[0], Int64, []int64{4052555153018976267, 0, -1, 1, 1})
	// float ^ int.
	out = elemRun(t, 15, "Pow", []*Tensor{elemFloats([]float32{-2, 3}, 2), elemInts(Int32, []int64{3}, 1)}, 1)
	elemWantFloats(t, "Pow float^int32", out[0], []float32{-8, 27})
}

func TestPRelu(t *testing.T) {
	x := elemFloats([]float32{-1, 2, -3, 4, -5, 6, -7, 8}, 1, 2, 4)
	// Opset 6: a [C] slope is per channel (axis 1), not numpy-broadcast.
	out := elemRun(t, 6, "PRelu", []*Tensor{x, elemFloats([]float32{0.5, 0.25}, 2)}, 1)
	elemWantFloats(t, "PRelu-6", out[0], []float32{-0.5, 2, -1.5, 4, -1.25, 6, -1.75, 8})
	// Opset 16: the slope broadcasts unidirectionally (here over the last axis).
	out = elemRun(t, 16, "PRelu", []*Tensor{x, elemFloats([]float32{1, 2, 3, 4}, 4)}, 1)
	elemWantFloats(t, "PRelu-16", out[0], []float32{-1, 2, -9, 4, -5, 6, -21, 8})
	if _, err := elemModel(t, 16, "PRelu", []*Tensor{x, elemFloats([]float32{1, 2}, 2)}, 1); err == nil || !strings.Contains(err.Error(), "slope") {
		t.Fatalf("PRelu-16 with a [2] slope over [1,2,4]: got %v", err)
	}
	out = elemRun(t, 16, "PRelu", []*Tensor{elemInts(Int32, []int64{-3, 3}, 2), elemInts(Int32, []int64{2}, 1)}, 1)
	elemWantInts(t, "PRelu int32", out[0], Int32, []int64{-6, 3})
}

func TestDet(t *testing.T) {
	// [[1,2],[3,4]] -> -2; a singular 3x3; [[0,1],[1,0]] needs a pivot -> -1.
	out := elemRun(t, 11, "Det", []*Tensor{elemFloats([]float32{1, 2, 3, 4}, 2, 2)}, 1)
	elemWantFloats(t, "Det 2x2", out[0], []float32{-2})
	if len(out[0].Shape) != 0 {
		t.Fatalf("Det of [2,2] has shape %v, want a scalar", out[0].Shape)
	}
	out = elemRun(t, 11, "Det", []*Tensor{elemFloats([]float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 0, 1, 0, 0, 0, 0, 2}, 2, 3, 3)}, 1)
	elemWantFloats(t, "Det batch", out[0], []float32{0, -2})
	// A 20x20 permuted diagonal (the large-matrix kernel): det = sign * prod.
	const m = 20
	a := make([]float32, m*m)
	want := 1.0
	for i := 0; i < m; i++ {
		j := (i + 1) % m // a cyclic shift of 20 has sign (-1)^19
		a[i*m+j] = float32(1 + i%3)
		want *= float64(1 + i%3)
	}
	want = -want
	mdl, err := elemModel(t, 11, "Det", []*Tensor{elemFloats(a, m, m)}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := mdl.steps[0].kernel.(detKernel); !ok {
		t.Fatalf("20x20 Det runs %T, want detKernel", mdl.steps[0].kernel)
	}
	in := []*Tensor{elemFloats(a, m, m)}
	got, err := mdl.NewSession().Run(in)
	if err != nil {
		t.Fatal(err)
	}
	elemWantFloats(t, "Det 20x20", got[0], []float32{float32(want)})
	checkAgainstReference(t, mdl, in, 1e-5)
	if _, err := elemModel(t, 11, "Det", []*Tensor{elemFloats(make([]float32, 6), 2, 3)}, 1); err == nil || !strings.Contains(err.Error(), "Det") {
		t.Fatalf("Det of [2,3]: got %v", err)
	}
}

func TestVariadic(t *testing.T) {
	nan := float32(math.NaN())
	a := elemFloats([]float32{1, 5, nan, 2, 8, 0}, 2, 3)
	b := elemFloats([]float32{3, 4, 1}, 3)
	c := elemFloats([]float32{0, 10}, 2, 1)
	out := elemRun(t, 13, "Max", []*Tensor{a, b, c}, 1)
	elemWantFloats(t, "Max", out[0], []float32{3, 5, nan, 10, 10, 10})
	out = elemRun(t, 13, "Min", []*Tensor{a, b, c}, 1)
	elemWantFloats(t, "Min", out[0], []float32{0, 0, nan, 2, 4, 0})
	out = elemRun(t, 13, "Sum", []*Tensor{b, c}, 1)
	elemWantFloats(t, "Sum", out[0], []float32{3, 4, 1, 13, 14, 11})
	out = elemRun(t, 13, "Mean", []*Tensor{b, c, b}, 1)
	elemWantFloats(t, "Mean", out[0], []float32{2, 8.0 / 3, 2.0 / 3, 16.0 / 3, 6, 4})
	out = elemRun(t, 13, "Sum", []*Tensor{b}, 1)
	elemWantFloats(t, "Sum of one", out[0], []float32{3, 4, 1})
	out = elemRun(t, 13, "Max", []*Tensor{elemInts(Int8, []int64{-5, 7}, 2), elemInts(Int8, []int64{3}, 1)}, 1)
	elemWantInts(t, "Max int8", out[0], Int8, []int64{3, 7})
	// Opset 6 has no broadcasting.
	if _, err := elemModel(t, 6, "Sum", []*Tensor{a, b}, 1); err == nil || !strings.Contains(err.Error(), "broadcasting") {
		t.Fatalf("Sum-6 over [2,3] and [3]: got %v", err)
	}
	if _, err := elemModel(t, 13, "Sum", []*Tensor{elemInts(Int32, []int64{1}, 1)}, 1); !IsUnsupported(err) {
		t.Fatalf("Sum of INT32: got %v, want unsupported", err)
	}
}

func TestCompareAndLogic(t *testing.T) {
	nan := float32(math.NaN())
	a := elemFloats([]float32{1, 2, 3, nan}, 4)
	b := elemFloats([]float32{2}, 1)
	for op, want := range map[string][]int64{
		"Equal": {0, 1, 0, 0}, "Less": {1, 0, 0, 0}, "LessOrEqual": {1, 1, 0, 0},
		"Greater": {0, 0, 1, 0}, "GreaterOrEqual": {0, 1, 1, 0},
	} {
		out := elemRun(t, 16, op, []*Tensor{a, b}, 1)
		elemWantInts(t, op, out[0], Bool, want)
	}
	p := elemInts(Bool, []int64{1, 1, 0, 0}, 2, 2)
	q := elemInts(Bool, []int64{1, 0}, 2)
	for op, want := range map[string][]int64{"And": {1, 0, 0, 0}, "Or": {1, 1, 1, 0}, "Xor": {0, 1, 1, 0}} {
		out := elemRun(t, 7, op, []*Tensor{p, q}, 1)
		elemWantInts(t, op, out[0], Bool, want)
	}
	out := elemRun(t, 1, "Not", []*Tensor{p}, 1)
	elemWantInts(t, "Not", out[0], Bool, []int64{0, 0, 1, 1})
	if _, err := elemModel(t, 7, "And", []*Tensor{elemInts(Int32, []int64{1}, 1), elemInts(Int32, []int64{1}, 1)}, 1); err == nil {
		t.Fatal("And on INT32 was accepted")
	}
	x := elemInts(Uint8, []int64{0xf0, 0x0f, 0xff}, 3)
	y := elemInts(Uint8, []int64{0x3c}, 1)
	for op, want := range map[string][]int64{"BitwiseAnd": {0x30, 0x0c, 0x3c}, "BitwiseOr": {0xfc, 0x3f, 0xff}, "BitwiseXor": {0xcc, 0x33, 0xc3}} {
		out := elemRun(t, 18, op, []*Tensor{x, y}, 1)
		elemWantInts(t, op, out[0], Uint8, want)
	}
	out = elemRun(t, 18, "BitwiseNot", []*Tensor{x}, 1)
	elemWantInts(t, "BitwiseNot uint8", out[0], Uint8, []int64{0x0f, 0xf0, 0})
	out = elemRun(t, 18, "BitwiseNot", []*Tensor{elemInts(Int16, []int64{0, -1, 5}, 3)}, 1)
	elemWantInts(t, "BitwiseNot int16", out[0], Int16, []int64{-1, 0, -6})
	// BitShift wraps at the type's width.
	out = elemRun(t, 11, "BitShift", []*Tensor{elemInts(Uint8, []int64{16, 4, 1}, 3), elemInts(Uint8, []int64{1, 2, 8}, 3)}, 1, elemAttrStr("direction", "LEFT"))
	elemWantInts(t, "BitShift left", out[0], Uint8, []int64{32, 16, 0})
	out = elemRun(t, 11, "BitShift", []*Tensor{elemInts(Uint32, []int64{16, 4, 1}, 3), elemInts(Uint32, []int64{1, 2, 3}, 3)}, 1, elemAttrStr("direction", "RIGHT"))
	elemWantInts(t, "BitShift right", out[0], Uint32, []int64{8, 1, 0})
	if _, err := elemModel(t, 11, "BitShift", []*Tensor{x, y}, 1); err == nil || !strings.Contains(err.Error(), "direction") {
		t.Fatalf("BitShift without direction: got %v", err)
	}
	if _, err := elemModel(t, 11, "BitShift", []*Tensor{elemInts(Int32, []int64{1}, 1), elemInts(Int32, []int64{1}, 1)}, 1, elemAttrStr("direction", "LEFT")); err == nil {
		t.Fatal("BitShift on INT32 was accepted")
	}
}

func TestIsNaNIsInfWhere(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	x := elemFloats([]float32{1, nan, inf, -inf}, 4)
	out := elemRun(t, 13, "IsNaN", []*Tensor{x}, 1)
	elemWantInts(t, "IsNaN", out[0], Bool, []int64{0, 1, 0, 0})
	out = elemRun(t, 10, "IsInf", []*Tensor{x}, 1)
	elemWantInts(t, "IsInf", out[0], Bool, []int64{0, 0, 1, 1})
	out = elemRun(t, 10, "IsInf", []*Tensor{x}, 1, attrInt("detect_positive", 0))
	elemWantInts(t, "IsInf negative", out[0], Bool, []int64{0, 0, 0, 1})
	out = elemRun(t, 10, "IsInf", []*Tensor{x}, 1, attrInt("detect_negative", 0))
	elemWantInts(t, "IsInf positive", out[0], Bool, []int64{0, 0, 1, 0})
	// Where: condition [2,1], X [3], Y [2,3] -> [2,3].
	c := elemInts(Bool, []int64{1, 0}, 2, 1)
	xs := elemFloats([]float32{1, 2, 3}, 3)
	ys := elemFloats([]float32{-1, -2, -3, -4, -5, -6}, 2, 3)
	out = elemRun(t, 16, "Where", []*Tensor{c, xs, ys}, 1)
	elemWantFloats(t, "Where", out[0], []float32{1, 2, 3, -4, -5, -6})
	if !equalShapes(out[0].Shape, []int{2, 3}) {
		t.Fatalf("Where shape %v", out[0].Shape)
	}
	out = elemRun(t, 16, "Where", []*Tensor{elemInts(Bool, []int64{0, 1, 1}, 3), elemInts(Int64, []int64{7}, 1), elemInts(Int64, []int64{8, 9}, 2, 1)}, 1)
	elemWantInts(t, "Where int64", out[0], Int64, []int64{8, 7, 7, 9, 7, 7})
	if _, err := elemModel(t, 16, "Where", []*Tensor{xs, xs, xs}, 1); err == nil || !strings.Contains(err.Error(), "condition") {
		t.Fatalf("Where with a float condition: got %v", err)
	}
}

func TestMod(t *testing.T) {
	a := elemInts(Int32, []int64{-7, 7, -7, 7, 5, math.MinInt32}, 6)
	b := elemInts(Int32, []int64{3, -3, -3, 3, 0, -1}, 6)
	// Python %: the divisor's sign. Division by zero gives 0, never a panic.
	out := elemRun(t, 13, "Mod", []*Tensor{a, b}, 1)
	elemWantInts(t, "Mod", out[0], Int32, []int64{2, -2, -1, 1, 0, 0})
	// C fmod: the dividend's sign.
	out = elemRun(t, 13, "Mod", []*Tensor{a, b}, 1, attrInt("fmod", 1))
	elemWantInts(t, "Mod fmod", out[0], Int32, []int64{-1, 1, -1, 1, 0, 0})
	out = elemRun(t, 13, "Mod", []*Tensor{elemFloats([]float32{-7.5, 7.5}, 2), elemFloats([]float32{2}, 1)}, 1, attrInt("fmod", 1))
	elemWantFloats(t, "Mod float", out[0], []float32{-1.5, 1.5})
	if _, err := elemModel(t, 13, "Mod", []*Tensor{elemFloats([]float32{1}, 1), elemFloats([]float32{1}, 1)}, 1); err == nil || !strings.Contains(err.Error(), "fmod") {
		t.Fatalf("float Mod with fmod=0: got %v", err)
	}
	if _, err := elemModel(t, 13, "Mod", []*Tensor{a, b}, 1, attrInt("fmod", 2)); err == nil || !strings.Contains(err.Error(), "fmod") {
		t.Fatalf("Mod with fmod=2: got %v", err)
	}
}

func TestElementwiseAttributeErrors(t *testing.T) {
	x := elemFloats([]float32{1, 2}, 2)
	cases := []struct {
		op    string
		opset int64
		attrs []*onnx.Attribute
		want  string
	}{
		{"Gelu", 20, []*onnx.Attribute{elemAttrStr("approximate", "fast")}, "approximate"},
		{"Elu", 6, []*onnx.Attribute{attrInt("alpha", 1)}, "alpha"},
		{"Selu", 6, []*onnx.Attribute{elemAttrStr("gamma", "x")}, "gamma"},
	}
	for _, c := range cases {
		_, err := elemModel(t, c.opset, c.op, []*Tensor{x}, 1, c.attrs...)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "y0_node") {
			t.Errorf("%s %v: got %v, want an error naming the node and %q", c.op, c.attrs, err, c.want)
		}
	}
}

// TestWhereBroadcastsLikeANaiveLoop compares Where over three-way
// broadcasts (the rows the kernel special-cases and the general one,
// leading and trailing broadcast axes, rank 0 to 4, an empty output)
// with a naive loop over output indices.
func TestWhereBroadcastsLikeANaiveLoop(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, c := range []struct{ c, x, y []int }{
		{[]int{1, 4, 32, 32}, []int{1, 4, 32, 32}, []int{}},       // a causal mask's fill
		{[]int{1, 1, 32, 32}, []int{1, 4, 32, 32}, []int{1}},      // mask broadcast over heads
		{[]int{2, 1, 5}, []int{1, 3, 1}, []int{2, 3, 5}},          // every input broadcasts somewhere
		{[]int{5}, []int{}, []int{3, 5}},                          // constant x
		{[]int{3, 1}, []int{3, 7}, []int{1, 7}},                   // condition constant along rows
		{[]int{}, []int{2, 2}, []int{2, 2}},                       // scalar condition
		{[]int{}, []int{}, []int{}},                               // rank 0
		{[]int{2, 0, 3}, []int{1, 1, 3}, []int{2, 1, 1}},          // empty
		{[]int{2, 3, 4, 9}, []int{2, 3, 4, 9}, []int{2, 3, 4, 9}}, // contiguous
	} {
		for _, isInt := range []bool{false, true} {
			t.Run(fmt.Sprintf("c%v_x%v_y%v_int%v", c.c, c.x, c.y, isInt), func(t *testing.T) {
				cond := make([]int64, numel(c.c))
				for i := range cond {
					cond[i] = int64(rng.IntN(2))
				}
				mk := func(shape []int) *Tensor {
					v := make([]int64, numel(shape))
					for i := range v {
						v[i] = int64(rng.IntN(1000)) - 500
					}
					if isInt {
						return elemInts(Int64, v, shape...)
					}
					f := make([]float32, len(v))
					for i := range v {
						f[i] = float32(v[i]) / 7
					}
					return elemFloats(f, shape...)
				}
				ct, xt, yt := elemInts(Bool, cond, c.c...), mk(c.x), mk(c.y)
				out := elemRun(t, 16, "Where", []*Tensor{ct, xt, yt}, 1)[0]
				shape := out.Shape
				idx := make([]int, len(shape))
				at := func(tn *Tensor, idx []int) int { // the element of tn that idx reads, broadcast
					off, stride := 0, 1
					for d := len(tn.Shape) - 1; d >= 0; d-- {
						i := idx[len(idx)-len(tn.Shape)+d]
						if tn.Shape[d] == 1 {
							i = 0
						}
						off += i * stride
						stride *= tn.Shape[d]
					}
					return off
				}
				for k := 0; k < numel(shape); k++ {
					rem := k
					for d := len(shape) - 1; d >= 0; d-- {
						idx[d] = rem % shape[d]
						rem /= shape[d]
					}
					pick, j := yt, at(yt, idx)
					if ct.I[at(ct, idx)] != 0 {
						pick, j = xt, at(xt, idx)
					}
					if isInt && out.I[k] != pick.I[j] || !isInt && out.F[k] != pick.F[j] {
						t.Fatalf("element %d (index %v) differs from the naive loop's", k, idx)
					}
				}
			})
		}
	}
}
