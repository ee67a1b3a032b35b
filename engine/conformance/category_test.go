package conformance

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/engine/onnx"
)

func TestCategorize(t *testing.T) {
	tensor := func(name string, dt engine.DType) *onnx.ValueInfo {
		return &onnx.ValueInfo{Name: name, ElemType: int32(dt), IsTensor: true, Kind: onnx.TypeTensor}
	}
	model := func(ins []*onnx.ValueInfo, nodes ...*onnx.Node) *onnx.Model {
		return &onnx.Model{Opsets: map[string]int64{"": 17}, Graph: &onnx.Graph{Inputs: ins, Nodes: nodes,
			Outputs: []*onnx.ValueInfo{tensor("y", engine.Float32)}}}
	}
	x := []*onnx.ValueInfo{tensor("x", engine.Float32)}
	relu := &onnx.Node{OpType: "Relu", Inputs: []string{"x"}, Outputs: []string{"y"}}
	inBranch := func(n *onnx.Node) *onnx.Node {
		return &onnx.Node{OpType: "If", Attrs: []*onnx.Attribute{{Name: "then_branch", Type: onnx.AttrGraph, HasGraph: true, G: &onnx.Graph{Nodes: []*onnx.Node{n}}}}}
	}
	cases := []struct {
		m    *onnx.Model
		want string
	}{
		{model(x, relu), ""},
		{model([]*onnx.ValueInfo{{Name: "s", Kind: onnx.TypeSequence}}, relu), CatSequence},
		{model([]*onnx.ValueInfo{{Name: "o", Kind: onnx.TypeOptional}}, relu), CatOptional},
		{model([]*onnx.ValueInfo{tensor("s", engine.String)}, relu), CatString},
		{model(x, &onnx.Node{OpType: "Cast", Attrs: []*onnx.Attribute{{Name: "to", Type: onnx.AttrInt, I: int64(engine.String)}}}), CatString},
		{model(x, &onnx.Node{OpType: "Adam", Domain: "ai.onnx.preview.training"}), CatTraining},
		{model(x, &onnx.Node{OpType: "RandomNormalLike"}), CatRandom},
		{model(x, inBranch(&onnx.Node{OpType: "SequenceConstruct"})), CatSequence},
		{model(x, &onnx.Node{OpType: "Frobnicate"}), "not implemented: Frobnicate"},
		{model(x, inBranch(&onnx.Node{OpType: "Frobnicate"})), "not implemented: Frobnicate"},
		{model(x, &onnx.Node{OpType: "TfIdfVectorizer"}), "out of scope: TfIdfVectorizer"},
		{model(x, &onnx.Node{OpType: "LabelEncoder", Domain: "ai.onnx.ml"}), "out of scope: ai.onnx.ml.LabelEncoder"},
		// Types outrank missing operators.
		{model([]*onnx.ValueInfo{{Name: "s", Kind: onnx.TypeSequence}}, &onnx.Node{OpType: "Frobnicate"}), CatSequence},
	}
	for i, tc := range cases {
		if got, why := Categorize(tc.m); got != tc.want || (got != "" && why == "") {
			t.Errorf("case %d: category %q (%q), want %q", i, got, why, tc.want)
		}
	}
}

func TestErrorCategory(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{&engine.UnsupportedError{Op: "Dropout", What: "training_mode (random masks)"}, CatRandom},
		{&engine.UnsupportedError{Op: "BatchNormalization", What: "training_mode=1"}, CatTraining},
		{fmt.Errorf("x: %w", &engine.UnsupportedError{Op: "graph", What: `non-tensor input "s" (sequence)`}), CatSequence},
		{&engine.UnsupportedError{Op: "Scan", What: "opset 8 form (batch axis)"}, "out of scope: Scan/opset 8"},
		{&engine.UnsupportedError{Op: "Conv", What: "3-D"}, "not implemented: Conv/3-D"},
		{&engine.UnsupportedError{Op: "Resize", What: "mode=cubic"}, "not implemented: Resize/mode"},
		{&engine.UnsupportedError{Op: "Frobnicate"}, "not implemented: Frobnicate"},
		{&engine.UnsupportedError{Op: "tensor", What: "type UINT64"}, "out of scope: UINT64 type"},
	}
	for _, tc := range cases {
		if got := ErrorCategory(tc.err); got != tc.want {
			t.Errorf("%v: category %q, want %q", tc.err, got, tc.want)
		}
	}
}

func TestRunPrintsCategories(t *testing.T) {
	var sb strings.Builder
	dirs := []string{testdata + "/node/test_abs", testdata + "/node/test_bernoulli", testdata + "/node/test_relu"}
	for _, d := range dirs {
		if _, err := onnxDirExists(d); err != nil {
			t.Skip(err)
		}
	}
	got, err := Run(dirs, &sb)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(sb.String()), "\n")
	summary := fmt.Sprintf("conformance: %d passed, %d failed, %d unsupported", got.Passed, got.Failed, got.Unsupported)
	found := false
	for i, l := range lines {
		if l == summary {
			found = true
			for _, c := range lines[i+1:] {
				if !strings.HasPrefix(c, "  unsupported ") {
					t.Errorf("line after the summary: %q", c)
				}
			}
		}
		if strings.HasPrefix(l, "UNSUPPORTED test_bernoulli") && !strings.Contains(l, "[random]") {
			t.Errorf("line %q lacks its category", l)
		}
	}
	if !found || got.Categories[CatRandom] != 1 {
		t.Errorf("output:\n%s", sb.String())
	}
}

func onnxDirExists(d string) (bool, error) {
	_, err := os.Stat(d)
	return err == nil, err
}
