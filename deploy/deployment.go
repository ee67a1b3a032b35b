// Package deploy is what runs on the device, and what every front end
// uses to show what would: a Deployment (a model, its front-end, a policy
// bound to it and the prepared kernels of every level), loaded and
// checked in one place, and a Replayer that streams windows through the
// engine with controllers choosing each window's level, beside an exact
// run, and tallies accuracy, levels, switches and modelled energy into a
// Report. `kagen policy validate`, `kagen replay`, `kagen run`, the
// workbench and the report all go through it, so that they agree.
package deploy

import (
	"fmt"
	"slices"

	"github.com/kagen-ai/kagen/approx"
	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/policy"
	"github.com/kagen-ai/kagen/replay"
)

// Deployment is a model and a policy bound to it, checked: every level is
// a configuration of the model (level 0 the exact one) with its kernels
// prepared, and the policy's classes are the front-end's.
type Deployment struct {
	// Name names the policy in errors (its file, or "policy").
	Name   string
	Model  *engine.Model
	Approx *approx.Approximator
	// Spec is the model's front-end; nil for a model without one (only
	// Validate-style checks are possible then).
	Spec   *replay.Spec
	Policy *policy.Policy
	// Levels holds the prepared selector of every level, indexed by
	// level.
	Levels []engine.Selector
}

// Load loads a model, its front-end and a policy file bound to it: what
// `kagen replay` and `kagen run` need. A model without a front-end spec
// is an error.
func Load(modelPath, policyPath string) (*Deployment, error) {
	d, err := load(modelPath, policyPath)
	if err != nil {
		return nil, err
	}
	if d.Spec == nil {
		_, err := replay.SpecFromModel(d.Model)
		return nil, fmt.Errorf("%s: %w", modelPath, err)
	}
	return d, nil
}

// load loads a model and binds a policy file to it.
func load(modelPath, policyPath string) (*Deployment, error) {
	m, err := engine.LoadFile(modelPath, engine.Options{})
	if err != nil {
		return nil, err
	}
	return ReadPolicy(policyPath, m)
}

// ReadPolicy reads a policy file for m (its model checksum must be m's)
// and binds it (New).
func ReadPolicy(path string, m *engine.Model) (*Deployment, error) {
	pol, err := policy.ReadPolicy(path, policy.ReadOptions{ModelSHA256: m.SHA256()})
	if err != nil {
		return nil, err
	}
	return New(path, m, approx.New(m), pol)
}

// New binds pol to the model a approximates: a controller must build from
// it, every level's configuration must parse (ParseLevel) and prepare,
// and when the model has a front-end its classes must be the policy's.
// name names the policy in errors.
func New(name string, m *engine.Model, a *approx.Approximator, pol *policy.Policy) (*Deployment, error) {
	if _, err := policy.NewController(pol); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	sels, err := PrepareLevels(a, pol.Levels)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	d := &Deployment{Name: name, Model: m, Approx: a, Policy: pol, Levels: sels}
	if spec, err := replay.SpecFromModel(m); err == nil {
		if !slices.Equal(spec.Classes, pol.Classes) {
			return nil, fmt.Errorf("%s: classes: the policy has %v, the model's front-end %v", name, pol.Classes, spec.Classes)
		}
		d.Spec = spec
	}
	return d, nil
}

// ParseLevel parses level i's configuration text. A policy holds texts
// only ("exact", "fp32", SELECTOR=KNOB pairs or a JSON object), never the
// name of a file, and level 0 must be exact.
func ParseLevel(a *approx.Approximator, i int, text string) (approx.Config, error) {
	if !approx.IsConfigText(text) {
		return approx.Config{}, fmt.Errorf("levels[%d].config %q: expected \"exact\" or SELECTOR=KNOB pairs", i, text)
	}
	cfg, err := a.ParseText(text)
	if err != nil {
		return approx.Config{}, fmt.Errorf("levels[%d].config: %w", i, err)
	}
	if i == 0 && !cfg.IsExact() {
		return approx.Config{}, fmt.Errorf("levels[0].config %q: expected the exact configuration", text)
	}
	return cfg, nil
}

// PrepareLevels parses and prepares every level's configuration, indexed
// by level.
func PrepareLevels(a *approx.Approximator, levels []policy.Level) ([]engine.Selector, error) {
	out := make([]engine.Selector, len(levels))
	for i, l := range levels {
		cfg, err := ParseLevel(a, i, l.Config)
		if err != nil {
			return nil, err
		}
		sel, err := a.Prepare(cfg)
		if err != nil {
			return nil, fmt.Errorf("levels[%d].config %q: %w", i, l.Config, err)
		}
		out[i] = sel
	}
	return out, nil
}

// Controllers builds the controllers of params over the policy's levels.
func (d *Deployment) Controllers(params []policy.Params) ([]policy.Controller, error) {
	out := make([]policy.Controller, len(params))
	for i, p := range params {
		pol := *d.Policy
		var err error
		if pol.Controller, err = p.WithDefaults(); err != nil {
			return nil, err
		}
		if out[i], err = policy.NewController(&pol); err != nil {
			return nil, fmt.Errorf("controller %s: %w", p.Name, err)
		}
	}
	return out, nil
}

// Validate checks a policy file as `kagen policy validate` does: its
// format, checksum and ranges, that a controller builds from it, and with
// a model path its binding to the model (New).
func Validate(policyPath, modelPath string) (*policy.Policy, error) {
	if modelPath == "" {
		pol, err := policy.ReadPolicy(policyPath, policy.ReadOptions{})
		if err != nil {
			return nil, err
		}
		if _, err := policy.NewController(pol); err != nil {
			return nil, fmt.Errorf("%s: %w", policyPath, err)
		}
		return pol, nil
	}
	d, err := load(modelPath, policyPath)
	if err != nil {
		return nil, err
	}
	return d.Policy, nil
}
