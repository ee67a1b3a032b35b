package replay

import (
	"fmt"

	"github.com/kagen-ai/kagen/engine"
)

// SpecOptions describes a new front-end spec: a task's default with the
// fields given here changed (zero values keep the default).
type SpecOptions struct {
	Task              string // TaskHAR or TaskKWS
	Rate, Window, Hop int
	Classes, Channels []string
	Features          string // the feature type
}

// NewSpec returns the task's default spec with o applied, validated:
// what `kagen spec --task` writes.
func NewSpec(o SpecOptions) (*Spec, error) {
	var s *Spec
	switch o.Task {
	case TaskHAR:
		s = DefaultHARSpec()
	case TaskKWS:
		s = DefaultKWSSpec()
	default:
		return nil, fmt.Errorf("task %q, expected har or kws", o.Task)
	}
	if o.Rate != 0 {
		s.SampleRate = o.Rate
	}
	if o.Window != 0 {
		s.Window = o.Window
	}
	if o.Hop != 0 {
		s.Hop = o.Hop
	}
	if len(o.Classes) != 0 {
		s.Classes = o.Classes
	}
	if len(o.Channels) != 0 {
		s.Channels = o.Channels
	}
	if o.Features != "" {
		s.Features.Type = o.Features
	}
	s.Shape = s.InputShape()
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}

// AttachToModel is AttachSpec for a model m already decoded from data:
// a spec that does not fit m is refused (CheckModel), and the file
// returned is checked to load and, with a spec, to carry it. name names
// the result in errors.
func AttachToModel(data []byte, m *engine.Model, spec *Spec, name string) ([]byte, error) {
	if spec != nil {
		if err := CheckModel(spec, m); err != nil {
			return nil, fmt.Errorf("the spec does not fit the model: %w", err)
		}
	}
	out, err := AttachSpec(data, spec)
	if err != nil {
		return nil, err
	}
	m2, err := engine.LoadBytes(out, engine.Options{Name: name})
	if err != nil {
		return nil, fmt.Errorf("with the spec attached the model does not load: %w", err)
	}
	if spec != nil {
		if _, err := SpecFromModel(m2); err != nil {
			return nil, fmt.Errorf("with the spec attached: %w", err)
		}
	}
	return out, nil
}

// Summary is a one-line description of a spec: "task har, input [1 6
// 64], 5 classes, norm of 6 channels".
func (s *Spec) Summary() string {
	norm := "no norm"
	if s.Norm != nil {
		unit := "channels"
		if s.Task == TaskKWS {
			unit = "feature rows"
		}
		norm = fmt.Sprintf("norm of %d %s", len(s.Norm.Mean), unit)
	}
	return fmt.Sprintf("task %s, input %v, %d classes, %s", s.Task, s.InputShape(), len(s.Classes), norm)
}
