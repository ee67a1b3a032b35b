package policy

import (
	"math"
	"strings"
	"testing"
)

// step is one observation's class and confidence and the level and rule
// (a substring) expected for the next inference.
type step struct {
	class int
	conf  float32
	to    int
	rule  string
}

func TestControllerRules(t *testing.T) {
	cls := func(classes []int, levels []int, rules ...string) []step {
		s := make([]step, len(classes))
		for i := range classes {
			s[i] = step{class: classes[i], conf: 0.9, to: levels[i]}
			if i < len(rules) {
				s[i].rule = rules[i]
			}
		}
		return s
	}
	tests := []struct {
		name   string
		params Params
		steps  []step
	}{
		{"static", Params{Name: Static, Static: &StaticParams{Level: 3}},
			cls([]int{0, 1, 2, 3}, []int{3, 3, 3, 3}, "static: level 3")},
		{"naive factor 1", Params{Name: Naive},
			cls([]int{0, 0, 0, 0, 1, 1, 1}, []int{0, 1, 2, 3, 1, 2, 3},
				"naive: first input -> hold", "naive: class unchanged -> more", "", "", "naive: class changed -> less")},
		{"naive factor 2", Params{Name: Naive, Naive: &NaiveParams{Factor: 2}},
			cls([]int{0, 0, 0, 0, 1, 1, 1, 1}, []int{0, 1, 3, 7, 3, 4, 6, 7})},
		// The published engine never updated its memory of the last class,
		// so alternating classes looked "unchanged" every other input.
		{"naive remembers the last class", Params{Name: Naive},
			cls([]int{0, 0, 0, 0, 1, 0, 1, 0}, []int{0, 1, 2, 3, 1, 0, 0, 0})},
		{"state", Params{Name: State},
			cls([]int{0, 0, 0, 0, 0, 0, 0, 0, 1, 1}, []int{0, 0, 0, 1, 1, 2, 2, 3, 3, 1},
				"state: last 3 predictions not all equal, votes -1 -> hold",
				"state: last 3 predictions not all equal, votes -2 -> less",
				"state: last 3 predictions equal, votes +1 -> hold",
				"state: last 3 predictions equal, votes +2 -> more")},
		{"state factor 2 n 2", Params{Name: State, State: &StateParams{N: 2, Votes: 1, Factor: 2}},
			cls([]int{0, 0, 0, 0, 0, 1}, []int{0, 1, 3, 7, 7, 3})},
		{"kalman", Params{Name: Kalman},
			cls([]int{0, 0, 0, 0, 1, 0}, []int{0, 1, 2, 3, 3, 1},
				"kalman: first input -> hold", "kalman: x > 0.95 -> more", "", "", "kalman: 0.5 <= x <= 0.95 -> hold", "kalman: x < 0.5 -> less")},
		{"confidence", Params{Name: Confidence}, []step{
			{0, 0.95, 1, "confidence: above the calibrated more threshold -> more"},
			{1, 0.95, 2, "more"},
			{1, 0.75, 2, "confidence: between the calibrated thresholds -> hold"},
			{1, 0.6, 1, "confidence: below the calibrated less threshold -> less"},
			{1, float32(math.NaN()), 0, "below"},
			{0, 0.99, 1, "more"},
			{9, 0.99, 0, "confidence: class out of range -> less"},
		}},
		{"naive under a floor", Params{Name: Naive, Floor: &FloorParams{LossPP: 1, HardFrac: 0.5}}, []step{
			{0, 0.9, 0, "naive: first input"},
			{0, 0.9, 1, "more"}, {0, 0.9, 2, "more"}, {0, 0.9, 3, "more"},
			{0, 0.9, 3, "more"}, // the inner controller is limited to level 3 as well
			{0, 0.6, 0, "floor: confidence below the calibrated hard-input threshold -> exact"},
			{0, 0.9, 1, "more"},
			{0, 1.5, 0, "floor: class or confidence out of range -> exact"},
		}},
		{"floor with the hard-input rule off", Params{Name: Naive, Floor: &FloorParams{LossPP: 1, HardFrac: -1}}, []step{
			{0, 0.01, 0, "naive: first input"},
			{0, 0.01, 1, "naive: class unchanged -> more"},
			{0, 0.0, 2, "more"},
			{0, 2, 0, "floor: class or confidence out of range -> exact"},
		}},
		{"budget holds exact under a large budget", Params{Name: Budget, Budget: &BudgetParams{LatencyUS: 1000}},
			cls([]int{0, 0, 0}, []int{0, 0, 0}, "budget: goal at most exact's cost -> exact")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustController(testPolicy(8, 2, tt.params))
			level := c.Start()
			for i, s := range tt.steps {
				obs := Observation{Index: int64(i), Time: float64(i), Level: level, Class: s.class, Confidence: s.conf, TimeUS: 100, EnergyJ: 0.001}
				d := c.Decide(obs)
				if d.From != level || d.Index != int64(i) || d.Class != s.class {
					t.Fatalf("input %d: decision %+v does not echo the observation", i, d)
				}
				if d.To != s.to || !strings.Contains(d.Rule, s.rule) {
					t.Fatalf("input %d (class %d, conf %v) at level %d: got level %d by %q, want %d by %q", i, s.class, s.conf, level, d.To, d.Rule, s.to, s.rule)
				}
				level = d.To
			}
			// Reset restores the initial state: the same inputs give the
			// same decisions.
			c.Reset()
			level = c.Start()
			for i, s := range tt.steps {
				d := c.Decide(Observation{Index: int64(i), Level: level, Class: s.class, Confidence: s.conf, TimeUS: 100, EnergyJ: 0.001})
				if d.To != s.to {
					t.Fatalf("after Reset, input %d: got level %d, want %d", i, d.To, s.to)
				}
				level = d.To
			}
		})
	}
}

func TestControllerNames(t *testing.T) {
	for _, name := range Names() {
		p := Params{Name: name, Budget: nil}
		if name == Budget {
			p.Budget = &BudgetParams{EnergyJ: 1}
		}
		c := mustController(testPolicy(3, 2, p))
		if c.Name() != name {
			t.Errorf("Name() = %q, want %q", c.Name(), name)
		}
		p.Floor = &FloorParams{LossPP: 1, HardFrac: 0.5}
		if c := mustController(testPolicy(3, 2, p)); c.Name() != name+"+floor" {
			t.Errorf("Name() = %q, want %q", c.Name(), name+"+floor")
		}
	}
}

// TestControllersRobust feeds every controller hostile observations:
// levels out of range, unknown classes, NaN and infinite confidences and
// costs. Decisions stay within the levels and never panic.
func TestControllersRobust(t *testing.T) {
	bad := []Observation{
		{Level: -5, Class: -1, Confidence: float32(math.NaN()), TimeUS: math.NaN(), EnergyJ: math.Inf(1)},
		{Level: 99, Class: 1 << 30, Confidence: float32(math.Inf(1)), TimeUS: -1, EnergyJ: -1},
		{Level: 2, Class: 1, Confidence: -3, TimeUS: math.Inf(1), EnergyJ: math.NaN()},
		{Level: 1, Class: 0, Confidence: 2, TimeUS: 1e300, EnergyJ: 1e300},
		{Level: 0, Class: 0, Confidence: 0.9, TimeUS: 0, EnergyJ: 0},
	}
	for _, p := range allParams() {
		c := mustController(testPolicy(5, 2, p))
		for i := 0; i < 100; i++ {
			d := c.Decide(bad[i%len(bad)])
			if d.To < 0 || d.To > 4 || d.Rule == "" {
				t.Fatalf("%s: decision %+v on %+v", c.Name(), d, bad[i%len(bad)])
			}
		}
	}
}

// allParams returns every controller, with and without a floor.
func allParams() []Params {
	var ps []Params
	for _, name := range Names() {
		p := Params{Name: name}
		if name == Budget {
			p.Budget = &BudgetParams{EnergyJ: 0.0008, Seed: 1}
		}
		ps = append(ps, p)
		p.Floor = &FloorParams{LossPP: 0.7, HardFrac: 0.5}
		ps = append(ps, p)
	}
	return ps
}

// TestDecideAllocs checks that a decision allocates nothing.
func TestDecideAllocs(t *testing.T) {
	for _, p := range allParams() {
		c := mustController(testPolicy(8, 5, p))
		level, i := 0, 0
		allocs := testing.AllocsPerRun(1000, func() {
			i++
			d := c.Decide(Observation{Index: int64(i), Level: level, Class: (i / 7) % 5, Confidence: float32(i%10) / 10, TimeUS: 80, EnergyJ: 0.0009})
			level = d.To
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per decision", c.Name(), allocs)
		}
	}
}

func BenchmarkDecide(b *testing.B) {
	for _, p := range allParams() {
		c := mustController(testPolicy(8, 5, p))
		b.Run(c.Name(), func(b *testing.B) {
			obs := make([]Observation, 64)
			for i := range obs {
				obs[i] = Observation{Index: int64(i), Class: (i / 5) % 5, Confidence: 0.5 + float32(i%8)/16, TimeUS: 70 + float64(i%5), EnergyJ: 0.0007 + 0.0001*float64(i%3)}
			}
			level := c.Start()
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				o := obs[i&63]
				o.Level = level
				level = c.Decide(o).To
			}
		})
	}
}
