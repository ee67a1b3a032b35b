package replay

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/internal/readfile"
)

// SpecFromModel reads the front-end spec stored in a model's metadata_props
// under SpecKey and checks it against the model's input and output shapes.
func SpecFromModel(m *engine.Model) (*Spec, error) {
	raw, ok := m.Metadata(SpecKey)
	if !ok {
		return nil, fmt.Errorf("model has no front-end spec (metadata_props key %q), which says how traces become its input: the training scripts (tools/train) write it into the model; kagen bench and inspect run a model without one", SpecKey)
	}
	s, err := ParseSpec([]byte(raw))
	if err != nil {
		return nil, fmt.Errorf("model metadata %q: %w", SpecKey, err)
	}
	if err := CheckModel(s, m); err != nil {
		return nil, err
	}
	return s, nil
}

// CheckModel checks that a model takes the spec's input shape and has one
// output per class.
func CheckModel(s *Spec, m *engine.Model) error {
	ins, outs := m.Inputs(), m.Outputs()
	if len(ins) != 1 {
		return fmt.Errorf("model has %d inputs; a front-end feeds exactly one", len(ins))
	}
	want := s.InputShape()
	if fmt.Sprint(ins[0].Shape) != fmt.Sprint(want) {
		return fmt.Errorf("model input %q has shape %v, the front-end produces %v", ins[0].Name, ins[0].Shape, want)
	}
	if len(outs) == 0 || outs[0].Shape[len(outs[0].Shape)-1] != len(s.Classes) || numel(outs[0].Shape) != len(s.Classes) {
		return fmt.Errorf("model output %v does not have one score per class (%d classes)", outs[0].Shape, len(s.Classes))
	}
	return nil
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// maxSpecBytes bounds a front-end spec file.
const maxSpecBytes = 1 << 20

// SpecFromFile reads a front-end spec from a .json file (a regular file
// of at most 1 MiB) or from a model's metadata_props (any other file is
// loaded as an ONNX model).
func SpecFromFile(path string) (*Spec, error) {
	if !strings.EqualFold(filepath.Ext(path), ".json") {
		m, err := engine.LoadFile(path, engine.Options{})
		if err != nil {
			return nil, fmt.Errorf("front-end spec: %w", err)
		}
		s, err := SpecFromModel(m)
		if err != nil {
			return nil, fmt.Errorf("front-end spec of %s: %w", path, err)
		}
		return s, nil
	}
	data, err := readfile.Regular(path, maxSpecBytes)
	if err != nil {
		return nil, fmt.Errorf("front-end spec: %w", err)
	}
	s, err := ParseSpec(data)
	if err != nil {
		return nil, fmt.Errorf("front-end spec %s: %w", path, err)
	}
	return s, nil
}

// SpecFor returns the front-end spec at specPath (a JSON file, or a model
// holding one), checked against m, or m's own when specPath is empty:
// what --spec means for every command that takes a model.
func SpecFor(m *engine.Model, specPath string) (*Spec, error) {
	if specPath == "" {
		return SpecFromModel(m)
	}
	spec, err := SpecFromFile(specPath)
	if err != nil {
		return nil, fmt.Errorf("--spec: %w", err)
	}
	if err := CheckModel(spec, m); err != nil {
		return nil, fmt.Errorf("--spec %s: %w", specPath, err)
	}
	return spec, nil
}
