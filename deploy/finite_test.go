package deploy

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/policy"
	"github.com/kagen-ai/kagen/replay"
)

// nanKernel writes NaN into every output: a broken approximation.
type nanKernel struct{}

func (nanKernel) Run(_ *engine.Exec, _, out []*engine.Tensor) {
	for _, t := range out {
		for i := range t.F {
			t.F[i] = float32(math.NaN())
		}
	}
}

// nanAt is a selector that breaks one step.
type nanAt int

func (s nanAt) Kernel(step int) engine.Kernel {
	if step == int(s) {
		return nanKernel{}
	}
	return nil
}

// TestNonFiniteOutputsAreCountedAndNamed replays a level whose outputs
// are NaN and checks that each such inference is scored wrong, counted
// and reported with the node that first produced the NaN, and that the
// records and the report still encode as JSON (#19 item 19: a NaN model
// was scored as a class with no word, and kagen run failed with "json:
// unsupported value: NaN").
func TestNonFiniteOutputsAreCountedAndNamed(t *testing.T) {
	tr := imuTrace(t, t.TempDir(), "a.csv", 600)
	for _, tc := range []struct {
		name  string
		level int
		want  int // non-finite inferences of the 10 windows (exact runs too)
	}{
		{"finite level", 1, 0},
		{"NaN level", 2, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := tinyDeployment(t, policy.Naive)
			step := d.Model.Steps() - 1
			for step > 0 && d.Model.Nodes()[step].View {
				step--
			}
			d.Levels[2] = nanAt(step)
			r, err := d.NewReplayer([]policy.Params{{Name: policy.Static, Static: &policy.StaticParams{Level: tc.level}}},
				Options{Traces: []replay.Trace{tr}, Device: phoneBig(t)})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var recs []WindowRecord
			if _, err := r.Step(context.Background(), 10, func(ev *Event) error {
				e := ev.Runs[0]
				recs = append(recs, WindowRecord{Class: e.Pred.Class, Confidence: e.Pred.Confidence, NonFinite: e.NonFinite})
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			rep := r.Report(0, "m")
			if rep.NonFinite != tc.want {
				t.Fatalf("%d non-finite inferences, want %d", rep.NonFinite, tc.want)
			}
			if _, err := json.Marshal(rep); err != nil {
				t.Fatal(err)
			}
			if _, err := json.Marshal(recs); err != nil {
				t.Fatal(err)
			}
			if tc.want == 0 {
				return
			}
			node := d.Model.Nodes()[step].Name
			if !strings.Contains(rep.FirstNonFinite, "node "+node) || !strings.Contains(rep.FirstNonFinite, "level 2") {
				t.Errorf("first non-finite %q, want node %s at level 2", rep.FirstNonFinite, node)
			}
			if rep.Accuracy != 0 || recs[0].Class != -1 || !recs[0].NonFinite {
				t.Errorf("accuracy %v, first record %+v: NaN outputs must be scored wrong and flagged", rep.Accuracy, recs[0])
			}
			var text strings.Builder
			rep.WriteText(&text)
			if !strings.Contains(text.String(), "NaN or infinite outputs") {
				t.Errorf("the text report does not warn:\n%s", text.String())
			}
		})
	}
}
