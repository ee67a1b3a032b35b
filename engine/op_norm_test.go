package engine

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/kagen-ai/kagen/engine/onnx"
)

func TestLayerNormValues(t *testing.T) {
	// x = [1,2,3,4]: mean 2.5, var 1.25, 1/std = 0.8944272;
	// (x-mean)/std = [-1.3416408, -0.4472136, 0.4472136, 1.3416408].
	x := NewFloat([]float32{1, 2, 3, 4}, 1, 4)
	out := elemRun(t, 17, "LayerNormalization", []*Tensor{x, NewFloat([]float32{1, 2, 1, 1}, 4), NewFloat([]float32{0, 0, 0, 1}, 4)}, 3, attrFloat("epsilon", 0))
	elemWantFloats(t, "Y", out[0], []float32{-1.3416408, -0.8944272, 0.4472136, 2.3416408})
	elemWantFloats(t, "Mean", out[1], []float32{2.5})
	elemWantFloats(t, "InvStdDev", out[2], []float32{0.8944272})
	if !equalShapes(out[1].Shape, []int{1, 1}) || out[1].DType != Float32 {
		t.Fatalf("Mean is %v%v, want FLOAT[1 1]", out[1].DType, out[1].Shape)
	}
	// axis 0 of [2,2]: one row of four elements; no bias.
	out = elemRun(t, 17, "LayerNormalization", []*Tensor{NewFloat([]float32{1, 2, 3, 4}, 2, 2), NewFloat([]float32{1, 1, 1, 1}, 2, 2)}, 1, attrInt("axis", 0), attrFloat("epsilon", 0))
	elemWantFloats(t, "axis 0", out[0], []float32{-1.3416408, -0.4472136, 0.4472136, 1.3416408})
}

func TestGroupNormOpsets(t *testing.T) {
	// x[1,4,1] = [1,2,3,5] in 2 groups: {1,2} and {3,5} both normalise to
	// [-1, 1] (eps 0).
	x := NewFloat([]float32{1, 2, 3, 5}, 1, 4, 1)
	attrs := []*onnx.Attribute{attrInt("num_groups", 2), attrFloat("epsilon", 0)}
	// Opset 18: scale and bias per group.
	out := elemRun(t, 18, "GroupNormalization", []*Tensor{x, NewFloat([]float32{2, 3}, 2), NewFloat([]float32{0, 1}, 2)}, 1, attrs...)
	elemWantFloats(t, "GroupNorm-18", out[0], []float32{-2, 2, -2, 4})
	// Opset 21: per channel.
	out = elemRun(t, 21, "GroupNormalization", []*Tensor{x, NewFloat([]float32{1, 2, 3, 4}, 4), NewFloat([]float32{0, 0, 0, 1}, 4)}, 1, attrs...)
	elemWantFloats(t, "GroupNorm-21", out[0], []float32{-1, 2, -3, 5})
	if _, err := elemModel(t, 21, "GroupNormalization", []*Tensor{x, NewFloat([]float32{1, 2}, 2), NewFloat([]float32{0, 0}, 2)}, 1, attrs...); err == nil || !strings.Contains(err.Error(), "elements") {
		t.Fatalf("GroupNorm-21 with per-group scale: got %v", err)
	}
}

func TestOtherNormValues(t *testing.T) {
	// MVN over the default axes [0,2,3]: (x-2.5)/(1.118034+1e-9).
	out := elemRun(t, 13, "MeanVarianceNormalization", []*Tensor{NewFloat([]float32{1, 2, 3, 4}, 1, 1, 1, 4)}, 1)
	elemWantFloats(t, "MVN", out[0], []float32{-1.3416408, -0.4472136, 0.4472136, 1.3416408})
	// MVN over axis 1 of [2,2,1,1] (axes [1]): each pair normalises to [-1,1].
	out = elemRun(t, 13, "MeanVarianceNormalization", []*Tensor{NewFloat([]float32{1, 3, 10, 4}, 2, 2, 1, 1)}, 1, attrInts("axes", 1))
	elemWantFloats(t, "MVN axes [1]", out[0], []float32{-1, 1, 1, -1})
	// LpNormalization: p=2 along the last axis, a zero row stays 0.
	out = elemRun(t, 1, "LpNormalization", []*Tensor{NewFloat([]float32{3, 4, 0, 0}, 2, 2)}, 1)
	elemWantFloats(t, "LpNorm p2", out[0], []float32{0.6, 0.8, 0, 0})
	out = elemRun(t, 1, "LpNormalization", []*Tensor{NewFloat([]float32{3, 4, 1, 0}, 2, 2)}, 1, attrInt("p", 1), attrInt("axis", 0))
	elemWantFloats(t, "LpNorm p1 axis 0", out[0], []float32{0.75, 1, 0.25, 0})
	// LRN size 3, alpha/size 1, beta 1, bias 1 over channels [1,2,3]:
	// 1/(1+5), 2/(1+14), 3/(1+13).
	out = elemRun(t, 13, "LRN", []*Tensor{NewFloat([]float32{1, 2, 3}, 1, 3, 1, 1)}, 1, attrInt("size", 3), attrFloat("alpha", 3), attrFloat("beta", 1), attrFloat("bias", 1))
	elemWantFloats(t, "LRN size 3", out[0], []float32{1.0 / 6, 2.0 / 15, 3.0 / 14})
	// size 2 looks one channel ahead: windows {0,1}, {1,2}, {2}.
	out = elemRun(t, 13, "LRN", []*Tensor{NewFloat([]float32{1, 2, 3}, 1, 3, 1, 1)}, 1, attrInt("size", 2), attrFloat("alpha", 2), attrFloat("beta", 1), attrFloat("bias", 1))
	elemWantFloats(t, "LRN size 2", out[0], []float32{1.0 / 6, 2.0 / 14, 3.0 / 10})
}

func TestNormAttributeErrors(t *testing.T) {
	x4 := NewFloat(make([]float32, 8), 1, 4, 2)
	v4 := NewFloat(make([]float32, 4), 4)
	v2 := NewFloat(make([]float32, 2), 2)
	cases := []struct {
		op    string
		opset int64
		in    []*Tensor
		attrs []*onnx.Attribute
		want  string
	}{
		{"LayerNormalization", 17, []*Tensor{x4, v2}, []*onnx.Attribute{attrInt("axis", 3)}, "axis"},
		{"LayerNormalization", 17, []*Tensor{x4, v4}, nil, "does not broadcast"},
		{"LayerNormalization", 17, []*Tensor{x4, v2}, []*onnx.Attribute{attrInt("stash_type", 7)}, "stash_type"},
		{"GroupNormalization", 18, []*Tensor{x4, v2, v2}, []*onnx.Attribute{attrInt("num_groups", 3)}, "num_groups"},
		{"GroupNormalization", 18, []*Tensor{x4, v2, v2}, nil, "num_groups"},
		{"GroupNormalization", 18, []*Tensor{x4, v2, v2}, []*onnx.Attribute{attrInt("num_groups", -2)}, "num_groups"},
		{"InstanceNormalization", 6, []*Tensor{x4, v2, v2}, nil, "elements"},
		{"LpNormalization", 1, []*Tensor{x4}, []*onnx.Attribute{attrInt("p", 3)}, "attribute p"},
		{"LpNormalization", 1, []*Tensor{x4}, []*onnx.Attribute{attrInt("axis", -4)}, "axis"},
		{"LRN", 13, []*Tensor{x4}, []*onnx.Attribute{attrInt("size", 0)}, "size"},
		{"LRN", 13, []*Tensor{x4}, nil, "size"},
		{"MeanVarianceNormalization", 13, []*Tensor{x4}, []*onnx.Attribute{attrInts("axes", 5)}, "axes"},
		{"Softmax", 13, []*Tensor{x4}, []*onnx.Attribute{attrInt("axis", -4)}, "axis"},
	}
	for _, c := range cases {
		_, err := elemModel(t, c.opset, c.op, c.in, 1, c.attrs...)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "y0_node") {
			t.Errorf("%s %v: got %v, want an error naming the node and %q", c.op, c.attrs, err, c.want)
		}
	}
}

func TestLossValues(t *testing.T) {
	x := NewFloat([]float32{-1, -2, -3, -0.5, -1.5, -2.5}, 2, 3)
	tg := elemInts(Int64, []int64{0, 2}, 2)
	w := NewFloat([]float32{1, 2, 3}, 3)
	// loss = -x[n, t[n]] * w[t[n]] = [1*1, 2.5*3].
	out := elemRun(t, 13, "NegativeLogLikelihoodLoss", []*Tensor{x, tg, w}, 1, elemAttrStr("reduction", "none"))
	elemWantFloats(t, "NLL none", out[0], []float32{1, 7.5})
	out = elemRun(t, 13, "NegativeLogLikelihoodLoss", []*Tensor{x, tg, w}, 1, elemAttrStr("reduction", "sum"))
	elemWantFloats(t, "NLL sum", out[0], []float32{8.5})
	if len(out[0].Shape) != 0 {
		t.Fatalf("NLL sum has shape %v, want a scalar", out[0].Shape)
	}
	// mean divides by the weights taken: 8.5 / (1+3).
	out = elemRun(t, 13, "NegativeLogLikelihoodLoss", []*Tensor{x, tg, w}, 1)
	elemWantFloats(t, "NLL mean", out[0], []float32{2.125})
	// An ignored target adds neither loss nor weight: 1 / 1.
	out = elemRun(t, 13, "NegativeLogLikelihoodLoss", []*Tensor{x, tg, w}, 1, attrInt("ignore_index", 2))
	elemWantFloats(t, "NLL mean ignore", out[0], []float32{1})
	out = elemRun(t, 13, "NegativeLogLikelihoodLoss", []*Tensor{x, tg}, 1)
	elemWantFloats(t, "NLL mean unweighted", out[0], []float32{1.75})
	// [N=1, C=2, D=2]: target [[1, 0]] -> losses 3 and 2.
	out = elemRun(t, 13, "NegativeLogLikelihoodLoss", []*Tensor{NewFloat([]float32{-1, -2, -3, -4}, 1, 2, 2), elemInts(Int32, []int64{1, 0}, 1, 2)}, 1, elemAttrStr("reduction", "none"))
	elemWantFloats(t, "NLL N-D", out[0], []float32{3, 2})
	// A target out of range that is not ignored gives NaN, not a panic.
	out = elemRun(t, 13, "NegativeLogLikelihoodLoss", []*Tensor{x, elemInts(Int64, []int64{0, 7}, 2)}, 1)
	if v := out[0].F[0]; v == v {
		t.Fatalf("NLL with target 7 of 3 classes gave %g, want NaN", v)
	}

	// SoftmaxCrossEntropyLoss: scores [[0,0],[1,0]], labels [1,0]:
	// log_prob = [[-ln2, -ln2], [1-ln(1+e), -ln(1+e)]].
	s := NewFloat([]float32{0, 0, 1, 0}, 2, 2)
	l := elemInts(Int64, []int64{1, 0}, 2)
	out = elemRun(t, 13, "SoftmaxCrossEntropyLoss", []*Tensor{s, l}, 2)
	elemWantFloats(t, "SCE mean", out[0], []float32{(0.6931472 + 0.3132617) / 2})
	elemWantFloats(t, "SCE log_prob", out[1], []float32{-0.6931472, -0.6931472, -0.3132617, -1.3132617})
	out = elemRun(t, 13, "SoftmaxCrossEntropyLoss", []*Tensor{s, l}, 1, elemAttrStr("reduction", "none"), attrInt("ignore_index", 0))
	elemWantFloats(t, "SCE none ignore", out[0], []float32{0.6931472, 0})

	for _, c := range []struct {
		in    []*Tensor
		attrs []*onnx.Attribute
		want  string
	}{
		{[]*Tensor{x, tg}, []*onnx.Attribute{elemAttrStr("reduction", "avg")}, "reduction"},
		{[]*Tensor{x, NewFloat([]float32{0, 1}, 2)}, nil, "target"},
		{[]*Tensor{x, elemInts(Int64, []int64{0, 1, 2}, 3)}, nil, "target shape"},
		{[]*Tensor{x, tg, NewFloat([]float32{1, 2}, 2)}, nil, "weight"},
		{[]*Tensor{NewFloat([]float32{1}, 1), elemInts(Int64, []int64{0}, 1)}, nil, "rank"},
	} {
		_, err := elemModel(t, 13, "NegativeLogLikelihoodLoss", c.in, 1, c.attrs...)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "y0_node") {
			t.Errorf("NLL %v: got %v, want an error naming the node and %q", c.attrs, err, c.want)
		}
	}
}

func TestElemSizeLimit(t *testing.T) {
	// A broadcast whose output is far larger than its inputs.
	b := newBuilder(16)
	b.elemInput("c", Bool, 1024, 1).elemInput("x", Float32, 1, 1024).elemInput("y", Float32, 1)
	b.node("Where", []string{"c", "x", "y"}, []string{"w"}).output("w")
	if _, err := loadDecoded(b.m, "test", Options{MaxBytes: 1 << 20}); err == nil || !strings.Contains(err.Error(), "size limit") {
		t.Fatalf("a 4 MiB Where output under a 1 MiB limit: got %v", err)
	}
}

func TestElemOpsAllocateNothing(t *testing.T) {
	b := newBuilder(17)
	b.input("x", 4, 16).init("g", make([]float32, 16), 16).init("bias", make([]float32, 16), 16).
		init("two", []float32{2}, 1).initInts("t", []int64{1, 3, 0, 2}, 4)
	b.node("LayerNormalization", []string{"x", "g", "bias"}, []string{"ln"})
	b.node("Add", []string{"ln", "bias"}, []string{"a"})
	b.node("Pow", []string{"a", "two"}, []string{"p"})
	b.node("Softmax", []string{"p"}, []string{"s"})
	b.node("Greater", []string{"s", "a"}, []string{"gt"})
	b.node("Where", []string{"gt", "s", "a"}, []string{"w"})
	b.node("Max", []string{"w", "a", "two"}, []string{"mx"})
	b.node("Gelu", []string{"mx"}, []string{"ge"})
	b.node("Mod", []string{"ge", "two"}, []string{"md"}, attrInt("fmod", 1))
	b.node("MeanVarianceNormalization", []string{"md"}, []string{"mvn"}, attrInts("axes", 1))
	b.node("Reshape", []string{"mvn", "shape"}, []string{"r"})
	b.initInts("shape", []int64{4, 16, 1}, 3)
	b.node("InstanceNormalization", []string{"r", "g", "bias"}, []string{"in"})
	b.node("Flatten", []string{"in"}, []string{"f"})
	b.node("SoftmaxCrossEntropyLoss", []string{"f", "t"}, []string{"loss"})
	b.output("loss")
	for _, threads := range []int{1, 2} {
		m := b.load(t, Options{Threads: threads})
		s := m.NewSession()
		in := []*Tensor{NewFloat(randFloats(rand.New(rand.NewPCG(13, 14)), 64), 4, 16)}
		if _, err := s.Run(in); err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(20, func() { s.Run(in) }); n != 0 {
			t.Fatalf("threads %d: %v allocations per run", threads, n)
		}
		s.Close()
	}
}
