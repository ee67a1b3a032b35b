package policy

import (
	"fmt"
)

// FloorLevel returns the highest level the accuracy floor allows: the end
// of the longest run of levels, from level 0, whose calibrated accuracy
// loss is at most lossPP. A level after one that breaks the floor is not
// allowed even if its own loss is lower: the guard only ever moves along a
// prefix of the list, so that every level between exact and the highest
// allowed one meets the floor.
func FloorLevel(levels []Level, lossPP float64) int {
	for i := 1; i < len(levels); i++ {
		if !(levels[i].QoSLossPP <= lossPP) {
			return i - 1
		}
	}
	return len(levels) - 1
}

// floor is the accuracy floor guard around another controller.
type floor struct {
	inner Controller
	name  string
	max   int
	nc    int
	hard  []float64 // hard-input threshold per (level, class)
}

// WithFloor wraps a controller in the accuracy floor guard of a policy's
// levels:
//
//   - it never selects a level above FloorLevel(p.Levels, f.LossPP);
//   - after an inference whose confidence is below the hard-input threshold
//     of its level and predicted class (w + f.HardFrac(c-w) from the
//     level's calibrated statistics), or whose class is out of range or
//     confidence not a number, the next inference runs exact (level 0).
//     f.HardFrac = -1 turns the confidence rule off.
//
// The wrapped controller still sees every observation, so its state
// (votes, filter) follows the stream; the guard only overrides its choice,
// and says so in the decision (Proposed, Inner).
func WithFloor(inner Controller, p *Policy, f FloorParams) (Controller, error) {
	if inner == nil {
		return nil, fmt.Errorf("floor guard: no controller to wrap")
	}
	if len(p.Levels) == 0 || len(p.Classes) == 0 {
		return nil, fmt.Errorf("floor guard: policy without levels or classes")
	}
	pp := Params{Name: Static, Static: &StaticParams{}, Floor: &f}
	if err := pp.Validate(len(p.Levels)); err != nil {
		return nil, fmt.Errorf("floor guard: %w", err)
	}
	max := FloorLevel(p.Levels, f.LossPP)
	hard := thresholds(p.Levels[:max+1], len(p.Classes), f.HardFrac)
	if f.HardFrac <= -1 {
		clear(hard) // the hard-input rule is off
	}
	return &floor{
		inner: inner,
		name:  inner.Name() + "+floor",
		max:   max,
		nc:    len(p.Classes),
		hard:  hard,
	}, nil
}

// Rules of the floor guard.
const (
	ruleFloorHard  = "floor: confidence below the calibrated hard-input threshold -> exact"
	ruleFloorBad   = "floor: class or confidence out of range -> exact"
	ruleFloorClamp = "floor: proposed level exceeds the accuracy floor -> highest allowed"
)

func (f *floor) Name() string { return f.name }
func (f *floor) Start() int   { return min(f.inner.Start(), f.max) }
func (f *floor) Reset()       { f.inner.Reset() }

func (f *floor) Decide(obs Observation) Decision {
	d := f.inner.Decide(obs)
	l := clampLevel(obs.Level, f.max)
	conf := float64(obs.Confidence)
	rule := ""
	switch {
	case obs.Class < 0 || obs.Class >= f.nc || !(conf >= 0 && conf <= 1):
		rule = ruleFloorBad
		d.Hard = 1
	default:
		d.Hard = f.hard[l*f.nc+obs.Class]
		if conf < d.Hard {
			rule = ruleFloorHard
		}
	}
	d.Signals |= SigFloor
	switch {
	case rule != "" && d.To != 0:
		d.Proposed, d.Inner, d.Signals = d.To, d.Rule, d.Signals|SigOverride
		d.To, d.Rule = 0, rule
	case rule == "" && (d.To > f.max || d.To < 0):
		d.Proposed, d.Inner, d.Signals = d.To, d.Rule, d.Signals|SigOverride
		d.To, d.Rule = clampLevel(d.To, f.max), ruleFloorClamp
	}
	return d
}
