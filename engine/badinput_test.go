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
	for _, p := range seeds {
		if data, err := os.ReadFile(p); err == nil && len(data) < 1<<16 {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := LoadBytes(data, Options{MaxBytes: 1 << 24})
		if err != nil {
			return
		}
		if m.ArenaBytes() > 1<<24 || m.MACs() > 1e7 {
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
