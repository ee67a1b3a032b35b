package profile

import (
	"math"
	"testing"
)

// TestSteadyExact checks that a pair whose interleaved exact time stalled
// takes its node's median, with its speedup and pruning redone, and that
// the others are left alone.
func TestSteadyExact(t *testing.T) {
	pairs := []PairProfile{
		{Step: 1, Knob: "a", NodeUS: 2000, ExactNodeUS: 2700},
		{Step: 1, Knob: "b", NodeUS: 1900, ExactNodeUS: 6800}, // stalled exact
		{Step: 1, Knob: "c", NodeUS: 2600, ExactNodeUS: 2750},
		{Step: 1, Knob: "d", NodeUS: 2900, ExactNodeUS: 1000}, // stalled the other way
		{Step: 2, Knob: "e", NodeUS: 100, ExactNodeUS: 900},   // alone on its node
	}
	for i := range pairs {
		pairs[i].NodeSpeedup = pairs[i].ExactNodeUS / pairs[i].NodeUS
	}
	steadyExact(pairs, 1.03)
	med := 2750.0 // the upper of the middle two
	for _, c := range []struct {
		i       int
		exact   float64
		speedup float64
		pruned  bool
	}{
		{0, 2700, 1.35, false},
		{1, med, med / 1900, false},
		{2, 2750, 2750 / 2600.0, false},
		{3, med, med / 2900, true},
		{4, 900, 9, false},
	} {
		pp := pairs[c.i]
		if pp.ExactNodeUS != c.exact || math.Abs(pp.NodeSpeedup-c.speedup) > 1e-9 || pp.Pruned != c.pruned {
			t.Errorf("pair %s: exact %v speedup %v pruned %v, want %v %v %v", pp.Knob, pp.ExactNodeUS, pp.NodeSpeedup, pp.Pruned, c.exact, c.speedup, c.pruned)
		}
	}
}
