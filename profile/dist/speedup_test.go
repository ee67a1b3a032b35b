package dist

import (
	"context"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/kagen-ai/kagen/approx"
	"github.com/kagen-ai/kagen/dataset"
	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/profile"
)

// TestTuneSpeedup times the profile and the tune of
// bench/testdata/conv1d.onnx (5.5 M MACs per window) on synthetic windows,
// locally and with 1, 2 and 4 in-process workers behind the embedded
// server. Every run profiles with the node latencies of one reference
// profile replayed (so that all prune the same pairs and do the same QoS
// work) and tunes that reference profile, given synthetic output deltas
// (so that all validate the same candidates, timing them for real). It measures and checks nothing; run
//
//	KAGEN_DIST_SPEEDUP=1 go test -run TestTuneSpeedup -v -timeout 30m ./profile/dist/
func TestTuneSpeedup(t *testing.T) {
	if os.Getenv("KAGEN_DIST_SPEEDUP") == "" {
		t.Skip("set KAGEN_DIST_SPEEDUP=1 to measure")
	}
	model, err := os.ReadFile("../../bench/testdata/conv1d.onnx")
	if err != nil {
		t.Fatal(err)
	}
	m, err := engine.LoadBytes(model, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := approx.New(m)
	// Windows of noise labelled with the exact model's own answers.
	rng := rand.New(rand.NewPCG(1, 2))
	d := &dataset.Dataset{Shape: m.Inputs()[0].Shape}
	s := m.NewSession()
	for i := 0; i < 480; i++ {
		x := make([]float32, 6*128)
		for j := range x {
			x[j] = float32(rng.NormFloat64())
		}
		out, err := s.Run([]*engine.Tensor{{DType: engine.Float32, Shape: d.Shape, F: x}})
		if err != nil {
			t.Fatal(err)
		}
		best := 0
		for c, v := range out[0].F {
			if v > out[0].F[best] {
				best = c
			}
		}
		d.X, d.Y, d.Files = append(d.X, x), append(d.Y, best), append(d.Files, "noise")
	}
	s.Close()
	tune, calib := d.Split()
	popts := profile.Options{Windows: 160}
	topts := profile.TuneOptions{MaxLossPP: 100, Budget: 2 * time.Second, Seed: 1}
	ctx := context.Background()
	ref, err := profile.Measure(ctx, a, tune, popts)
	if err != nil {
		t.Fatal(err)
	}
	// This model's knobs barely change its answers on noise, which would
	// leave the search one candidate: give the pairs synthetic output
	// deltas (larger for larger savings) so that it validates a full set
	// of candidates, each on the real model.
	for i := range ref.Pairs {
		pp := &ref.Pairs[i]
		if pp.Pruned {
			continue
		}
		scale := 3 * (pp.ExactNodeUS - pp.NodeUS) / pp.ExactNodeUS
		for j := range pp.Delta {
			pp.Delta[j] = float32(rng.NormFloat64() * scale)
		}
	}
	replay := func(tr *profile.Trial) (*profile.TrialResult, error) {
		switch tr.Kind {
		case profile.TrialExactLatency:
			steps := make([]float64, m.Steps())
			for _, n := range ref.Nodes {
				steps[n.Step] = n.ExactUS
			}
			return &profile.TrialResult{ModelUS: ref.ExactUS, StepUS: steps}, nil
		case profile.TrialPairLatency:
			for _, pp := range ref.Pairs {
				if pp.Step == tr.Step && pp.Knob == tr.Knob {
					return &profile.TrialResult{NodeUS: pp.NodeUS, ExactNodeUS: pp.ExactNodeUS}, nil
				}
			}
		}
		return nil, nil // time trials are timed
	}
	type timing struct{ profile, tune []float64 }
	times := map[string]*timing{}
	run := func(name string, ex func() (profile.Executor, func())) {
		e, done := ex()
		defer done()
		t0 := time.Now()
		p, err := profile.MeasureWith(ctx, a, tune, popts, e)
		if err != nil {
			t.Fatal(err)
		}
		t1 := time.Now()
		r, err := profile.TuneWith(ctx, a, ref, tune, calib, topts, e)
		if err != nil {
			t.Fatal(err)
		}
		t2 := time.Now()
		kept := 0
		for _, pp := range p.Pairs {
			if !pp.Pruned {
				kept++
			}
		}
		pw, tw := t1.Sub(t0).Seconds(), t2.Sub(t1).Seconds()-r.SearchTime.Seconds()
		t.Logf("%-10s profile %6.2f s (%d pairs, %d kept)  tune validation %6.2f s (%d validated)", name, pw, len(p.Pairs), kept, tw, len(r.Validated))
		if times[name] == nil {
			times[name] = &timing{}
		}
		times[name].profile = append(times[name].profile, pw)
		times[name].tune = append(times[name].tune, tw)
	}
	names := []string{"local", "workers=1", "workers=2", "workers=4"}
	execs := map[string]func() (profile.Executor, func()){
		"local": func() (profile.Executor, func()) {
			e := profile.NewLocalExecutor(a, 0)
			e.Runner.Latency = replay
			return e, e.Close
		},
	}
	for _, n := range []int{1, 2, 4} {
		execs["workers="+strconv.Itoa(n)] = func() (profile.Executor, func()) {
			p, err := NewPool(ctx, Config{}, model, n, WorkerOptions{Latency: replay}, CoordinatorOptions{})
			if err != nil {
				t.Fatal(err)
			}
			return p, p.Close
		}
	}
	rounds := 3
	if n, err := strconv.Atoi(os.Getenv("KAGEN_DIST_ROUNDS")); err == nil && n > 0 {
		rounds = n
	}
	for r := 0; r < rounds; r++ { // rotate the order: the machine's load drifts
		for i := range names {
			name := names[(i+r)%len(names)]
			run(name, execs[name])
		}
	}
	med := func(v []float64) float64 {
		s := append([]float64(nil), v...)
		sort.Float64s(s)
		return s[len(s)/2]
	}
	bp, bt := med(times["local"].profile), med(times["local"].tune)
	for _, name := range names {
		mp, mt := med(times[name].profile), med(times[name].tune)
		t.Logf("median of %d: %-10s profile %6.2f s (x%.2f)  tune validation %6.2f s (x%.2f)  both %6.2f s (x%.2f)",
			rounds, name, mp, bp/mp, mt, bt/mt, mp+mt, (bp+bt)/(mp+mt))
	}
}
