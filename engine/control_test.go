package engine

import (
	"errors"
	"strings"
	"testing"

	"github.com/kagen-ai/kagen/engine/onnx"
)

// gb builds an onnx.Graph: a subgraph, or the main graph of a model (wrap).
type gb struct{ g *onnx.Graph }

func newGB() *gb { return &gb{g: &onnx.Graph{}} }

// in declares a graph input of type dt; a string dimension is symbolic.
func (b *gb) in(name string, dt DType, dims ...any) *gb {
	vi := &onnx.ValueInfo{Name: name, ElemType: int32(dt), HasShape: true, IsTensor: true, Kind: onnx.TypeTensor}
	for _, d := range dims {
		switch d := d.(type) {
		case int:
			vi.Dims = append(vi.Dims, onnx.Dim{Value: int64(d), Known: true})
		case string:
			vi.Dims = append(vi.Dims, onnx.Dim{Param: d})
		}
	}
	b.g.Inputs = append(b.g.Inputs, vi)
	return b
}

func (b *gb) initF(name string, data []float32, shape ...int) *gb {
	t := &onnx.Tensor{Name: name, DataType: int32(Float32), Floats: data}
	for _, d := range shape {
		t.Dims = append(t.Dims, int64(d))
	}
	b.g.Initializers = append(b.g.Initializers, t)
	return b
}

func (b *gb) initI(name string, dt DType, data []int64, shape ...int) *gb {
	t := &onnx.Tensor{Name: name, DataType: int32(dt), Ints: data}
	for _, d := range shape {
		t.Dims = append(t.Dims, int64(d))
	}
	b.g.Initializers = append(b.g.Initializers, t)
	return b
}

func (b *gb) node(op string, ins, outs []string, attrs ...*onnx.Attribute) *gb {
	name := op + "_" + outs[0]
	b.g.Nodes = append(b.g.Nodes, &onnx.Node{Name: name, OpType: op, Inputs: ins, Outputs: outs, Attrs: attrs, Index: len(b.g.Nodes)})
	return b
}

func (b *gb) out(names ...string) *gb {
	for _, n := range names {
		b.g.Outputs = append(b.g.Outputs, &onnx.ValueInfo{Name: n, IsTensor: true, Kind: onnx.TypeTensor})
	}
	return b
}

func (b *gb) model(opset int64) *onnx.Model {
	return &onnx.Model{Opsets: map[string]int64{"": opset}, Graph: b.g}
}

func (b *gb) load(t testing.TB, opts Options) *Model {
	t.Helper()
	m, err := loadDecoded(b.model(17), "test", opts)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func graphAttr(name string, g *gb) *onnx.Attribute {
	return &onnx.Attribute{Name: name, Type: onnx.AttrGraph, G: g.g, HasGraph: true}
}

func boolT(v bool) *Tensor {
	t := &Tensor{DType: Bool, Shape: []int{}, I: []int64{0}}
	if v {
		t.I[0] = 1
	}
	return t
}

func runOne(t testing.TB, s *Session, in ...*Tensor) []*Tensor {
	t.Helper()
	out, err := s.Run(in)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func wantFloats(t testing.TB, got *Tensor, shape []int, want ...float32) {
	t.Helper()
	if !equalShapes(got.Shape, shape) {
		t.Fatalf("shape %v, want %v", got.Shape, shape)
	}
	if len(got.F) != len(want) {
		t.Fatalf("got %v, want %v", got.F, want)
	}
	for i := range want {
		if d := got.F[i] - want[i]; d > 1e-5 || d < -1e-5 {
			t.Fatalf("got %v, want %v", got.F, want)
		}
	}
}

// ifModel: y = If(c) then Relu(x)*2 else x+w, with both branches reading
// outer values (x, the initializer w) and a branch-local constant.
func ifModel() *gb {
	then := newGB().initF("two", []float32{2}, 1).
		node("Relu", []string{"x"}, []string{"r"}).node("Mul", []string{"r", "two"}, []string{"t"}).out("t")
	els := newGB().node("Add", []string{"x", "w"}, []string{"e"}).out("e")
	return newGB().in("c", Bool).in("x", Float32, 1, 3).initF("w", []float32{10, 20, 30}, 1, 3).
		node("If", []string{"c"}, []string{"y"}, graphAttr("then_branch", then), graphAttr("else_branch", els)).out("y")
}

func TestIfRunsTheTakenBranch(t *testing.T) {
	for _, threads := range []int{1, 2} {
		m := ifModel().load(t, Options{Threads: threads})
		if n := m.Nodes(); len(n) != 1 || n[0].Op != "If" {
			t.Fatalf("nodes %+v", n)
		}
		s := m.NewSession()
		x := NewFloat([]float32{-1, 2, 3}, 1, 3)
		wantFloats(t, runOne(t, s, boolT(true), x)[0], []int{1, 3}, 0, 4, 6)
		wantFloats(t, runOne(t, s, boolT(false), x)[0], []int{1, 3}, 9, 22, 33)
		c := boolT(true)
		if a := testing.AllocsPerRun(20, func() {
			c.I[0] ^= 1
			s.Run([]*Tensor{c, x})
		}); a != 0 {
			t.Errorf("threads %d: %v allocations per run", threads, a)
		}
		ref, err := m.NewSession().RunWith([]*Tensor{boolT(false), x}, referenceSelector{m})
		if err != nil {
			t.Fatal(err)
		}
		wantFloats(t, ref[0], []int{1, 3}, 9, 22, 33)
		s.Close()
	}
}

func TestIfConstantConditionIsFolded(t *testing.T) {
	b := ifModel()
	b.g.Inputs = b.g.Inputs[1:] // c becomes an initializer
	b.initI("c", Bool, []int64{0})
	m := b.load(t, Options{})
	for _, n := range m.Nodes() {
		if n.Op == "If" {
			t.Fatalf("the If was not folded: %+v", m.Nodes())
		}
	}
	if len(m.Nodes()) != 1 || m.Nodes()[0].Op != "Add" {
		t.Fatalf("nodes %+v", m.Nodes())
	}
	wantFloats(t, runOne(t, m.NewSession(), NewFloat([]float32{1, 2, 3}, 1, 3))[0], []int{1, 3}, 11, 22, 33)

	// The same through Options.Constants, and a branch output that is an
	// outer value.
	b = ifModel()
	b.g.Nodes[0].Attrs[0] = graphAttr("then_branch", newGB().out("x"))
	m = b.load(t, Options{Constants: map[string]*Tensor{"c": boolT(true)}})
	wantFloats(t, runOne(t, m.NewSession(), NewFloat([]float32{1, 2, 3}, 1, 3))[0], []int{1, 3}, 1, 2, 3)
}

// TestIfOnShapesFolds checks an If whose condition is computed from shapes
// (as exporters write "if x.dim() == 3"): the chain folds, the If is
// replaced by its then branch, whose output rank differs from the else
// branch's.
func TestIfOnShapesFolds(t *testing.T) {
	then := newGB().initI("ax", Int64, []int64{0}, 1).node("Unsqueeze", []string{"x", "ax"}, []string{"u"}).out("u")
	els := newGB().node("Identity", []string{"x"}, []string{"i"}).out("i")
	b := newGB().in("x", Float32, 2, "n").initI("k0", Int64, []int64{0}, 1).
		node("Shape", []string{"x"}, []string{"s"}).
		node("Gather", []string{"s", "k0"}, []string{"d0"}).
		node("Cast", []string{"d0"}, []string{"c1"}, &onnx.Attribute{Name: "to", Type: onnx.AttrInt, I: int64(Bool)}).
		node("Squeeze", []string{"c1", "k0"}, []string{"c"}).
		node("If", []string{"c"}, []string{"y"}, graphAttr("then_branch", then), graphAttr("else_branch", els)).
		node("Relu", []string{"y"}, []string{"z"}).out("z")
	m := b.load(t, Options{Dims: map[string]int{"n": 2}})
	if m.Outputs()[0].Shape[0] != 1 || len(m.Outputs()[0].Shape) != 3 {
		t.Fatalf("output %+v", m.Outputs())
	}
	for _, n := range m.Nodes() {
		if n.Op == "If" || n.Op == "Shape" || n.Op == "Gather" {
			t.Fatalf("not folded: %+v", m.Nodes())
		}
	}
	wantFloats(t, runOne(t, m.NewSession(), NewFloat([]float32{-1, 2, 3, -4}, 2, 2))[0], []int{1, 2, 2}, 0, 2, 3, 0)
}

func TestIfNested(t *testing.T) {
	// The inner If, in the outer then branch, reads x two levels up and a
	// value of the outer branch.
	inner := newGB().node("Add", []string{"x", "r"}, []string{"a"}).out("a")
	innerElse := newGB().node("Sub", []string{"x", "r"}, []string{"d"}).out("d")
	then := newGB().node("Relu", []string{"x"}, []string{"r"}).
		node("If", []string{"c2"}, []string{"o"}, graphAttr("then_branch", inner), graphAttr("else_branch", innerElse)).out("o")
	els := newGB().out("x")
	m := newGB().in("c1", Bool).in("c2", Bool).in("x", Float32, 2).
		node("If", []string{"c1"}, []string{"y"}, graphAttr("then_branch", then), graphAttr("else_branch", els)).out("y").
		load(t, Options{})
	s := m.NewSession()
	x := NewFloat([]float32{-1, 3}, 2)
	wantFloats(t, runOne(t, s, boolT(true), boolT(true), x)[0], []int{2}, -1, 6)
	wantFloats(t, runOne(t, s, boolT(true), boolT(false), x)[0], []int{2}, -1, 0)
	wantFloats(t, runOne(t, s, boolT(false), boolT(true), x)[0], []int{2}, -1, 3)
	if a := testing.AllocsPerRun(10, func() { s.Run([]*Tensor{boolT(true), boolT(false), x}) }); a > 2 { // the two boolT
		t.Errorf("%v allocations per run", a)
	}
}

func TestIfErrors(t *testing.T) {
	good := func() *gb { return newGB().node("Identity", []string{"x"}, []string{"g"}).out("g") }
	cases := []struct {
		name string
		b    *gb
		want string
	}{
		{"missing branch", newGB().in("c", Bool).in("x", Float32, 2).
			node("If", []string{"c"}, []string{"y"}, graphAttr("then_branch", good())).out("y"),
			`node "If_y" (If): attribute else_branch is missing`},
		{"unknown name in branch", newGB().in("c", Bool).in("x", Float32, 2).
			node("If", []string{"c"}, []string{"y"}, graphAttr("then_branch", good()),
				graphAttr("else_branch", newGB().node("Relu", []string{"nope"}, []string{"r"}).out("r"))).out("y"),
			`node "If_y" (If): attribute "else_branch": node "Relu_r" (Relu): input 0 "nope" is not produced`},
		{"bad node in branch", newGB().in("c", Bool).in("x", Float32, 2).
			node("If", []string{"c"}, []string{"y"}, graphAttr("then_branch", good()),
				graphAttr("else_branch", newGB().node("Softmax", []string{"x"}, []string{"r"}, attrInt("axis", 7)).out("r"))).out("y"),
			`node "If_y" (If): attribute "else_branch": node "Softmax_r" (Softmax): axis 7 is out of range`},
		{"shapes differ", newGB().in("c", Bool).in("x", Float32, 2).initF("k", []float32{1, 2, 3}, 3).
			node("If", []string{"c"}, []string{"y"}, graphAttr("then_branch", good()), graphAttr("else_branch", newGB().out("k"))).out("y"),
			`node "If_y": unsupported If/output 0: then_branch gives shape [2], else_branch [3]`},
		{"types differ", newGB().in("c", Bool).in("x", Float32, 2).initI("k", Int64, []int64{1, 2}, 2).
			node("If", []string{"c"}, []string{"y"}, graphAttr("then_branch", good()), graphAttr("else_branch", newGB().out("k"))).out("y"),
			`output 0: then_branch gives FLOAT, else_branch INT64`},
		{"condition not scalar", newGB().in("c", Bool, 2).in("x", Float32, 2).
			node("If", []string{"c"}, []string{"y"}, graphAttr("then_branch", good()), graphAttr("else_branch", good())).out("y"),
			`condition "c" has shape [2], expected one element`},
		{"output count", newGB().in("c", Bool).in("x", Float32, 2).
			node("If", []string{"c"}, []string{"y", "y2"}, graphAttr("then_branch", good()), graphAttr("else_branch", good())).out("y"),
			`attribute "then_branch": has 1 outputs, the node 2`},
		{"graph on another op", newGB().in("x", Float32, 2).
			node("Relu", []string{"x"}, []string{"y"}, graphAttr("body", good())).out("y"),
			`unsupported Relu/attribute body (graph)`},
		{"cycle through a branch", newGB().in("c", Bool).in("x", Float32, 2).
			node("If", []string{"c"}, []string{"y"}, graphAttr("then_branch", newGB().node("Relu", []string{"z"}, []string{"r"}).out("r")), graphAttr("else_branch", good())).
			node("Relu", []string{"y"}, []string{"z"}).out("z"),
			"cycle"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadDecoded(tc.b.model(17), "test", Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
	deep := good()
	for range maxGraphDepth + 1 {
		deep = newGB().in("c", Bool).node("If", []string{"c"}, []string{"g"}, graphAttr("then_branch", deep), graphAttr("else_branch", deep)).out("g")
	}
	if _, err := loadDecoded(deep.model(17), "test", Options{}); err == nil || !strings.Contains(err.Error(), "nested deeper") {
		t.Fatalf("deep nesting: %v", err)
	}
}

// loopModel: a Loop with two carried values that swap and accumulate, and a
// scan output, over a trip count M (input or constant).
//
//	for i in range(M): a, b = b, a + i; scan[i] = a + b (after the update)
func loopModel(constM int64) *gb {
	body := newGB().in("i", Int64).in("cin", Bool).in("a", Float32, 2).in("b", Float32, 2).
		node("Cast", []string{"i"}, []string{"fi"}, &onnx.Attribute{Name: "to", Type: onnx.AttrInt, I: int64(Float32)}).
		node("Add", []string{"a", "fi"}, []string{"b2"}).
		node("Identity", []string{"b"}, []string{"a2"}).
		node("Add", []string{"a2", "b2"}, []string{"s"}).
		node("Identity", []string{"cin"}, []string{"cout"}).
		out("cout", "a2", "b2", "s")
	b := newGB()
	if constM >= 0 {
		b.initI("M", Int64, []int64{constM})
	} else {
		b.in("M", Int64)
	}
	return b.in("a0", Float32, 2).in("b0", Float32, 2).initI("T", Bool, []int64{1}).
		node("Loop", []string{"M", "T", "a0", "b0"}, []string{"a", "b", "scan"}, graphAttr("body", body))
}

func TestLoop(t *testing.T) {
	a0, b0 := NewFloat([]float32{1, 2}, 2), NewFloat([]float32{10, 20}, 2)
	// i=0: a=10,20 b=1,2 s=11,22; i=1: a=1,2 b=11,21 s=12,23; i=2: a=11,21 b=3,4 s=14,25
	m := loopModel(3).out("a", "b", "scan").load(t, Options{})
	s := m.NewSession()
	out := runOne(t, s, a0, b0)
	wantFloats(t, out[0], []int{2}, 11, 21)
	wantFloats(t, out[1], []int{2}, 3, 4)
	wantFloats(t, out[2], []int{3, 2}, 11, 22, 12, 23, 14, 25)
	if a := testing.AllocsPerRun(20, func() { s.Run([]*Tensor{a0, b0}) }); a != 0 {
		t.Errorf("%v allocations per run", a)
	}
	out = runOne(t, s, a0, b0) // no state left over
	wantFloats(t, out[0], []int{2}, 11, 21)

	// A trip count computed at run time: without scan outputs, fine.
	b := loopModel(-1)
	b.g.Nodes[0].Outputs = []string{"a", "b"}
	body := b.g.Nodes[0].Attrs[0].G
	body.Outputs = body.Outputs[:3]
	m = b.out("a", "b").load(t, Options{})
	s = m.NewSession()
	M := NewInt([]int64{3}, 0)
	M.Shape = []int{}
	out = runOne(t, s, M, a0, b0)
	wantFloats(t, out[0], []int{2}, 11, 21)
	M.I[0] = 0
	out = runOne(t, s, M, a0, b0)
	wantFloats(t, out[0], []int{2}, 1, 2)
	wantFloats(t, out[1], []int{2}, 10, 20)
	if a := testing.AllocsPerRun(20, func() { s.Run([]*Tensor{M, a0, b0}) }); a != 0 {
		t.Errorf("%v allocations per run", a)
	}

	// With scan outputs the trip count must be known when planning.
	_, err := loadDecoded(loopModel(-1).out("a", "b", "scan").model(17), "test", Options{})
	var ce *ConstantInputError
	if !errors.As(err, &ce) || ce.Input != "M" {
		t.Fatalf("error %v, want a ConstantInputError for M", err)
	}
	m, err = loadDecoded(loopModel(-1).out("a", "b", "scan").model(17), "test", Options{Constants: map[string]*Tensor{"M": {DType: Int64, Shape: []int{}, I: []int64{2}}}})
	if err != nil {
		t.Fatal(err)
	}
	wantFloats(t, runOne(t, m.NewSession(), a0, b0)[2], []int{2, 2}, 11, 22, 12, 23)
}

// TestLoopCondition runs a while loop: the body computes its condition.
// for i = 0; ; i++ { x = x * 2; if i+1 == stop { break } }
func TestLoopCondition(t *testing.T) {
	body := newGB().in("i", Int64).in("cin", Bool).in("x", Float32, 1).initI("one", Int64, []int64{1}).initF("two", []float32{2}, 1).
		node("Add", []string{"i", "one"}, []string{"i1"}).
		node("Sub", []string{"stop", "i1"}, []string{"left"}).
		node("Cast", []string{"left"}, []string{"cout"}, &onnx.Attribute{Name: "to", Type: onnx.AttrInt, I: int64(Bool)}).
		node("Mul", []string{"x", "two"}, []string{"x2"}).
		out("cout", "x2")
	m := newGB().in("stop", Int64).in("x0", Float32, 1).initI("T", Bool, []int64{1}).
		node("Loop", []string{"", "T", "x0"}, []string{"x"}, graphAttr("body", body)).out("x").load(t, Options{})
	s := m.NewSession()
	stop := &Tensor{DType: Int64, Shape: []int{}, I: []int64{5}}
	wantFloats(t, runOne(t, s, stop, NewFloat([]float32{1}, 1))[0], []int{1}, 32)
	stop.I[0] = 1
	wantFloats(t, runOne(t, s, stop, NewFloat([]float32{1}, 1))[0], []int{1}, 2)

	// A scan output of such a loop cannot be planned.
	body.g.Outputs = append(body.g.Outputs, &onnx.ValueInfo{Name: "x2", IsTensor: true})
	b := newGB().in("stop", Int64).in("x0", Float32, 1).initI("T", Bool, []int64{1}).initI("M", Int64, []int64{10}).
		node("Loop", []string{"M", "T", "x0"}, []string{"x", "xs"}, &onnx.Attribute{Name: "body", Type: onnx.AttrGraph, G: body.g, HasGraph: true}).out("x", "xs")
	_, err := loadDecoded(b.model(17), "test", Options{})
	if !IsUnsupported(err) || !strings.Contains(err.Error(), "condition is computed in its body") {
		t.Fatalf("error %v", err)
	}
}

func TestLoopErrors(t *testing.T) {
	grow := newGB().in("i", Int64).in("c", Bool).in("x", Float32, 1).node("Concat", []string{"x", "x"}, []string{"y"}, attrInt("axis", 0)).
		node("Identity", []string{"c"}, []string{"co"}).out("co", "y")
	cases := []struct {
		name string
		b    *gb
		want string
	}{
		{"carried value grows", newGB().in("x", Float32, 1).initI("M", Int64, []int64{2}).
			node("Loop", []string{"M", "", "x"}, []string{"y"}, graphAttr("body", grow)).out("y"),
			`unsupported Loop/loop-carried value 0 changes shape from [1] to [2]`},
		{"body inputs", newGB().in("x", Float32, 1).initI("M", Int64, []int64{2}).
			node("Loop", []string{"M", ""}, []string{"y"}, graphAttr("body", grow)).out("y"),
			`node "Loop_y" (Loop): attribute "body": has 3 inputs, expected 2`},
		{"never ends", newGB().in("x", Float32, 1).
			node("Loop", []string{"", "", "x"}, []string{"y"}, graphAttr("body", grow)).out("y"),
			`never end`},
		{"huge scan output", newGB().in("x", Float32, 1).initI("M", Int64, []int64{1 << 60}).
			node("Loop", []string{"M", "", "x"}, []string{"y", "ys"}, graphAttr("body",
				newGB().in("i", Int64).in("c", Bool).in("x", Float32, 1).node("Identity", []string{"c"}, []string{"co"}).out("co", "x", "x"))).out("y", "ys"),
			`scan output 0: 1152921504606846976 iterations of [1] exceed the size limit`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadDecoded(tc.b.model(17), "test", Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// TestScan runs a Scan over axis 1 of x [2, 3] backwards, with a running
// sum as state and two scan outputs, one on axis 1 reversed.
func TestScan(t *testing.T) {
	body := newGB().in("acc", Float32, 2).in("col", Float32, 2).
		node("Add", []string{"acc", "col"}, []string{"acc2"}).
		node("Mul", []string{"col", "acc2"}, []string{"p"}).
		out("acc2", "acc2", "p")
	m := newGB().in("acc0", Float32, 2).in("x", Float32, 2, 3).
		node("Scan", []string{"acc0", "x"}, []string{"acc", "sums", "prods"}, graphAttr("body", body),
			attrInt("num_scan_inputs", 1), attrInts("scan_input_axes", 1), attrInts("scan_input_directions", 1),
			attrInts("scan_output_axes", 0, -1), attrInts("scan_output_directions", 0, 1)).
		out("acc", "sums", "prods").load(t, Options{})
	s := m.NewSession()
	x := NewFloat([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	// Columns backwards: [3,6], [2,5], [1,4]; sums: [3,6], [5,11], [6,15].
	// prods per step: [9,36], [10,55], [6,60]; reversed along axis 1:
	// row 0 = 6,10,9; row 1 = 60,55,36.
	out := runOne(t, s, NewFloat([]float32{0, 0}, 2), x)
	wantFloats(t, out[0], []int{2}, 6, 15)
	wantFloats(t, out[1], []int{3, 2}, 3, 6, 5, 11, 6, 15)
	wantFloats(t, out[2], []int{2, 3}, 6, 10, 9, 60, 55, 36)
	acc0 := NewFloat([]float32{0, 0}, 2)
	if a := testing.AllocsPerRun(20, func() { s.Run([]*Tensor{acc0, x}) }); a != 0 {
		t.Errorf("%v allocations per run", a)
	}
	ref, err := m.NewSession().RunWith([]*Tensor{acc0, x}, referenceSelector{m})
	if err != nil {
		t.Fatal(err)
	}
	wantFloats(t, ref[2], []int{2, 3}, 6, 10, 9, 60, 55, 36)

	bad := newGB().in("acc0", Float32, 2).in("x", Float32, 2, 3).in("z", Float32, 2, 4).
		node("Scan", []string{"acc0", "x", "z"}, []string{"acc"}, graphAttr("body", newGB().in("a", Float32, 2).in("c", Float32, 2).in("d", Float32, 2).out("a")),
			attrInt("num_scan_inputs", 2), attrInts("scan_input_axes", 1, 1)).out("acc")
	if _, err := loadDecoded(bad.model(17), "test", Options{}); err == nil || !strings.Contains(err.Error(), `scan input 1 "z" has 4 elements along axis 1, scan input 0 has 3`) {
		t.Fatalf("error %v", err)
	}
	if _, err := loadDecoded(bad.model(8), "test", Options{}); !IsUnsupported(err) {
		t.Fatalf("opset 8: %v", err)
	}
}

// TestControlFlowAllocs runs a model holding If, Loop and Scan with one and
// two threads: steady-state runs allocate nothing.
func TestControlFlowAllocs(t *testing.T) {
	b := ifModel()
	loop := loopModel(3)
	b.g.Inputs = append(b.g.Inputs, loop.g.Inputs...)
	b.g.Initializers = append(b.g.Initializers, loop.g.Initializers...)
	b.g.Nodes = append(b.g.Nodes, loop.g.Nodes...)
	b.out("a", "scan")
	for _, threads := range []int{1, 2} {
		m := b.load(t, Options{Threads: threads})
		s := m.NewSession()
		in := []*Tensor{boolT(true), NewFloat([]float32{1, 2, 3}, 1, 3), NewFloat([]float32{1, 2}, 2), NewFloat([]float32{10, 20}, 2)}
		runOne(t, s, in...)
		if a := testing.AllocsPerRun(20, func() { s.Run(in) }); a != 0 {
			t.Errorf("threads %d: %v allocations per run", threads, a)
		}
		s.Close()
	}
}

// TestLoopUnrolled runs a loop whose body needs, when planning, a value
// computed from the iteration number (Pad's pads): it is unrolled.
//
//	for i in range(3): p = pad(x, [i, 2-i]); acc += p; scan[i] = p
func TestLoopUnrolled(t *testing.T) {
	body := newGB().in("i", Int64).in("c", Bool).in("acc", Float32, 5).initI("two", Int64, []int64{2}).initI("ax", Int64, []int64{0}, 1).
		node("Sub", []string{"two", "i"}, []string{"rest"}).
		node("Unsqueeze", []string{"i", "ax"}, []string{"lo"}).
		node("Unsqueeze", []string{"rest", "ax"}, []string{"hi"}).
		node("Concat", []string{"lo", "hi"}, []string{"pads"}, attrInt("axis", 0)).
		node("Pad", []string{"x", "pads"}, []string{"p"}).
		node("Add", []string{"acc", "p"}, []string{"acc2"}).
		node("Identity", []string{"c"}, []string{"co"}).
		out("co", "acc2", "p")
	b := func(M string) *gb {
		g := newGB().in("x", Float32, 3).initF("acc0", make([]float32, 5), 5).initI("T", Bool, []int64{1})
		if M == "" {
			g.initI("M", Int64, []int64{3})
		} else {
			g.in("M", Int64)
		}
		return g.node("Loop", []string{"M", "T", "acc0"}, []string{"acc", "rows"}, graphAttr("body", body)).out("acc", "rows")
	}
	m := b("").load(t, Options{})
	for _, n := range m.Nodes() {
		if n.Op == "Loop" || n.Op == "Pad" && len(n.Inputs) > 1 && !strings.Contains(n.Inputs[1], "pads") {
			t.Fatalf("not unrolled: %+v", m.Nodes())
		}
	}
	s := m.NewSession()
	out := runOne(t, s, NewFloat([]float32{1, 2, 3}, 3))
	wantFloats(t, out[0], []int{5}, 1, 3, 6, 5, 3)
	wantFloats(t, out[1], []int{3, 5}, 1, 2, 3, 0, 0, 0, 1, 2, 3, 0, 0, 0, 1, 2, 3)
	// A trip count known only when running cannot be unrolled: the error
	// names the value needed.
	_, err := loadDecoded(b("M").model(17), "test", Options{})
	var ce *ConstantInputError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), `input "pads" must be constant`) {
		t.Fatalf("error %v", err)
	}
}

// TestUnrollBudget nests a loop that must be unrolled in another: the
// nodes unrolling makes are bounded for the whole load.
func TestUnrollBudget(t *testing.T) {
	// pads = [i - i, j - j]: zeros, known only once both loops are unrolled.
	inner := newGB().in("j", Int64).in("c", Bool).in("acc", Float32, 3).initI("ax", Int64, []int64{0}, 1).
		node("Sub", []string{"i", "i"}, []string{"zi"}).
		node("Sub", []string{"j", "j"}, []string{"zj"}).
		node("Unsqueeze", []string{"zi", "ax"}, []string{"lo"}).
		node("Unsqueeze", []string{"zj", "ax"}, []string{"hi"}).
		node("Concat", []string{"lo", "hi"}, []string{"pads"}, attrInt("axis", 0)).
		node("Pad", []string{"x", "pads"}, []string{"p"}).
		node("Add", []string{"acc", "p"}, []string{"acc2"}).
		node("Identity", []string{"c"}, []string{"co"}).
		out("co", "acc2")
	outer := newGB().in("i", Int64).in("c", Bool).in("acc", Float32, 3).initI("M2", Int64, []int64{1000}).
		node("Loop", []string{"M2", "", "acc"}, []string{"acc2"}, graphAttr("body", inner)).
		node("Identity", []string{"c"}, []string{"co"}).out("co", "acc2")
	b := newGB().in("x", Float32, 3).initF("acc0", make([]float32, 3), 3).initI("M", Int64, []int64{1000}).
		node("Loop", []string{"M", "", "acc0"}, []string{"acc"}, graphAttr("body", outer)).out("acc")
	// Small, both unroll: acc = 2 * 3 * x.
	b.g.Initializers[1].Ints[0] = 2
	outer.g.Initializers[0].Ints[0] = 3
	m, err := loadDecoded(b.model(17), "test", Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantFloats(t, runOne(t, m.NewSession(), NewFloat([]float32{1, 2, 3}, 3))[0], []int{3}, 6, 12, 18)
	b.g.Initializers[1].Ints[0] = 1000
	outer.g.Initializers[0].Ints[0] = 1000
	_, err = loadDecoded(b.model(17), "test", Options{})
	var ce *ConstantInputError
	if !errors.As(err, &ce) {
		t.Fatalf("error %v, want the ConstantInputError of the loop that could not be unrolled", err)
	}
}
