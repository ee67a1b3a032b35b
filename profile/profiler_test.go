package profile

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/kagen-ai/kagen/approx"
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

// TestOneOffsetSamplesPairs profiles with Options.OneOffset: every
// perforation and sampling pair sits at offset step mod stride, each
// stride of each family is still profiled, nothing else is left out, and
// a profile of every offset refuses to stand in for it.
func TestOneOffsetSamplesPairs(t *testing.T) {
	_, a, tune, _, _ := tinyHAR(t)
	ctx := context.Background()
	all, err := Measure(ctx, a, tune, Options{Repeats: 2, Windows: 20, MinSpeedup: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	one, err := Measure(ctx, a, tune, Options{Repeats: 2, Windows: 20, MinSpeedup: 0.01, OneOffset: true})
	if err != nil {
		t.Fatal(err)
	}
	family := func(k approx.Knob) approx.Knob { k.Offset = 0; return k }
	want := map[[2]any]bool{}
	for _, pp := range all.Pairs {
		k, _ := approx.ParseKnob(pp.Knob)
		want[[2]any{pp.Step, family(k)}] = true
	}
	got := map[[2]any]bool{}
	for _, pp := range one.Pairs {
		k, err := approx.ParseKnob(pp.Knob)
		if err != nil {
			t.Fatal(err)
		}
		if k.Stride > 0 && k.Offset != pp.Step%k.Stride {
			t.Errorf("%s %s profiled at offset %d, want step %d mod %d", pp.Node, pp.Knob, k.Offset, pp.Step, k.Stride)
		}
		got[[2]any{pp.Step, family(k)}] = true
	}
	if len(one.Pairs) >= len(all.Pairs) || len(got) != len(want) {
		t.Fatalf("%d pairs in %d families with one offset, %d pairs in %d families with all", len(one.Pairs), len(got), len(all.Pairs), len(want))
	}
	if !one.OneOffset || all.OneOffset {
		t.Fatal("the profile does not record OneOffset")
	}
	if err := all.Matches(a, tune, Options{Repeats: 2, Windows: 20, MinSpeedup: 0.01, OneOffset: true}); err == nil || !strings.Contains(err.Error(), "one offset") {
		t.Fatalf("a profile of every offset matched a one-offset run: %v", err)
	}
}

// TestNodeAloneTimesNodes profiles with Options.NodeAlone: the same pairs
// as in context, every one timed (positive node and exact times, finite
// speedups) by node-latency trials, and the profile records it.
func TestNodeAloneTimesNodes(t *testing.T) {
	_, a, tune, _, _ := tinyHAR(t)
	opts := Options{Repeats: 3, Windows: 10, MinSpeedup: 0.01}
	ctx := context.Background()
	in, err := Measure(ctx, a, tune, opts)
	if err != nil {
		t.Fatal(err)
	}
	opts.NodeAlone = true
	alone, err := Measure(ctx, a, tune, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !alone.NodeAlone || in.NodeAlone || len(alone.Pairs) != len(in.Pairs) || len(alone.Pairs) == 0 {
		t.Fatalf("node alone %v (in context %v), %d pairs, in context %d", alone.NodeAlone, in.NodeAlone, len(alone.Pairs), len(in.Pairs))
	}
	for i, pp := range alone.Pairs {
		if pp.Knob != in.Pairs[i].Knob || !(pp.NodeUS > 0 && pp.ExactNodeUS > 0) || math.IsInf(pp.NodeSpeedup, 0) || math.IsNaN(pp.NodeSpeedup) {
			t.Fatalf("pair %d %s %s: node %v us, exact %v us, speedup %v", i, pp.Node, pp.Knob, pp.NodeUS, pp.ExactNodeUS, pp.NodeSpeedup)
		}
	}
	tr := Trial{Kind: TrialNodeLatency, Model: in.ModelSHA256, Shard: in.DataSHA256, Step: 1, Knob: "int8", Repeats: 3, Device: "x"}
	if err := tr.Validate(); err != nil {
		t.Fatal(err)
	}
	tr.Knob = ""
	if err := tr.Validate(); err == nil {
		t.Fatal("a node-latency trial without a knob validated")
	}
}
