package policy

import (
	"fmt"
	"math"
)

// Observation is what a controller learns from one inference.
type Observation struct {
	// Index counts the inputs of the stream from 0.
	Index int64
	// Time is the input's time in seconds from the start of the stream
	// (for a window, its end).
	Time float64
	// Level is the level the inference ran at.
	Level int
	// Class is the predicted class index and Confidence its softmax
	// probability.
	Class      int
	Confidence float32
	// TimeUS is the measured busy time of the inference in microseconds.
	TimeUS float64
	// EnergyJ is the energy of the inference in joules (measured or
	// modelled from TimeUS by a device profile).
	EnergyJ float64
}

// Signal flags say which optional fields of a Decision hold values.
type Signal uint8

// Signals.
const (
	SigVotes      Signal = 1 << iota // Votes (state)
	SigKalman                        // KalmanX (kalman)
	SigThresholds                    // Less and More (confidence)
	SigBudget                        // BudgetErr, Goal and Cost (budget)
	SigFloor                         // Hard (floor guard)
	SigOverride                      // Proposed and Inner (floor guard overrode)
)

// Decision is a controller's choice of the next level, the rule that fired
// and the signals it looked at. It holds no pointers but its two rule
// strings, which are constants of the controller, so copying it allocates
// nothing.
type Decision struct {
	// Index and Time are those of the observation decided on.
	Index int64
	Time  float64
	// From is the level the observed inference ran at; To the level of
	// the next one.
	From, To int
	// Rule is a short stable description of the rule that chose To, such
	// as "state: last 3 predictions equal, votes +2 -> more".
	Rule string
	// Class and Confidence are the observed prediction.
	Class      int
	Confidence float32
	// Signals says which of the fields below are set.
	Signals Signal
	// Votes is the state controller's vote count after this input.
	Votes int
	// KalmanX is the Kalman controller's estimate of class stability.
	KalmanX float64
	// Less and More are the confidence thresholds of the observed level
	// and class.
	Less, More float64
	// BudgetErr is the relative error of the mean cost so far against the
	// budget ((mean-budget)/budget); Goal the required speedup over exact;
	// Cost the observed inference's cost (J or us).
	BudgetErr, Goal, Cost float64
	// Hard is the floor guard's hard-input threshold for the observed
	// level and class.
	Hard float64
	// Proposed and Inner are the wrapped controller's level and rule when
	// the floor guard overrode them.
	Proposed int
	Inner    string
}

// Controller chooses the approximation level of each inference. Start
// gives the level of the first inference; after each inference Decide is
// given its observation and returns the level of the next. Decide
// allocates nothing. A Controller is not safe for concurrent use.
type Controller interface {
	// Name is the controller's name ("state", "budget+floor").
	Name() string
	// Start returns the level of the first inference.
	Start() int
	// Decide returns the next level given the last inference.
	Decide(obs Observation) Decision
	// Reset returns the controller to its initial state.
	Reset()
}

// NewController builds the controller a policy names, with its parameters,
// wrapped in the floor guard when the policy has one. The controller is
// limited to the levels the floor allows.
func NewController(p *Policy) (Controller, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	max := len(p.Levels) - 1
	if p.Controller.Floor != nil {
		max = FloorLevel(p.Levels, p.Controller.Floor.LossPP)
	}
	levels := p.Levels[:max+1]
	nc := len(p.Classes)
	pc := p.Controller
	c := Lookup(pc.Name).build(&pc, levels, nc)
	if p.Controller.Floor != nil {
		return WithFloor(c, p, *p.Controller.Floor)
	}
	return c, nil
}

// clampLevel brings a reported level into [0, max].
func clampLevel(l, max int) int {
	if l < 0 {
		return 0
	}
	if l > max {
		return max
	}
	return l
}

func begin(obs Observation, max int) Decision {
	return Decision{Index: obs.Index, Time: obs.Time, From: obs.Level, To: clampLevel(obs.Level, max), Class: obs.Class, Confidence: obs.Confidence}
}

// stepper walks the level index as the Mobiprox engines do:
// less: idx = idx/2, step = 1; more: idx = idx+step, step = step*factor.
type stepper struct {
	max, step, factor int
}

func (s *stepper) less(idx int) int {
	s.step = 1
	return idx / 2
}

func (s *stepper) more(idx int) int {
	n := idx + s.step
	if n > s.max || n < idx {
		n = s.max
	}
	if s.step <= s.max {
		s.step *= s.factor
	}
	return n
}

// static runs every inference at one level.
type static struct {
	level int
	rule  string
}

func (c *static) Name() string { return Static }
func (c *static) Start() int   { return c.level }
func (c *static) Reset()       {}

func (c *static) Decide(obs Observation) Decision {
	d := begin(obs, c.level)
	d.To, d.Rule = c.level, c.rule
	return d
}

// naive approximates less when the predicted class changed and more when
// it did not. Unlike the published engine it remembers every class it saw.
type naive struct {
	stepper
	last int
	seen bool
}

func newNaive(max, factor int) *naive {
	c := &naive{stepper: stepper{max: max, factor: factor}}
	c.Reset()
	return c
}

func (c *naive) Name() string { return Naive }
func (c *naive) Start() int   { return 0 }
func (c *naive) Reset()       { c.step, c.seen, c.last = 1, false, 0 }

func (c *naive) Decide(obs Observation) Decision {
	d := begin(obs, c.max)
	switch {
	case !c.seen:
		d.Rule = "naive: first input -> hold"
	case obs.Class != c.last:
		d.To, d.Rule = c.less(d.To), "naive: class changed -> less"
	default:
		d.To, d.Rule = c.more(d.To), "naive: class unchanged -> more"
	}
	c.last, c.seen = obs.Class, true
	return d
}

// state keeps the last N predictions: all equal counts as a reliable
// input. Votes grow on reliable inputs and shrink otherwise; at +Votes the
// controller approximates more, at -Votes less, and the votes restart.
type state struct {
	stepper
	n, limit int
	hist     []int
	filled   int
	pos      int
	votes    int
	// rules[reliable][votes+limit] for the vote count after the update.
	rules [2][]string
}

func newState(max int, p StateParams) *state {
	c := &state{stepper: stepper{max: max, factor: p.Factor}, n: p.N, limit: p.Votes, hist: make([]int, p.N)}
	for r, what := range []string{"not all equal", "equal"} {
		c.rules[r] = make([]string, 2*p.Votes+1)
		for v := -p.Votes; v <= p.Votes; v++ {
			act := "hold"
			switch {
			case v == p.Votes:
				act = "more"
			case v == -p.Votes:
				act = "less"
			}
			c.rules[r][v+p.Votes] = fmt.Sprintf("state: last %d predictions %s, votes %+d -> %s", p.N, what, v, act)
		}
	}
	c.Reset()
	return c
}

func (c *state) Name() string { return State }
func (c *state) Start() int   { return 0 }
func (c *state) Reset() {
	c.step, c.filled, c.pos, c.votes = 1, 0, 0, 0
	clear(c.hist)
}

func (c *state) Decide(obs Observation) Decision {
	d := begin(obs, c.max)
	c.hist[c.pos] = obs.Class
	c.pos++
	if c.pos == c.n {
		c.pos = 0
	}
	if c.filled < c.n {
		c.filled++
	}
	reliable := c.filled == c.n
	for _, k := range c.hist {
		if k != obs.Class {
			reliable = false
			break
		}
	}
	r := 0
	if reliable {
		r = 1
		c.votes = max(0, c.votes) + 1
	} else {
		c.votes = min(0, c.votes) - 1
	}
	c.votes = max(-c.limit, min(c.limit, c.votes))
	d.Rule = c.rules[r][c.votes+c.limit]
	d.Votes, d.Signals = c.votes, SigVotes
	switch c.votes {
	case c.limit:
		d.To = c.more(d.To)
		c.votes = 0
	case -c.limit:
		d.To = c.less(d.To)
		c.votes = 0
	}
	return d
}

// kalman filters z = 1 (class unchanged) or 0 with a scalar Kalman filter;
// a low estimate makes it approximate less, a high one more.
type kalman struct {
	stepper
	p          KalmanParams
	x, v       float64 // estimate and its variance
	last       int
	seen       bool
	ruleLess   string
	ruleMore   string
	ruleHold   string
	ruleFirstK string
}

func newKalman(max int, p KalmanParams) *kalman {
	c := &kalman{stepper: stepper{max: max, factor: p.Factor}, p: p,
		ruleLess:   fmt.Sprintf("kalman: x < %g -> less", p.Less),
		ruleMore:   fmt.Sprintf("kalman: x > %g -> more", p.More),
		ruleHold:   fmt.Sprintf("kalman: %g <= x <= %g -> hold", p.Less, p.More),
		ruleFirstK: "kalman: first input -> hold",
	}
	c.Reset()
	return c
}

func (c *kalman) Name() string { return Kalman }
func (c *kalman) Start() int   { return 0 }
func (c *kalman) Reset() {
	c.step, c.x, c.v, c.last, c.seen = 1, c.p.X0, c.p.P0, 0, false
}

func (c *kalman) Decide(obs Observation) Decision {
	d := begin(obs, c.max)
	if !c.seen {
		c.last, c.seen = obs.Class, true
		d.Rule, d.KalmanX, d.Signals = c.ruleFirstK, c.x, SigKalman
		return d
	}
	z := 0.0
	if obs.Class == c.last {
		z = 1
	}
	c.last = obs.Class
	k := c.v / (c.v + c.p.R)
	c.x += k * (z - c.x)
	c.v = (1-k)*c.v + c.p.Q
	d.KalmanX, d.Signals = c.x, SigKalman
	switch {
	case c.x < c.p.Less:
		d.To, d.Rule = c.less(d.To), c.ruleLess
	case c.x > c.p.More:
		d.To, d.Rule = c.more(d.To), c.ruleMore
	default:
		d.Rule = c.ruleHold
	}
	return d
}

// calibrated returns the mean confidence of correct (c) and wrong (w)
// predictions of class k at a level. A class without correct (or wrong)
// predictions falls back to the level's mean over all classes weighted by
// count; without any, c = 1 and w = 1/classes (the least a top softmax
// probability can be).
func calibrated(l *Level, k, nc int) (c, w float64) {
	s := &l.Confidence
	c, w = 1, 1/float64(nc)
	if len(s.CorrectMean) != nc {
		return c, w
	}
	if s.CorrectN[k] > 0 {
		c = s.CorrectMean[k]
	} else if m, ok := pooled(s.CorrectMean, s.CorrectN); ok {
		c = m
	}
	if s.WrongN[k] > 0 {
		w = s.WrongMean[k]
	} else if m, ok := pooled(s.WrongMean, s.WrongN); ok {
		w = m
	}
	return c, w
}

func pooled(mean []float64, n []int) (float64, bool) {
	var sum, cnt float64
	for i, m := range mean {
		sum += m * float64(n[i])
		cnt += float64(n[i])
	}
	if cnt == 0 {
		return 0, false
	}
	return sum / cnt, true
}

// thresholds returns w + frac(c-w), clamped to [0, 1], for every (level,
// class), indexed level*nc+class.
func thresholds(levels []Level, nc int, frac float64) []float64 {
	t := make([]float64, len(levels)*nc)
	for i := range levels {
		for k := 0; k < nc; k++ {
			c, w := calibrated(&levels[i], k, nc)
			t[i*nc+k] = math.Max(0, math.Min(1, w+frac*(c-w)))
		}
	}
	return t
}

// confidence approximates less when the confidence of the last prediction
// is below the "less" threshold of its level and class, more when above
// the "more" threshold.
type confidence struct {
	stepper
	nc         int
	less, more []float64
}

func newConfidence(levels []Level, nc int, p ConfidenceParams) *confidence {
	c := &confidence{stepper: stepper{max: len(levels) - 1, factor: p.Factor}, nc: nc,
		less: thresholds(levels, nc, p.LessFrac), more: thresholds(levels, nc, p.MoreFrac)}
	c.Reset()
	return c
}

func (c *confidence) Name() string { return Confidence }
func (c *confidence) Start() int   { return 0 }
func (c *confidence) Reset()       { c.step = 1 }

func (c *confidence) Decide(obs Observation) Decision {
	d := begin(obs, c.max)
	if obs.Class < 0 || obs.Class >= c.nc {
		d.To, d.Rule = c.stepper.less(d.To), "confidence: class out of range -> less"
		return d
	}
	i := d.To*c.nc + obs.Class
	lo, hi := c.less[i], c.more[i]
	d.Less, d.More, d.Signals = lo, hi, SigThresholds
	conf := float64(obs.Confidence)
	switch {
	case !(conf >= lo):
		d.To, d.Rule = c.stepper.less(d.To), "confidence: below the calibrated less threshold -> less"
	case conf > hi:
		d.To, d.Rule = c.stepper.more(d.To), "confidence: above the calibrated more threshold -> more"
	default:
		d.Rule = "confidence: between the calibrated thresholds -> hold"
	}
	return d
}
