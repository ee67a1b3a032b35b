package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kagen-ai/kagen/deploy"
	"github.com/kagen-ai/kagen/device"
	"github.com/kagen-ai/kagen/policy"
	"github.com/kagen-ai/kagen/tuning"
)

// fixturePolicy is a policy of the fixture model: the fake tuner's levels
// and controller c.
func fixturePolicy(t *testing.T, c policy.Params) *policy.Policy {
	t.Helper()
	b := loadBench(fixture(), "")
	if b.LoadErr != nil {
		t.Fatal(b.LoadErr)
	}
	dev, _ := device.Lookup("phone-big")
	out, err := fakeTuner{}.Tune(context.Background(), b, tuning.Settings{MaxLossPP: 2, Objective: policy.ObjectiveTime, Device: dev}, func(tuning.Progress) {})
	if err != nil {
		t.Fatal(err)
	}
	pol, err := policy.FromPareto(out.Pareto, c)
	if err != nil {
		t.Fatal(err)
	}
	return pol
}

// TestReplayOnceMatchesKagenReplay plays the fixture's trace once on the
// Replay screen, with a policy, the pareto cost and the real clock (as a
// test in package main does: Options.Policy, Cost: ParetoCost,
// ReplayOnce), and finds the figures `kagen replay --cost pareto` gives
// (deploy.Deployment.Replay): accuracy, levels, switches and energy.
func TestReplayOnceMatchesKagenReplay(t *testing.T) {
	for _, c := range []policy.Params{{Name: policy.State}, {Name: policy.Confidence, Floor: &policy.FloorParams{LossPP: 1}}} {
		t.Run(c.Name, func(t *testing.T) {
			pol := fixturePolicy(t, c)
			h := newHarness(t, fixture(), 100, 30, Options{Start: ReplayScreen, Clock: realClock{}, Policy: pol, Cost: ParetoCost, ReplayOnce: true})
			h.settle()
			h.press("s", "space")
			deadline := time.Now().Add(30 * time.Second)
			for v := h.settle(); !strings.Contains(v, "end of traces"); v = h.settle() {
				if time.Now().After(deadline) {
					t.Fatalf("the replay did not end:\n%s", v)
				}
				time.Sleep(5 * time.Millisecond)
			}
			got := h.app.ReplayReport()

			b := h.app.ctx.Bench
			d, err := deploy.New("policy", b.Model, b.Approx, pol)
			if err != nil {
				t.Fatal(err)
			}
			reps, err := d.Replay(context.Background(), deploy.ReplaySettings{CostName: deploy.CostPareto,
				Options: deploy.Options{Traces: b.Source.Traces, Device: b.Device}})
			if err != nil {
				t.Fatal(err)
			}
			want := reps[0]
			if got == nil || got.Windows != want.Windows || got.Accuracy != want.Accuracy || got.ExactAccuracy != want.ExactAccuracy ||
				got.Switches != want.Switches || got.InferenceEnergyJ != want.InferenceEnergyJ || got.ExactInferenceEnergyJ != want.ExactInferenceEnergyJ ||
				got.Params != want.Params || got.Cost != want.Cost {
				t.Fatalf("Replay screen:\n%+v\nkagen replay:\n%+v", got, want)
			}
			for i, l := range got.Levels {
				if l != want.Levels[i] {
					t.Fatalf("level %d: %+v, kagen replay %+v", i, l, want.Levels[i])
				}
			}
			t.Logf("%d windows, accuracy %.3f, %d switches, saving %.1f%%", got.Windows, got.Accuracy, got.Switches, 100*got.InferenceEnergySaving)
		})
	}
}

// TestBackgroundTiming runs the Knobs and Replay screens with their
// figures timed in the background (no fixed cost): they say "measuring"
// until enough interleaved runs are in, then show medians with their
// spread, and the replay starts once its levels' costs are known.
func TestBackgroundTiming(t *testing.T) {
	h := newTimedHarness(t, fixture(), 100, 30, Options{Start: KnobsScreen, Clock: realClock{}})
	v := h.settle()
	if !strings.Contains(v, "measuring") {
		t.Fatalf("no measuring before the first rounds:\n%s", v)
	}
	v = waitForText(t, h, "medians of")
	if row := lineWith(v, "latency  "); !strings.Contains(row, "±") || !strings.Contains(row, "~1.00x phone-big") {
		t.Fatalf("latency row %q", row)
	}
	h.press("4", "t") // tune (the fake tuner), then play on the Replay screen
	h.press("3", "s", "space")
	v = waitForText(t, h, "medians of")
	for deadline := time.Now().Add(30 * time.Second); h.app.ReplayReport() == nil; v = h.settle() {
		if time.Now().After(deadline) {
			t.Fatalf("the replay did not start:\n%s", v)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cost := lineWith(v, "cost per level")
	if !strings.Contains(cost, "0 ") || !strings.Contains(cost, "2 ") || !strings.Contains(cost, "±") {
		t.Fatalf("cost line %q:\n%s", cost, v)
	}
	if r := h.app.ReplayReport(); r == nil || r.Cost != "medians" || r.Windows == 0 {
		t.Fatalf("replay report %+v", r)
	}
}

// waitForText settles until the screen shows want (at most 30 s).
func waitForText(t *testing.T, h *harness, want string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		v := h.settle()
		if strings.Contains(v, want) {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("the screen never showed %q:\n%s", want, v)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// lineWith returns the first line of v that holds s.
func lineWith(v, s string) string {
	for _, l := range strings.Split(v, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}
