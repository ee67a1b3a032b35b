package engine

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kagen-ai/kagen/engine/onnx"
)

// smallModel is a tiny Conv-Conv-Gemm network shipped for the benchmarks.
const smallModel = "../bench/testdata/small.onnx"

func TestBadModels(t *testing.T) {
	tests := []struct {
		name  string
		build func() *builder
		want  string
	}{
		{"unknown op", func() *builder {
			return newBuilder(13).input("x", 1, 4).node("Frobnicate", []string{"x"}, []string{"y"}).output("y")
		}, `node "y_node": unsupported Frobnicate`},
		{"huge initializer", func() *builder {
			b := newBuilder(13).input("x", 1, 4)
			b.m.Graph.Initializers = append(b.m.Graph.Initializers, &onnx.Tensor{Name: "w", DataType: 1, Dims: []int64{1 << 20, 1 << 20}})
			return b.node("Add", []string{"x", "w"}, []string{"y"}).output("y")
		}, `initializer "w"`},
		{"huge reshape", func() *builder {
			return newBuilder(13).input("x", 1, 4).initInts("s", []int64{1 << 30, 1 << 20}, 2).
				node("Reshape", []string{"x", "s"}, []string{"y"}).output("y")
		}, `node "y_node" (Reshape): cannot reshape`},
		{"inconsistent conv", func() *builder {
			return newBuilder(13).input("x", 1, 3, 8, 8).init("w", make([]float32, 4*2*9), 4, 2, 3, 3).
				node("Conv", []string{"x", "w"}, []string{"y"}).output("y")
		}, `node "y_node" (Conv): weights [4 2 3 3] expect 2 input channels per group`},
		{"missing input", func() *builder {
			return newBuilder(13).input("x", 1, 4).node("Add", []string{"x", "nope"}, []string{"y"}).output("y")
		}, `input 1 "nope" is not produced`},
		{"cycle", func() *builder {
			return newBuilder(13).input("x", 1, 4).node("Add", []string{"x", "b"}, []string{"a"}).node("Relu", []string{"a"}, []string{"b"}).output("b")
		}, "cycle"},
		{"negative pads", func() *builder {
			return newBuilder(13).input("x", 1, 1, 4, 4).
				node("MaxPool", []string{"x"}, []string{"y"}, attrInts("kernel_shape", 2, 2), attrInts("pads", -1, 0, 0, 0)).output("y")
		}, "must not be negative"},
		{"bad axis", func() *builder {
			return newBuilder(13).input("x", 1, 4).node("Softmax", []string{"x"}, []string{"y"}, attrInt("axis", 5)).output("y")
		}, "axis 5 is out of range"},
		{"opset too new", func() *builder {
			return newBuilder(99).input("x", 1, 4).node("Relu", []string{"x"}, []string{"y"}).output("y")
		}, "unsupported opset/99"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadDecoded(tc.build().m, "test", Options{MaxBytes: 1 << 26})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestTruncatedModelFile(t *testing.T) {
	data, err := os.ReadFile(smallModel)
	if err != nil {
		t.Skip(err)
	}
	for cut := 0; cut < len(data); cut += 1 + cut/7 {
		_, err := LoadBytes(data[:cut], Options{Name: "small.onnx"})
		if err == nil {
			continue // a prefix can be a valid smaller model
		}
		if !strings.HasPrefix(err.Error(), "small.onnx: ") {
			t.Fatalf("cut at %d: error %q does not name the file", cut, err)
		}
	}
	if _, err := LoadBytes(data, Options{MaxBytes: 1000}); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("a model above MaxBytes loaded: %v", err)
	}
}

func TestUnsupportedIsReported(t *testing.T) {
	_, err := loadDecoded(newBuilder(13).input("x", 1, 4).node("Frobnicate", []string{"x"}, []string{"y"}).output("y").m, "", Options{})
	var u *UnsupportedError
	if !errors.As(err, &u) || u.Op != "Frobnicate" {
		t.Fatalf("got %v, want an UnsupportedError for Frobnicate", err)
	}
}

func TestRunChecksInputs(t *testing.T) {
	m := newBuilder(13).input("x", 1, 4).node("Relu", []string{"x"}, []string{"y"}).output("y").load(t, Options{})
	s := m.NewSession()
	for _, in := range [][]*Tensor{nil, {nil}, {NewInt(nil, 1, 4)}, {{DType: Float32, Shape: []int{1, 4}, F: make([]float32, 3)}},
		{{DType: Float32, Shape: []int{1, -4}}}} {
		if _, err := s.Run(in); err == nil {
			t.Errorf("Run(%v) succeeded", in)
		}
	}
	// Another shape is planned anew; a Selector needs the planned shapes.
	if out, err := s.Run([]*Tensor{NewFloat(make([]float32, 5), 1, 5)}); err != nil || !equalShapes(out[0].Shape, []int{1, 5}) {
		t.Errorf("Run with shape [1 5]: %v, %v", out, err)
	}
	if _, err := s.RunWith([]*Tensor{NewFloat(make([]float32, 5), 1, 5)}, referenceSelector{m}); err == nil || !strings.Contains(err.Error(), "planned for [1 4]") {
		t.Errorf("RunWith a selector and another shape: %v", err)
	}
}

// FuzzLoad feeds arbitrary bytes to the decoder, the graph passes and the
// planner, then runs the model once: nothing may panic.
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob("../bench/testdata/*.onnx")
	more, _ := filepath.Glob("/usr/share/libonnx-testdata/data/node/test_*/model.onnx")
	for i, p := range more {
		if i%10 == 0 {
			seeds = append(seeds, p)
		}
	}
	for _, name := range []string{"test_if", "test_loop11", "test_scan9_sum", "test_scan_sum"} {
		seeds = append(seeds, "/usr/share/libonnx-testdata/data/node/"+name+"/model.onnx")
	}
	for _, p := range seeds {
		if data, err := os.ReadFile(p); err == nil && len(data) < 1<<16 {
			f.Add(data)
		}
	}
	for _, b := range controlSeeds() {
		f.Add(onnx.Encode(b.model(17)))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := LoadBytes(data, Options{MaxBytes: 1 << 24})
		if err != nil {
			return
		}
		if m.ArenaBytes() > 1<<24 || m.MACs() > 1e7 || !boundedLoops(m, 1e4) {
			return
		}
		var ins []*Tensor
		for _, vi := range m.Inputs() {
			tt := &Tensor{DType: vi.DType, Shape: vi.Shape}
			if numel(vi.Shape) > 1<<20 {
				return
			}
			if vi.DType.IsInt() {
				tt.I = make([]int64, numel(vi.Shape))
			} else {
				tt.F = make([]float32, numel(vi.Shape))
			}
			ins = append(ins, tt)
		}
		if _, err := m.NewSession().Run(ins); err != nil {
			t.Fatalf("planned model failed to run: %v", err)
		}
	})
}

// controlSeeds are models with subgraphs, for FuzzLoad's corpus.
func controlSeeds() []*gb {
	scan := newGB().in("acc0", Float32, 2).in("x", Float32, 2, 3).
		node("Scan", []string{"acc0", "x"}, []string{"acc", "ys"}, graphAttr("body", newGB().in("a", Float32, 2).in("c", Float32, 2).
			node("Add", []string{"a", "c"}, []string{"a2"}).out("a2", "a2")),
			attrInt("num_scan_inputs", 1), attrInts("scan_input_axes", 1)).out("acc", "ys")
	return []*gb{ifModel(), loopModel(3).out("a", "b", "scan"), scan, multiInputModel(), symbolicModel()}
}

// boundedLoops reports whether the Loops and Scans of m, nested or not,
// run at most limit iterations in all (so that fuzzing never hangs on a
// huge trip count; a Loop without a constant trip count is unbounded).
func boundedLoops(m *Model, limit int64) bool {
	total := int64(1)
	var steps [][]step
	steps = append(steps, m.steps)
	for _, sp := range m.subs {
		steps = append(steps, sp.steps)
		if sp.mem.arenaSize > 1<<22 {
			return false
		}
	}
	for _, ss := range steps {
		for _, st := range ss {
			n := st.n
			var c int64
			switch p := n.params.(type) {
			case *loopParams:
				if n.nIn == 0 || n.in[0] == nil || n.in[0].constant == nil {
					return false
				}
				c = n.in[0].constant.I[0]
			case *scanParams:
				c = int64(p.count)
			default:
				continue
			}
			if c > limit {
				return false
			}
			total *= max(c, 1)
			if total > limit {
				return false
			}
		}
	}
	return true
}

// TestEncodedControlModels round-trips the control-flow models through the
// encoder and the decoder: they load from bytes and run.
func TestEncodedControlModels(t *testing.T) {
	for i, b := range controlSeeds() {
		m, err := LoadBytes(onnx.Encode(b.model(17)), Options{})
		if err != nil {
			t.Fatalf("seed %d: %v", i, err)
		}
		if !boundedLoops(m, 1e4) {
			t.Fatalf("seed %d: loops not bounded", i)
		}
		var ins []*Tensor
		for _, vi := range m.Inputs() {
			tt := &Tensor{DType: vi.DType, Shape: vi.Shape}
			if vi.DType.IsInt() {
				tt.I = make([]int64, numel(vi.Shape))
			} else {
				tt.F = make([]float32, numel(vi.Shape))
			}
			ins = append(ins, tt)
		}
		if _, err := m.NewSession().Run(ins); err != nil {
			t.Fatalf("seed %d: %v", i, err)
		}
	}
}
