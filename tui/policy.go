package tui

// This file is the workbench's whole use of the policy package: building
// policies and controllers from the Bench, the controller parameters the
// screens edit, and saving and checking the policy file. Keep every call
// into policy here, so that a change of its API touches one file.

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kagen-ai/kagen/device"
	"github.com/kagen-ai/kagen/policy"
)

// errUntuned is returned when a policy is asked for before a tune.
var errUntuned = errors.New("no Pareto set yet: tune on the Pareto screen (4, then t) or open with --pareto FILE")

// controllerNames lists the controllers in the order the screens cycle.
func controllerNames() []string { return policy.Names() }

// withController returns p switched to the controller name, with its
// default parameters; the floor is kept.
func withController(p policy.Params, name string, b *Bench) policy.Params {
	q := policy.Params{Name: name, Floor: p.Floor}
	if name == policy.Budget {
		q.Budget = &policy.BudgetParams{EnergyJ: defaultBudgetJ(b), Seed: 1}
	}
	if r, err := q.WithDefaults(); err == nil {
		q = r
	}
	return q
}

// defaultBudgetJ is 70% of the exact level's energy per inference.
func defaultBudgetJ(b *Bench) float64 {
	levels, _ := b.Levels()
	e := levels[0].EnergyJ
	if !(e > 0) && b.Device != nil {
		e = b.Device.InferenceEnergy(2000) // 2 us: only a starting point
	}
	return 0.7 * e
}

// benchPareto returns the Pareto set controllers run on: the tuned one,
// or before a tune an untuned one from Bench.Levels (for exploring
// controllers in the Replay screen; it cannot be saved).
func benchPareto(b *Bench) *policy.Pareto {
	if b.Pareto != nil {
		return b.Pareto
	}
	levels, _ := b.Levels()
	p := &policy.Pareto{Version: policy.ParetoVersion, ModelSHA256: b.Model.SHA256(),
		Device: device.Fingerprint(device.This()), Meter: b.Device.Name + " (modelled)",
		Objective: policy.ObjectiveTime, Classes: b.Spec.Classes, Configs: levels}
	return p
}

// buildPolicy builds the policy of the Bench: its levels and controller.
// With untuned levels it is only for the Replay screen (tuned false).
func buildPolicy(b *Bench) (pol *policy.Policy, tuned bool, err error) {
	if !b.Ready() {
		return nil, false, errors.New("no model loaded")
	}
	pol, err = policy.FromPareto(benchPareto(b), clampParams(b.Controller, b))
	return pol, b.Pareto != nil, err
}

// clampParams brings level-dependent parameters into the level range.
func clampParams(p policy.Params, b *Bench) policy.Params {
	levels, _ := b.Levels()
	if p.Name == policy.Static && p.Static != nil && p.Static.Level >= len(levels) {
		s := *p.Static
		s.Level = len(levels) - 1
		p.Static = &s
	}
	return p
}

// newController builds the controller of the Bench's policy and the
// levels it moves between.
func newController(b *Bench) (policy.Controller, []policy.Level, error) {
	pol, _, err := buildPolicy(b)
	if err != nil {
		return nil, nil, err
	}
	c, err := policy.NewController(pol)
	if err != nil {
		return nil, nil, err
	}
	return c, pol.Levels, nil
}

// observation is what the Replay screen tells a controller.
func observation(seq int64, t float64, level, class int, conf float32, busyNS int64, b *Bench) policy.Observation {
	return policy.Observation{Index: seq, Time: t, Level: level, Class: class, Confidence: conf,
		TimeUS: float64(busyNS) / 1e3, EnergyJ: b.Device.InferenceEnergy(nsDuration(busyNS))}
}

// savePolicy writes pol atomically to path, reads it back with the same
// checks as `kagen policy validate --model` and returns the absolute path
// and the file's checksum. It runs in a job: pol is built on the UI
// goroutine (buildPolicy) and b's model and approximator are immutable.
func savePolicy(b *Bench, pol *policy.Policy, path string) (abs, checksum string, err error) {
	if abs, err = filepath.Abs(path); err != nil {
		return "", "", err
	}
	if err := policy.WritePolicy(abs, pol); err != nil {
		return "", "", err
	}
	back, err := checkPolicy(b, abs)
	if err != nil {
		return "", "", fmt.Errorf("written but does not validate: %w", err)
	}
	return abs, back.Checksum, nil
}

// checkPolicy reads a policy file and checks it as `kagen policy validate
// FILE --model MODEL` does: the file itself (format, checksum, ranges),
// its binding to the model, a controller built from it, every level a
// configuration of the model and the classes those of its front-end.
func checkPolicy(b *Bench, path string) (*policy.Policy, error) {
	pol, err := policy.ReadPolicy(path, policy.ReadOptions{ModelSHA256: b.Model.SHA256()})
	if err != nil {
		return nil, err
	}
	if _, err := policy.NewController(pol); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for i, l := range pol.Levels {
		// Node names exported from PyTorch hold slashes; a configuration
		// text without SELECTOR=KNOB pairs would be read as a file.
		if l.Config != "exact" && !strings.Contains(l.Config, "=") {
			return nil, fmt.Errorf("%s: levels[%d].config %q: expected a configuration text, not a file", path, i, l.Config)
		}
		cfg, err := b.Approx.Parse(l.Config)
		if err == nil {
			_, err = b.Approx.Prepare(cfg)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: levels[%d].config %q: %w", path, i, l.Config, err)
		}
	}
	if !slices.Equal(pol.Classes, b.Spec.Classes) {
		return nil, fmt.Errorf("%s: classes: the policy has %v, the model's front-end %v", path, pol.Classes, b.Spec.Classes)
	}
	return pol, nil
}

// readPareto reads a pareto.json for the Bench's model.
func readPareto(path string, b *Bench) (*policy.Pareto, error) {
	return policy.ReadPareto(path, policy.ReadOptions{ModelSHA256: b.Model.SHA256()})
}

// controllerSummary is a one-line description of the controller.
func controllerSummary(p policy.Params) string { return p.String() }

// floorLevel is the highest level the floor allows.
func floorLevel(levels []policy.Level, p policy.Params) int {
	if p.Floor == nil {
		return len(levels) - 1
	}
	return policy.FloorLevel(levels, p.Floor.LossPP)
}

// param is one editable controller parameter.
type param struct {
	name  string
	value string
	// step changes the parameter by one notch in direction dir (+1/-1).
	step func(p *policy.Params, dir int)
}

// editableParams lists the parameters of p's controller and of its floor.
// nLevels bounds the static level.
func editableParams(p policy.Params, nLevels int) []param {
	var ps []param
	factor := func(get func(*policy.Params) *int) param {
		f := *get(&p)
		return param{"factor", fmt.Sprint(f), func(q *policy.Params, dir int) {
			v := get(q)
			*v = clampInt(*v+dir, 1, 2)
		}}
	}
	g := func(v float64) string { return trimFloat(v) }
	switch p.Name {
	case policy.Static:
		ps = append(ps, param{"level", fmt.Sprint(p.Static.Level), func(q *policy.Params, dir int) {
			s := *q.Static
			s.Level = clampInt(s.Level+dir, 0, max(0, nLevels-1))
			q.Static = &s
		}})
	case policy.Naive:
		ps = append(ps, factor(func(q *policy.Params) *int { n := *q.Naive; q.Naive = &n; return &q.Naive.Factor }))
	case policy.State:
		ps = append(ps,
			factor(func(q *policy.Params) *int { s := *q.State; q.State = &s; return &q.State.Factor }),
			param{"n", fmt.Sprint(p.State.N), func(q *policy.Params, dir int) {
				s := *q.State
				s.N = clampInt(s.N+dir, 2, 64)
				q.State = &s
			}},
			param{"votes", fmt.Sprint(p.State.Votes), func(q *policy.Params, dir int) {
				s := *q.State
				s.Votes = clampInt(s.Votes+dir, 1, 64)
				q.State = &s
			}})
	case policy.Kalman:
		k := p.Kalman
		ps = append(ps,
			factor(func(q *policy.Params) *int { s := *q.Kalman; q.Kalman = &s; return &q.Kalman.Factor }),
			param{"r", g(k.R), func(q *policy.Params, dir int) {
				s := *q.Kalman
				s.R = clampF(mulStep(s.R, dir, 2), 1e-3, 1e6)
				q.Kalman = &s
			}},
			param{"q", g(k.Q), func(q *policy.Params, dir int) {
				s := *q.Kalman
				s.Q = clampF(mulStep(math.Max(s.Q, 1e-3), dir, 2), 0, 1e6)
				q.Kalman = &s
			}},
			param{"less", g(k.Less), func(q *policy.Params, dir int) {
				s := *q.Kalman
				s.Less = clampF(round2(s.Less+0.05*float64(dir)), 0, s.More)
				q.Kalman = &s
			}},
			param{"more", g(k.More), func(q *policy.Params, dir int) {
				s := *q.Kalman
				s.More = clampF(round2(s.More+0.05*float64(dir)), s.Less, 1)
				q.Kalman = &s
			}})
	case policy.Confidence:
		c := p.Confidence
		ps = append(ps,
			factor(func(q *policy.Params) *int { s := *q.Confidence; q.Confidence = &s; return &q.Confidence.Factor }),
			param{"less_frac", g(c.LessFrac), func(q *policy.Params, dir int) {
				s := *q.Confidence
				s.LessFrac = clampF(round2(s.LessFrac+0.05*float64(dir)), -1, s.MoreFrac)
				q.Confidence = &s
			}},
			param{"more_frac", g(c.MoreFrac), func(q *policy.Params, dir int) {
				s := *q.Confidence
				s.MoreFrac = clampF(round2(s.MoreFrac+0.05*float64(dir)), s.LessFrac, 2)
				q.Confidence = &s
			}})
	case policy.Budget:
		bp := p.Budget
		ps = append(ps,
			param{"energy", fmtEnergy(bp.EnergyJ), func(q *policy.Params, dir int) {
				s := *q.Budget
				if s.EnergyJ <= 0 {
					s.EnergyJ, s.LatencyUS = 1e-6, 0
				}
				s.EnergyJ = clampF(mulStep(s.EnergyJ, dir, 1.05), 1e-12, 1e9)
				q.Budget = &s
			}},
			param{"kp", g(bp.KP), func(q *policy.Params, dir int) {
				s := *q.Budget
				s.KP = clampF(round2(s.KP+0.05*float64(dir)), 0, 10)
				q.Budget = &s
			}},
			param{"ki", g(bp.KI), func(q *policy.Params, dir int) {
				s := *q.Budget
				s.KI = clampF(round2(s.KI+0.01*float64(dir)), 0.01, 10)
				q.Budget = &s
			}},
			param{"mix", bp.Mix, func(q *policy.Params, dir int) {
				s := *q.Budget
				if s.Mix == policy.MixCost {
					s.Mix = policy.MixSpeedup
				} else {
					s.Mix = policy.MixCost
				}
				q.Budget = &s
			}})
	}
	floor := "off"
	if p.Floor != nil {
		floor = g(p.Floor.LossPP) + " pp"
	}
	ps = append(ps, param{"floor", floor, func(q *policy.Params, dir int) {
		switch {
		case q.Floor == nil && dir > 0:
			q.Floor = &policy.FloorParams{LossPP: 0.5, HardFrac: policy.DefaultHardFrac}
		case q.Floor == nil:
		default:
			f := *q.Floor
			f.LossPP = round2(f.LossPP + 0.5*float64(dir))
			if f.LossPP < 0 {
				q.Floor = nil
				return
			}
			f.LossPP = math.Min(f.LossPP, 100)
			q.Floor = &f
		}
	}})
	if p.Floor != nil {
		ps = append(ps, param{"hard_frac", g(p.Floor.HardFrac), func(q *policy.Params, dir int) {
			f := *q.Floor
			f.HardFrac = clampF(round2(f.HardFrac+0.05*float64(dir)), -1, 2)
			q.Floor = &f
		}})
	}
	return ps
}

func clampInt(v, lo, hi int) int { return max(lo, min(hi, v)) }

func clampF(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }

func round2(v float64) float64 { return math.Round(v*100) / 100 }

func mulStep(v float64, dir int, f float64) float64 {
	if dir > 0 {
		return v * f
	}
	return v / f
}

func trimFloat(v float64) string {
	s := fmt.Sprintf("%.3f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "-0" {
		s = "0"
	}
	return s
}
