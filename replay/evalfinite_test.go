package replay

import (
	"math"
	"strings"
	"testing"

	"github.com/kagen-ai/kagen/engine"
)

// nanKernel writes NaN into every output: a broken model or knob.
type nanKernel struct{}

func (nanKernel) Run(_ *engine.Exec, _, out []*engine.Tensor) {
	for _, t := range out {
		for i := range t.F {
			t.F[i] = float32(math.NaN())
		}
	}
}

// nanStep breaks one step.
type nanStep int

func (s nanStep) Kernel(step int) engine.Kernel {
	if step == int(s) {
		return nanKernel{}
	}
	return nil
}

// TestEvaluateCountsNonFinite is #19 item 19 for eval: a model whose
// outputs are NaN was scored as if it predicted a class, with no word.
// Every such window now counts as wrong and the first is named, with the
// node that produced the NaN.
func TestEvaluateCountsNonFinite(t *testing.T) {
	m, err := engine.LoadFile("../models/har.onnx", engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	spec, err := SpecFromModel(m)
	if err != nil {
		t.Fatal(err)
	}
	traces := DiskTraces([]string{"../demo/data/har/s17_01_sp.csv"})
	step := m.Steps() - 1
	for step > 0 && m.Nodes()[step].View {
		step--
	}
	bad := m.Nodes()[step].Name
	for _, tc := range []struct {
		name string
		sel  engine.Selector
		nan  bool
	}{{"exact", nil, false}, {"NaN outputs", nanStep(step), true}} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Evaluate(m, spec, traces, EvalOptions{Selector: tc.sel})
			if err != nil {
				t.Fatal(err)
			}
			if !tc.nan {
				if r.NonFinite != 0 || r.FirstNonFinite != "" {
					t.Fatalf("exact run: %d non-finite windows (%q)", r.NonFinite, r.FirstNonFinite)
				}
				return
			}
			if r.NonFinite != r.N || r.N == 0 || r.Correct != 0 || r.Accuracy != 0 {
				t.Fatalf("%d of %d windows non-finite, %d correct, accuracy %v; want all non-finite and none correct", r.NonFinite, r.N, r.Correct, r.Accuracy)
			}
			if !strings.Contains(r.FirstNonFinite, "s17_01_sp.csv window") || !strings.Contains(r.FirstNonFinite, bad) {
				t.Fatalf("first non-finite %q does not name the window and the node %q", r.FirstNonFinite, bad)
			}
			var sb strings.Builder
			r.WriteText(&sb, "har")
			if !strings.Contains(sb.String(), "warning: ") {
				t.Fatalf("the text report does not warn:\n%s", sb.String())
			}
		})
	}
}
