package engine

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestSliceAxis pins the clamping rules of the ONNX spec, computed by
// hand (python: range(dim)[start:end:step]).
func TestSliceAxis(t *testing.T) {
	const big, small = math.MaxInt64, math.MinInt64
	for _, c := range []struct {
		start, end, step int64
		dim              int
		first, count     int
	}{
		{0, 3, 1, 5, 0, 3},          // [0 1 2]
		{-2, big, 1, 5, 3, 2},       // [3 4]
		{-100, 100, 1, 5, 0, 5},     // clamped to the axis
		{1, 1000, 2, 5, 1, 2},       // [1 3]
		{4, small, -1, 5, 4, 5},     // [4 3 2 1 0]
		{big, small, -2, 5, 4, 3},   // [4 2 0]
		{-1, -6, -1, 5, 4, 5},       // end -6 -> -1: all reversed
		{3, 1, 1, 5, 3, 0},          // empty
		{1, 3, -1, 5, 1, 0},         // empty
		{0, 5, big, 5, 0, 1},        // [0]
		{4, small, small, 5, 4, 1},  // [4], no overflow
		{2, 3, 1, 0, 0, 0},          // empty axis
		{small, big, 1, 7, 0, 7},    // whole axis
		{10, -10, -3, 7, 6, 3},      // [6 3 0]
		{-3, big, -1, 7, 4, 0},      // end beyond the start of a reversed slice
		{5, 2, -2, 7, 5, 2},         // [5 3]
		{0, -1, 1, 1, 0, 0},         // [0:-1] of one element
		{-1, big, 1, 1, 0, 1},       // [-1:] of one element
		{0, small + 1, -1, 4, 0, 1}, // [0] reversed down to the front
		{3, -5, -1, 4, 3, 4},        // end -5 -> -1
		{1, 100, 100, 4, 1, 1},      // step beyond the axis
		{-4, -2, 1, 4, 0, 2},        // [0 1]
		{-5, -2, 1, 4, 0, 2},        // start clamped to 0
		{2, big - 1, 1, 4, 2, 2},    // [2 3]
		// The spec clamps start to [0, 3] and end to [-1, 3] before
		// counting, so this takes [0] (python's range(4)[-huge:-huge:-1]
		// is empty: ONNX differs from python here).
		{small, small, -1, 4, 0, 1},
	} {
		first, count := sliceAxis(c.start, c.end, c.step, c.dim)
		if count != c.count || count > 0 && first != c.first {
			t.Errorf("slice [%d:%d:%d] of %d: first %d count %d, want %d %d", c.start, c.end, c.step, c.dim, first, count, c.first, c.count)
		}
	}
}

// TestSliceForms checks the attribute form (opset < 10) and the input
// form give the same result, and the values by hand.
func TestSliceForms(t *testing.T) {
	x := NewFloat(shSeq(12), 3, 4)
	// x[1:3, ::-2] -> rows 1 and 2, columns 3 and 1.
	want := NewFloat([]float32{7, 5, 11, 9}, 2, 2)
	m := newBuilder(13).input("x", 3, 4).initInts("s", []int64{1, -1}, 2).initInts("e", []int64{3, math.MinInt64}, 2).
		initInts("a", []int64{0, -1}, 2).initInts("st", []int64{1, -2}, 2).
		node("Slice", []string{"x", "s", "e", "a", "st"}, []string{"y"}).output("y").load(t, Options{})
	shSame(t, "inputs", shCheckExact(t, m, x)[0], want)
	// x[1:3, 1:] in the opset 9 attribute form.
	m = newBuilder(9).input("x", 3, 4).
		node("Slice", []string{"x"}, []string{"y"}, attrInts("starts", 1, 1), attrInts("ends", 3, math.MaxInt32), attrInts("axes", 0, 1)).output("y").load(t, Options{})
	shSame(t, "attributes", shCheckExact(t, m, x)[0], NewFloat([]float32{5, 6, 7, 9, 10, 11}, 2, 3))
	// int32 starts and ends, no axes.
	m = newBuilder(13).input("x", 3, 4).shInit("s", Int32, []int64{0, 2}, 2).shInit("e", Int32, []int64{1, 4}, 2).
		node("Slice", []string{"x", "s", "e"}, []string{"y"}).output("y").load(t, Options{})
	shSame(t, "int32", shCheckExact(t, m, x)[0], NewFloat([]float32{2, 3}, 1, 2))
}

func TestSliceErrors(t *testing.T) {
	base := func() *builder { return newBuilder(13).input("x", 3, 4) }
	shWantErr(t, base().initInts("s", []int64{0}, 1).initInts("e", []int64{1, 2}, 2).
		node("Slice", []string{"x", "s", "e"}, []string{"y"}).output("y"), `"y_node"`, "starts has 1 entries, ends 2")
	shWantErr(t, base().initInts("s", []int64{0, 0}, 2).initInts("e", []int64{1, 1}, 2).initInts("a", []int64{1, -1}, 2).
		node("Slice", []string{"x", "s", "e", "a"}, []string{"y"}).output("y"), `"y_node"`, "axis 1 is repeated")
	shWantErr(t, base().initInts("s", []int64{0}, 1).initInts("e", []int64{1}, 1).initInts("a", []int64{2}, 1).
		node("Slice", []string{"x", "s", "e", "a"}, []string{"y"}).output("y"), `"y_node"`, "axis 2 is out of range")
	shWantErr(t, base().initInts("s", []int64{0}, 1).initInts("e", []int64{1}, 1).initInts("a", []int64{0}, 1).initInts("st", []int64{0}, 1).
		node("Slice", []string{"x", "s", "e", "a", "st"}, []string{"y"}).output("y"), `"y_node"`, "steps[0] is 0")
	shWantErr(t, newBuilder(9).input("x", 3, 4).node("Slice", []string{"x"}, []string{"y"}, attrInts("ends", 1)).output("y"),
		`"y_node"`, "starts is missing")
	// Starts computed at run time must be bound as constants.
	err := shLoadErr(base().shInput("s", Int64, 1).initInts("e", []int64{1}, 1).
		node("Slice", []string{"x", "s", "e"}, []string{"y"}).output("y"))
	if _, ok := err.(*ConstantInputError); !ok {
		t.Fatalf("got %v, want a ConstantInputError", err)
	}
}

func TestSplitForms(t *testing.T) {
	x := NewFloat(shSeq(14), 2, 7)
	type want struct {
		shape []int
		data  []float32
	}
	run := func(t *testing.T, b *builder, outs int, wants ...want) {
		t.Helper()
		names := []string{"a", "b", "c"}[:outs]
		m := b.output(names...).load(t, Options{})
		got := shCheckExact(t, m, x)
		for i, w := range wants {
			shSame(t, names[i], got[i], NewFloat(w.data, w.shape...))
		}
	}
	r0 := []float32{0, 1, 2, 3, 4, 5, 6}
	r1 := []float32{7, 8, 9, 10, 11, 12, 13}
	// Opset 11: split attribute on axis 1.
	run(t, newBuilder(11).input("x", 2, 7).node("Split", []string{"x"}, []string{"a", "b"}, attrInt("axis", -1), attrInts("split", 2, 5)), 2,
		want{[]int{2, 2}, []float32{0, 1, 7, 8}}, want{[]int{2, 5}, []float32{2, 3, 4, 5, 6, 9, 10, 11, 12, 13}})
	// Opset 13: split input, a zero-size part.
	run(t, newBuilder(13).input("x", 2, 7).initInts("sp", []int64{3, 0, 4}, 3).
		node("Split", []string{"x", "sp"}, []string{"a", "b", "c"}, attrInt("axis", 1)), 3,
		want{[]int{2, 3}, []float32{0, 1, 2, 7, 8, 9}}, want{[]int{2, 0}, []float32{}}, want{[]int{2, 4}, []float32{3, 4, 5, 6, 10, 11, 12, 13}})
	// Equal parts along axis 0.
	run(t, newBuilder(13).input("x", 2, 7).node("Split", []string{"x"}, []string{"a", "b"}), 2,
		want{[]int{1, 7}, r0}, want{[]int{1, 7}, r1})
	// Opset 18: num_outputs with an uneven last chunk (7 = 3 + 3 + 1).
	run(t, newBuilder(18).input("x", 2, 7).node("Split", []string{"x"}, []string{"a", "b", "c"}, attrInt("axis", 1), attrInt("num_outputs", 3)), 3,
		want{[]int{2, 3}, []float32{0, 1, 2, 7, 8, 9}}, want{[]int{2, 3}, []float32{3, 4, 5, 10, 11, 12}}, want{[]int{2, 1}, []float32{6, 13}})
}

func TestSplitErrors(t *testing.T) {
	shWantErr(t, newBuilder(13).input("x", 2, 7).node("Split", []string{"x"}, []string{"a", "b"}, attrInt("axis", 1)).output("a"),
		`"a_node"`, "cannot split an axis of size 7 into 2 equal parts")
	shWantErr(t, newBuilder(13).input("x", 2, 7).initInts("sp", []int64{3, 3}, 2).node("Split", []string{"x", "sp"}, []string{"a", "b"}, attrInt("axis", 1)).output("a"),
		`"a_node"`, "sums to 6")
	shWantErr(t, newBuilder(11).input("x", 2, 7).node("Split", []string{"x"}, []string{"a", "b"}, attrInts("split", 1, -1, 7)).output("a"),
		`"a_node"`, "split has 3 entries for 2 outputs")
	shWantErr(t, newBuilder(18).input("x", 2, 5).node("Split", []string{"x"}, []string{"a", "b", "c", "d"}, attrInt("axis", 1), attrInt("num_outputs", 4)).output("a"),
		`"a_node"`, "cannot split an axis of size 5 into 4 outputs")
	shWantErr(t, newBuilder(13).input("x", 2, 7).node("Split", []string{"x"}, []string{"a"}, attrInt("axis", 2)).output("a"),
		`"a_node"`, "axis 2 is out of range")
}

// TestSplitKernel checks the block-copy kernel against the reference.
func TestSplitKernel(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for _, c := range []struct {
		shape []int
		axis  int
		split []int64
	}{
		{[]int{2, 7, 96}, 2, []int64{32, 32, 32}},
		{[]int{5, 6}, 0, []int64{1, 4, 0}},
		{[]int{3, 4, 5}, 1, []int64{1, 3}},
		{[]int{0, 4}, 1, []int64{2, 2}},
	} {
		for _, dt := range []DType{Float32, Int64} {
			outs := []string{"a", "b", "c"}[:len(c.split)]
			b := newBuilder(13).shInput("x", dt, c.shape...).initInts("sp", c.split, len(c.split)).
				node("Split", []string{"x", "sp"}, outs, attrInt("axis", c.axis))
			m := b.output(outs...).load(t, Options{})
			x := &Tensor{DType: dt, Shape: c.shape}
			if dt.IsInt() {
				x.I = make([]int64, numel(c.shape))
				for i := range x.I {
					x.I[i] = rng.Int64()
				}
			} else {
				x.F = randFloats(rng, numel(c.shape))
			}
			shCheckExact(t, m, x)
		}
	}
}
