package policy

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Kind is the type of a parameter's value.
type Kind int

// Kinds of parameters.
const (
	Int    Kind = iota // a whole number
	Float              // a real number
	Choice             // one of Param.Choices
	Seed               // an unsigned 64-bit seed
)

// Param describes one controller parameter: how the command line and the
// workbench name it, what it means, its default, range and step, and how
// it is read from and written to a Params. The registry (Controllers,
// FloorParamSpecs) is the one place these are defined: kagen's flags, the
// workbench's editor, Params.WithDefaults, Validate and String all come
// from it.
type Param struct {
	// Flag is the command-line name ("kalman-r").
	Flag string
	// Name is the field's name in its JSON object and on screen ("r").
	Name string
	// Doc says what the parameter does.
	Doc string
	// Kind is the type of the value.
	Kind Kind
	// Min and Max bound the value (inclusive; the minimum is exclusive
	// when MinOpen). Choices lists the values of a Choice.
	Min, Max float64
	MinOpen  bool
	Choices  []string
	// Step is what one notch adds in the workbench's editor, or the
	// factor it multiplies by when Log is set.
	Step float64
	Log  bool
	// Hint is appended to the range in validation errors.
	Hint string
	// Goal marks the budget controller's goals, of which exactly one is
	// set (> 0) and the others are 0; 0 means not set.
	Goal bool
	// Level marks a level index: its range is the policy's levels, which
	// Validate checks against the level count (Max only bounds the
	// text).
	Level bool

	def func() string
	// field returns a pointer to the value (*int, *float64, *string or
	// *uint64); with write set it first gives p its own copy of the
	// sub-object, so that copies of a Params never share a change.
	field func(p *Params, write bool) any
	// unit formats a goal in String ("0.001J").
	unit string
}

// Default returns the default value's text.
func (p *Param) Default() string { return p.def() }

// Unit returns the unit of a goal ("J", "us"), "" for other parameters.
func (p *Param) Unit() string { return p.unit }

// Get returns the value's text in p ("" when p has no such sub-object).
func (p *Param) Get(c Params) string {
	switch v := p.field(&c, false).(type) {
	case *int:
		return strconv.Itoa(*v)
	case *float64:
		return strconv.FormatFloat(*v, 'g', -1, 64)
	case *string:
		return *v
	case *uint64:
		return strconv.FormatUint(*v, 10)
	}
	return ""
}

// Set parses text and sets the value in c; the error says what is
// expected (the caller names the flag or field).
func (p *Param) Set(c *Params, text string) error {
	switch v := p.field(c, true).(type) {
	case *int:
		n, err := strconv.Atoi(strings.TrimSpace(text))
		if err != nil {
			return fmt.Errorf("%q is not a whole number", text)
		}
		if err := p.check(float64(n)); err != nil {
			return err
		}
		*v = n
	case *float64:
		f, err := strconv.ParseFloat(strings.TrimSpace(text), 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", text)
		}
		if err := p.check(f); err != nil {
			return err
		}
		*v = f
	case *string:
		for _, c := range p.Choices {
			if c == text {
				*v = text
				return nil
			}
		}
		return fmt.Errorf("%q, expected %s", text, strings.Join(p.Choices, " or "))
	case *uint64:
		n, err := strconv.ParseUint(strings.TrimSpace(text), 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a whole number from 0 to 2^64-1", text)
		}
		*v = n
	}
	return nil
}

// check tests a number against the range.
func (p *Param) check(f float64) error {
	if math.IsNaN(f) || math.IsInf(f, 0) || f > p.Max || f < p.Min || p.MinOpen && f == p.Min {
		if p.Goal && f == 0 {
			return nil
		}
		return fmt.Errorf("got %v, expected %s", f, p.Range())
	}
	return nil
}

// Range describes the allowed values ("1..2", "0 < x <= 1e6").
func (p *Param) Range() string {
	var s string
	switch {
	case p.Kind == Choice:
		s = strings.Join(p.Choices, " or ")
	case p.MinOpen:
		s = fmt.Sprintf("%v < %s <= %v", p.Min, p.Name, p.Max)
	default:
		s = fmt.Sprintf("%v..%v", p.Min, p.Max)
	}
	if p.Hint != "" {
		s += " (" + p.Hint + ")"
	}
	return s
}

// StepValue moves the value one notch in direction dir (+1 or -1), staying in
// range: the workbench's editor.
func (p *Param) StepValue(c *Params, dir int) {
	switch v := p.field(c, true).(type) {
	case *int:
		*v = max(int(p.Min), min(int(p.Max), *v+dir*int(max(1, p.Step))))
	case *float64:
		x := *v
		switch {
		case p.Log && dir > 0:
			x = math.Max(x, p.Step*math.Max(p.Min, 1e-12)) * p.Step
		case p.Log:
			x /= p.Step
		default:
			x = math.Round((x+float64(dir)*p.Step)*1e6) / 1e6
		}
		if p.MinOpen && x <= p.Min {
			x = *v // a notch would leave the range
		}
		*v = math.Max(p.Min, math.Min(p.Max, x))
	case *string:
		for i, ch := range p.Choices {
			if ch == *v {
				*v = p.Choices[(i+len(p.Choices)+dir)%len(p.Choices)]
				return
			}
		}
		*v = p.Choices[0]
	case *uint64:
		*v += uint64(dir)
	}
}

// ControllerInfo describes one controller: its name and documentation,
// its parameters (the floor's, which apply to every controller, are
// FloorParamSpecs) and how it is built.
type ControllerInfo struct {
	Name string
	Doc  string
	// Params are the controller's own parameters in display order.
	Params []*Param
	// zero makes p's sub-object of this controller exist (all zero).
	zero func(p *Params)
	// has reports whether p holds this controller's sub-object.
	has func(p *Params) bool
	// defaults fills the zero fields of the sub-object the way files
	// written before a parameter existed are read.
	defaults func(p *Params)
	// rules checks what the ranges of single parameters cannot, for a
	// policy of n levels.
	rules func(p *Params, key string, n int) error
	// build makes the controller over the levels it may use (max+1 of
	// the policy's levels) for nc classes.
	build func(p *Params, levels []Level, nc int) Controller
}

// param returns the controller's own parameter with that flag, or nil.
func (c *ControllerInfo) param(flag string) *Param {
	for _, p := range c.Params {
		if p.Flag == flag {
			return p
		}
	}
	return nil
}

// Controllers lists the controllers in the order the workbench cycles.
func Controllers() []*ControllerInfo { return registry }

// Lookup returns the controller named name, or nil.
func Lookup(name string) *ControllerInfo {
	for _, c := range registry {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Names lists the controller names.
func Names() []string {
	out := make([]string, len(registry))
	for i, c := range registry {
		out[i] = c.Name
	}
	return out
}

// FloorParamSpecs are the parameters of the accuracy floor guard, which wraps
// any controller: "floor" (the largest calibrated loss, in percentage
// points, of a level it lets run; the guard is off when it is absent) and
// "hard-frac".
func FloorParamSpecs() []*Param { return floorParams }

// ParamsOf returns the parameters of controller name followed by the
// floor's, or nil for an unknown name.
func ParamsOf(name string) []*Param {
	c := Lookup(name)
	if c == nil {
		return nil
	}
	return append(append([]*Param(nil), c.Params...), floorParams...)
}

// LookupParam returns the parameter with that flag and the controllers it
// applies to (nil: every controller).
func LookupParam(flag string) (*Param, []string) {
	for _, p := range floorParams {
		if p.Flag == flag {
			return p, nil
		}
	}
	var owners []string
	var found *Param
	for _, c := range registry {
		for _, p := range c.Params {
			if p.Flag == flag {
				found = p
				owners = append(owners, c.Name)
			}
		}
	}
	return found, owners
}

// sub returns a copy of *pp (a fresh zero value when nil) for writing, or
// the existing one for reading.
func sub[T any](pp **T, write bool) *T {
	if *pp == nil {
		v := new(T)
		if write {
			*pp = v
		}
		return v
	}
	if write {
		v := **pp
		*pp = &v
	}
	return *pp
}

func intDef(v int) func() string { return func() string { return strconv.Itoa(v) } }
func floatDef(v float64) func() string {
	return func() string { return strconv.FormatFloat(v, 'g', -1, 64) }
}
func stringDef(v string) func() string { return func() string { return v } }
func factorParam(f func(p *Params, w bool) *int) *Param {
	return &Param{Flag: "factor", Name: "factor", Kind: Int, Min: 1, Max: 2, Step: 1, def: intDef(DefaultFactor),
		Doc:   `step factor after each "more" (1 or 2)`,
		field: func(p *Params, w bool) any { return f(p, w) }}
}

var (
	naiveFactor      = factorParam(func(p *Params, w bool) *int { return &sub(&p.Naive, w).Factor })
	stateFactor      = factorParam(func(p *Params, w bool) *int { return &sub(&p.State, w).Factor })
	kalmanFactor     = factorParam(func(p *Params, w bool) *int { return &sub(&p.Kalman, w).Factor })
	confidenceFactor = factorParam(func(p *Params, w bool) *int { return &sub(&p.Confidence, w).Factor })
)

func kalmanParam(name, doc string, def, lo, hi float64, open bool, step float64, log bool, f func(k *KalmanParams) *float64) *Param {
	return &Param{Flag: "kalman-" + name, Name: name, Doc: doc, Kind: Float, Min: lo, Max: hi, MinOpen: open, Step: step, Log: log,
		def: floatDef(def), field: func(p *Params, w bool) any { return f(sub(&p.Kalman, w)) }}
}

func confidenceParam(flag, name, doc string, def float64, f func(c *ConfidenceParams) *float64) *Param {
	return &Param{Flag: flag, Name: name, Doc: doc, Kind: Float, Min: -1, Max: 2, Step: 0.05, def: floatDef(def),
		field: func(p *Params, w bool) any { return f(sub(&p.Confidence, w)) }}
}

func budgetParam(q *Param, f func(b *BudgetParams) any) *Param {
	q.field = func(p *Params, w bool) any { return f(sub(&p.Budget, w)) }
	return q
}

var registry = []*ControllerInfo{
	{
		Name: Static, Doc: "runs every inference at one level",
		Params: []*Param{{Flag: "level", Name: "level", Doc: "the level to run", Kind: Int, Min: 0, Max: math.MaxInt32, Step: 1, Level: true,
			def: intDef(0), field: func(p *Params, w bool) any { return &sub(&p.Static, w).Level }}},
		zero: func(p *Params) { p.Static = sub(&p.Static, false) },
		has:  func(p *Params) bool { return p.Static != nil },
		rules: func(p *Params, key string, n int) error {
			if l := p.Static.Level; l < 0 || l >= n {
				return ferr(key+"level", "got %d, expected 0..%d (the policy's levels)", l, n-1)
			}
			return nil
		},
		build: func(p *Params, levels []Level, _ int) Controller {
			l := min(p.Static.Level, len(levels)-1)
			return &static{level: l, rule: fmt.Sprintf("static: level %d", l)}
		},
	},
	{
		Name: Naive, Doc: "a changed class makes it approximate less, an unchanged one more",
		Params:   []*Param{naiveFactor},
		zero:     func(p *Params) { p.Naive = sub(&p.Naive, false) },
		has:      func(p *Params) bool { return p.Naive != nil },
		defaults: func(p *Params) { p.Naive.Factor = cmpOr(p.Naive.Factor, DefaultFactor) },
		build:    func(p *Params, levels []Level, _ int) Controller { return newNaive(len(levels)-1, p.Naive.Factor) },
	},
	{
		Name: State, Doc: "the last n predictions vote for approximating more or less",
		Params: []*Param{
			{Flag: "n", Name: "n", Doc: "predictions that must agree", Kind: Int, Min: 2, Max: 64, Step: 1, def: intDef(DefaultStateN),
				field: func(p *Params, w bool) any { return &sub(&p.State, w).N }},
			{Flag: "votes", Name: "votes", Doc: "votes needed to act", Kind: Int, Min: 1, Max: 64, Step: 1, def: intDef(DefaultVotes),
				field: func(p *Params, w bool) any { return &sub(&p.State, w).Votes }},
			stateFactor,
		},
		zero: func(p *Params) { p.State = sub(&p.State, false) },
		has:  func(p *Params) bool { return p.State != nil },
		defaults: func(p *Params) {
			s := p.State
			s.Factor = cmpOr(s.Factor, DefaultFactor)
			s.N = cmpOr(s.N, DefaultStateN)
			s.Votes = cmpOr(s.Votes, DefaultVotes)
		},
		build: func(p *Params, levels []Level, _ int) Controller { return newState(len(levels)-1, *p.State) },
	},
	{
		Name: Kalman, Doc: "a scalar Kalman filter estimates how stable the predicted class is",
		Params: []*Param{
			kalmanParam("x0", "initial estimate", 1, 0, 1, false, 0.05, false, func(k *KalmanParams) *float64 { return &k.X0 }),
			kalmanParam("p0", "initial variance", 100, 0, 1e6, true, 2, true, func(k *KalmanParams) *float64 { return &k.P0 }),
			kalmanParam("r", "measurement noise variance", 1, 0, 1e6, true, 2, true, func(k *KalmanParams) *float64 { return &k.R }),
			kalmanParam("q", "process noise variance", 0.1, 0, 1e6, false, 2, true, func(k *KalmanParams) *float64 { return &k.Q }),
			kalmanParam("less", "approximate less below this estimate", 0.5, 0, 1, false, 0.05, false, func(k *KalmanParams) *float64 { return &k.Less }),
			kalmanParam("more", "approximate more above this estimate", 0.95, 0, 1, false, 0.05, false, func(k *KalmanParams) *float64 { return &k.More }),
			kalmanFactor,
		},
		zero: func(p *Params) { p.Kalman = sub(&p.Kalman, false) },
		has:  func(p *Params) bool { return p.Kalman != nil },
		defaults: func(p *Params) {
			k, d := p.Kalman, DefaultKalman()
			k.Factor = cmpOr(k.Factor, d.Factor)
			if k.X0 == 0 && k.P0 == 0 && k.R == 0 && k.Q == 0 {
				k.X0, k.P0, k.R, k.Q = d.X0, d.P0, d.R, d.Q
			}
			if k.Less == 0 && k.More == 0 {
				k.Less, k.More = d.Less, d.More
			}
		},
		rules: func(p *Params, key string, _ int) error {
			if k := p.Kalman; k.More < k.Less {
				return ferr(key+"more", "got %v, expected less (%v)..1", k.More, k.Less)
			}
			return nil
		},
		build: func(p *Params, levels []Level, _ int) Controller { return newKalman(len(levels)-1, *p.Kalman) },
	},
	{
		Name: Confidence, Doc: "thresholds on the softmax confidence, calibrated per level and class",
		Params: []*Param{
			confidenceParam("less-frac", "less_frac", "approximate less below w + F(c-w)", DefaultLessFrac, func(c *ConfidenceParams) *float64 { return &c.LessFrac }),
			confidenceParam("more-frac", "more_frac", "approximate more above w + F(c-w)", DefaultMoreFrac, func(c *ConfidenceParams) *float64 { return &c.MoreFrac }),
			confidenceFactor,
		},
		zero: func(p *Params) { p.Confidence = sub(&p.Confidence, false) },
		has:  func(p *Params) bool { return p.Confidence != nil },
		defaults: func(p *Params) {
			c := p.Confidence
			c.Factor = cmpOr(c.Factor, DefaultFactor)
			if c.LessFrac == 0 && c.MoreFrac == 0 {
				c.LessFrac, c.MoreFrac = DefaultLessFrac, DefaultMoreFrac
			}
		},
		rules: func(p *Params, key string, _ int) error {
			if c := p.Confidence; c.MoreFrac < c.LessFrac {
				return ferr(key+"more_frac", "got %v, expected less_frac (%v)..2", c.MoreFrac, c.LessFrac)
			}
			return nil
		},
		build: func(p *Params, levels []Level, nc int) Controller { return newConfidence(levels, nc, *p.Confidence) },
	},
	{
		Name: Budget, Doc: "holds the mean cost per inference at a budget, mixing neighbouring levels",
		Params: []*Param{
			budgetParam(&Param{Flag: "budget-j", Name: "energy_j", Doc: "mean energy per inference in joules", Kind: Float, Min: 0, Max: 1e9, MinOpen: true,
				Step: 1.05, Log: true, Goal: true, unit: "J", def: floatDef(0)}, func(b *BudgetParams) any { return &b.EnergyJ }),
			budgetParam(&Param{Flag: "budget-us", Name: "latency_us", Doc: "mean busy time per inference in microseconds", Kind: Float, Min: 0, Max: 1e12, MinOpen: true,
				Step: 1.05, Log: true, Goal: true, unit: "us", def: floatDef(0)}, func(b *BudgetParams) any { return &b.LatencyUS }),
			budgetParam(&Param{Flag: "kp", Name: "kp", Doc: "proportional gain", Kind: Float, Min: 0, Max: 10, Step: 0.05, def: floatDef(DefaultKP)},
				func(b *BudgetParams) any { return &b.KP }),
			budgetParam(&Param{Flag: "ki", Name: "ki", Doc: "integral gain", Kind: Float, Min: 0, Max: 10, MinOpen: true, Step: 0.01, def: floatDef(DefaultKI),
				Hint: "the integral term is what holds the mean"}, func(b *BudgetParams) any { return &b.KI }),
			budgetParam(&Param{Flag: "alpha", Name: "alpha", Doc: "smoothing of the estimated exact cost", Kind: Float, Min: 0, Max: 1, MinOpen: true, Step: 0.05, def: floatDef(DefaultAlpha)},
				func(b *BudgetParams) any { return &b.Alpha }),
			budgetParam(&Param{Flag: "mix", Name: "mix", Doc: "how two levels are mixed: cost, or speedup (HPVM's rule)", Kind: Choice, Choices: []string{MixCost, MixSpeedup}, def: stringDef(MixCost)},
				func(b *BudgetParams) any { return &b.Mix }),
			budgetParam(&Param{Flag: "seed", Name: "seed", Doc: "seed of the level mixing", Kind: Seed, Min: 0, Max: math.MaxUint64, Step: 1, def: intDef(0)},
				func(b *BudgetParams) any { return &b.Seed }),
		},
		zero: func(p *Params) { p.Budget = sub(&p.Budget, false) },
		has:  func(p *Params) bool { return p.Budget != nil },
		defaults: func(p *Params) {
			b := p.Budget
			if b.KP == 0 && b.KI == 0 {
				b.KP, b.KI = DefaultKP, DefaultKI
			}
			b.Alpha = cmpOr(b.Alpha, DefaultAlpha)
			b.Mix = cmpOr(b.Mix, MixCost)
		},
		rules: func(p *Params, key string, _ int) error {
			if b := p.Budget; (b.EnergyJ > 0) == (b.LatencyUS > 0) {
				return ferr(key+"energy_j", "expected exactly one of energy_j and latency_us to be set (> 0)")
			}
			return nil
		},
		build: func(p *Params, levels []Level, _ int) Controller { return newBudget(levels, *p.Budget) },
	},
}

var floorParams = []*Param{
	{Flag: "floor", Name: "loss_pp", Doc: "accuracy floor guard: never run a level losing more than PP percentage points (calibrated), and run exact after a hard input",
		Kind: Float, Min: 0, Max: 100, Step: 0.5, def: floatDef(0),
		field: func(p *Params, w bool) any { return &sub(&p.Floor, w).LossPP }},
	{Flag: "hard-frac", Name: "hard_frac", Doc: "floor guard: hard input when confidence < w + F(c-w) of its level and class (0: w; -1: off)",
		Kind: Float, Min: -1, Max: 2, Step: 0.05, def: floatDef(DefaultHardFrac),
		field: func(p *Params, w bool) any { return &sub(&p.Floor, w).HardFrac }},
}

// cmpOr returns v, or def when v is the zero value.
func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
