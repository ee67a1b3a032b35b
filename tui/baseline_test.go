package tui

import (
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kagen-ai/kagen/approx"
	"github.com/kagen-ai/kagen/measure"
	"github.com/kagen-ai/kagen/policy"
)

// noisyRounds is a deterministic model of the background timing: each
// configuration costs its modelled step times (modelSteps), every run of
// a round scaled by a load common to the round's configurations (the
// machine) and by a noise of its own, both drawn from a seeded source.
func noisyRounds(seed uint64) func(cfgs []approx.Config, a *approx.Approximator, runs int) []measure.Sample {
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(seed, 1))
	return func(cfgs []approx.Config, a *approx.Approximator, runs int) []measure.Sample {
		mu.Lock()
		defer mu.Unlock()
		base := make([]float64, len(cfgs))
		for i, c := range cfgs {
			for _, ns := range modelSteps(a, c) {
				base[i] += ns
			}
		}
		out := make([]measure.Sample, len(cfgs))
		for r := 0; r < runs; r++ {
			load := 1 + 0.2*rng.Float64()
			for i, b := range base {
				out[i] = append(out[i], time.Duration(b*load*(1+0.04*(rng.Float64()-0.5))))
			}
		}
		return out
	}
}

// timedModel returns options whose background timing is noisyRounds.
func timedModel(h *harness, seed uint64) {
	f, a := noisyRounds(seed), h.app.ctx.Bench.Approx
	for _, s := range h.app.screens {
		switch s := s.(type) {
		case *knobsScreen:
			s.timer.timeRound = func(c []approx.Config, runs int) []measure.Sample { return f(c, a, runs) }
		case *replayScreen:
			s.timer.timeRound = func(c []approx.Config, runs int) []measure.Sample { return f(c, a, runs) }
		}
	}
}

// TestLiveFiguresAgainstExact checks that the live figures compare like
// with like (#20 item 1): the exact configuration shows ~1.00x on the
// Knobs screen and a replay held on exact ~0% against the exact run, with
// a fixed modelled cost and with a deterministic model of noisy timing;
// the figures say "measuring…" until they are known, and a real speedup
// shows without ~.
func TestLiveFiguresAgainstExact(t *testing.T) {
	speedRow := func(v string) string { return lineWith(v, "latency  ") }
	t.Run("fixed cost", func(t *testing.T) {
		h := newHarness(t, fixture(), 100, 30, Options{Start: KnobsScreen})
		v := h.settle()
		if row := speedRow(v); !strings.Contains(row, "~1.00x") {
			t.Errorf("exact on Knobs: %q, want ~1.00x", row)
		}
		if row := lineWith(v, "inference energy"); !strings.Contains(row, "~0%") {
			t.Errorf("exact on Knobs: %q, want ~0%%", row)
		}
		h.press("right", "right", "right", "right") // a knob the model charges less
		v = h.advance(h.app.ctx.Opts.KnobsPeriod, 2)
		if row := speedRow(v); strings.Contains(row, "~") || !strings.Contains(row, "x phone-big") {
			t.Errorf("approximate on Knobs: %q, want a speedup without ~", row)
		}
		replayStatic0(t, h)
	})
	t.Run("measured", func(t *testing.T) {
		h := newTimedHarness(t, fixture(), 100, 30, Options{Start: ModelScreen})
		h.app.ctx.Opts.stepTimes = modelSteps
		timedModel(h, 1)
		h.settle()
		h.press("2")
		v := h.settle()
		if row := speedRow(v); !strings.Contains(row, "measuring…") {
			t.Errorf("after one round: %q, want measuring…", row)
		}
		v = h.advance(timingPause, 8)
		if row := speedRow(v); !strings.Contains(row, "~1.00x") || !strings.Contains(row, "±") {
			t.Errorf("exact on Knobs: %q, want ~1.00x with its spread", row)
		}
		h.press("right", "right", "right", "right")
		v = h.advance(timingPause, 8)
		row := speedRow(v)
		t.Logf("%s\n%s", row, lineWith(v, "inference energy"))
		if strings.Contains(row, "~") || !strings.Contains(row, "x ±") {
			t.Errorf("approximate on Knobs: %q, want a speedup with its interval, without ~", row)
		}
		if row := lineWith(v, "inference energy"); strings.Contains(row, "~") || !strings.Contains(row, "% ±") {
			t.Errorf("approximate on Knobs: %q, want a saving with its interval", row)
		}
		replayStatic0(t, h)
	})
}

// replayStatic0 tunes (the fake tuner), switches the Replay screen's
// controller to static at level 0 and plays: the exact level against the
// exact run is ~0%.
func replayStatic0(t *testing.T, h *harness) {
	t.Helper()
	h.press("4", "t")
	h.press("3")
	for i := 0; i < len(policy.Controllers()) && !strings.Contains(lineWith(h.settle(), "controller "), "static"); i++ {
		h.press("c")
	}
	v := h.settle()
	if !strings.Contains(v, "level 0") {
		t.Fatalf("no static level 0:\n%s", v)
	}
	h.press("s", "space")
	for i := 0; i < 20 && !strings.Contains(v, "vs exact)") || strings.Contains(v, "measuring…"); i++ {
		v = h.advance(timingPause, 1)
	}
	t.Log(lineWith(v, "vs exact"))
	if row := lineWith(v, "vs exact"); !strings.Contains(row, "(~0%") {
		t.Errorf("static level 0 on Replay: %q, want ~0%% vs exact\n%s", row, v)
	}
}
