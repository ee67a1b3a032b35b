package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/kagen-ai/kagen/approx"
)

// TestBeforeTuning checks what the Policy screen shows before a tune
// (#20 item 6): no figure ("-") where nothing was measured, and a budget
// controller whose default goal is 70% of exact inference's measured
// energy, not of a made-up time; without any measurement it is refused,
// saying how to get one.
func TestBeforeTuning(t *testing.T) {
	toBudget := func(h *harness) string {
		h.press("5")
		for i := 0; i < 8 && !strings.Contains(lineWith(h.settle(), "controller  "), "budget"); i++ {
			h.press("right")
		}
		return h.settle()
	}
	for _, scale := range []float64{1, 40} {
		// measured in the background (no fixed cost), the Model screen's
		// layer times modelled
		h := newTimedHarness(t, fixture(), 100, 30, Options{Start: ModelScreen})
		h.app.ctx.Opts.stepTimes = func(a *approx.Approximator, cfg approx.Config) []float64 {
			v := modelSteps(a, cfg)
			for i := range v {
				v[i] *= scale
			}
			return v
		}
		h.press("r") // measure again with the scaled model
		v := toBudget(h)
		if row := lineWith(v, "  exact"); !strings.Contains(row, "-") || strings.Contains(row, "0.0%") {
			t.Errorf("untuned level 0: %q, want - and no 0.0%%", row)
		}
		b := h.app.ctx.Bench
		var ns float64
		for _, x := range modelSteps(b.Approx, b.Approx.NewConfig()) {
			ns += x * scale
		}
		want := fmtEnergy(0.7 * b.Device.InferenceEnergy(time.Duration(ns)))
		if row := lineWith(v, "energy_j"); !strings.Contains(row, want) || !strings.Contains(row, "70% of exact") {
			t.Errorf("scale %v: budget row %q, want %s, 70%% of exact\n%s", scale, row, want, v)
		}
	}
	h := newTimedHarness(t, fixture(), 100, 30, Options{Start: PolicyScreen})
	v := toBudget(h)
	if !strings.Contains(v, "not measured yet") || strings.Contains(lineWith(v, "controller  "), "budget") {
		t.Errorf("a budget before any measurement:\n%s", v)
	}
}
