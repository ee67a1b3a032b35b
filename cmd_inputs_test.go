package main

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kagen-ai/kagen/engine/onnx"
)

// writeTimeModel writes a model whose input x is [1, time, 4], time
// symbolic: y = x W with W [4, 2].
func writeTimeModel(t *testing.T, dir string) string {
	t.Helper()
	m := &onnx.Model{Opsets: map[string]int64{"": 17}, Graph: &onnx.Graph{
		Inputs: []*onnx.ValueInfo{{Name: "x", ElemType: 1, HasShape: true, IsTensor: true,
			Dims: []onnx.Dim{{Value: 1, Known: true}, {Param: "time"}, {Value: 4, Known: true}}}},
		Initializers: []*onnx.Tensor{{Name: "w", DataType: 1, Dims: []int64{4, 2}, Floats: []float32{1, 0, 0, 1, 1, 0, 0, 1}}},
		Nodes:        []*onnx.Node{{Name: "mm", OpType: "MatMul", Inputs: []string{"x", "w"}, Outputs: []string{"y"}}},
		Outputs:      []*onnx.ValueInfo{{Name: "y", IsTensor: true}},
	}}
	p := filepath.Join(dir, "time.onnx")
	if err := os.WriteFile(p, onnx.Encode(m), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// writeNpy writes a float32 .npy file.
func writeNpy(t *testing.T, path string, shape []int, data []float32) {
	t.Helper()
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = fmt.Sprint(d)
	}
	h := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }", strings.Join(dims, ", "))
	for (10+len(h)+1)%64 != 0 {
		h += " "
	}
	b := append([]byte("\x93NUMPY\x01\x00"), 0, 0)
	binary.LittleEndian.PutUint16(b[8:], uint16(len(h)+1))
	b = append(append(b, h...), '\n')
	for _, v := range data {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDimAndInputFlags(t *testing.T) {
	dir := t.TempDir()
	model := writeTimeModel(t, dir)
	npy := filepath.Join(dir, "x.npy")
	writeNpy(t, npy, []int{1, 3, 4}, make([]float32, 12))
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"time defaults to 1", []string{"inspect", model}, 0, "input  x FLOAT [1 1 4]"},
		{"--dim binds time", []string{"inspect", model, "--dim", "time=7"}, 0, "output y FLOAT [1 7 2]"},
		{"--input gives the shape", []string{"inspect", model, "--input", "x=" + npy}, 0, "input  x FLOAT [1 3 4]"},
		{"bench on the file", []string{"bench", model, "--input", "x=" + npy, "--runs", "3"}, 0, "3 runs"},
		{"binding without a size", []string{"inspect", model, "--dim", "time"}, 2, "--dim: dimension binding \"time\": expected NAME=N"},
		{"unknown dimension", []string{"inspect", model, "--dim", "frames=3"}, 1, "frames"},
		{"unknown input", []string{"bench", model, "--input", "z=" + npy}, 2, "the model has no input z"},
		{"missing file", []string{"bench", model, "--input", "x=" + filepath.Join(dir, "none.npy")}, 2, "none.npy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCmd(tc.args...)
			if code != tc.code || !strings.Contains(out+errs, tc.want) {
				t.Fatalf("exit %d (want %d), want %q in\n%s%s", code, tc.code, tc.want, out, errs)
			}
		})
	}
}
