package engine

import "testing"

// The expected values follow the numpy formulas of the ONNX spec:
// GatherElements out[i][j] = data[i][idx[i][j]] (axis 1), GatherND
// out[t] = data[tuple t], ScatterND data[tuple t] = updates[t], and
// ScatterElements data[idx[i][j]][j] = updates[i][j] (axis 0).

func shInts(shape []int, v ...int64) *Tensor { return &Tensor{DType: Int64, Shape: shape, I: v} }

func TestGatherElementsByHand(t *testing.T) {
	data := NewFloat([]float32{1, 2, 3, 4}, 2, 2)
	build := func(axis int) *Model {
		return newBuilder(13).input("x", 2, 2).shInput("i", Int64, 2, 2).
			node("GatherElements", []string{"x", "i"}, []string{"y"}, attrInt("axis", axis)).output("y").load(t, Options{})
	}
	m := build(1)
	shSame(t, "axis 1", shCheckExact(t, m, data, shInts([]int{2, 2}, 0, 0, 1, 0))[0], NewFloat([]float32{1, 1, 4, 3}, 2, 2))
	shSame(t, "negative", shCheckExact(t, m, data, shInts([]int{2, 2}, -1, 0, -2, -1))[0], NewFloat([]float32{2, 1, 3, 4}, 2, 2))
	// Indices out of range at run time read zeros.
	shSame(t, "out of range", shCheckExact(t, m, data, shInts([]int{2, 2}, 2, 0, -3, 1))[0], NewFloat([]float32{0, 1, 0, 4}, 2, 2))
	m = build(0)
	shSame(t, "axis 0", shCheckExact(t, m, data, shInts([]int{2, 2}, 1, 0, 0, 1))[0], NewFloat([]float32{3, 2, 1, 4}, 2, 2))
	// Constant indices out of range are refused at load.
	shWantErr(t, newBuilder(13).input("x", 2, 2).initInts("i", []int64{0, 2}, 1, 2).
		node("GatherElements", []string{"x", "i"}, []string{"y"}, attrInt("axis", 1)).output("y"), `"y_node"`, "index 2", "out of range")
	shWantErr(t, newBuilder(13).input("x", 2, 2).initInts("i", []int64{0, 1}, 2).
		node("GatherElements", []string{"x", "i"}, []string{"y"}).output("y"), `"y_node"`, "indices have rank 1, data 2")
}

func TestGatherNDByHand(t *testing.T) {
	data := NewFloat([]float32{0, 1, 2, 3}, 2, 2)
	m := newBuilder(13).input("x", 2, 2).shInput("i", Int64, 2, 2).node("GatherND", []string{"x", "i"}, []string{"y"}).output("y").load(t, Options{})
	shSame(t, "elements", shCheckExact(t, m, data, shInts([]int{2, 2}, 0, 0, 1, 1))[0], NewFloat([]float32{0, 3}, 2))
	shSame(t, "out of range", shCheckExact(t, m, data, shInts([]int{2, 2}, 0, 2, -1, -1))[0], NewFloat([]float32{0, 3}, 2))
	m = newBuilder(13).input("x", 2, 2).shInput("i", Int64, 2, 1).node("GatherND", []string{"x", "i"}, []string{"y"}).output("y").load(t, Options{})
	shSame(t, "rows", shCheckExact(t, m, data, shInts([]int{2, 1}, 1, 0))[0], NewFloat([]float32{2, 3, 0, 1}, 2, 2))
	// batch_dims 1: batch b takes row idx[b] of data[b].
	data3 := NewFloat([]float32{0, 1, 2, 3, 4, 5, 6, 7}, 2, 2, 2)
	m = newBuilder(13).input("x", 2, 2, 2).shInput("i", Int64, 2, 1).
		node("GatherND", []string{"x", "i"}, []string{"y"}, attrInt("batch_dims", 1)).output("y").load(t, Options{})
	shSame(t, "batch", shCheckExact(t, m, data3, shInts([]int{2, 1}, 1, 0))[0], NewFloat([]float32{2, 3, 4, 5}, 2, 2))
	shWantErr(t, newBuilder(13).input("x", 2, 2).shInput("i", Int64, 2, 3).node("GatherND", []string{"x", "i"}, []string{"y"}).output("y"),
		`"y_node"`, "last dimension 3 is out of range")
	shWantErr(t, newBuilder(13).input("x", 2, 2).shInput("i", Int64, 2, 1).node("GatherND", []string{"x", "i"}, []string{"y"}, attrInt("batch_dims", 2)).output("y"),
		`"y_node"`, "batch_dims 2 is out of range")
}

func TestScatterNDByHand(t *testing.T) {
	build := func(opset int64, red string) *Model {
		b := newBuilder(opset).input("x", 8).shInput("i", Int64, 4, 1).input("u", 4)
		if red != "" {
			return b.node("ScatterND", []string{"x", "i", "u"}, []string{"y"}, shAttrString("reduction", red)).output("y").load(t, Options{})
		}
		return b.node("ScatterND", []string{"x", "i", "u"}, []string{"y"}).output("y").load(t, Options{})
	}
	data := NewFloat([]float32{1, 2, 3, 4, 5, 6, 7, 8}, 8)
	upd := NewFloat([]float32{9, 10, 11, 12}, 4)
	shSame(t, "none", shCheckExact(t, build(11, ""), data, shInts([]int{4, 1}, 4, 3, 1, 7), upd)[0],
		NewFloat([]float32{1, 11, 3, 10, 9, 6, 7, 12}, 8))
	// Duplicates combine with the reduction; -1 is the last element; 8 is
	// out of range and ignored.
	idx := shInts([]int{4, 1}, 0, 0, -1, 8)
	for red, want := range map[string][]float32{
		"add": {20, 2, 3, 4, 5, 6, 7, 19},
		"mul": {90, 2, 3, 4, 5, 6, 7, 88},
		"max": {10, 2, 3, 4, 5, 6, 7, 11},
		"min": {1, 2, 3, 4, 5, 6, 7, 8},
	} {
		shSame(t, red, shCheckExact(t, build(18, red), data, idx, upd)[0], NewFloat(want, 8))
	}
	shWantErr(t, newBuilder(16).input("x", 8).shInput("i", Int64, 4, 1).input("u", 4).
		node("ScatterND", []string{"x", "i", "u"}, []string{"y"}, shAttrString("reduction", "max")).output("y"), `"y_node"`, `reduction "max" is not defined at opset 16`)
	shWantErr(t, newBuilder(16).input("x", 8).shInput("i", Int64, 4, 1).input("u", 3).
		node("ScatterND", []string{"x", "i", "u"}, []string{"y"}).output("y"), `"y_node"`, "updates have shape [3], expected [4]")
}

func TestScatterElementsByHand(t *testing.T) {
	// The ONNX documentation's example, axis 0.
	data := NewFloat(make([]float32, 9), 3, 3)
	idx := shInts([]int{2, 3}, 1, 0, 2, 0, 2, 1)
	upd := NewFloat([]float32{1, 1.1, 1.2, 2, 2.1, 2.2}, 2, 3)
	want := NewFloat([]float32{2, 1.1, 0, 1, 0, 2.2, 0, 2.1, 1.2}, 3, 3)
	for _, op := range []struct {
		name  string
		opset int64
	}{{"ScatterElements", 11}, {"Scatter", 10}} {
		m := newBuilder(op.opset).input("x", 3, 3).shInput("i", Int64, 2, 3).input("u", 2, 3).
			node(op.name, []string{"x", "i", "u"}, []string{"y"}).output("y").load(t, Options{})
		shSame(t, op.name, shCheckExact(t, m, data, idx, upd)[0], want)
	}
	// Duplicate indices with add on axis 1 (and a negative index).
	m := newBuilder(16).input("x", 1, 5).shInput("i", Int64, 1, 2).input("u", 1, 2).
		node("ScatterElements", []string{"x", "i", "u"}, []string{"y"}, attrInt("axis", 1), shAttrString("reduction", "add")).output("y").load(t, Options{})
	shSame(t, "add", shCheckExact(t, m, NewFloat([]float32{1, 2, 3, 4, 5}, 1, 5), shInts([]int{1, 2}, 1, -4), NewFloat([]float32{1, 2}, 1, 2))[0],
		NewFloat([]float32{1, 5, 3, 4, 5}, 1, 5))
	// Integer data multiplies with wrap-around.
	m = newBuilder(16).shInput("x", Int8, 2).shInput("i", Int64, 2).shInput("u", Int8, 2).
		node("ScatterElements", []string{"x", "i", "u"}, []string{"y"}, shAttrString("reduction", "mul")).output("y").load(t, Options{})
	shSame(t, "int8 mul", shCheckExact(t, m, &Tensor{DType: Int8, Shape: []int{2}, I: []int64{100, 3}}, shInts([]int{2}, 0, 0), &Tensor{DType: Int8, Shape: []int{2}, I: []int64{2, 1}})[0],
		&Tensor{DType: Int8, Shape: []int{2}, I: []int64{-56, 3}})
	shWantErr(t, newBuilder(11).input("x", 3, 3).shInput("i", Int64, 2, 3).input("u", 3, 2).
		node("ScatterElements", []string{"x", "i", "u"}, []string{"y"}).output("y"), `"y_node"`, "must have one shape")
}
