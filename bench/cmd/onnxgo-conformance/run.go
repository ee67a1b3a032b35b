package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/engine/conformance"
	konnx "github.com/kagen-ai/kagen/engine/onnx"
	onnxgo "github.com/owulveryck/onnx-go"
	"github.com/owulveryck/onnx-go/backend/x/gorgonnx"
	"gorgonia.org/tensor"
)

// maxFile bounds the files a test reads (the largest model or tensor of
// the Debian backend test data is a few MB).
const maxFile = 256 << 20

// runTest runs one test directory through an engine (see the package doc
// for how it is judged). A panic fails the test.
func runTest(eng engineRunner, dir string) (r result) {
	r = result{Name: filepath.Base(dir)}
	defer func() {
		if p := recover(); p != nil {
			r.Status, r.Reason, r.SecondRun = "FAIL", oneLine(fmt.Sprintf("panic: %v", p)), false
		}
	}()
	model, err := readFile(filepath.Join(dir, "model.onnx"))
	if err != nil {
		return failed(r, err)
	}
	sets, _ := filepath.Glob(filepath.Join(dir, "test_data_set_*"))
	sort.Strings(sets)
	if len(sets) == 0 {
		return failed(r, errors.New("no test_data_set_* directories"))
	}
	// kagen's decoder names the graph's inputs and tells the tests no
	// engine of this comparison runs (sequences, strings, training, ...).
	pm, err := konnx.Decode(model, konnx.Limits{})
	if err != nil {
		return failed(r, fmt.Errorf("model.onnx: %w", err))
	}
	if cat, why := conformance.Categorize(pm); intrinsic(cat) {
		r.Status, r.Category, r.Reason = "UNSUPPORTED", cat, why
		return r
	}
	inits := map[string]bool{}
	for _, t := range pm.Graph.Initializers {
		inits[t.Name] = true
	}
	var inputNames []string
	for _, vi := range pm.Graph.Inputs {
		if !inits[vi.Name] {
			inputNames = append(inputNames, vi.Name)
		}
	}
	rtol, atol := conformance.Tolerances(r.Name)
	for _, set := range sets {
		want, err := readExpected(set)
		if engine.IsUnsupported(err) {
			// A type kagen's conformance counts as unsupported (UINT64).
			r.Status, r.Category, r.Reason = "UNSUPPORTED", conformance.ErrorCategory(err), oneLine(err.Error())
			return r
		}
		if err != nil {
			return failed(r, fmt.Errorf("%s: %w", filepath.Base(set), err))
		}
		run, done, err := eng.load(model, pm, inputNames)
		if err != nil {
			return eng.judged(r, err)
		}
		for i := 1; i <= 2; i++ { // the second run catches state left over
			got, err := run(set)
			if err != nil {
				done()
				return eng.judged(r, err)
			}
			if len(got) != len(want) {
				done()
				return failed(r, fmt.Errorf("%d outputs, expected %d", len(got), len(want)))
			}
			for k := range got {
				if err := conformance.CompareWithin(got[k], want[k], rtol, atol); err != nil {
					done()
					r = failed(r, fmt.Errorf("%s run %d output %d: %w", filepath.Base(set), i, k, err))
					r.SecondRun = i == 2
					return r
				}
			}
		}
		done()
	}
	r.Status = "PASS"
	return r
}

// intrinsic reports whether a category of conformance.Categorize is one
// that rules a test out for any engine of this comparison (value types,
// training, randomness, operator domains), rather than an operator kagen
// lacks: those tests are left for onnx-go to judge.
func intrinsic(cat string) bool {
	switch {
	case cat == "":
		return false
	case cat == conformance.CatSequence, cat == conformance.CatOptional, cat == conformance.CatString,
		cat == conformance.CatTraining, cat == conformance.CatRandom, cat == "out of scope: map type":
		return true
	case strings.HasPrefix(cat, "out of scope: ") && strings.Contains(cat, "."):
		return true // another operator domain (ai.onnx.ml, ...)
	}
	return false
}

// engineRunner is one engine under test.
type engineRunner struct {
	// load prepares a model; run runs it once on a data set's inputs and
	// returns its outputs in graph order; done releases it.
	load func(model []byte, pm *konnx.Model, inputNames []string) (run func(set string) ([]*engine.Tensor, error), done func(), err error)
	// judged classifies the engine's errors (UNSUPPORTED or FAIL).
	judged func(r result, err error) result
}

var onnxgoRunner = engineRunner{load: loadOnnxGo, judged: judged}

// loadOnnxGo decodes the model with onnx-go into a Gorgonia backend.
func loadOnnxGo(model []byte, _ *konnx.Model, inputNames []string) (func(string) ([]*engine.Tensor, error), func(), error) {
	backend := gorgonnx.NewGraph()
	m := onnxgo.NewModel(backend)
	if err := m.UnmarshalBinary(model); err != nil {
		return nil, nil, err
	}
	run := func(set string) ([]*engine.Tensor, error) {
		if err := setInputs(m, set, inputNames); err != nil {
			return nil, err
		}
		if err := backend.Run(); err != nil {
			return nil, err
		}
		ts, err := m.GetOutputTensors()
		if err != nil {
			return nil, err
		}
		out := make([]*engine.Tensor, len(ts))
		for i, t := range ts {
			if out[i], err = fromGorgonia(t); err != nil {
				return nil, fmt.Errorf("output %d: %w", i, err)
			}
		}
		return out, nil
	}
	return run, func() {}, nil
}

// setInputs reads the inputs of a data set with onnx-go's own tensor
// decoder and hands them to the model's input nodes by name.
func setInputs(m *onnxgo.Model, set string, names []string) error {
	for i, name := range names {
		path := filepath.Join(set, fmt.Sprintf("input_%d.pb", i))
		b, err := readFile(path)
		if err != nil {
			return err
		}
		t, err := onnxgo.NewTensor(b)
		if err != nil {
			return fmt.Errorf("%s: %w", filepath.Base(path), err)
		}
		n, ok := m.GetNodeByName(name)
		if !ok {
			return fmt.Errorf("onnx-go has no node for input %q", name)
		}
		dc, ok := n.(onnxgo.DataCarrier)
		if !ok {
			return fmt.Errorf("onnx-go's node for input %q carries no data", name)
		}
		if err := dc.SetTensor(t); err != nil {
			return fmt.Errorf("input %q: %w", name, err)
		}
	}
	return nil
}

// readExpected reads output_0.pb, output_1.pb, ... with kagen's decoder.
func readExpected(set string) ([]*engine.Tensor, error) {
	var out []*engine.Tensor
	for i := 0; ; i++ {
		path := filepath.Join(set, fmt.Sprintf("output_%d.pb", i))
		b, err := readFile(path)
		if errors.Is(err, os.ErrNotExist) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		t, err := konnx.DecodeTensor(b, konnx.Limits{})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
		}
		et, err := engine.FromONNX(t)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
		}
		out = append(out, et)
	}
}

// fromGorgonia converts an onnx-go output into kagen's tensor type for
// conformance.CompareWithin: floating elements in F, integer and boolean
// ones in I.
func fromGorgonia(t tensor.Tensor) (*engine.Tensor, error) {
	if t == nil {
		return nil, errors.New("no value")
	}
	if d, ok := t.(*tensor.Dense); ok && d.IsMaterializable() {
		t = d.Materialize()
	}
	out := &engine.Tensor{Shape: append([]int{}, t.Shape()...)}
	v := reflect.ValueOf(t.Data())
	n := 1
	if v.Kind() == reflect.Slice {
		n = v.Len()
	}
	at := func(i int) reflect.Value {
		if v.Kind() == reflect.Slice {
			return v.Index(i)
		}
		return v
	}
	elem := v.Kind()
	if elem == reflect.Slice {
		elem = v.Type().Elem().Kind()
	}
	switch elem {
	case reflect.Float32, reflect.Float64:
		out.DType = engine.Float32
		out.F = make([]float32, n)
		for i := range out.F {
			out.F[i] = float32(at(i).Float())
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		out.DType = engine.Int64
		out.I = make([]int64, n)
		for i := range out.I {
			out.I[i] = at(i).Int()
		}
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		out.DType = engine.Int64
		out.I = make([]int64, n)
		for i := range out.I {
			out.I[i] = int64(at(i).Uint())
		}
	case reflect.Bool:
		out.DType = engine.Bool
		out.I = make([]int64, n)
		for i := range out.I {
			if at(i).Bool() {
				out.I[i] = 1
			}
		}
	default:
		return nil, fmt.Errorf("element type %v", t.Dtype())
	}
	if len(out.Shape) == 0 && n != 1 {
		return nil, fmt.Errorf("scalar shape with %d elements", n)
	}
	if want := numel(out.Shape); want != n {
		return nil, fmt.Errorf("shape %v with %d elements", out.Shape, n)
	}
	return out, nil
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// judged turns an onnx-go error into UNSUPPORTED when onnx-go says it
// lacks an operator, an attribute or a type (its ErrNotImplemented, its
// "Not Yet Implemented" for tensor types it cannot decode), and into FAIL
// otherwise: a tensor of a type it claims (BOOL) that it fails to decode
// is a failure.
func judged(r result, err error) result {
	var ni *onnxgo.ErrNotImplemented
	msg := oneLine(err.Error())
	switch {
	case errors.As(err, &ni):
		cat := "not implemented: " + ni.Operator
		if ni.AttributeName != "" {
			cat += "/" + ni.AttributeName
		}
		r.Status, r.Category, r.Reason = "UNSUPPORTED", cat, msg
	case strings.Contains(strings.ToLower(msg), "not yet implemented") || strings.Contains(msg, "Unknown input type"):
		r.Status, r.Category, r.Reason = "UNSUPPORTED", "type", msg
	default:
		r.Status, r.Reason = "FAIL", msg
	}
	return r
}

func failed(r result, err error) result {
	r.Status, r.Reason = "FAIL", oneLine(err.Error())
	return r
}

// oneLine keeps a reason on one line and under 300 bytes (onnx-go's errors
// may print whole tensors).
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

// readFile reads a regular file of at most maxFile bytes.
func readFile(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	if st.Size() > maxFile {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d allowed", path, st.Size(), maxFile)
	}
	return os.ReadFile(path)
}
