package main

import (
	"encoding/json"
	"errors"
	"flag"
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

// maxBenchThreads bounds --threads: far above the cores of any machine
// kagen targets, and a pool of that many workers is still cheap to make.
const maxBenchThreads = 256

// benchOptions are kagen bench's flags once parsed.
type benchOptions struct {
	runs, threads, top  int
	perKnob, perNode    bool
	config              string
	nodeGiven, topGiven bool
	models              int // positional arguments
}

// validate checks the flags together, each error naming its flags and
// what was expected.
func (o benchOptions) validate() error {
	limit, why := measure.MaxRuns, ""
	if o.perNode || o.perKnob {
		limit, why = measure.MaxStepRuns, " with --per-node or --per-knob (each node's time is kept per run)"
	}
	switch {
	case o.models != 1:
		return fmt.Errorf("expected one model, got %d arguments", o.models)
	case o.runs < 1 || o.runs > limit:
		return fmt.Errorf("--runs %d: expected 1 to %d timed runs%s", o.runs, limit, why)
	case o.threads < 1 || o.threads > maxBenchThreads:
		return fmt.Errorf("--threads %d: expected 1 to %d", o.threads, maxBenchThreads)
	case o.perKnob && o.config != "":
		return errors.New("--config and --per-knob: give one (--per-knob times every knob alone)")
	case o.perNode && o.config != "":
		return errors.New("--config and --per-node: give one (--per-node times the exact plan)")
	case o.perNode && o.perKnob:
		return errors.New("--per-node and --per-knob: give one")
	case o.nodeGiven && !o.perKnob:
		return errors.New("--node without --per-knob: --node picks the node whose knobs --per-knob times")
	case o.topGiven && !o.perNode:
		return errors.New("--top without --per-node: --top bounds the rows of --per-node")
	case o.top < 0:
		return fmt.Errorf("--top %d: expected 0 (every node) or more", o.top)
	}
	return nil
}

// cmdBench times exact inference, a configuration, every knob alone, or
// every node of the exact plan.
func cmdBench(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench", stderr)
	runs := fs.Int("runs", 200, fmt.Sprintf("timed runs after warm-up (per configuration), 1 to %d (to %d with --per-node or --per-knob)", measure.MaxRuns, measure.MaxStepRuns))
	threads := fs.Int("threads", 1, fmt.Sprintf("threads per inference, 1 to %d", maxBenchThreads))
	asJSON := fs.Bool("json", false, "print JSON (one object, or one line per pair with --per-knob)")
	cfgText := fs.String("config", "", "approximation configuration (SELECTOR=KNOB,... or a JSON file)")
	perKnob := fs.Bool("per-knob", false, "time every applicable (node, knob) pair alone against exact")
	node := fs.String("node", "", "with --per-knob: only this node")
	perNode := fs.Bool("per-node", false, "time every node of the exact plan: each node's median, GMAC/s and share, and a summary by op")
	top := fs.Int("top", 0, "with --per-node: print only the N slowest nodes (0: all)")
	in := inputFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kagen bench MODEL [--runs N] [--threads T] [--config CFG | --per-knob [--node NAME] | --per-node [--top N]] [--dim NAME=N] [--input NAME=FILE.npy] [--json]")
		fs.PrintDefaults()
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	o := benchOptions{runs: *runs, threads: *threads, top: *top, perKnob: *perKnob, perNode: *perNode, config: *cfgText, models: len(pos)}
	fs.Visit(func(f *flag.Flag) {
		o.nodeGiven = o.nodeGiven || f.Name == "node"
		o.topGiven = o.topGiven || f.Name == "top"
	})
	if err := o.validate(); err != nil {
		fs.Usage()
		return usageError{err.Error()}
	}
	m, inputs, err := in.load(pos[0], engine.Options{Threads: *threads}, true, stderr)
	if err != nil {
		return err
	}
	s := m.NewSession()
	defer s.Close()
	if *perNode {
		p, err := measure.PerNode(s, inputs, *runs)
		if err != nil {
			return err
		}
		p.Threads = *threads
		if *asJSON {
			return json.NewEncoder(stdout).Encode(struct {
				Model string `json:"model"`
				measure.NodeProfile
			}{pos[0], p})
		}
		fmt.Fprintf(stdout, "%s: %d thread(s), ", pos[0], *threads)
		return p.Format(stdout, *top)
	}
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
