package policy

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Controller names.
const (
	Static     = "static"
	Naive      = "naive"
	State      = "state"
	Kalman     = "kalman"
	Confidence = "confidence"
	Budget     = "budget"
)

// Budget mixing rules.
const (
	// MixCost picks the slower of two neighbouring levels with the
	// probability that makes the expected cost per inference equal the
	// goal (the default).
	MixCost = "cost"
	// MixSpeedup is HPVM's rule as published: the probability makes the
	// expected speedup equal the goal, which spends slightly more than the
	// goal's cost (1/s is convex); the integral term absorbs the difference.
	MixSpeedup = "speedup"
)

// Params names a controller and holds its parameters. Exactly the
// sub-object of the named controller is present; Floor may be added to any.
type Params struct {
	// Name is one of Names().
	Name string `json:"name"`

	Static     *StaticParams     `json:"static,omitempty"`
	Naive      *NaiveParams      `json:"naive,omitempty"`
	State      *StateParams      `json:"state,omitempty"`
	Kalman     *KalmanParams     `json:"kalman,omitempty"`
	Confidence *ConfidenceParams `json:"confidence,omitempty"`
	Budget     *BudgetParams     `json:"budget,omitempty"`

	// Floor, if present, wraps the controller in the accuracy floor guard.
	Floor *FloorParams `json:"floor,omitempty"`
}

// StaticParams configure the static controller.
type StaticParams struct {
	// Level is the level every inference runs at.
	Level int `json:"level"`
}

// NaiveParams configure the naive controller: a changed class makes it
// approximate less, an unchanged one more.
type NaiveParams struct {
	// Factor multiplies the step after each "more": 1 or 2.
	Factor int `json:"factor"`
}

// StateParams configure the state controller: the last N predictions vote.
type StateParams struct {
	// Factor multiplies the step after each "more": 1 or 2.
	Factor int `json:"factor"`
	// N is the number of last predictions that must all be equal for the
	// input to count as reliable (default 3).
	N int `json:"n"`
	// Votes is the vote count at which the controller acts (default 2);
	// votes are clamped to [-Votes, Votes] and reset to 0 after acting.
	Votes int `json:"votes"`
}

// KalmanParams configure the Kalman controller: a scalar Kalman filter
// estimates how stable the predicted class is.
type KalmanParams struct {
	// Factor multiplies the step after each "more": 1 or 2.
	Factor int `json:"factor"`
	// X0 and P0 are the initial estimate and its variance (1 and 100).
	X0 float64 `json:"x0"`
	P0 float64 `json:"p0"`
	// R and Q are the measurement and process noise variances (1, 0.1).
	R float64 `json:"r"`
	Q float64 `json:"q"`
	// Less and More are the thresholds on x (0.5 and 0.95).
	Less float64 `json:"less"`
	More float64 `json:"more"`
}

// ConfidenceParams configure the confidence controller. Its thresholds are
// derived from each level's calibrated per-class statistics: with c and w
// the mean confidence of correct and of wrong predictions of the predicted
// class, "less" below w + LessFrac(c-w) and "more" above w + MoreFrac(c-w).
type ConfidenceParams struct {
	// Factor multiplies the step after each "more": 1 or 2.
	Factor int `json:"factor"`
	// LessFrac and MoreFrac place the thresholds between w and c (0.5 and
	// 0.75 as published).
	LessFrac float64 `json:"less_frac"`
	MoreFrac float64 `json:"more_frac"`
}

// BudgetParams configure the budget controller, which holds the mean cost
// per inference at a budget. Exactly one of EnergyJ and LatencyUS is set.
type BudgetParams struct {
	// EnergyJ is the mean energy budget per inference, in joules, in the
	// unit of the observations' EnergyJ (the device profile's model).
	EnergyJ float64 `json:"energy_j,omitempty"`
	// LatencyUS is the mean busy-time budget per inference, microseconds.
	LatencyUS float64 `json:"latency_us,omitempty"`
	// KP and KI are the proportional and integral gains on the relative
	// cost error (defaults 0.2 and 0.05).
	KP float64 `json:"kp"`
	KI float64 `json:"ki"`
	// Alpha is the smoothing factor of the estimated exact cost (0.1).
	Alpha float64 `json:"alpha"`
	// Mix is MixCost (default) or MixSpeedup.
	Mix string `json:"mix"`
	// Seed seeds the level mixing; runs with equal seeds and inputs make
	// equal decisions.
	Seed uint64 `json:"seed"`
}

// FloorParams configure the accuracy floor guard.
type FloorParams struct {
	// LossPP is the largest calibrated accuracy loss, in percentage
	// points, of a level the guard lets run.
	LossPP float64 `json:"loss_pp"`
	// HardFrac places the "hard input" threshold of each (level, class)
	// between the mean confidence of wrong (w) and correct (c) predictions:
	// an input is hard when its confidence is below w + HardFrac(c-w).
	// 0 puts the threshold at w; -1 (below every confidence in practice)
	// turns the hard-input rule off. It is not defaulted: `kagen policy
	// new` and user interfaces start from DefaultHardFrac.
	HardFrac float64 `json:"hard_frac"`
}

// Defaults of the controller parameters (the published values where there
// are any).
const (
	DefaultFactor   = 1
	DefaultStateN   = 3
	DefaultVotes    = 2
	DefaultLessFrac = 0.5
	DefaultMoreFrac = 0.75
	DefaultKP       = 0.2
	DefaultKI       = 0.05
	DefaultAlpha    = 0.1
	// DefaultHardFrac is the hard-input fraction `kagen policy new` uses:
	// an input is hard when the model is less confident than it is on
	// average when it is wrong about that class at that level. (0.5, the
	// midpoint to the mean correct confidence, flagged about a third of
	// the held-out HAR windows and sent them to exact, leaving 27% of the
	// inference energy saved in real time instead of 39% at the same
	// 0.19 pp loss; see docs/policy.md.)
	DefaultHardFrac = 0
)

// DefaultKalman returns the published Kalman constants.
func DefaultKalman() KalmanParams {
	return KalmanParams{Factor: DefaultFactor, X0: 1, P0: 100, R: 1, Q: 0.1, Less: 0.5, More: 0.95}
}

// WithDefaults returns a copy of c in which the named controller's
// sub-object exists and its zero fields hold their defaults (Floor is
// copied as it is: its zero values are meaningful). The copy is not
// validated (Validate with the policy's level count does that).
func (c Params) WithDefaults() (Params, error) {
	info := Lookup(c.Name)
	if info == nil {
		return c, ferr("controller.name", "got %q, expected one of %s", clip(c.Name), strings.Join(Names(), ", "))
	}
	// Give the copy its own sub-objects, so that filling defaults never
	// changes the caller's.
	info.zero(&c)
	for _, p := range info.Params {
		p.field(&c, true)
	}
	if info.defaults != nil {
		info.defaults(&c)
	}
	if c.Floor != nil {
		f := *c.Floor
		c.Floor = &f
	}
	return c, nil
}

// FitLevels returns c with every level index (Param.Level: the static
// level) brought into a policy of n levels, so that parameters chosen
// for a longer list of levels still build on a shorter one (the
// workbench after a new tune); c itself is not changed.
func (c Params) FitLevels(n int) Params {
	for _, p := range ParamsOf(c.Name) {
		if !p.Level {
			continue
		}
		if v, ok := p.field(&c, false).(*int); ok && *v > n-1 {
			*p.field(&c, true).(*int) = max(0, n-1)
		}
	}
	return c
}

// Validate checks the parameters against a policy with n levels and
// returns the first problem, naming its JSON path.
func (c *Params) Validate(n int) error {
	info := Lookup(c.Name)
	if info == nil {
		return ferr("controller.name", "got %q, expected one of %s", clip(c.Name), strings.Join(Names(), ", "))
	}
	for _, o := range registry {
		switch {
		case o == info && !o.has(c):
			return ferr("controller."+o.Name, "missing: the parameters of controller %q", c.Name)
		case o != info && o.has(c):
			return ferr("controller."+o.Name, "present, but the controller is %q", c.Name)
		}
	}
	key := "controller." + c.Name + "."
	if err := checkParams(c, info.Params, key); err != nil {
		return err
	}
	if info.rules != nil {
		if err := info.rules(c, key, n); err != nil {
			return err
		}
	}
	if c.Floor != nil {
		return checkParams(c, floorParams, "controller.floor.")
	}
	return nil
}

// checkParams checks each parameter's value against its range.
func checkParams(c *Params, ps []*Param, key string) error {
	for _, p := range ps {
		var err error
		switch v := p.field(c, false).(type) {
		case *int:
			if p.Kind == Int && p.Max < math.MaxInt32 {
				err = p.check(float64(*v))
			}
		case *float64:
			err = p.check(*v)
		case *string:
			if !slices.Contains(p.Choices, *v) {
				err = fmt.Errorf("got %q, expected %s", clip(*v), p.Range())
			}
		}
		if err != nil {
			return ferr(key+p.Name, "%v", err)
		}
	}
	return nil
}

// String is a one-line summary such as "state n=3 votes=2 factor=1 +
// floor 1pp hard_frac=0".
func (c Params) String() string {
	info := Lookup(c.Name)
	if info == nil || !info.has(&c) {
		return c.Name
	}
	parts := []string{c.Name}
	for _, p := range info.Params {
		switch {
		case p.Goal && p.Get(c) == "0":
		case p.Goal:
			parts = append(parts, fmt.Sprintf("%.6g%s", *p.field(&c, false).(*float64), p.unit))
		default:
			parts = append(parts, p.Name+"="+p.Get(c))
		}
	}
	s := strings.Join(parts, " ")
	if c.Floor != nil {
		s += fmt.Sprintf(" + floor %gpp hard_frac=%g", c.Floor.LossPP, c.Floor.HardFrac)
	}
	return s
}
