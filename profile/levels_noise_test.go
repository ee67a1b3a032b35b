package profile

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/kagen-ai/kagen/device"
)

// TestLevelsIgnoreTimingNoise: the same validated configurations, timed
// twice with speedups that differ within the noise of exact's own timings,
// give the same levels (two near-equal configurations once swapped places
// from run to run, and the level count with them).
func TestLevelsIgnoreTimingNoise(t *testing.T) {
	exactUS := []float64{100, 104, 96, 102, 98} // noise 2*sd/mean = 6.3%
	run := func(speedups map[string]float64) (string, float64) {
		losses := map[string]float64{"a": -0.38, "b": -0.38, "c": 0, "d": 0.5, "e": 0.3}
		var vs []Candidate
		for i, name := range []string{"a", "b", "c", "d", "e"} {
			vs = append(vs, Candidate{Config: name, LossPP: losses[name], TuneLossPP: losses[name], Speedup: speedups[name], ExactTimeUS: exactUS[i]})
		}
		res := &TuneResult{}
		assembleLevels(res, Candidate{Config: "exact", Speedup: 1}, vs, &TuneOptions{MaxLossPP: 1})
		var names []string
		for _, l := range res.Levels {
			names = append(names, l.Config)
		}
		return strings.Join(names, ","), res.SpeedupNoise
	}
	first, noise := run(map[string]float64{"a": 1.85, "b": 1.86, "c": 1.80, "d": 2.1, "e": 1.05})
	second, _ := run(map[string]float64{"a": 1.87, "b": 1.83, "c": 1.84, "d": 2.05, "e": 1.07})
	if math.Abs(noise-0.0632) > 0.001 {
		t.Errorf("noise %.4f, want 0.0632", noise)
	}
	if first != "exact,a,d" || second != first {
		t.Errorf("levels %q then %q, want exact,a,d both times (e is not faster than exact beyond the noise)", first, second)
	}
	// without the noise margin the near-equal pair decides by its timing
	if got := paretoSet([]Candidate{{Config: "a", Speedup: 1.85, LossPP: 1}, {Config: "b", Speedup: 1.86, LossPP: 1}}, 0); len(got) != 1 || got[0].Config != "b" {
		t.Errorf("without noise: %+v, want b alone", got)
	}
}

// TestParetoSetChainOfNearTies: three equally lossy candidates, each
// within the noise of the next but the last clearly faster than the
// first. A pairwise "near-tie loses to the one predicted faster" rule
// drops all three; the set keeps the one predicted fastest of those
// within the noise of the fastest measured.
func TestParetoSetChainOfNearTies(t *testing.T) {
	cs := []Candidate{
		{Config: "a", Speedup: 1.5, PredictedUS: 10},
		{Config: "b", Speedup: 1.8, PredictedUS: 11},
		{Config: "c", Speedup: 2.16, PredictedUS: 12},
	}
	got := paretoSet(cs, 0.25)
	if len(got) != 1 || got[0].Config != "b" {
		t.Fatalf("pareto set %+v, want b alone (within 25%% of c's 2.16x and predicted faster than c)", got)
	}
	// a lossless slower candidate is still kept beside a lossier faster one
	cs = append(cs, Candidate{Config: "z", Speedup: 1.2, LossPP: -1})
	got = paretoSet(cs, 0.25)
	if len(got) != 2 || got[0].Config != "z" || got[1].Config != "b" {
		t.Fatalf("pareto set %+v, want z then b", got)
	}
}

// TestValidatedCarryEnergy: with a device profile every validated
// configuration gets its modelled energy, not only the levels (the
// workbench plots them all on the energy axis; they showed 0 J).
func TestValidatedCarryEnergy(t *testing.T) {
	dev, err := device.Lookup("phone-big")
	if err != nil {
		t.Fatal(err)
	}
	vs := []Candidate{
		{Config: "a", LossPP: 0, TuneLossPP: 0, Speedup: 2, TimeUS: 50, ExactTimeUS: 100},
		{Config: "b", LossPP: 5, TuneLossPP: 5, Speedup: 3, TimeUS: 33, ExactTimeUS: 100}, // over the threshold: not a level
	}
	res := &TuneResult{}
	assembleLevels(res, Candidate{Config: "exact", Speedup: 1, TimeUS: 100}, vs, &TuneOptions{MaxLossPP: 1, Device: dev})
	for _, c := range res.Validated {
		if want := dev.InferenceEnergy(time.Duration(c.TimeUS * 1e3)); c.EnergyJ != want || want <= 0 {
			t.Errorf("%s: energy %v J, want %v J", c.Config, c.EnergyJ, want)
		}
	}
}
