package deploy

import (
	"context"
	"strings"
	"testing"

	"github.com/kagen-ai/kagen/policy"
	"github.com/kagen-ai/kagen/replay"
)

// TestExactAgainstExactSavesNothing: a controller that keeps every
// window on exact does the exact run's work, so with measured (noisy)
// busy times its saving is 0, not a difference of two timings (the
// walkthrough saw "saving 11.8% ±10.4" for static level 0), while a
// controller that leaves exact keeps its measured figures.
func TestExactAgainstExactSavesNothing(t *testing.T) {
	dir := t.TempDir()
	traces := []replay.Trace{imuTrace(t, dir, "a.csv", 1500)}
	for _, c := range []struct {
		level    string
		allExact bool
	}{{"0", true}, {"2", false}} {
		d := tinyDeployment(t, policy.Static, "level", c.level)
		r, err := d.NewReplayer([]policy.Params{d.Policy.Controller}, Options{Traces: traces, Exact: true, Device: phoneBig(t), Cost: NewMeasuredCost(len(d.Policy.Levels))})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Run(context.Background(), func(*Event) error { return nil }); err != nil {
			t.Fatal(err)
		}
		rep := r.Report(0, "tiny")
		r.Close()
		if rep.AllExact != c.allExact {
			t.Fatalf("level %s: all exact %v, want %v", c.level, rep.AllExact, c.allExact)
		}
		if !c.allExact {
			continue
		}
		if rep.InferenceEnergySaving != 0 || rep.InferenceSavingMargin != 0 || rep.SystemEnergySaving != 0 || rep.InferenceEnergyJ != rep.ExactInferenceEnergyJ {
			t.Errorf("static level 0: saving %v ±%v, system %v, energy %v vs exact %v; want 0 and the exact run's energy",
				rep.InferenceEnergySaving, rep.InferenceSavingMargin, rep.SystemEnergySaving, rep.InferenceEnergyJ, rep.ExactInferenceEnergyJ)
		}
		var b strings.Builder
		rep.WriteText(&b)
		if !strings.Contains(b.String(), "saving 0% (every window ran the exact model") {
			t.Errorf("text:\n%s", b.String())
		}
	}
}
