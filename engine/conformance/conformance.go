// Package conformance runs ONNX backend test directories (model.onnx plus
// test_data_set_N/input_K.pb and output_K.pb) against the engine.
package conformance

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/engine/onnx"
)

// Status is the outcome of one test.
type Status int

// Outcomes of a test.
const (
	Pass Status = iota
	Fail
	Unsupported
)

func (s Status) String() string {
	return [...]string{"PASS", "FAIL", "UNSUPPORTED"}[s]
}

// Result is the outcome of one test directory.
type Result struct {
	Name   string
	Dir    string
	Status Status
	Reason string
	// Category names why an UNSUPPORTED test is not run, for example
	// "sequence type" or "not implemented: Resize" (see Categorize).
	Category string
}

// Tolerances for float32 outputs: |got-want| <= Atol + Rtol*|want|.
const (
	Rtol = 1e-4
	Atol = 1e-5
)

// Summary counts results.
type Summary struct {
	Passed, Failed, Unsupported int
	Results                     []Result
	// Categories counts the unsupported tests by category.
	Categories map[string]int
}

// Run runs every test found under dirs (a directory holding model.onnx is
// one test; any other directory is searched one level deep), writes one
// line per test to w and the summary line last.
func Run(dirs []string, w io.Writer) (Summary, error) {
	s := Summary{Categories: map[string]int{}}
	var tests []string
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "model.onnx")); err == nil {
			tests = append(tests, d)
			continue
		}
		entries, err := os.ReadDir(d)
		if err != nil {
			return s, err
		}
		for _, e := range entries {
			if _, err := os.Stat(filepath.Join(d, e.Name(), "model.onnx")); err == nil {
				tests = append(tests, filepath.Join(d, e.Name()))
			}
		}
	}
	for _, t := range tests {
		r := RunTest(t)
		s.Results = append(s.Results, r)
		switch r.Status {
		case Pass:
			s.Passed++
			fmt.Fprintf(w, "PASS %s\n", r.Name)
		case Fail:
			s.Failed++
			fmt.Fprintf(w, "FAIL %s: %s\n", r.Name, r.Reason)
		case Unsupported:
			s.Unsupported++
			s.Categories[r.Category]++
			fmt.Fprintf(w, "UNSUPPORTED %s [%s]: %s\n", r.Name, r.Category, r.Reason)
		}
	}
	fmt.Fprintf(w, "conformance: %d passed, %d failed, %d unsupported\n", s.Passed, s.Failed, s.Unsupported)
	cats := make([]string, 0, len(s.Categories))
	for c := range s.Categories {
		cats = append(cats, c)
	}
	sort.Slice(cats, func(i, j int) bool {
		a, b := cats[i], cats[j]
		if s.Categories[a] != s.Categories[b] {
			return s.Categories[a] > s.Categories[b]
		}
		return a < b
	})
	for _, c := range cats {
		fmt.Fprintf(w, "  unsupported %d: %s\n", s.Categories[c], c)
	}
	return s, nil
}

// RunTest runs one test directory.
func RunTest(dir string) (r Result) {
	r = Result{Name: filepath.Base(dir), Dir: dir}
	defer func() {
		if p := recover(); p != nil {
			r.Status, r.Reason = Fail, fmt.Sprintf("panic: %v", p)
		}
	}()
	model, err := os.ReadFile(filepath.Join(dir, "model.onnx"))
	if err != nil {
		return fail(r, err)
	}
	sets, _ := filepath.Glob(filepath.Join(dir, "test_data_set_*"))
	sort.Strings(sets)
	if len(sets) == 0 {
		return fail(r, errors.New("no test_data_set_* directories"))
	}
	pm, err := onnx.Decode(model, onnx.Limits{})
	if err != nil {
		return fail(r, err)
	}
	if cat, why := Categorize(pm); cat != "" {
		return unsupported(r, cat, why)
	}
	declared := map[string]engine.DType{}
	for _, vi := range pm.Graph.Inputs {
		declared[vi.Name] = engine.DType(vi.ElemType)
	}
	var inputNames []string
	inits := map[string]bool{}
	for _, t := range pm.Graph.Initializers {
		inits[t.Name] = true
	}
	for _, vi := range pm.Graph.Inputs {
		if !inits[vi.Name] {
			inputNames = append(inputNames, vi.Name)
		}
	}
	for _, set := range sets {
		ins, err := readTensors(set, "input", len(inputNames))
		if err != nil {
			if engine.IsUnsupported(err) {
				return unsupported(r, ErrorCategory(err), err.Error())
			}
			return fail(r, fmt.Errorf("%s: %w", filepath.Base(set), err))
		}
		want, err := readTensors(set, "output", -1)
		if err != nil {
			if engine.IsUnsupported(err) {
				return unsupported(r, ErrorCategory(err), err.Error())
			}
			return fail(r, fmt.Errorf("%s: %w", filepath.Base(set), err))
		}
		if len(ins) != len(inputNames) {
			return fail(r, fmt.Errorf("%s: %d inputs for %d graph inputs", filepath.Base(set), len(ins), len(inputNames)))
		}
		opts := engine.Options{Name: "model.onnx", Constants: map[string]*engine.Tensor{}, InputShapes: map[string][]int{}}
		byName := map[string]*engine.Tensor{}
		for i, n := range inputNames {
			bfloat16Bits(ins[i], declared[n])
			byName[n] = ins[i]
			opts.InputShapes[n] = ins[i].Shape
		}
		var m *engine.Model
		for try := 0; ; try++ {
			m, err = engine.LoadBytes(model, opts)
			var ce *engine.ConstantInputError
			if errors.As(err, &ce) && try < len(inputNames) {
				if t, ok := byName[ce.Input]; ok {
					opts.Constants[ce.Input] = t
					continue
				}
				if len(opts.Constants) < len(inputNames) {
					// The value is computed from the inputs: bind them all,
					// which folds what depends on them.
					for n, t := range byName {
						opts.Constants[n] = t
					}
					continue
				}
			}
			break
		}
		if err != nil {
			if engine.IsUnsupported(err) {
				return unsupported(r, ErrorCategory(err), err.Error())
			}
			return fail(r, err)
		}
		var feed []*engine.Tensor
		for _, vi := range m.Inputs() {
			feed = append(feed, byName[vi.Name])
		}
		s := m.NewSession()
		for run := 0; run < 2; run++ { // the second run catches state left over
			got, err := s.Run(feed)
			if err != nil {
				return fail(r, err)
			}
			if len(got) != len(want) {
				return fail(r, fmt.Errorf("%d outputs, expected %d", len(got), len(want)))
			}
			for i := range got {
				bfloat16Bits(want[i], got[i].DType)
				rtol, atol := Tolerances(r.Name)
				if err := CompareWithin(got[i], want[i], rtol, atol); err != nil {
					return fail(r, fmt.Errorf("%s run %d output %d (%s): %w", filepath.Base(set), run+1, i, m.Outputs()[i].Name, err))
				}
			}
		}
	}
	r.Status = Pass
	return r
}

// bfloat16Bits converts a UINT16 tensor holding bfloat16 bits (how the
// ONNX backend tests store bfloat16 data) into a BFLOAT16 tensor when the
// model declares that type.
func bfloat16Bits(t *engine.Tensor, want engine.DType) {
	if want != engine.BFloat16 || t.DType != engine.Uint16 {
		return
	}
	t.F = make([]float32, len(t.I))
	for i, b := range t.I {
		t.F[i] = math.Float32frombits(uint32(b) << 16)
	}
	t.DType, t.I = engine.BFloat16, nil
}

func fail(r Result, err error) Result {
	r.Status, r.Reason = Fail, err.Error()
	return r
}

func unsupported(r Result, category, why string) Result {
	r.Status, r.Category, r.Reason = Unsupported, category, strings.TrimPrefix(why, "model.onnx: ")
	return r
}

// readTensors reads PREFIX_0.pb, PREFIX_1.pb, ... from dir (n of them, or
// as many as exist when n < 0).
func readTensors(dir, prefix string, n int) ([]*engine.Tensor, error) {
	var out []*engine.Tensor
	for i := 0; n < 0 || i < n; i++ {
		path := filepath.Join(dir, fmt.Sprintf("%s_%d.pb", prefix, i))
		data, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) && n < 0 {
			break
		}
		if err != nil {
			return nil, err
		}
		t, err := onnx.DecodeTensor(data, onnx.Limits{})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
		}
		et, err := engine.FromONNX(t)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
		}
		out = append(out, et)
	}
	return out, nil
}

// relaxed lists the tests whose expected data are less precise than Rtol
// allows, with the relative tolerance they get instead: the ONNX backend
// runner's own default, 1e-3.
//   - The window functions, plain and expanded: this test data (onnx 1.12)
//     was generated with pi written as 3.1415 while the spec (and the
//     expanded tests' own function bodies) use pi (onnx/onnx#5316,
//     regenerated upstream later); the expected windows are off by about
//     2e-4 and not even symmetric.
//   - gridsample_bicubic and roialign_*: inputs and outputs are written in
//     the ONNX sources as literals rounded to four decimals
//     (onnx/backend/test/case/node/gridsample.py, roialign.py).
var relaxed = map[string]float64{
	"test_gridsample_bicubic": 1e-3, "test_roialign_aligned_false": 1e-3, "test_roialign_aligned_true": 1e-3,
	"test_blackmanwindow_expanded": 1e-3, "test_blackmanwindow_symmetric_expanded": 1e-3,
	"test_hammingwindow_expanded": 1e-3, "test_hammingwindow_symmetric_expanded": 1e-3,
	"test_hannwindow_expanded": 1e-3, "test_hannwindow_symmetric_expanded": 1e-3,
	"test_blackmanwindow": 1e-3, "test_blackmanwindow_symmetric": 1e-3,
	"test_hammingwindow": 1e-3, "test_hammingwindow_symmetric": 1e-3,
	"test_hannwindow": 1e-3, "test_hannwindow_symmetric": 1e-3,
}

// Tolerances returns the tolerances a test's float outputs are checked
// with: Rtol and Atol, or a relaxed rtol for the tests listed in relaxed.
func Tolerances(test string) (rtol, atol float64) {
	if r, ok := relaxed[test]; ok {
		return r, Atol
	}
	return Rtol, Atol
}

// Compare checks a result against the expected tensor: same type class and
// shape, integers equal, floats within the tolerances (NaN matches NaN).
func Compare(got, want *engine.Tensor) error { return CompareWithin(got, want, Rtol, Atol) }

// CompareWithin is Compare with the given tolerances.
func CompareWithin(got, want *engine.Tensor, rtol, atol float64) error {
	if !equal(got.Shape, want.Shape) {
		return fmt.Errorf("shape %v, expected %v", got.Shape, want.Shape)
	}
	if want.DType.IsInt() != got.DType.IsInt() {
		return fmt.Errorf("type %v, expected %v", got.DType, want.DType)
	}
	if want.DType.IsInt() {
		for i := range want.I {
			if got.I[i] != want.I[i] {
				return fmt.Errorf("element %d is %d, expected %d", i, got.I[i], want.I[i])
			}
		}
		return nil
	}
	for i := range want.F {
		g, w := float64(got.F[i]), float64(want.F[i])
		if math.IsNaN(w) && math.IsNaN(g) || g == w {
			continue
		}
		if math.Abs(g-w) > atol+rtol*math.Abs(w) {
			return fmt.Errorf("element %d is %g, expected %g", i, g, w)
		}
	}
	return nil
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
