package engine

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/kagen-ai/kagen/engine/onnx"
)

func TestParseDims(t *testing.T) {
	d, err := ParseDims([]string{"time=98", "batch=4, ch = 3"})
	if err != nil || len(d) != 3 || d["time"] != 98 || d["batch"] != 4 || d["ch"] != 3 {
		t.Fatalf("%v %v", d, err)
	}
	for _, bad := range [][]string{{"time"}, {"=3"}, {"t=-1"}, {"t=x"}, {"t=1", "t=2"}, {"t=99999999999"}} {
		if _, err := ParseDims(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// npyBytes writes a .npy file by hand: header dictionary, then data.
func npyBytes(version byte, dict string, data []byte) []byte {
	var b bytes.Buffer
	b.WriteString("\x93NUMPY")
	b.WriteByte(version)
	b.WriteByte(0)
	pad := 16 - (10+len(dict)+1)%16
	dict += strings.Repeat(" ", pad) + "\n"
	if version == 1 {
		binary.Write(&b, binary.LittleEndian, uint16(len(dict)))
	} else {
		binary.Write(&b, binary.LittleEndian, uint32(len(dict)))
	}
	b.WriteString(dict)
	b.Write(data)
	return b.Bytes()
}

func le(order binary.ByteOrder, vs ...any) []byte {
	var b bytes.Buffer
	for _, v := range vs {
		binary.Write(&b, order, v)
	}
	return b.Bytes()
}

func TestReadNpy(t *testing.T) {
	cases := []struct {
		name string
		data []byte
		want *Tensor
	}{
		{"f4", npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", le(binary.LittleEndian, float32(1), float32(2), float32(3), float32(-4))),
			&Tensor{DType: Float32, Shape: []int{2, 2}, F: []float32{1, 2, 3, -4}}},
		{"f8 big-endian", npyBytes(1, "{'descr': '>f8', 'fortran_order': False, 'shape': (3,), }", le(binary.BigEndian, 0.5, 1.5, -2.0)),
			&Tensor{DType: Float64, Shape: []int{3}, F: []float32{0.5, 1.5, -2}}},
		{"i8 scalar", npyBytes(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (), }", le(binary.LittleEndian, int64(16000))),
			&Tensor{DType: Int64, Shape: []int{}, I: []int64{16000}}},
		{"i4 version 2", npyBytes(2, "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", le(binary.LittleEndian, int32(-7), int32(8))),
			&Tensor{DType: Int32, Shape: []int{2}, I: []int64{-7, 8}}},
		{"bool", npyBytes(1, "{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", []byte{1, 0, 1}),
			&Tensor{DType: Bool, Shape: []int{3}, I: []int64{1, 0, 1}}},
		{"u1", npyBytes(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }", []byte{255, 3}),
			&Tensor{DType: Uint8, Shape: []int{2}, I: []int64{255, 3}}},
		{"f2", npyBytes(1, "{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }", le(binary.LittleEndian, uint16(0x3c00), uint16(0xc000))),
			&Tensor{DType: Float16, Shape: []int{2}, F: []float32{1, -2}}},
		// Column-major [[1, 2, 3], [4, 5, 6]] is stored 1 4 2 5 3 6.
		{"fortran", npyBytes(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", le(binary.LittleEndian, float32(1), float32(4), float32(2), float32(5), float32(3), float32(6))),
			&Tensor{DType: Float32, Shape: []int{2, 3}, F: []float32{1, 2, 3, 4, 5, 6}}},
		{"empty", npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 5), }", nil),
			&Tensor{DType: Float32, Shape: []int{0, 5}, F: []float32{}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadNpy(bytes.NewReader(tc.data), 0)
			if err != nil {
				t.Fatal(err)
			}
			if got.DType != tc.want.DType || !equalShapes(got.Shape, tc.want.Shape) || fmt.Sprint(got.F) != fmt.Sprint(tc.want.F) || fmt.Sprint(got.I) != fmt.Sprint(tc.want.I) {
				t.Fatalf("got %v %v %v, want %v %v %v", got, got.F, got.I, tc.want, tc.want.F, tc.want.I)
			}
		})
	}
	bad := []struct {
		name string
		data []byte
		want string
	}{
		{"magic", []byte("PK\x03\x04 not numpy"), "bad magic"},
		{"truncated", npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", make([]byte, 7)), "reading 4 elements"},
		{"type", npyBytes(1, "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", make([]byte, 8)), `type "<c8" is not supported`},
		{"objects", npyBytes(1, "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", nil), "not supported"},
		{"huge", npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000, 100000), }", nil), "exceeds the size limit"},
		{"negative", npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", nil), "bad dimension"},
		{"no shape", npyBytes(1, "{'descr': '<f4', 'fortran_order': False, }", nil), "no shape"},
		{"version", npyBytes(9, "{}", nil), "version 9.0"},
		{"uint64", npyBytes(1, "{'descr': '<u8', 'fortran_order': False, 'shape': (1,), }", le(binary.LittleEndian, uint64(math.MaxUint64))), "does not fit"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadNpy(bytes.NewReader(tc.data), 1<<20)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
	for cut := range len(cases[0].data) {
		if _, err := ReadNpy(bytes.NewReader(cases[0].data[:cut]), 0); err == nil {
			t.Fatalf("a prefix of %d bytes was read", cut)
		}
	}
}

// multiInputModel takes a float x [1, n], int64 indices k and a bool c:
// y = If(c) then Gather(x, k, axis 1) else Gather(x, k, axis 1) * 2.
func multiInputModel() *gb {
	then := newGB().node("Gather", []string{"x", "k"}, []string{"g"}, attrInt("axis", 1)).out("g")
	els := newGB().initF("two", []float32{2}, 1).node("Gather", []string{"x", "k"}, []string{"g2"}, attrInt("axis", 1)).
		node("Mul", []string{"g2", "two"}, []string{"e"}).out("e")
	return newGB().in("x", Float32, 1, "n").in("k", Int64, 2).in("c", Bool).
		node("If", []string{"c"}, []string{"y"}, graphAttr("then_branch", then), graphAttr("else_branch", els)).out("y")
}

func TestSeveralInputsAndFeed(t *testing.T) {
	m := multiInputModel().load(t, Options{Dims: map[string]int{"n": 4}})
	if in := m.Inputs(); len(in) != 3 || in[1].DType != Int64 || in[2].DType != Bool || !equalShapes(in[0].Shape, []int{1, 4}) {
		t.Fatalf("inputs %+v", in)
	}
	feed, notes, err := m.Feed(map[string]*Tensor{"x": NewFloat([]float32{1, 2, 3, 4}, 1, 4), "k": NewInt([]int64{3, -4}, 2)})
	if err != nil || len(notes) != 1 || !strings.Contains(notes[0], "input c BOOL[] is not given: feeding zeros") {
		t.Fatalf("feed: %v %v", notes, err)
	}
	s := m.NewSession()
	wantFloats(t, runOne(t, s, feed...)[0], []int{1, 2}, 8, 2)
	feed[2].I[0] = 1
	wantFloats(t, runOne(t, s, feed...)[0], []int{1, 2}, 4, 1)
	if a := testing.AllocsPerRun(20, func() { s.Run(feed) }); a != 0 {
		t.Errorf("%v allocations per run", a)
	}
	if _, _, err := m.Feed(map[string]*Tensor{"nope": NewFloat(nil, 1)}); err == nil || !strings.Contains(err.Error(), "no input nope (its inputs: x, k, c)") {
		t.Errorf("unknown input: %v", err)
	}
	if _, _, err := m.Feed(map[string]*Tensor{"k": NewFloat(nil, 2)}); err == nil {
		t.Error("float values for an INT64 input were accepted")
	}
	if _, err := s.Run([]*Tensor{feed[0], NewFloat(nil, 2), feed[2]}); err == nil || !strings.Contains(err.Error(), "give its values in Tensor.I") {
		t.Errorf("float tensor for k: %v", err)
	}

	// The same through .npy files.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "x.npy"), npyBytes(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 4), }", le(binary.LittleEndian, 1.0, 2.0, 3.0, 4.0)), 0o644)
	os.WriteFile(filepath.Join(dir, "k.npy"), npyBytes(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", le(binary.LittleEndian, int64(0), int64(1))), 0o644)
	named, err := ParseInputs([]string{"x=" + filepath.Join(dir, "x.npy"), "k=" + filepath.Join(dir, "k.npy")}, 0)
	if err != nil {
		t.Fatal(err)
	}
	m = multiInputModel().load(t, Options{InputShapes: ShapesOf(named)})
	feed, _, err = m.Feed(named)
	if err != nil {
		t.Fatal(err)
	}
	wantFloats(t, runOne(t, m.NewSession(), feed...)[0], []int{1, 2}, 2, 4)
	for _, bad := range []string{"x", "x=", "=f.npy", "x=" + filepath.Join(dir, "missing.npy")} {
		if _, err := ParseInputs([]string{bad}, 0); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestDims(t *testing.T) {
	m := newGB().in("x", Float32, "batch", "time").node("Relu", []string{"x"}, []string{"y"}).out("y").
		load(t, Options{Dims: map[string]int{"time": 98}})
	if s := m.Inputs()[0].Shape; !equalShapes(s, []int{1, 98}) {
		t.Fatalf("shape %v", s)
	}
	for _, tc := range []struct {
		dims map[string]int
		want string
	}{
		{map[string]int{"tiem": 98}, "dimension tiem is bound, but no input has it (symbolic dimensions: batch, time)"},
		{map[string]int{"time": -1}, "dimension time=-1 is out of range"},
	} {
		_, err := loadDecoded(newGB().in("x", Float32, "batch", "time").node("Relu", []string{"x"}, []string{"y"}).out("y").model(17), "t", Options{Dims: tc.dims})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want %q", err, tc.want)
		}
	}
}

// TestDimHint checks that a planning error caused by a dimension left at 1
// names the dimension to bind.
func TestDimHint(t *testing.T) {
	reshape := newGB().in("x", Float32, "batch", "time").initI("s", Int64, []int64{-1, 64}, 2).
		node("Reshape", []string{"x", "s"}, []string{"y"}).out("y")
	conv := newGB().in("x", Float32, "batch", 1, "samples").initF("w", make([]float32, 5), 1, 1, 5).
		node("Conv", []string{"x", "w"}, []string{"y"}).out("y")
	for _, tc := range []struct {
		b          *gb
		dim, input string
	}{{reshape, "time", "x"}, {conv, "samples", "x"}} {
		_, err := loadDecoded(tc.b.model(17), "t", Options{})
		var de *DimError
		if !errors.As(err, &de) || de.Dim != tc.dim || de.Input != tc.input ||
			!strings.Contains(err.Error(), "bind it with --dim "+tc.dim+"=N or Options.Dims") {
			t.Fatalf("error %v", err)
		}
		if _, err := loadDecoded(tc.b.model(17), "t", Options{Dims: map[string]int{tc.dim: 128}}); err != nil {
			t.Fatal(err)
		}
	}
	// Nothing to name: the dimensions are listed.
	bad := newGB().in("x", Float32, "batch", "time").initI("s", Int64, []int64{-1, 7}, 2).
		node("Reshape", []string{"x", "s"}, []string{"y"}).out("y")
	_, err := loadDecoded(bad.model(17), "t", Options{})
	if err == nil || !strings.Contains(err.Error(), `set to 1 by default: input "x" dimension 0 (batch), input "x" dimension 1 (time)`) {
		t.Fatalf("error %v", err)
	}
	// A missing operator is not about dimensions.
	_, err = loadDecoded(newGB().in("x", Float32, "n").node("Frobnicate", []string{"x"}, []string{"y"}).out("y").model(17), "t", Options{})
	if err == nil || strings.Contains(err.Error(), "default") {
		t.Fatalf("error %v", err)
	}
}

// symbolicModel: y = Reshape(Relu(x) + 1, [batch*time]) with x [batch, time].
func symbolicModel() *gb {
	return newGB().in("x", Float32, "batch", "time").initF("one", []float32{1}, 1).initI("flat", Int64, []int64{-1}, 1).
		node("Relu", []string{"x"}, []string{"r"}).node("Add", []string{"r", "one"}, []string{"a"}).
		node("Reshape", []string{"a", "flat"}, []string{"y"}).out("y")
}

func TestReplanForNewShapes(t *testing.T) {
	m := symbolicModel().load(t, Options{})
	s := m.NewSession()
	a := NewFloat([]float32{-1, 2}, 1, 2)
	b := NewFloat([]float32{-1, 2, -3, 4, 5, -6}, 2, 3)
	wantFloats(t, runOne(t, s, NewFloat([]float32{-2}, 1, 1))[0], []int{1}, 1)
	wantFloats(t, runOne(t, s, a)[0], []int{2}, 1, 3)
	wantFloats(t, runOne(t, s, b)[0], []int{6}, 1, 3, 1, 5, 6, 1)
	wantFloats(t, runOne(t, s, a)[0], []int{2}, 1, 3)
	if a := testing.AllocsPerRun(20, func() {
		s.Run([]*Tensor{a})
		s.Run([]*Tensor{b})
	}); a != 0 {
		t.Errorf("%v allocations per run alternating seen shapes", a)
	}
	if n := len(m.variants.byKey); n != 2 {
		t.Errorf("%d variants cached, want 2", n)
	}
	// The model as loaded is unchanged.
	if sh := m.Inputs()[0].Shape; !equalShapes(sh, []int{1, 1}) {
		t.Errorf("model input shape %v", sh)
	}
	// A new session finds the variants planned already.
	s2 := m.NewSession()
	wantFloats(t, runOne(t, s2, b)[0], []int{6}, 1, 3, 1, 5, 6, 1)
	if s2.cur.m != s.cur.m {
		t.Error("the second session planned the shape again")
	}
	// Many shapes: the caches stay bounded and results stay right.
	for i := 1; i <= maxVariants+4; i++ {
		x := NewFloat(make([]float32, i), 1, i)
		x.F[i-1] = float32(i)
		out := runOne(t, s, x)[0]
		if len(out.F) != i || out.F[i-1] != float32(i)+1 {
			t.Fatalf("shape [1 %d]: %v", i, out.F)
		}
	}
	if len(m.variants.byKey) > maxVariants || len(s.plans) > maxSessionPlans {
		t.Errorf("%d variants, %d session plans", len(m.variants.byKey), len(s.plans))
	}
	// A shape the model cannot take is an error, not a panic.
	bad := newGB().in("x", Float32, "n").initI("s", Int64, []int64{2, -1}, 2).node("Reshape", []string{"x", "s"}, []string{"y"}).out("y").
		load(t, Options{Dims: map[string]int{"n": 4}})
	if _, err := bad.NewSession().Run([]*Tensor{NewFloat(make([]float32, 3), 3)}); err == nil || !strings.Contains(err.Error(), "planning for input shapes x[3]") {
		t.Errorf("error %v", err)
	}
}

func TestReplanConcurrent(t *testing.T) {
	m := symbolicModel().load(t, Options{Threads: 2})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := m.NewSession()
			defer s.Close()
			for i := range 20 {
				n := 1 + (g+i)%5
				x := NewFloat(make([]float32, 2*n), 2, n)
				x.F[0] = float32(n)
				out, err := s.Run([]*Tensor{x})
				if err != nil || len(out[0].F) != 2*n || out[0].F[0] != float32(n)+1 {
					t.Errorf("shape [2 %d]: %v %v", n, out, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestFoldShapeChains checks that shape arithmetic folds through whole
// chains: Shape -> Gather -> Unsqueeze -> Concat -> Reshape, and
// Shape -> Gather -> Mul -> Cast -> Div -> Concat -> Reshape, leaving only
// the work on x.
func TestFoldShapeChains(t *testing.T) {
	b := newGB().in("x", Float32, 2, 3, 4).
		initI("i0", Int64, []int64{0}).initI("i12", Int64, []int64{1, 2}, 2).initI("ax", Int64, []int64{0}, 1).initI("two", Int64, []int64{2}).
		initF("half", []float32{2}).
		node("Relu", []string{"x"}, []string{"r"}).
		node("Shape", []string{"r"}, []string{"s"}).
		node("Gather", []string{"s", "i0"}, []string{"n"}).
		node("Unsqueeze", []string{"n", "ax"}, []string{"n1"}).
		node("Gather", []string{"s", "i12"}, []string{"hw"}).
		node("Mul", []string{"hw", "two"}, []string{"hw2"}).
		node("Cast", []string{"hw2"}, []string{"hwf"}, &onnx.Attribute{Name: "to", Type: onnx.AttrInt, I: int64(Float32)}).
		node("Div", []string{"hwf", "half"}, []string{"hwh"}).
		node("Cast", []string{"hwh"}, []string{"hwi"}, &onnx.Attribute{Name: "to", Type: onnx.AttrInt, I: int64(Int64)}).
		node("Concat", []string{"n1", "hwi"}, []string{"shape"}, attrInt("axis", 0)).
		node("Reshape", []string{"r", "shape"}, []string{"y"}).out("y")
	m := b.load(t, Options{})
	var ops []string
	for _, n := range m.Nodes() {
		ops = append(ops, n.Op)
	}
	if strings.Join(ops, " ") != "Relu Reshape" {
		t.Fatalf("planned ops %v", ops)
	}
	if p := m.Passes()[0]; p.Name != "infer-shapes-and-fold-constants" || p.Changed != 9 {
		t.Errorf("pass stats %+v", m.Passes())
	}
	if sh := m.Outputs()[0].Shape; !equalShapes(sh, []int{2, 3, 4}) {
		t.Errorf("output shape %v", sh)
	}

	// Folded constants count against the limit, one by one and together.
	big := newGB().in("x", Float32, 1).initF("w", make([]float32, 1<<18), 1<<18)
	prev := "w"
	for i := range 20 {
		next := fmt.Sprintf("w%d", i)
		big.node("Add", []string{prev, "w"}, []string{next})
		prev = next
	}
	big.node("Add", []string{"x", prev}, []string{"y"}).out("y")
	if _, err := loadDecoded(big.model(17), "t", Options{MaxBytes: 1 << 21}); err == nil || !strings.Contains(err.Error(), "constants computed at load exceed 8388608 bytes") {
		t.Fatalf("error %v", err)
	}
}

// TestFoldSliceChain checks that Shape -> Slice -> Concat ->
// ConstantOfShape -> Expand folds to a constant, leaving only the work on
// x. It runs once Slice, ConstantOfShape and Expand are registered.
func TestFoldSliceChain(t *testing.T) {
	for _, op := range []string{"Slice", "ConstantOfShape", "Expand"} {
		if opTable[op] == nil {
			t.Skipf("%s is not implemented here", op)
		}
	}
	one := &onnx.Tensor{DataType: int32(Float32), Dims: []int64{1}, Floats: []float32{1}}
	m := newGB().in("x", Float32, 2, 3, 4).
		initI("st", Int64, []int64{1}, 1).initI("en", Int64, []int64{3}, 1).initI("lead", Int64, []int64{1}, 1).
		node("Shape", []string{"x"}, []string{"s"}).
		node("Slice", []string{"s", "st", "en"}, []string{"tail"}).
		node("Concat", []string{"lead", "tail"}, []string{"s1"}, attrInt("axis", 0)).
		node("ConstantOfShape", []string{"s1"}, []string{"ones"}, &onnx.Attribute{Name: "value", Type: onnx.AttrTensor, T: one}).
		node("Expand", []string{"ones", "s"}, []string{"e"}).
		node("Add", []string{"x", "e"}, []string{"y"}).out("y").load(t, Options{})
	if n := m.Nodes(); len(n) != 1 || n[0].Op != "Add" {
		t.Fatalf("planned %+v", n)
	}
	x := NewFloat(make([]float32, 24), 2, 3, 4)
	x.F[23] = 5
	out := runOne(t, m.NewSession(), x)[0]
	if out.F[0] != 1 || out.F[23] != 6 {
		t.Fatalf("got %v", out.F)
	}
}

func TestFeedFilled(t *testing.T) {
	m := multiInputModel().load(t, Options{Dims: map[string]int{"n": 4}})
	ones := func(vi ValueInfo) *Tensor {
		if vi.DType.IsInt() {
			return nil // zeros
		}
		f := make([]float32, numel(vi.Shape))
		for i := range f {
			f[i] = 1
		}
		return NewFloat(f, vi.Shape...)
	}
	feed, notes, err := m.FeedFilled(map[string]*Tensor{"c": {DType: Bool, Shape: []int{}, I: []int64{1}}}, "ones", ones)
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != 2 || !strings.Contains(notes[0], "input x FLOAT[1 4] is not given: feeding ones") {
		t.Fatalf("notes %q", notes)
	}
	if feed[0].F[3] != 1 || len(feed[1].I) != 2 || feed[1].I[0] != 0 || feed[2].I[0] != 1 {
		t.Fatalf("fed %v %v %v", feed[0].F, feed[1].I, feed[2].I)
	}
}
