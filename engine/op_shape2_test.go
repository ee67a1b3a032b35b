package engine

import (
	"math"
	"testing"

	"github.com/kagen-ai/kagen/engine/onnx"
)

func shAttrTensorInt(name string, dt DType, v ...int64) *onnx.Attribute {
	return &onnx.Attribute{Name: name, Type: 4, T: &onnx.Tensor{DataType: int32(dt), Dims: []int64{int64(len(v))}, Ints: v}}
}

// TestShapeChainFolds builds the shape arithmetic exporters emit around a
// Reshape (Shape, Slice, ReduceProd, Gather, Range, ConstantOfShape,
// Expand, Tile, CumSum, Concat) and checks that the whole chain is
// evaluated at load: only the Reshape is planned, with its shape known.
func TestShapeChainFolds(t *testing.T) {
	b := newBuilder(13).input("x", 2, 3, 4).
		initInts("z", []int64{0}, 1).initInts("one", []int64{1}, 1).initInts("big", []int64{math.MaxInt64}, 1).
		initInts("m1", []int64{-1}, 1).initInts("i0", []int64{0}).initInts("s0", []int64{0}).initInts("s1", []int64{1}).
		initInts("two", []int64{2}, 1).
		node("Shape", []string{"x"}, []string{"s"}).
		node("Slice", []string{"s", "one", "big"}, []string{"tail"}).
		node("ReduceProd", []string{"tail"}, []string{"prod"}, attrInt("keepdims", 1)).
		node("Gather", []string{"s", "i0"}, []string{"g"}).
		node("Range", []string{"s0", "g", "s1"}, []string{"r"}).
		node("Shape", []string{"r"}, []string{"rs"}).
		node("ConstantOfShape", []string{"rs"}, []string{"c"}, shAttrTensorInt("value", Int64, 1)).
		node("Expand", []string{"c", "two"}, []string{"e"}).
		node("Tile", []string{"e", "one"}, []string{"tl"}).
		node("CumSum", []string{"tl", "s0"}, []string{"cs"}).
		node("Slice", []string{"cs", "m1", "big"}, []string{"last"}).
		node("Concat", []string{"last", "prod"}, []string{"shape"}, attrInt("axis", 0)).
		node("Reshape", []string{"x", "shape"}, []string{"y"}).output("y")
	m := b.load(t, Options{})
	nodes := m.Nodes()
	if len(nodes) != 1 || nodes[0].Op != "Reshape" || !equalShapes(nodes[0].Shape, []int{2, 12}) {
		t.Fatalf("planned %+v, want only the Reshape to [2 12]", nodes)
	}
	x := NewFloat(shSeq(24), 2, 3, 4)
	got := shCheckExact(t, m, x)[0]
	shSame(t, "y", got, NewFloat(shSeq(24), 2, 12))
}

func TestExpandTileByHand(t *testing.T) {
	x := NewFloat([]float32{1, 2, 3}, 3, 1)
	m := newBuilder(13).input("x", 3, 1).initInts("sh", []int64{2, 1, 2}, 3).
		node("Expand", []string{"x", "sh"}, []string{"y"}).output("y").load(t, Options{})
	shSame(t, "expand", shCheckExact(t, m, x)[0], NewFloat([]float32{1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3}, 2, 3, 2))
	// A 1 in the shape keeps the input's dimension.
	m = newBuilder(13).input("x", 3, 1).initInts("sh", []int64{1, 1}, 2).
		node("Expand", []string{"x", "sh"}, []string{"y"}).output("y").load(t, Options{})
	shSame(t, "expand keep", shCheckExact(t, m, x)[0], x)
	x = NewFloat([]float32{1, 2, 3, 4}, 2, 2)
	m = newBuilder(13).input("x", 2, 2).initInts("r", []int64{2, 1}, 2).
		node("Tile", []string{"x", "r"}, []string{"y"}).output("y").load(t, Options{})
	shSame(t, "tile", shCheckExact(t, m, x)[0], NewFloat([]float32{1, 2, 3, 4, 1, 2, 3, 4}, 4, 2))
	m = newBuilder(13).input("x", 2, 2).initInts("r", []int64{1, 2}, 2).
		node("Tile", []string{"x", "r"}, []string{"y"}).output("y").load(t, Options{})
	shSame(t, "tile cols", shCheckExact(t, m, x)[0], NewFloat([]float32{1, 2, 1, 2, 3, 4, 3, 4}, 2, 4))
}

func TestConstantOfShapeAndRange(t *testing.T) {
	m := newBuilder(13).initInts("sh", []int64{2, 3}, 2).
		node("ConstantOfShape", []string{"sh"}, []string{"y"}).output("y").load(t, Options{})
	out, err := m.NewSession().Run(nil)
	if err != nil {
		t.Fatal(err)
	}
	shSame(t, "default", out[0], NewFloat(make([]float32, 6), 2, 3))
	m = newBuilder(13).initInts("sh", []int64{0, 3}, 2).
		node("ConstantOfShape", []string{"sh"}, []string{"y"}, shAttrTensorInt("value", Int32, 7)).output("y").load(t, Options{})
	out, _ = m.NewSession().Run(nil)
	shSame(t, "empty", out[0], &Tensor{DType: Int32, Shape: []int{0, 3}, I: []int64{}})

	// Int range with a negative step: 10, 7 (ceil((4-10)/-3) = 2).
	m = newBuilder(13).shInit("a", Int32, []int64{10}).shInit("b", Int32, []int64{4}).shInit("c", Int32, []int64{-3}).
		node("Range", []string{"a", "b", "c"}, []string{"y"}).output("y").load(t, Options{})
	out, _ = m.NewSession().Run(nil)
	shSame(t, "int range", out[0], &Tensor{DType: Int32, Shape: []int{2}, I: []int64{10, 7}})
	// Float range 0, 0.1, ... < 1: ten values, i*0.1 up to float32
	// accumulation error.
	m = newBuilder(13).init("a", []float32{0}).init("b", []float32{1}).init("c", []float32{0.1}).
		node("Range", []string{"a", "b", "c"}, []string{"y"}).output("y").load(t, Options{})
	out, _ = m.NewSession().Run(nil)
	if len(out[0].F) != 10 {
		t.Fatalf("float range has %d elements, want 10", len(out[0].F))
	}
	for i, v := range out[0].F {
		if math.Abs(float64(v)-float64(i)*0.1) > 1e-6 {
			t.Fatalf("element %d is %g", i, v)
		}
	}
	// Empty when the step points away from the limit.
	m = newBuilder(13).initInts("a", []int64{0}).initInts("b", []int64{5}).initInts("c", []int64{-1}).
		node("Range", []string{"a", "b", "c"}, []string{"y"}).output("y").load(t, Options{})
	if got := m.Outputs()[0].Shape; !equalShapes(got, []int{0}) {
		t.Fatalf("range shape %v, want [0]", got)
	}
}

func TestSmallShapeOpsByHand(t *testing.T) {
	x := NewFloat(shSeq(12), 3, 4)
	run := func(b *builder, in ...*Tensor) *Tensor {
		t.Helper()
		return shCheckExact(t, b.output("y").load(t, Options{}), in...)[0]
	}
	// Size folds to a constant.
	m := newBuilder(13).input("x", 3, 4).node("Size", []string{"x"}, []string{"y"}).output("y").load(t, Options{})
	if len(m.Nodes()) != 0 {
		t.Fatalf("Size was not folded: %+v", m.Nodes())
	}
	// Trilu with k given at run time: upper keeps j-i >= k, lower j-i <= k.
	k := &Tensor{DType: Int64, Shape: []int{}, I: []int64{1}}
	shSame(t, "triu k=1", run(newBuilder(14).input("x", 3, 4).shInput("k", Int64).node("Trilu", []string{"x", "k"}, []string{"y"}), x, k),
		NewFloat([]float32{0, 1, 2, 3, 0, 0, 6, 7, 0, 0, 0, 11}, 3, 4))
	k.I[0] = -1
	shSame(t, "tril k=-1", run(newBuilder(14).input("x", 3, 4).shInput("k", Int64).node("Trilu", []string{"x", "k"}, []string{"y"}, attrInt("upper", 0)), x, k),
		NewFloat([]float32{0, 0, 0, 0, 4, 0, 0, 0, 8, 9, 0, 0}, 3, 4))
	// EyeLike: ones on the diagonal k=1, as int32.
	shSame(t, "eyelike", run(newBuilder(9).input("x", 3, 4).node("EyeLike", []string{"x"}, []string{"y"}, attrInt("k", 1), attrInt("dtype", int(Int32))), x),
		&Tensor{DType: Int32, Shape: []int{3, 4}, I: []int64{0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1}})
	// CastLike truncates toward zero into the type of the second input.
	shSame(t, "castlike", run(newBuilder(15).input("x", 2).shInit("like", Int32, []int64{0}, 1).node("CastLike", []string{"x", "like"}, []string{"y"}), NewFloat([]float32{1.7, -1.7}, 2)),
		&Tensor{DType: Int32, Shape: []int{2}, I: []int64{1, -1}})
	// OneHot: -1 is the last class, 5 is out of range (all off).
	ind := &Tensor{DType: Int64, Shape: []int{4}, I: []int64{0, -1, 3, 5}}
	vals := NewFloat([]float32{0, 9}, 2)
	shSame(t, "onehot", run(newBuilder(11).shInput("i", Int64, 4).initInts("d", []int64{4}).init("v", vals.F, 2).node("OneHot", []string{"i", "d", "v"}, []string{"y"}), ind),
		NewFloat([]float32{9, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 9, 0, 0, 0, 0}, 4, 4))
	shSame(t, "onehot axis 0", run(newBuilder(11).shInput("i", Int64, 4).initInts("d", []int64{4}).init("v", vals.F, 2).node("OneHot", []string{"i", "d", "v"}, []string{"y"}, attrInt("axis", 0)), ind),
		NewFloat([]float32{9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 9, 0}, 4, 4))
	// CumSum of 1 2 3 4: inclusive 1 3 6 10, exclusive 0 1 3 6, reverse
	// 10 9 7 4, both 9 7 4 0.
	v := NewFloat([]float32{1, 2, 3, 4}, 4)
	for _, c := range []struct {
		ex, rev int
		want    []float32
	}{{0, 0, []float32{1, 3, 6, 10}}, {1, 0, []float32{0, 1, 3, 6}}, {0, 1, []float32{10, 9, 7, 4}}, {1, 1, []float32{9, 7, 4, 0}}} {
		shSame(t, "cumsum", run(newBuilder(14).input("x", 4).initInts("a", []int64{0}).node("CumSum", []string{"x", "a"}, []string{"y"}, attrInt("exclusive", c.ex), attrInt("reverse", c.rev)), v),
			NewFloat(c.want, 4))
	}
	// CumSum along axis -1 of a 3x4 matrix.
	shSame(t, "cumsum rows", run(newBuilder(14).input("x", 3, 4).initInts("a", []int64{-1}).node("CumSum", []string{"x", "a"}, []string{"y"}), x),
		NewFloat([]float32{0, 1, 3, 6, 4, 9, 15, 22, 8, 17, 27, 38}, 3, 4))
	// ReverseSequence, time along axis 0 and batch along 1: column 0
	// reverses its first 3 steps, column 1 its first 1 (unchanged).
	shSame(t, "reversesequence", run(newBuilder(10).input("x", 3, 4).shInput("l", Int64, 4).node("ReverseSequence", []string{"x", "l"}, []string{"y"}), x, &Tensor{DType: Int64, Shape: []int{4}, I: []int64{3, 1, 2, 0}}),
		NewFloat([]float32{8, 1, 6, 3, 4, 5, 2, 7, 0, 9, 10, 11}, 3, 4))
	// NonZero of [[1 0] [1 1]]: rows 0 1 1, columns 0 0 1.
	m = newBuilder(13).init("c", []float32{1, 0, 1, 1}, 2, 2).node("NonZero", []string{"c"}, []string{"y"}).output("y").load(t, Options{})
	out, _ := m.NewSession().Run(nil)
	shSame(t, "nonzero", out[0], NewInt([]int64{0, 1, 1, 0, 0, 1}, 2, 3))
	// Compress rows 1 and 2; then the flattened elements 0 and 3.
	cond := func(v ...int64) *builder {
		return newBuilder(11).input("x", 3, 4).shInit("c", Bool, v, len(v))
	}
	shSame(t, "compress axis", run(cond(0, 1, 1).node("Compress", []string{"x", "c"}, []string{"y"}, attrInt("axis", 0)), x),
		NewFloat([]float32{4, 5, 6, 7, 8, 9, 10, 11}, 2, 4))
	shSame(t, "compress flat", run(cond(1, 0, 0, 1).node("Compress", []string{"x", "c"}, []string{"y"}), x), NewFloat([]float32{0, 3}, 2))
}

func TestShapeOpErrors(t *testing.T) {
	shWantErr(t, newBuilder(13).input("x", 3, 4).initInts("sh", []int64{2, 5}, 2).node("Expand", []string{"x", "sh"}, []string{"y"}).output("y"),
		`"y_node"`, "shape", "do not broadcast")
	shWantErr(t, newBuilder(13).input("x", 3, 4).initInts("sh", []int64{-2, 4}, 2).node("Expand", []string{"x", "sh"}, []string{"y"}).output("y"),
		`"y_node"`, "shape[0] = -2 is negative")
	shWantErr(t, newBuilder(13).initInts("sh", []int64{1 << 20, 1 << 20, 1 << 20}, 3).node("ConstantOfShape", []string{"sh"}, []string{"y"}).output("y"),
		`"y_node"`, "shape", "too large")
	shWantErr(t, newBuilder(13).initInts("sh", []int64{1 << 14, 1 << 14}, 2).node("ConstantOfShape", []string{"sh"}, []string{"y"}).output("y"),
		`"y_node"`, "exceeds the size limit")
	shWantErr(t, newBuilder(13).input("x", 3, 4).initInts("r", []int64{1 << 30, 1 << 30}, 2).node("Tile", []string{"x", "r"}, []string{"y"}).output("y"),
		`"y_node"`, "too large")
	shWantErr(t, newBuilder(13).input("x", 3, 4).initInts("r", []int64{2}, 1).node("Tile", []string{"x", "r"}, []string{"y"}).output("y"),
		`"y_node"`, "repeats has 1 entries for rank 2")
	shWantErr(t, newBuilder(13).initInts("a", []int64{0}).initInts("b", []int64{5}).initInts("c", []int64{0}).node("Range", []string{"a", "b", "c"}, []string{"y"}).output("y"),
		`"y_node"`, "delta is 0")
	shWantErr(t, newBuilder(13).initInts("a", []int64{0}).initInts("b", []int64{math.MaxInt64}).initInts("c", []int64{1}).node("Range", []string{"a", "b", "c"}, []string{"y"}).output("y"),
		`"y_node"`, "too many elements")
	shWantErr(t, newBuilder(11).input("i", 4).initInts("d", []int64{0}).init("v", []float32{0, 1}, 2).node("OneHot", []string{"i", "d", "v"}, []string{"y"}).output("y"),
		`"y_node"`, "depth 0 is out of range")
	shWantErr(t, newBuilder(13).input("x", 2, 3).node("DepthToSpace", []string{"x"}, []string{"y"}, attrInt("blocksize", 2)).output("y"),
		`"y_node"`, "expected [N, C, H, W]")
	shWantErr(t, newBuilder(13).input("x", 1, 6, 2, 2).node("DepthToSpace", []string{"x"}, []string{"y"}, attrInt("blocksize", 2)).output("y"),
		`"y_node"`, "not a multiple of blocksize")
	shWantErr(t, newBuilder(13).input("x", 1, 4, 2, 2).node("DepthToSpace", []string{"x"}, []string{"y"}, attrInt("blocksize", 2), shAttrString("mode", "XYZ")).output("y"),
		`"y_node"`, `mode "XYZ"`)
	shWantErr(t, newBuilder(13).input("x", 1, 4, 3, 2).node("SpaceToDepth", []string{"x"}, []string{"y"}, attrInt("blocksize", 2)).output("y"),
		`"y_node"`, "not a multiple of blocksize")
	shWantErr(t, newBuilder(11).input("x", 3, 4).shInit("c", Bool, []int64{1, 0, 0, 1}, 4).node("Compress", []string{"x", "c"}, []string{"y"}, attrInt("axis", 0)).output("y"),
		`"y_node"`, "condition has 4 entries")
	shWantErr(t, newBuilder(14).input("x", 4).node("Trilu", []string{"x"}, []string{"y"}).output("y"),
		`"y_node"`, "rank 1")
}

// TestConstantInputNamesGraphInput checks that a value needed at planning
// but computed from a graph input names that input (the one to bind), and
// that binding it folds the chain.
func TestConstantInputNamesGraphInput(t *testing.T) {
	b := newBuilder(13).shInput("n", Int64).initInts("one", []int64{1}).initInts("zero", []int64{0}).
		node("Add", []string{"n", "one"}, []string{"lim"}).
		node("Range", []string{"zero", "lim", "one"}, []string{"y"}).output("y")
	_, err := loadDecoded(b.m, "test", Options{})
	ce, ok := err.(*ConstantInputError)
	if !ok || ce.Input != "n" || ce.Via != "lim" || ce.Node != "y_node" {
		t.Fatalf("got %v, want a ConstantInputError naming graph input n via lim", err)
	}
	m := b.load(t, Options{Constants: map[string]*Tensor{"n": {DType: Int64, Shape: []int{}, I: []int64{3}}}})
	out, err := m.NewSession().Run(nil)
	if err != nil {
		t.Fatal(err)
	}
	shSame(t, "range", out[0], NewInt([]int64{0, 1, 2, 3}, 4))
}
