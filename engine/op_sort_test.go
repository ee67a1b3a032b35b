package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/kagen-ai/kagen/engine/onnx"
)

func topKModel(t *testing.T, dt DType, shape []int, k int64, axis int, largest int) *Model {
	return newBuilder(11).shInput("x", dt, shape...).initInts("k", []int64{k}, 1).
		node("TopK", []string{"x", "k"}, []string{"v", "i"}, attrInt("axis", axis), attrInt("largest", largest)).output("v", "i").load(t, Options{})
}

// TestTopKKernelMatchesReference checks the heap kernel against the
// reference on rows with many ties, NaNs, both directions and every k.
func TestTopKKernelMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, shape := range [][]int{{1, 1}, {3, 7}, {2, 3, 40}, {5, 64}} {
		dim := shape[len(shape)-1]
		for _, k := range []int64{0, 1, 3, int64(dim)} {
			if k > int64(dim) {
				continue
			}
			for largest := 0; largest < 2; largest++ {
				for _, dt := range []DType{Float32, Int64} {
					t.Run(fmt.Sprintf("%v_k%d_l%d_%v", shape, k, largest, dt), func(t *testing.T) {
						m := topKModel(t, dt, shape, k, -1, largest)
						if _, ok := m.steps[0].kernel.(*topKKernel); !ok {
							t.Fatal("TopK on the last axis did not get its kernel")
						}
						x := &Tensor{DType: dt, Shape: shape}
						if dt.IsInt() {
							x.I = make([]int64, numel(shape))
							for i := range x.I {
								x.I[i] = int64(rng.IntN(5))
							}
						} else {
							x.F = make([]float32, numel(shape))
							for i := range x.F {
								x.F[i] = float32(rng.IntN(5))
								if rng.IntN(9) == 0 {
									x.F[i] = float32(math.NaN())
								}
							}
						}
						shCheckExact(t, m, x)
					})
				}
			}
		}
	}
}

func TestTopKByHand(t *testing.T) {
	x := NewFloat([]float32{3, 1, 3, 2, 1}, 1, 5)
	// Ties keep the lower index first, in both directions.
	out := shCheckExact(t, topKModel(t, Float32, []int{1, 5}, 3, 1, 1), x)
	shSame(t, "largest values", out[0], NewFloat([]float32{3, 3, 2}, 1, 3))
	shSame(t, "largest indices", out[1], NewInt([]int64{0, 2, 3}, 1, 3))
	out = shCheckExact(t, topKModel(t, Float32, []int{1, 5}, 3, -1, 0), x)
	shSame(t, "smallest values", out[0], NewFloat([]float32{1, 1, 2}, 1, 3))
	shSame(t, "smallest indices", out[1], NewInt([]int64{1, 4, 3}, 1, 3))
	// Along axis 0 (the reference path) and in the opset 1 attribute form.
	col := NewFloat([]float32{1, 9, 5, 7, 3, 8}, 3, 2)
	m := newBuilder(9).input("x", 3, 2).node("TopK", []string{"x"}, []string{"v", "i"}, attrInt("axis", 0), attrInt("k", 2)).output("v", "i").load(t, Options{})
	out = shCheckExact(t, m, col)
	shSame(t, "axis 0 values", out[0], NewFloat([]float32{5, 9, 3, 8}, 2, 2))
	shSame(t, "axis 0 indices", out[1], NewInt([]int64{1, 0, 2, 2}, 2, 2))
	shWantErr(t, newBuilder(11).input("x", 1, 5).initInts("k", []int64{6}, 1).node("TopK", []string{"x", "k"}, []string{"v", "i"}).output("v"),
		`"v_node"`, "K = 6 is out of range")
	err := shLoadErr(newBuilder(11).input("x", 1, 5).shInput("k", Int64, 1).node("TopK", []string{"x", "k"}, []string{"v", "i"}).output("v"))
	if _, ok := err.(*ConstantInputError); !ok {
		t.Fatalf("got %v, want a ConstantInputError for a run-time K", err)
	}
}

func TestArgMaxMinByHand(t *testing.T) {
	x := NewFloat([]float32{2, 5, 5, 1, 1, 0}, 2, 3)
	for _, c := range []struct {
		op         string
		axis, keep int
		last       int
		want       *Tensor
	}{
		{"ArgMax", 1, 1, 0, NewInt([]int64{1, 0}, 2, 1)},
		{"ArgMax", 1, 0, 1, NewInt([]int64{2, 1}, 2)},
		{"ArgMin", -1, 0, 0, NewInt([]int64{0, 2}, 2)},
		{"ArgMin", 0, 1, 0, NewInt([]int64{1, 1, 1}, 1, 3)},
		{"ArgMax", 0, 0, 1, NewInt([]int64{0, 0, 0}, 3)},
	} {
		m := newBuilder(13).input("x", 2, 3).node(c.op, []string{"x"}, []string{"y"}, attrInt("axis", c.axis), attrInt("keepdims", c.keep), attrInt("select_last_index", c.last)).
			output("y").load(t, Options{})
		shSame(t, fmt.Sprintf("%s axis %d last %d", c.op, c.axis, c.last), shCheckExact(t, m, x)[0], c.want)
	}
	shWantErr(t, newBuilder(13).input("x", 2, 0).node("ArgMax", []string{"x"}, []string{"y"}, attrInt("axis", 1)).output("y"), `"y_node"`, "axis 1 is empty")
}

func TestUniqueByHand(t *testing.T) {
	run := func(x *Tensor, attrs ...*onnx.Attribute) []*Tensor {
		t.Helper()
		m := newBuilder(11).init("x", x.F, x.Shape...).node("Unique", []string{"x"}, []string{"y", "idx", "inv", "cnt"}, attrs...).
			output("y", "idx", "inv", "cnt").load(t, Options{})
		if len(m.Nodes()) != 0 {
			t.Fatal("Unique of a constant was not folded")
		}
		out, err := m.NewSession().Run(nil)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	x := NewFloat([]float32{2, 1, 1, 3, 4, 3}, 6)
	out := run(x, attrInt("sorted", 0))
	shSame(t, "y", out[0], NewFloat([]float32{2, 1, 3, 4}, 4))
	shSame(t, "indices", out[1], NewInt([]int64{0, 1, 3, 4}, 4))
	shSame(t, "inverse", out[2], NewInt([]int64{0, 1, 1, 2, 3, 2}, 6))
	shSame(t, "counts", out[3], NewInt([]int64{1, 2, 2, 1}, 4))
	out = run(x)
	shSame(t, "sorted y", out[0], NewFloat([]float32{1, 2, 3, 4}, 4))
	shSame(t, "sorted indices", out[1], NewInt([]int64{1, 0, 3, 4}, 4))
	shSame(t, "sorted inverse", out[2], NewInt([]int64{1, 0, 0, 2, 3, 2}, 6))
	shSame(t, "sorted counts", out[3], NewInt([]int64{2, 1, 2, 1}, 4))
	// Rows along axis 0, sorted lexicographically.
	out = run(NewFloat([]float32{2, 3, 4, 1, 0, 0, 1, 0, 0}, 3, 3), attrInt("axis", 0))
	shSame(t, "rows", out[0], NewFloat([]float32{1, 0, 0, 2, 3, 4}, 2, 3))
	shSame(t, "row indices", out[1], NewInt([]int64{1, 0}, 2))
	shSame(t, "row inverse", out[2], NewInt([]int64{1, 0, 0}, 3))
	shSame(t, "row counts", out[3], NewInt([]int64{2, 1}, 2))
}

func TestNonMaxSuppressionByHand(t *testing.T) {
	// Box 1 overlaps box 0 with IoU 0.9/1.1 > 0.5 and scores lower: it is
	// suppressed; box 2 does not overlap.
	build := func(maxOut int64, center bool) []*Tensor {
		boxes := []float32{0, 0, 1, 1, 0, 0.1, 1, 1.1, 0, 2, 1, 3}
		var attrs []*onnx.Attribute
		if center {
			// The same boxes as [x_center, y_center, width, height].
			boxes = []float32{0.5, 0.5, 1, 1, 0.6, 0.5, 1, 1, 2.5, 0.5, 1, 1}
			attrs = append(attrs, attrInt("center_point_box", 1))
		}
		m := newBuilder(11).init("b", boxes, 1, 3, 4).init("s", []float32{0.9, 0.8, 0.7}, 1, 1, 3).
			initInts("m", []int64{maxOut}, 1).init("iou", []float32{0.5}, 1).init("st", []float32{0}, 1).
			node("NonMaxSuppression", []string{"b", "s", "m", "iou", "st"}, []string{"y"}, attrs...).output("y").load(t, Options{})
		out, err := m.NewSession().Run(nil)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	shSame(t, "corners", build(10, false)[0], NewInt([]int64{0, 0, 0, 0, 0, 2}, 2, 3))
	shSame(t, "centers", build(10, true)[0], NewInt([]int64{0, 0, 0, 0, 0, 2}, 2, 3))
	shSame(t, "max 1", build(1, false)[0], NewInt([]int64{0, 0, 0}, 1, 3))
	shSame(t, "max 0", build(0, false)[0], NewInt([]int64{}, 0, 3))
}
