package tui

// This file is the workbench's use of the policy package: the policies
// the screens replay and save, and the controller editor, whose
// parameters, values, ranges and steps all come from the registry
// (policy.Param), so that the workbench offers what `kagen policy new`
// takes.

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/kagen-ai/kagen/deploy"
	"github.com/kagen-ai/kagen/device"
	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/internal/atomicfile"
	"github.com/kagen-ai/kagen/policy"
)

// errUntuned is returned when a policy is asked for before a tune.
var errUntuned = errors.New("no Pareto set yet: tune on the Pareto screen (4, then t) or open with --pareto FILE")

// budgetFrac is the goal a controller with one (the budget controller)
// starts from: this fraction of exact inference's energy, as the report
// runs it.
const budgetFrac = "0.7"

// withController returns p switched to controller name with the
// registry's defaults, keeping the floor; a goal is budgetFrac of exactJ,
// exact inference's energy.
func withController(p policy.Params, name string, exactJ float64) (policy.Params, error) {
	info := policy.Lookup(name)
	if info == nil {
		return p, fmt.Errorf("no controller %q", name)
	}
	var b policy.Builder
	if slices.ContainsFunc(info.Params, func(q *policy.Param) bool { return q.Goal }) {
		if err := b.Set(policy.FracFlag, budgetFrac); err != nil {
			return p, err
		}
	}
	q, err := b.Build(name, func(f float64) (float64, error) { return f * exactJ, nil })
	if err != nil {
		return p, err
	}
	q.Floor = p.Floor
	return q, nil
}

// nextController returns p switched to the controller dir places from it
// in the registry's order.
func nextController(b *Bench, dir int) (policy.Params, error) {
	cs := policy.Controllers()
	i := slices.IndexFunc(cs, func(c *policy.ControllerInfo) bool { return c.Name == b.Controller.Name })
	next := cs[((max(i, 0)+dir)%len(cs)+len(cs))%len(cs)]
	exactJ, err := exactEnergy(b)
	if err != nil && slices.ContainsFunc(next.Params, func(q *policy.Param) bool { return q.Goal }) {
		return b.Controller, fmt.Errorf("%s controller: %w", next.Name, err)
	}
	return withController(b.Controller, next.Name, exactJ)
}

// exactEnergy is exact inference's energy per inference on the Bench's
// device, from a measurement: exact's median time as last measured here
// (Bench.ExactTime: the Knobs or Replay screen's timing, the Model
// screen's), else the tuned Pareto set's. Before either there is none
// (an error saying how to get one).
func exactEnergy(b *Bench) (float64, error) {
	if b.ExactTime > 0 {
		return b.Device.InferenceEnergy(b.ExactTime), nil
	}
	levels, _ := b.Levels()
	if e := levels[0].EnergyJ; e > 0 {
		return e, nil
	}
	return 0, errNoExactTime
}

// errNoExactTime says a goal cannot be set from exact inference's energy
// yet.
var errNoExactTime = errors.New("exact inference's energy is not measured yet, and a budget starts from it: let the Model screen (1) measure, or tune first")

// benchPareto returns the Pareto set controllers run on: the tuned one,
// or before a tune an untuned one of Bench.Levels (for exploring
// controllers in the Replay screen; it cannot be saved).
func benchPareto(b *Bench) *policy.Pareto {
	if b.Pareto != nil {
		return b.Pareto
	}
	levels, _ := b.Levels()
	return untunedPareto(b, levels)
}

// untunedPareto is a Pareto set of levels no tune measured.
func untunedPareto(b *Bench, levels []policy.Level) *policy.Pareto {
	return &policy.Pareto{Version: policy.ParetoVersion, ModelSHA256: b.Model.SHA256(),
		Device: device.Fingerprint(device.This()), Meter: b.Device.Name + " (modelled)",
		Objective: policy.ObjectiveTime, Classes: b.Spec.Classes, Configs: levels}
}

// buildPolicy builds the policy of the Bench: its levels and controller
// (a static level past the last brought into them). With untuned levels
// it is only for the Replay screen.
func buildPolicy(b *Bench) (*policy.Policy, error) {
	if !b.Ready() {
		return nil, errors.New("no model loaded")
	}
	par := benchPareto(b)
	return policy.FromPareto(par, b.Controller.FitLevels(len(par.Configs)))
}

// knobsPolicy is what the Knobs screen replays: exact and the Knobs
// configuration, the static controller on the configuration.
func knobsPolicy(b *Bench) (*policy.Policy, error) {
	par := untunedPareto(b, []policy.Level{{Level: 0, Config: "exact", Speedup: 1}, {Level: 1, Config: b.ConfigText(), Speedup: 1}})
	return policy.FromPareto(par, policy.Params{Name: policy.Static, Static: &policy.StaticParams{Level: 1}})
}

// paretoOf is the Pareto set of a policy's levels (Options.Policy).
func paretoOf(pol *policy.Policy) *policy.Pareto {
	return &policy.Pareto{Version: policy.ParetoVersion, ModelSHA256: pol.ModelSHA256, Device: pol.Device, Meter: pol.Meter,
		Objective: pol.Objective, ExactAccuracy: pol.ExactAccuracy, Classes: slices.Clone(pol.Classes), Configs: slices.Clone(pol.Levels)}
}

// savePolicy writes pol atomically to path, reads it back with the rules
// of `kagen policy validate --model` (deploy.ReadPolicy: the file, its
// binding to m, a controller built from it, every level a configuration
// of m, the classes of its front-end) and returns the absolute path and
// the file's checksum. It runs in a job: pol was built for it and m never
// changes.
func savePolicy(m *engine.Model, pol *policy.Policy, path string, inputs []string) (abs, checksum string, err error) {
	if abs, err = filepath.Abs(path); err != nil {
		return "", "", err
	}
	// The model and traces are inputs too: a path typed onto one of them
	// is refused rather than written over it (issue #19 item 7).
	if err := atomicfile.CheckOutput(abs, inputs...); err != nil {
		return "", "", err
	}
	if err := policy.WritePolicy(abs, pol); err != nil {
		return "", "", err
	}
	d, err := deploy.ReadPolicy(abs, m)
	if err != nil {
		return "", "", fmt.Errorf("written but does not validate: %w", err)
	}
	return abs, d.Policy.Checksum, nil
}

// readPareto reads a pareto.json for the Bench's model.
func readPareto(path string, b *Bench) (*policy.Pareto, error) {
	return policy.ReadPareto(path, policy.ReadOptions{ModelSHA256: b.Model.SHA256()})
}

// floorLevel is the highest level the floor allows.
func floorLevel(levels []policy.Level, p policy.Params) int {
	if p.Floor == nil {
		return len(levels) - 1
	}
	return policy.FloorLevel(levels, p.Floor.LossPP)
}

// editorParam is one row of the controller editor: a parameter of the
// controller or of its floor, as the registry defines it.
type editorParam struct {
	*policy.Param
	floor bool
}

// editorParams lists the rows of p's editor: the controller's parameters
// (of its goals only the one set, as exactly one is) and the floor's
// (only the first while there is no floor: it turns the floor on).
func editorParams(p policy.Params) []editorParam {
	var out []editorParam
	if info := policy.Lookup(p.Name); info != nil {
		for _, q := range info.Params {
			if !q.Goal || q.Get(p) != "0" {
				out = append(out, editorParam{Param: q})
			}
		}
	}
	for i, q := range policy.FloorParamSpecs() {
		if p.Floor == nil && i > 0 {
			break
		}
		out = append(out, editorParam{Param: q, floor: true})
	}
	return out
}

// id names the row in the Policy screen's fields.
func (e editorParam) id() string { return "param:" + e.Flag }

// label is the name shown: the field's JSON name, under floor. for the
// floor's.
func (e editorParam) label() string {
	if e.floor {
		return "floor." + e.Name
	}
	return e.Name
}

// value is the value shown.
func (e editorParam) value(p policy.Params) string {
	if e.floor && p.Floor == nil {
		return "off"
	}
	v := e.Get(p)
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		switch e.Unit() {
		case "J":
			return fmtEnergy(f)
		case "us":
			return fmtTime(f * 1e3)
		}
	}
	return v
}

// step moves the parameter one notch in direction dir (+1, -1) as the
// registry says (Param.StepValue); a notch that a policy of n levels
// would refuse (a static level past the last, kalman's more below less)
// is not taken. Below its minimum the floor's first parameter turns the
// floor off, and above "off" on again.
func (e editorParam) step(p policy.Params, dir, n int) policy.Params {
	q := p
	if e.floor && p.Floor == nil {
		if dir < 0 {
			return p
		}
		for _, f := range policy.FloorParamSpecs() {
			if err := f.Set(&q, f.Default()); err != nil {
				return p
			}
		}
	} else if v, err := strconv.ParseFloat(e.Get(p), 64); err == nil && e.floor && dir < 0 && v <= e.Min && e.Param == policy.FloorParamSpecs()[0] {
		q.Floor = nil
		return q
	}
	e.StepValue(&q, dir)
	if q.Validate(n) != nil && p.Validate(n) == nil {
		return p
	}
	return q
}
