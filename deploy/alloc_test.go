package deploy

import (
	"context"
	"testing"

	"github.com/kagen-ai/kagen/policy"
	"github.com/kagen-ai/kagen/replay"
)

// TestStepAllocatesNothing: the replayer is the on-device loop (kagen run)
// and the workbench's; once warm, a window (front-end, two inferences, a
// decision, the tallies) allocates nothing, with the measured cost too.
func TestStepAllocatesNothing(t *testing.T) {
	dir := t.TempDir()
	tr := imuTrace(t, dir, "a.csv", 9000)
	d := tinyDeployment(t, policy.Confidence, "floor", "1")
	policyCost, err := PolicyCost(d.Policy)
	if err != nil {
		t.Fatal(err)
	}
	for _, cost := range []Cost{NewMeasuredCost(len(d.Levels)), policyCost} {
		r, err := d.NewReplayer([]policy.Params{d.Policy.Controller, {Name: policy.State}}, Options{Traces: []replay.Trace{tr}, Exact: true, Device: phoneBig(t), Cost: cost})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		r.Step(ctx, 40, nil) // past the first windows and every rule's first firing
		if a := testing.AllocsPerRun(100, func() { r.Step(ctx, 1, nil) }); a != 0 {
			t.Errorf("cost %v: %v allocations per window", cost.Name(), a)
		}
		r.Close()
	}
}
