package policy

import (
	"fmt"
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

// Names lists the controller names.
func Names() []string { return []string{Static, Naive, State, Kalman, Confidence, Budget} }

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
// copied as it is: its zero values are meaningful). The copy is validated against no level
// count (Validate with the policy's levels checks the rest).
func (c Params) WithDefaults() (Params, error) {
	switch c.Name {
	case Static:
		if c.Static == nil {
			c.Static = &StaticParams{}
		}
	case Naive:
		n := NaiveParams{}
		if c.Naive != nil {
			n = *c.Naive
		}
		if n.Factor == 0 {
			n.Factor = DefaultFactor
		}
		c.Naive = &n
	case State:
		s := StateParams{}
		if c.State != nil {
			s = *c.State
		}
		if s.Factor == 0 {
			s.Factor = DefaultFactor
		}
		if s.N == 0 {
			s.N = DefaultStateN
		}
		if s.Votes == 0 {
			s.Votes = DefaultVotes
		}
		c.State = &s
	case Kalman:
		k, d := KalmanParams{}, DefaultKalman()
		if c.Kalman != nil {
			k = *c.Kalman
		}
		if k.Factor == 0 {
			k.Factor = d.Factor
		}
		if k.X0 == 0 && k.P0 == 0 && k.R == 0 && k.Q == 0 {
			k.X0, k.P0, k.R, k.Q = d.X0, d.P0, d.R, d.Q
		}
		if k.Less == 0 && k.More == 0 {
			k.Less, k.More = d.Less, d.More
		}
		c.Kalman = &k
	case Confidence:
		p := ConfidenceParams{}
		if c.Confidence != nil {
			p = *c.Confidence
		}
		if p.Factor == 0 {
			p.Factor = DefaultFactor
		}
		if p.LessFrac == 0 && p.MoreFrac == 0 {
			p.LessFrac, p.MoreFrac = DefaultLessFrac, DefaultMoreFrac
		}
		c.Confidence = &p
	case Budget:
		b := BudgetParams{}
		if c.Budget != nil {
			b = *c.Budget
		}
		if b.KP == 0 && b.KI == 0 {
			b.KP, b.KI = DefaultKP, DefaultKI
		}
		if b.Alpha == 0 {
			b.Alpha = DefaultAlpha
		}
		if b.Mix == "" {
			b.Mix = MixCost
		}
		c.Budget = &b
	default:
		return c, ferr("controller.name", "got %q, expected one of %s", clip(c.Name), strings.Join(Names(), ", "))
	}
	if c.Floor != nil {
		f := *c.Floor
		c.Floor = &f
	}
	return c, nil
}

// Validate checks the parameters against a policy with n levels and
// returns the first problem, naming its JSON path.
func (c *Params) Validate(n int) error {
	present := map[string]bool{
		Static: c.Static != nil, Naive: c.Naive != nil, State: c.State != nil,
		Kalman: c.Kalman != nil, Confidence: c.Confidence != nil, Budget: c.Budget != nil,
	}
	if _, ok := present[c.Name]; !ok {
		return ferr("controller.name", "got %q, expected one of %s", clip(c.Name), strings.Join(Names(), ", "))
	}
	for _, name := range Names() {
		switch {
		case name == c.Name && !present[name]:
			return ferr("controller."+name, "missing: the parameters of controller %q", c.Name)
		case name != c.Name && present[name]:
			return ferr("controller."+name, "present, but the controller is %q", c.Name)
		}
	}
	key := "controller." + c.Name + "."
	factor := func(f int) error {
		if f != 1 && f != 2 {
			return ferr(key+"factor", "got %d, expected 1 or 2", f)
		}
		return nil
	}
	switch c.Name {
	case Static:
		if c.Static.Level < 0 || c.Static.Level >= n {
			return ferr(key+"level", "got %d, expected 0..%d (the policy's levels)", c.Static.Level, n-1)
		}
	case Naive:
		if err := factor(c.Naive.Factor); err != nil {
			return err
		}
	case State:
		s := c.State
		if err := factor(s.Factor); err != nil {
			return err
		}
		if s.N < 2 || s.N > 64 {
			return ferr(key+"n", "got %d, expected 2..64 predictions", s.N)
		}
		if s.Votes < 1 || s.Votes > 64 {
			return ferr(key+"votes", "got %d, expected 1..64", s.Votes)
		}
	case Kalman:
		k := c.Kalman
		if err := factor(k.Factor); err != nil {
			return err
		}
		switch {
		case !finite(k.X0) || k.X0 < 0 || k.X0 > 1:
			return ferr(key+"x0", "got %v, expected 0..1", k.X0)
		case !finite(k.P0) || k.P0 <= 0 || k.P0 > 1e6:
			return ferr(key+"p0", "got %v, expected 0 < p0 <= 1e6", k.P0)
		case !finite(k.R) || k.R <= 0 || k.R > 1e6:
			return ferr(key+"r", "got %v, expected 0 < r <= 1e6", k.R)
		case !finite(k.Q) || k.Q < 0 || k.Q > 1e6:
			return ferr(key+"q", "got %v, expected 0 <= q <= 1e6", k.Q)
		case !finite(k.Less) || k.Less < 0 || k.Less > 1:
			return ferr(key+"less", "got %v, expected 0..1", k.Less)
		case !finite(k.More) || k.More < k.Less || k.More > 1:
			return ferr(key+"more", "got %v, expected less (%v)..1", k.More, k.Less)
		}
	case Confidence:
		p := c.Confidence
		if err := factor(p.Factor); err != nil {
			return err
		}
		switch {
		case !finite(p.LessFrac) || p.LessFrac < -1 || p.LessFrac > 2:
			return ferr(key+"less_frac", "got %v, expected -1..2", p.LessFrac)
		case !finite(p.MoreFrac) || p.MoreFrac < p.LessFrac || p.MoreFrac > 2:
			return ferr(key+"more_frac", "got %v, expected less_frac (%v)..2", p.MoreFrac, p.LessFrac)
		}
	case Budget:
		b := c.Budget
		switch {
		case !finite(b.EnergyJ) || b.EnergyJ < 0 || b.EnergyJ > 1e9:
			return ferr(key+"energy_j", "got %v, expected 0 < J <= 1e9", b.EnergyJ)
		case !finite(b.LatencyUS) || b.LatencyUS < 0 || b.LatencyUS > 1e12:
			return ferr(key+"latency_us", "got %v, expected 0 < us <= 1e12", b.LatencyUS)
		case (b.EnergyJ > 0) == (b.LatencyUS > 0):
			return ferr(key+"energy_j", "expected exactly one of energy_j and latency_us to be set (> 0)")
		case !finite(b.KP) || b.KP < 0 || b.KP > 10:
			return ferr(key+"kp", "got %v, expected 0..10", b.KP)
		case !finite(b.KI) || b.KI <= 0 || b.KI > 10:
			return ferr(key+"ki", "got %v, expected 0 < ki <= 10 (the integral term is what holds the mean)", b.KI)
		case !finite(b.Alpha) || b.Alpha <= 0 || b.Alpha > 1:
			return ferr(key+"alpha", "got %v, expected 0 < alpha <= 1", b.Alpha)
		case b.Mix != MixCost && b.Mix != MixSpeedup:
			return ferr(key+"mix", "got %q, expected %q or %q", clip(b.Mix), MixCost, MixSpeedup)
		}
	}
	if f := c.Floor; f != nil {
		switch {
		case !finite(f.LossPP) || f.LossPP < 0 || f.LossPP > 100:
			return ferr("controller.floor.loss_pp", "got %v, expected 0..100 percentage points", f.LossPP)
		case !finite(f.HardFrac) || f.HardFrac < -1 || f.HardFrac > 2:
			return ferr("controller.floor.hard_frac", "got %v, expected -1..2", f.HardFrac)
		}
	}
	return nil
}

// String is a one-line summary such as "state n=3 votes=2 factor=1 +
// floor 1pp".
func (c Params) String() string {
	var s string
	switch {
	case c.Name == Static && c.Static != nil:
		s = fmt.Sprintf("static level=%d", c.Static.Level)
	case c.Name == Naive && c.Naive != nil:
		s = fmt.Sprintf("naive factor=%d", c.Naive.Factor)
	case c.Name == State && c.State != nil:
		s = fmt.Sprintf("state n=%d votes=%d factor=%d", c.State.N, c.State.Votes, c.State.Factor)
	case c.Name == Kalman && c.Kalman != nil:
		k := c.Kalman
		s = fmt.Sprintf("kalman x0=%g p0=%g r=%g q=%g less=%g more=%g factor=%d", k.X0, k.P0, k.R, k.Q, k.Less, k.More, k.Factor)
	case c.Name == Confidence && c.Confidence != nil:
		s = fmt.Sprintf("confidence less_frac=%g more_frac=%g factor=%d", c.Confidence.LessFrac, c.Confidence.MoreFrac, c.Confidence.Factor)
	case c.Name == Budget && c.Budget != nil:
		b := c.Budget
		goal := fmt.Sprintf("%.6gJ", b.EnergyJ)
		if b.LatencyUS > 0 {
			goal = fmt.Sprintf("%.6gus", b.LatencyUS)
		}
		s = fmt.Sprintf("budget %s kp=%g ki=%g alpha=%g mix=%s seed=%d", goal, b.KP, b.KI, b.Alpha, b.Mix, b.Seed)
	default:
		s = c.Name
	}
	if c.Floor != nil {
		s += fmt.Sprintf(" + floor %gpp hard_frac=%g", c.Floor.LossPP, c.Floor.HardFrac)
	}
	return s
}
