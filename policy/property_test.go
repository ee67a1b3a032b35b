package policy

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// randomPareto returns a Pareto file of 1..10 levels with random losses
// (mostly increasing, sometimes not), speedups and per-class statistics
// (every count > 0, so the hard-input threshold is w + f(c-w) exactly).
func randomPareto(r *rand.Rand, nc int) *Pareto {
	n := 1 + r.IntN(10)
	p := testPareto(n, nc)
	loss, s := 0.0, 1.0
	for i := 1; i < n; i++ {
		loss += r.Float64() * 0.8
		if r.IntN(5) == 0 {
			loss -= r.Float64() * 0.5 // a non-monotone calibrated loss
		}
		s += 0.05 + r.Float64()*0.3
		l := &p.Configs[i]
		l.QoSLossPP, l.Speedup, l.EnergyJ = loss, s, 0.001/s
	}
	for i := range p.Configs {
		st := &p.Configs[i].Confidence
		for k := 0; k < nc; k++ {
			st.WrongMean[k] = 0.2 + 0.5*r.Float64()
			st.CorrectMean[k] = st.WrongMean[k] + r.Float64()*(1-st.WrongMean[k])
			st.CorrectN[k], st.WrongN[k] = 1+r.IntN(100), 1+r.IntN(20)
		}
	}
	return p
}

// adversary returns the next (class, confidence) of one of several
// hostile input patterns.
func adversary(kind string, r *rand.Rand, i, nc int) (int, float32) {
	switch kind {
	case "random":
		c := float32(r.Float64())
		if r.IntN(50) == 0 {
			c = float32(math.NaN())
		}
		return r.IntN(nc+1) - r.IntN(2), c // sometimes out of range
	case "alternating":
		return i % 2, 0.99
	case "all-low":
		return r.IntN(nc), float32(r.Float64() * 0.3)
	case "stable-then-low":
		if i%17 == 16 {
			return 0, 0.25
		}
		return 0, 0.999
	case "at-threshold":
		return i % nc, float32(0.2 + 0.8*float64(i%100)/100)
	case "bursts":
		return (i / 9) % nc, float32(0.9 + 0.1*r.Float64())
	}
	panic(kind)
}

// TestFloorProperty: under adversarial input sequences, for every
// controller, the floor guard never selects a level whose calibrated loss
// exceeds the floor (nor one after such a level), and after an input whose
// confidence is below the calibrated hard-input threshold of its level and
// class (or out of range) the next inference runs exact.
func TestFloorProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	kinds := []string{"random", "alternating", "all-low", "stable-then-low", "at-threshold", "bursts"}
	for trial := 0; trial < 60; trial++ {
		nc := 2 + r.IntN(6)
		par := randomPareto(r, nc)
		floorPP := r.Float64() * 3
		hardFrac := r.Float64()
		// The highest allowed level, computed here from its definition.
		allowed := 0
		for allowed+1 < len(par.Configs) && par.Configs[allowed+1].QoSLossPP <= floorPP {
			allowed++
		}
		for _, base := range allParams() {
			params := base
			params.Floor = &FloorParams{LossPP: floorPP, HardFrac: hardFrac}
			if params.Name == Static {
				params.Static = &StaticParams{Level: len(par.Configs) - 1}
			}
			pol, err := FromPareto(par, params)
			if err != nil {
				t.Fatal(err)
			}
			c := mustController(pol)
			for _, kind := range kinds {
				c.Reset()
				level := c.Start()
				if level > allowed {
					t.Fatalf("%s: starts at level %d above the floor's %d", c.Name(), level, allowed)
				}
				for i := 0; i < 400; i++ {
					class, conf := adversary(kind, r, i, nc)
					obs := Observation{Index: int64(i), Level: level, Class: class, Confidence: conf, TimeUS: 50 + r.Float64()*50, EnergyJ: 0.0005 + r.Float64()*0.0005}
					d := c.Decide(obs)
					if d.To < 0 || d.To > allowed {
						t.Fatalf("trial %d %s %s input %d: level %d, floor allows 0..%d (%s)", trial, c.Name(), kind, i, d.To, allowed, d.Rule)
					}
					hard := class < 0 || class >= nc || !(conf >= 0 && conf <= 1)
					if !hard {
						st := &par.Configs[level].Confidence
						w, cm := st.WrongMean[class], st.CorrectMean[class]
						thr := math.Max(0, math.Min(1, w+hardFrac*(cm-w)))
						hard = float64(conf) < thr
					}
					if hard && d.To != 0 {
						t.Fatalf("trial %d %s %s input %d: hard input (class %d, confidence %v at level %d) followed by level %d (%s)", trial, c.Name(), kind, i, class, conf, level, d.To, d.Rule)
					}
					level = d.To
				}
			}
		}
	}
}

func TestFloorLevel(t *testing.T) {
	lv := func(loss ...float64) []Level {
		l := make([]Level, len(loss))
		for i, v := range loss {
			l[i].QoSLossPP = v
		}
		return l
	}
	tests := []struct {
		levels []Level
		floor  float64
		want   int
	}{
		{lv(0), 0, 0},
		{lv(0, 0.5, 1, 1.5), 1, 2},
		{lv(0, 0.5, 1, 1.5), 10, 3},
		{lv(0, 0.5, 1, 1.5), 0.1, 0},
		{lv(0, 2, 0.5, 0.6), 1, 0},  // a prefix only
		{lv(0, -0.2, 0.9, 3), 1, 2}, // a negative loss is allowed
		{lv(0, math.NaN(), 0.1), 1, 0},
	}
	for _, tt := range tests {
		if got := FloorLevel(tt.levels, tt.floor); got != tt.want {
			t.Errorf("FloorLevel(%v, %v) = %d, want %d", tt.levels, tt.floor, got, tt.want)
		}
	}
}

// simulate runs a budget controller for n inferences whose cost is the
// level's energy times a per-level bias (the Pareto file's figures are off
// by it) times (1 + noise), and returns the mean cost over all inferences
// and over the last half, and the number of level switches.
func simulate(c Controller, energies, bias []float64, sigma float64, n int, r *rand.Rand) (all, late float64, switches int) {
	level := c.Start()
	var sum, sumLate float64
	for i := 0; i < n; i++ {
		noise := 1 + sigma*r.NormFloat64()
		noise = math.Max(0.05, noise)
		cost := energies[level] * bias[level] * noise
		sum += cost
		if i >= n/2 {
			sumLate += cost
		}
		d := c.Decide(Observation{Index: int64(i), Level: level, Class: 0, Confidence: 0.9, EnergyJ: cost, TimeUS: cost * 1e5})
		if d.To != level {
			switches++
		}
		level = d.To
	}
	return sum / float64(n), sumLate / float64(n-n/2), switches
}

var budgetTrials = 40

// TestBudgetSettles: the budget controller's mean energy per inference
// settles within 5% of the budget, for budgets across the reachable range,
// noisy costs and Pareto figures that are off by up to 25% per level.
func TestBudgetSettles(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < budgetTrials; trial++ {
		n := 2 + r.IntN(7)
		par := testPareto(n, 3)
		energies := make([]float64, n)
		bias := make([]float64, n)
		s := 1.0
		for i := range par.Configs {
			if i > 0 {
				s += 0.05 + r.Float64()*0.4
			}
			par.Configs[i].Speedup = s
			par.Configs[i].EnergyJ = 0.002 / s
			energies[i] = par.Configs[i].EnergyJ
			bias[i] = 1
			if i > 0 && trial%2 == 1 {
				// Off by up to 25%, keeping the levels' cost order (the
				// controller's stated assumption).
				for {
					bias[i] = 0.8 + 0.45*r.Float64()
					if energies[i]*bias[i] < energies[i-1]*bias[i-1] {
						break
					}
				}
			}
		}
		// Reachable: between the fastest level's true cost and exact's.
		lo, hi := energies[n-1]*bias[n-1], energies[0]
		for i := range energies {
			lo = math.Min(lo, energies[i]*bias[i])
		}
		target := lo + (0.1+0.8*r.Float64())*(hi-lo)
		sigma := []float64{0, 0.1, 0.3}[trial%3]
		mix := []string{MixCost, MixSpeedup}[trial/3%2]
		pol, err := FromPareto(par, Params{Name: Budget, Budget: &BudgetParams{EnergyJ: target, Seed: uint64(trial), Mix: mix}})
		if err != nil {
			t.Fatal(err)
		}
		all, late, sw := simulate(mustController(pol), energies, bias, sigma, 4000, r)
		if e := math.Abs(late-target) / target; e > 0.05 {
			t.Errorf("trial %d (%d levels, sigma %v, mix %s, bias %v): settled mean %.6f J, budget %.6f J: %.1f%% off", trial, n, sigma, mix, bias, late, target, 100*e)
		}
		if e := math.Abs(all-target) / target; e > 0.05 {
			t.Errorf("trial %d: mean over the whole run %.6f J, budget %.6f J: %.1f%% off", trial, all, target, 100*e)
		}
		if testing.Verbose() {
			t.Logf("trial %d: %d levels, sigma %v, mix %s: settled %.1f%%, whole run %.1f%% off, %d switches", trial, n, sigma, mix, 100*(late-target)/target, 100*(all-target)/target, sw)
		}
	}
}

// TestBudgetUnreachable: a budget below the fastest level's cost runs the
// fastest level and says so; one above exact's runs exact.
func TestBudgetUnreachable(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	par := testPareto(4, 2) // energies 1, 0.8, 0.667, 0.571 mJ
	energies := []float64{0.001, 0.0008, 0.001 / 1.5, 0.001 / 1.75}
	one := []float64{1, 1, 1, 1}
	for _, tt := range []struct {
		budget float64
		want   float64
		rule   string
	}{
		{0.0001, energies[3], "budget not reachable"},
		{0.01, energies[0], "goal at most exact's cost -> exact"},
	} {
		pol, _ := FromPareto(par, Params{Name: Budget, Budget: &BudgetParams{EnergyJ: tt.budget}})
		c := mustController(pol)
		all, late, _ := simulate(c, energies, one, 0.1, 2000, r)
		if math.Abs(late-tt.want)/tt.want > 0.05 || all <= 0 {
			t.Errorf("budget %v: mean %v, want about %v", tt.budget, late, tt.want)
		}
		d := c.Decide(Observation{Level: 1, EnergyJ: energies[1]})
		if !strings.Contains(d.Rule, tt.rule) {
			t.Errorf("budget %v: rule %q, want %q", tt.budget, d.Rule, tt.rule)
		}
	}
}

// TestBudgetDeterministic: equal seeds and inputs make equal decisions.
func TestBudgetDeterministic(t *testing.T) {
	run := func(seed uint64) []int {
		pol, _ := FromPareto(testPareto(6, 2), Params{Name: Budget, Budget: &BudgetParams{EnergyJ: 0.0007, Seed: seed}})
		c := mustController(pol)
		r := rand.New(rand.NewPCG(9, 9))
		level := c.Start()
		var out []int
		for i := 0; i < 500; i++ {
			level = c.Decide(Observation{Level: level, EnergyJ: 0.001 / (1 + 0.25*float64(level)) * (1 + 0.1*r.NormFloat64())}).To
			out = append(out, level)
		}
		return out
	}
	a, b, c := run(1), run(1), run(2)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatal("equal seeds gave different decisions")
	}
	if fmt.Sprint(a) == fmt.Sprint(c) {
		t.Fatal("different seeds gave the same decisions")
	}
}

// TestBudgetLatency: a latency budget uses TimeUS.
func TestBudgetLatency(t *testing.T) {
	par := testPareto(5, 2) // time 100/s us
	pol, _ := FromPareto(par, Params{Name: Budget, Budget: &BudgetParams{LatencyUS: 70}})
	c := mustController(pol)
	level, sum := c.Start(), 0.0
	for i := 0; i < 3000; i++ {
		us := par.Configs[level].TimeUS
		sum += us
		level = c.Decide(Observation{Level: level, TimeUS: us, EnergyJ: 1}).To
	}
	if m := sum / 3000; math.Abs(m-70)/70 > 0.05 {
		t.Fatalf("mean latency %v us, budget 70", m)
	}
}
