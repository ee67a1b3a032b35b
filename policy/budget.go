package policy

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// budget holds the mean cost per inference at a target. It estimates the
// cost exact inference would have had (each observed cost divided by its
// level's relative cost, smoothed), derives the speedup that would meet the
// target, corrects it with a PI term on the relative cost error, and
// time-multiplexes the two neighbouring levels around that speedup.
type budget struct {
	p      BudgetParams
	target float64
	energy bool
	rel    []float64 // cost of each level relative to level 0
	ladder []int     // levels of strictly decreasing relative cost, from 0
	// rules[2i] and rules[2i+1]: mixing ladder[i] and ladder[i+1], the
	// slower or the faster was drawn.
	rules    []string
	ruleTop  string
	ruleBot  string
	ruleBad  string
	gmax     float64
	src      rand.PCG
	n        int64
	sum      float64
	integral float64
	base     float64 // estimated cost of an exact inference
	goal     float64
}

// windup bounds how far beyond the reachable speedups the integral term
// may push the goal (a factor).
const windup = 1.1

func newBudget(levels []Level, p BudgetParams) *budget {
	c := &budget{p: p, target: p.EnergyJ, energy: p.EnergyJ > 0}
	if !c.energy {
		c.target = p.LatencyUS
	}
	c.rel = relativeCosts(levels, c.energy)
	c.ladder = []int{0}
	for i := 1; i < len(levels); i++ {
		if c.rel[i] < c.rel[c.ladder[len(c.ladder)-1]] {
			c.ladder = append(c.ladder, i)
		}
	}
	for i := 0; i+1 < len(c.ladder); i++ {
		a, b := c.ladder[i], c.ladder[i+1]
		c.rules = append(c.rules,
			fmt.Sprintf("budget: goal between levels %d and %d, drew the slower -> %d", a, b, a),
			fmt.Sprintf("budget: goal between levels %d and %d, drew the faster -> %d", a, b, b))
	}
	last := c.ladder[len(c.ladder)-1]
	c.gmax = 1 / c.rel[last]
	c.ruleBot = "budget: goal at most exact's cost -> exact"
	c.ruleTop = fmt.Sprintf("budget: goal beyond the fastest level -> %d (budget not reachable)", last)
	c.ruleBad = "budget: cost not a finite non-negative number -> hold"
	c.Reset()
	return c
}

// relativeCosts returns each level's cost relative to level 0: measured
// energies (for an energy budget) or times (for a latency budget) when
// every level has one, else 1/speedup.
func relativeCosts(levels []Level, energy bool) []float64 {
	r := make([]float64, len(levels))
	measured := true
	for _, l := range levels {
		v := l.TimeUS
		if energy {
			v = l.EnergyJ
		}
		if !(v > 0) {
			measured = false
		}
	}
	for i, l := range levels {
		switch {
		case measured && energy:
			r[i] = l.EnergyJ / levels[0].EnergyJ
		case measured:
			r[i] = l.TimeUS / levels[0].TimeUS
		default:
			r[i] = 1 / l.Speedup
		}
	}
	return r
}

func (c *budget) Name() string { return Budget }
func (c *budget) Start() int   { return 0 }

func (c *budget) Reset() {
	c.src.Seed(c.p.Seed, 0x6b6167656e627564)
	c.n, c.sum, c.integral, c.base, c.goal = 0, 0, 0, 0, 1
}

func (c *budget) Decide(obs Observation) Decision {
	max := len(c.rel) - 1
	d := begin(obs, max)
	cost := obs.TimeUS
	if c.energy {
		cost = obs.EnergyJ
	}
	d.Signals = SigBudget
	d.Cost = cost
	if !(cost >= 0) || math.IsInf(cost, 0) {
		d.Rule, d.Goal = c.ruleBad, c.goal
		d.BudgetErr = c.meanErr()
		return d
	}
	c.n++
	c.sum += cost
	exact := cost / c.rel[d.To]
	if c.n == 1 {
		c.base = exact
	} else {
		c.base += c.p.Alpha * (exact - c.base)
	}
	e := (cost - c.target) / c.target
	e = math.Max(-10, math.Min(10, e))
	ff := c.base / c.target
	// Anti-windup: the integral term may push the goal at most windup
	// beyond the reachable range [1, gmax], so it integrates the error
	// of a goal pinned at a bound by noise, yet unwinds quickly after a
	// budget that could not be met.
	c.integral += e
	hiI := (c.gmax*windup/ff - 1) / c.p.KI
	loI := (1/(windup*ff) - 1) / c.p.KI
	c.integral = math.Max(loI, math.Min(hiI, c.integral))
	if !finite(c.integral) {
		c.integral = 0
	}
	g := ff * (1 + c.p.KP*e + c.p.KI*c.integral)
	if !(g >= 1) { // also NaN
		g = 1
	}
	if g > c.gmax {
		g = c.gmax
	}
	c.goal = g
	d.Goal, d.BudgetErr = g, c.meanErr()
	d.To, d.Rule = c.pick(g)
	return d
}

func (c *budget) meanErr() float64 {
	if c.n == 0 {
		return 0
	}
	return (c.sum/float64(c.n) - c.target) / c.target
}

// pick draws between the two ladder levels around the goal speedup g.
func (c *budget) pick(g float64) (int, string) {
	rho := 1 / g // target relative cost
	lad := c.ladder
	if rho >= 1 || len(lad) == 1 {
		return 0, c.ruleBot
	}
	last := len(lad) - 1
	if rho <= c.rel[lad[last]] {
		return lad[last], c.ruleTop
	}
	// Find i with rel[lad[i]] >= rho > rel[lad[i+1]]; rel decreases.
	lo, hi := 0, last
	for hi-lo > 1 {
		m := (lo + hi) / 2
		if c.rel[lad[m]] >= rho {
			lo = m
		} else {
			hi = m
		}
	}
	slow, fast := lad[lo], lad[lo+1]
	rs, rf := c.rel[slow], c.rel[fast]
	var p float64
	if c.p.Mix == MixSpeedup {
		ss, sf := 1/rs, 1/rf
		p = (sf - g) / (sf - ss)
	} else {
		p = (rho - rf) / (rs - rf)
	}
	u := float64(c.src.Uint64()>>11) / (1 << 53)
	if u < p {
		return slow, c.rules[2*lo]
	}
	return fast, c.rules[2*lo+1]
}
