package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/kagen-ai/kagen/approx"
	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/measure"
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

// cmdBench times exact inference, a configuration, or every knob alone.
func cmdBench(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench", stderr)
	runs := fs.Int("runs", 200, "timed runs after warm-up (per configuration)")
	threads := fs.Int("threads", 1, "threads per inference")
	asJSON := fs.Bool("json", false, "print JSON (one object, or one line per pair with --per-knob)")
	cfgText := fs.String("config", "", "approximation configuration (SELECTOR=KNOB,... or a JSON file)")
	perKnob := fs.Bool("per-knob", false, "time every applicable (node, knob) pair alone against exact")
	node := fs.String("node", "", "with --per-knob: only this node")
	in := inputFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kagen bench MODEL [--runs N] [--threads T] [--config CFG | --per-knob [--node NAME]] [--dim NAME=N] [--input NAME=FILE.npy] [--json]")
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
	m, inputs, err := in.load(pos[0], engine.Options{Threads: *threads}, true, stderr)
	if err != nil {
		return err
	}
	s := m.NewSession()
	defer s.Close()
	if *perKnob {
		if !*asJSON {
			fmt.Fprintf(stdout, "%-28s %-22s %10s %10s %8s %8s %8s\n", "node", "knob", "exact us", "knob us", "node x", "ideal x", "model x")
		}
		return measure.PerKnob(approx.New(m), s, inputs, *runs, *node, func(r measure.KnobTiming) error {
			if *asJSON {
				return json.NewEncoder(stdout).Encode(r)
			}
			_, err := fmt.Fprintf(stdout, "%-28s %-22s %10.1f %10.1f %8.2f %8.2f %8.2f\n", r.Node, r.Knob, r.ExactNodeUS, r.NodeUS, r.NodeSpeedup, r.IdealSpeedup, r.ModelSpeedup)
			return err
		})
	}
	r := benchResult{Model: pos[0], Runs: *runs, Threads: *threads, MACs: m.MACs()}
	var sel engine.Selector
	if *cfgText != "" {
		a := approx.New(m)
		cfg, err := a.Parse(*cfgText)
		if err != nil {
			return err
		}
		if sel, err = a.Prepare(cfg); err != nil {
			return err
		}
		r.Config = a.Text(cfg)
	}
	exact, approxT, err := measure.Bench(s, inputs, *runs, sel)
	if err != nil {
		return err
	}
	timed := exact.Summary()
	if sel != nil {
		r.ExactMedianUS = measure.US(timed.Median)
		timed = approxT.Summary()
		sp := r.ExactMedianUS / measure.US(timed.Median)
		r.Speedup = &sp
	}
	r.MinUS, r.MedianUS, r.P90US = measure.US(timed.Min), measure.US(timed.Median), measure.US(timed.P90)
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
