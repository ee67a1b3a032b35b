package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/engine/conformance"
	onnxgo "github.com/owulveryck/onnx-go"
	"gorgonia.org/tensor"
)

const testdata = "/usr/share/libonnx-testdata/data"

// A few Debian backend tests with known outcomes: onnx-go declares BOOL
// tensors but cannot decode the test's (test_and2d: a failure) and says it
// has not implemented UINT8 ones yet (test_bitshift_left_uint8: unsupported).
func TestRunTest(t *testing.T) {
	cases := []struct {
		test, status, category string
		secondRun              bool
	}{
		{"test_relu", "PASS", "", false},
		{"test_add_bcast", "PASS", "", false},
		{"test_shape", "UNSUPPORTED", "not implemented: Shape", false},
		{"test_bernoulli", "UNSUPPORTED", conformance.CatRandom, false},
		{"test_and2d", "FAIL", "", false},
		{"test_bitshift_left_uint8", "UNSUPPORTED", "type", false},
	}
	for _, tc := range cases {
		dir := filepath.Join(testdata, "node", tc.test)
		if _, err := os.Stat(dir); err != nil {
			t.Skip("the ONNX backend test data is not installed (apt-get install libonnx-testdata)")
		}
		r := runTest(onnxgoRunner, dir)
		if r.Status != tc.status || r.Category != tc.category || r.SecondRun != tc.secondRun {
			t.Errorf("%s: %+v, want %s [%s] second run %v", tc.test, r, tc.status, tc.category, tc.secondRun)
		}
	}
}

func TestRunTestBadDirectory(t *testing.T) {
	dir := t.TempDir()
	if r := runTest(onnxgoRunner, dir); r.Status != "FAIL" || !strings.Contains(r.Reason, "model.onnx") {
		t.Errorf("no model: %+v", r)
	}
	os.WriteFile(filepath.Join(dir, "model.onnx"), []byte("garbage"), 0o644)
	os.Mkdir(filepath.Join(dir, "test_data_set_0"), 0o755)
	if r := runTest(onnxgoRunner, dir); r.Status != "FAIL" {
		t.Errorf("garbage model: %+v", r)
	}
	os.Remove(filepath.Join(dir, "model.onnx"))
	os.Mkdir(filepath.Join(dir, "model.onnx"), 0o755)
	if r := runTest(onnxgoRunner, dir); r.Status != "FAIL" || !strings.Contains(r.Reason, "not a regular file") {
		t.Errorf("directory as model: %+v", r)
	}
}

func TestIntrinsic(t *testing.T) {
	for cat, want := range map[string]bool{
		"": false, conformance.CatSequence: true, conformance.CatString: true, conformance.CatRandom: true,
		conformance.CatTraining: true, conformance.CatOptional: true, "out of scope: map type": true,
		"out of scope: ai.onnx.ml.LabelEncoder": true, "out of scope: TfIdfVectorizer": false,
		"not implemented: Resize": false, "out of scope: Scan/opset 8": false,
	} {
		if got := intrinsic(cat); got != want {
			t.Errorf("intrinsic(%q) = %v", cat, got)
		}
	}
}

func TestJudged(t *testing.T) {
	cases := []struct {
		err              error
		status, category string
	}{
		{&onnxgo.ErrNotImplemented{Operator: "Shape"}, "UNSUPPORTED", "not implemented: Shape"},
		{fmt.Errorf("node x: %w", &onnxgo.ErrNotImplemented{Operator: "Conv", AttributeName: "pads"}), "UNSUPPORTED", "not implemented: Conv/pads"},
		{errors.New("type: FLOAT16: Not Yet Implemented"), "UNSUPPORTED", "type"},
		{errors.New("shape mismatch"), "FAIL", ""},
	}
	for _, tc := range cases {
		r := judged(result{Name: "t"}, tc.err)
		if r.Status != tc.status || r.Category != tc.category {
			t.Errorf("%v: %+v", tc.err, r)
		}
	}
}

func TestFromGorgonia(t *testing.T) {
	cases := []struct {
		in    tensor.Tensor
		want  engine.Tensor
		error bool
	}{
		{tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float32{1, 2, 3, 4})), engine.Tensor{DType: engine.Float32, Shape: []int{2, 2}, F: []float32{1, 2, 3, 4}}, false},
		{tensor.New(tensor.WithShape(3), tensor.WithBacking([]float64{1, 2, 3})), engine.Tensor{DType: engine.Float32, Shape: []int{3}, F: []float32{1, 2, 3}}, false},
		{tensor.New(tensor.WithShape(2), tensor.WithBacking([]int32{-1, 7})), engine.Tensor{DType: engine.Int64, Shape: []int{2}, I: []int64{-1, 7}}, false},
		{tensor.New(tensor.WithShape(2), tensor.WithBacking([]uint8{0, 255})), engine.Tensor{DType: engine.Int64, Shape: []int{2}, I: []int64{0, 255}}, false},
		{tensor.New(tensor.WithShape(2), tensor.WithBacking([]bool{true, false})), engine.Tensor{DType: engine.Bool, Shape: []int{2}, I: []int64{1, 0}}, false},
		{tensor.New(tensor.FromScalar(float32(2.5))), engine.Tensor{DType: engine.Float32, Shape: []int{}, F: []float32{2.5}}, false},
		{tensor.New(tensor.WithShape(2), tensor.WithBacking([]string{"a", "b"})), engine.Tensor{}, true},
		{nil, engine.Tensor{}, true},
	}
	for i, tc := range cases {
		got, err := fromGorgonia(tc.in)
		if tc.error {
			if err == nil {
				t.Errorf("case %d: no error", i)
			}
			continue
		}
		if err != nil {
			t.Errorf("case %d: %v", i, err)
			continue
		}
		if err := conformance.CompareWithin(got, &tc.want, 0, 0); err != nil || got.DType != tc.want.DType {
			t.Errorf("case %d: got %v (%v), want %v: %v", i, got, got.DType, tc.want, err)
		}
	}
	// A transposed view is read in its logical order.
	d := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float32{1, 2, 3, 4, 5, 6}))
	if err := d.T(); err != nil {
		t.Fatal(err)
	}
	got, err := fromGorgonia(d)
	want := &engine.Tensor{DType: engine.Float32, Shape: []int{3, 2}, F: []float32{1, 4, 2, 5, 3, 6}}
	if err != nil || conformance.CompareWithin(got, want, 0, 0) != nil {
		t.Errorf("transposed: %v %v", got, err)
	}
}

// runChild counts a test whose process hangs or dies as failed and goes on
// with the next one in a new process.
func TestRunAllCrashAndTimeout(t *testing.T) {
	dir := t.TempDir()
	// A fake test process: "ok" tests pass, "hang" sleeps, "die" exits.
	script := `#!/bin/sh
while read -r d; do
  case "$d" in
    *hang) sleep 30 ;;
    *die) exit 3 ;;
    *) echo "{\"name\":\"$(basename "$d")\",\"status\":\"PASS\"}" ;;
  esac
done
`
	self := filepath.Join(dir, "fake")
	if err := os.WriteFile(self, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []string{"a/ok1", "a/hang", "a/ok2", "a/die", "a/ok3"}
	start := time.Now()
	rs := runAll(self, []string{"-child"}, tests, 500*time.Millisecond)
	if time.Since(start) > 20*time.Second {
		t.Errorf("took %v", time.Since(start))
	}
	want := []string{"PASS ok1", "FAIL hang: no result after 500ms (time-out)", "PASS ok2", "FAIL die: the test process ended without a result (crash)", "PASS ok3"}
	if len(rs) != len(want) {
		t.Fatalf("%d results: %+v", len(rs), rs)
	}
	for i, r := range rs {
		if r.line() != want[i] {
			t.Errorf("result %d: %q, want %q", i, r.line(), want[i])
		}
	}
	s := summarise(rs)
	if s.passed != 3 || s.failed != 2 || s.lost != 2 {
		t.Errorf("summary %+v", s)
	}
}
