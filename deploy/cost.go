package deploy

import (
	"fmt"
	"slices"
	"time"

	"github.com/kagen-ai/kagen/policy"
)

// Cost says what busy time one inference is charged: the energy model and
// the controllers' observations are computed from it.
type Cost interface {
	// Busy returns the busy time charged to an inference at level that
	// was measured to take measured.
	Busy(level int, measured time.Duration) time.Duration
	// Name says where the figure comes from ("measured", "pareto").
	Name() string
}

// LevelCost charges every inference at level i the time LevelCost[i]:
// the policy's own time_us (PolicyCost), or medians measured apart from
// the replay (the workbench's background timing). A replay under a
// LevelCost is deterministic.
type LevelCost struct {
	Times []time.Duration
	// Source names where the times come from.
	Source string
}

// Busy implements Cost.
func (c *LevelCost) Busy(level int, _ time.Duration) time.Duration { return c.Times[level] }

// Name implements Cost.
func (c *LevelCost) Name() string { return c.Source }

// PolicyCost is the cost given by the policy's time_us of each level (the
// tuner's interleaved medians). Every level must have one.
func PolicyCost(pol *policy.Policy) (*LevelCost, error) {
	c := &LevelCost{Source: CostPareto}
	for _, l := range pol.Levels {
		if !(l.TimeUS > 0) {
			return nil, fmt.Errorf("levels[%d].time_us is %v, expected > 0", l.Level, l.TimeUS)
		}
		c.Times = append(c.Times, time.Duration(l.TimeUS*1e3))
	}
	return c, nil
}

// Cost sources by name.
const (
	CostMeasured = "measured" // busy time measured here, outliers filtered
	CostPareto   = "pareto"   // the policy's time_us of the level that ran
)

// MeasuredCost charges the busy time measured here, with outliers
// replaced: a time more than OutlierFactor times the median of its
// level's recent times (preemption by other processes, a page fault) is
// replaced by that median, so that a figure reports the cost of inference
// rather than of scheduling on a shared machine. The replacements are
// counted (Replaced) and reported.
type MeasuredCost struct {
	hist     [][]time.Duration // per level, the last filterWindow kept times
	n        []int             // times recorded per level
	scratch  []time.Duration
	replaced int
}

// Filter constants of MeasuredCost.
const (
	filterWindow  = 31
	filterMin     = 8
	OutlierFactor = 10
)

// NewMeasuredCost returns a measured cost for levels levels.
func NewMeasuredCost(levels int) *MeasuredCost {
	f := &MeasuredCost{hist: make([][]time.Duration, levels), n: make([]int, levels), scratch: make([]time.Duration, filterWindow)}
	for i := range f.hist {
		f.hist[i] = make([]time.Duration, filterWindow)
	}
	return f
}

// Busy implements Cost.
func (f *MeasuredCost) Busy(level int, d time.Duration) time.Duration {
	h, n := f.hist[level], f.n[level]
	if n >= filterMin {
		k := min(n, filterWindow)
		s := f.scratch[:k]
		copy(s, h[:k])
		slices.Sort(s)
		if med := s[k/2]; d > OutlierFactor*med {
			f.replaced++
			return med
		}
	}
	h[n%filterWindow] = d
	f.n[level]++
	return d
}

// Name implements Cost.
func (f *MeasuredCost) Name() string { return CostMeasured }

// Replaced returns how many times were replaced as outliers.
func (f *MeasuredCost) Replaced() int { return f.replaced }
