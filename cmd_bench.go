package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/kagen-ai/kagen/approx"
	"github.com/kagen-ai/kagen/engine"
)

// benchResult is the JSON form of one timing.
type benchResult struct {
	Model    string  `json:"model"`
	Runs     int     `json:"runs"`
	Threads  int     `json:"threads"`
	MinUS    float64 `json:"min_us"`
	MedianUS float64 `json:"median_us"`
	P90US    float64 `json:"p90_us"`
	MACs     int64   `json:"macs"`
	// With --config: the configuration and its speedup over exact, both
	// measured in the same interleaved run.
	Config        string   `json:"config,omitempty"`
	ExactMedianUS float64  `json:"exact_median_us,omitempty"`
	Speedup       *float64 `json:"speedup,omitempty"`
}

// knobResult is one (node, knob) pair of --per-knob.
type knobResult struct {
	Node         string  `json:"node"`
	Op           string  `json:"op"`
	Knob         string  `json:"knob"`
	NodeUS       float64 `json:"node_us"`
	ExactNodeUS  float64 `json:"exact_node_us"`
	NodeSpeedup  float64 `json:"node_speedup"`
	ModelSpeedup float64 `json:"model_speedup"`
	IdealSpeedup float64 `json:"ideal_speedup"`
	ModelUS      float64 `json:"model_us"`
	ExactModelUS float64 `json:"exact_model_us"`
	Runs         int     `json:"runs"`
	ShareOfModel float64 `json:"exact_share_of_model"`
}

// cmdBench times exact inference, a configuration, or every knob alone.
func cmdBench(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench", stderr)
	runs := fs.Int("runs", 200, "timed runs after warm-up (per configuration)")
	threads := fs.Int("threads", 1, "threads per inference")
	asJSON := fs.Bool("json", false, "print JSON (one object, or one line per pair with --per-knob)")
	cfgText := fs.String("config", "", "approximation configuration (SELECTOR=KNOB,... or a JSON file)")
	perKnob := fs.Bool("per-knob", false, "time every applicable (node, knob) pair alone against exact")
	node := fs.String("node", "", "with --per-knob: only this node")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kagen bench MODEL [--runs N] [--threads T] [--config CFG | --per-knob [--node NAME]] [--json]")
		fs.PrintDefaults()
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *runs < 1 || *threads < 1 || *perKnob && *cfgText != "" {
		fs.Usage()
		return usageError{"expected one model, --runs >= 1, --threads >= 1, and not both --config and --per-knob"}
	}
	m, err := engine.LoadFile(pos[0], engine.Options{Threads: *threads})
	if err != nil {
		return err
	}
	s := m.NewSession()
	defer s.Close()
	inputs := randomInputs(m, 1)
	if *perKnob {
		return benchPerKnob(m, s, inputs, *runs, *node, *asJSON, stdout)
	}
	r := benchResult{Model: pos[0], Runs: *runs, Threads: *threads, MACs: m.MACs()}
	var sel engine.Selector
	if *cfgText != "" {
		a := approx.New(m)
		cfg, err := a.Parse(*cfgText)
		if err != nil {
			return err
		}
		p, err := a.Prepare(cfg)
		if err != nil {
			return err
		}
		sel = p
		r.Config = a.Text(cfg)
	}
	run := func(sel engine.Selector) func() error {
		return func() error { _, err := s.RunWith(inputs, sel); return err }
	}
	if sel == nil {
		times, err := timeRuns(run(nil), *runs)
		if err != nil {
			return err
		}
		r.MinUS, r.MedianUS, r.P90US = quantiles(times)
	} else {
		exact, approxT, err := timeInterleaved(run(nil), run(sel), *runs)
		if err != nil {
			return err
		}
		r.MinUS, r.MedianUS, r.P90US = quantiles(approxT)
		_, r.ExactMedianUS, _ = quantiles(exact)
		sp := r.ExactMedianUS / r.MedianUS
		r.Speedup = &sp
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(r)
	}
	fmt.Fprintf(stdout, "%s: %d runs, %d thread(s), %d MACs\n", r.Model, r.Runs, r.Threads, r.MACs)
	if r.Config != "" {
		fmt.Fprintf(stdout, "config %s\n", r.Config)
	}
	fmt.Fprintf(stdout, "min %.1f us  median %.1f us  p90 %.1f us", r.MinUS, r.MedianUS, r.P90US)
	if r.Speedup != nil {
		fmt.Fprintf(stdout, "  (exact median %.1f us, speedup %.2fx, interleaved)\n", r.ExactMedianUS, *r.Speedup)
	} else {
		fmt.Fprintf(stdout, "  (%.2f GMAC/s at the median)\n", float64(r.MACs)/r.MedianUS/1e3)
	}
	return nil
}

// benchPerKnob times every applicable (node, knob) pair alone, interleaved
// with exact runs, and reports node and model speedups.
func benchPerKnob(m *engine.Model, s *engine.Session, inputs []*engine.Tensor, runs int, only string, asJSON bool, w io.Writer) error {
	a := approx.New(m)
	steps := m.Steps()
	exactT := make([]int64, steps)
	knobT := make([]int64, steps)
	if !asJSON {
		fmt.Fprintf(w, "%-28s %-22s %10s %10s %8s %8s %8s\n", "node", "knob", "exact us", "knob us", "node x", "ideal x", "model x")
	}
	found := false
	for _, n := range a.Nodes() {
		if n.View || only != "" && n.Name != only {
			continue
		}
		found = true
		for _, k := range a.Applicable(n.Step) {
			if k.IsExact() {
				continue
			}
			cfg := a.NewConfig().With(n.Step, k)
			sel, err := a.Prepare(cfg)
			if err != nil {
				return err
			}
			var en, kn, em, km []float64
			once := func(sel engine.Selector, steps []int64, node, model *[]float64) error {
				t0 := time.Now()
				if _, err := s.RunTimed(inputs, sel, steps); err != nil {
					return err
				}
				*model = append(*model, float64(time.Since(t0).Nanoseconds())/1e3)
				*node = append(*node, float64(steps[n.Step])/1e3)
				return nil
			}
			for i := 0; i < 3; i++ { // warm-up, including the kernel's first use
				s.RunTimed(inputs, sel, knobT)
				s.RunTimed(inputs, nil, exactT)
			}
			for i := 0; i < runs; i++ {
				if err := once(nil, exactT, &en, &em); err != nil {
					return err
				}
				if err := once(sel, knobT, &kn, &km); err != nil {
					return err
				}
			}
			r := knobResult{Node: n.Name, Op: n.Op, Knob: k.String(), Runs: runs, IdealSpeedup: k.IdealSpeedup(),
				ExactNodeUS: median(en), NodeUS: median(kn), ExactModelUS: median(em), ModelUS: median(km)}
			r.NodeSpeedup = r.ExactNodeUS / r.NodeUS
			r.ModelSpeedup = r.ExactModelUS / r.ModelUS
			r.ShareOfModel = r.ExactNodeUS / r.ExactModelUS
			if asJSON {
				if err := json.NewEncoder(w).Encode(r); err != nil {
					return err
				}
				continue
			}
			fmt.Fprintf(w, "%-28s %-22s %10.1f %10.1f %8.2f %8.2f %8.2f\n", r.Node, r.Knob, r.ExactNodeUS, r.NodeUS, r.NodeSpeedup, r.IdealSpeedup, r.ModelSpeedup)
		}
	}
	if !found {
		return fmt.Errorf("no node %q", only)
	}
	return nil
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// randomInputs returns seeded uniform [-1, 1) inputs of the model's shapes.
func randomInputs(m *engine.Model, seed uint64) []*engine.Tensor {
	rng := rand.New(rand.NewPCG(seed, 0))
	var ins []*engine.Tensor
	for _, vi := range m.Inputs() {
		t := &engine.Tensor{DType: vi.DType, Shape: vi.Shape}
		n := t.Len()
		if vi.DType.IsInt() {
			t.I = make([]int64, n)
		} else {
			t.F = make([]float32, n)
			for i := range t.F {
				t.F[i] = rng.Float32()*2 - 1
			}
		}
		ins = append(ins, t)
	}
	return ins
}

// warmUp runs at least 5 times and 200 ms.
func warmUp(run func() error) error {
	start := time.Now()
	for i := 0; i < 5 || time.Since(start) < 200*time.Millisecond; i++ {
		if err := run(); err != nil {
			return err
		}
	}
	return nil
}

// timeRuns warms up and then times runs calls.
func timeRuns(run func() error, runs int) ([]time.Duration, error) {
	if err := warmUp(run); err != nil {
		return nil, err
	}
	times := make([]time.Duration, runs)
	for i := range times {
		t0 := time.Now()
		if err := run(); err != nil {
			return nil, err
		}
		times[i] = time.Since(t0)
	}
	return times, nil
}

// timeInterleaved times a and b alternately, so machine noise hits both.
func timeInterleaved(a, b func() error, runs int) (ta, tb []time.Duration, err error) {
	if err := warmUp(a); err != nil {
		return nil, nil, err
	}
	if err := warmUp(b); err != nil {
		return nil, nil, err
	}
	ta, tb = make([]time.Duration, runs), make([]time.Duration, runs)
	for i := 0; i < runs; i++ {
		for j, f := range []func() error{a, b} {
			t0 := time.Now()
			if err := f(); err != nil {
				return nil, nil, err
			}
			if j == 0 {
				ta[i] = time.Since(t0)
			} else {
				tb[i] = time.Since(t0)
			}
		}
	}
	return ta, tb, nil
}

// quantiles returns the min, median and 90th percentile in microseconds.
func quantiles(times []time.Duration) (minUS, medianUS, p90US float64) {
	s := slices.Clone(times)
	slices.Sort(s)
	us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
	return us(s[0]), us(s[len(s)/2]), us(s[min(len(s)-1, len(s)*9/10)])
}
