package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/kagen-ai/kagen/approx"
	"github.com/kagen-ai/kagen/demo"
	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/replay"
)

// cmdEval measures a model's accuracy over labelled traces.
func cmdEval(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("eval", stderr)
	var data pathList
	fs.Var(&data, "data", "trace files or folders (repeatable; further arguments are data too)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	hop := fs.Int("hop", 0, "window hop in samples (default: the model's)")
	maxGap := maxGapFlag(fs)
	match := matchFlag(fs)
	cfgText := fs.String("config", "", "approximation configuration (SELECTOR=KNOB,... or a JSON file)")
	specPath := specFlag(fs)
	qos := qosFlag(fs)
	demoRun := fs.Bool("demo", false, "evaluate the built-in demo models on their embedded held-out traces (no MODEL or --data)")
	in := inputFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kagen eval MODEL --data PATH... [--match GLOB] [--spec FILE] [--config CFG] [--qos accuracy|agreement] [--dim NAME=N] [--input NAME=FILE.npy] [--json]\n       kagen eval --demo [--json]\n\nRuns the model's front-end and the engine over IMU CSV files or folders,\nWAV files with NAME.labels.csv, or folders of labelled clips (one window per clip).")
		fs.PrintDefaults()
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *demoRun {
		if len(pos) != 0 || len(data) != 0 || *cfgText != "" || *specPath != "" {
			fs.Usage()
			return usageError{"--demo takes no model, --data, --config or --spec"}
		}
		return evalDemo(stdout, *asJSON)
	}
	if len(pos) > 0 {
		data = append(data, pos[1:]...)
	}
	if len(pos) == 0 || len(data) == 0 {
		fs.Usage()
		return usageError{"expected one model and at least one --data"}
	}
	if err := checkReplay(replay.Options{Hop: *hop, Match: *match, MaxGap: *maxGap}, nil); err != nil {
		return err
	}
	m, inputs, err := in.load(pos[0], engine.Options{}, false, stderr)
	if err != nil {
		return err
	}
	spec, err := replay.SpecFor(m, *specPath)
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	if err := replay.CheckQoS(*qos); err != nil {
		return usageError{"--qos: " + err.Error()}
	}
	eo := replay.EvalOptions{Options: replay.Options{Hop: *hop, MaxGap: *maxGap}, Extra: inputs[1:], QoS: *qos}
	if *cfgText != "" {
		a := approx.New(m)
		cfg, notes, err := a.ParseNoted(*cfgText)
		if err != nil {
			return err
		}
		for _, n := range notes {
			fmt.Fprintln(stderr, "note: --config:", n)
		}
		if eo.Selector, err = a.Prepare(cfg); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "config %s\n", a.Text(cfg))
	}
	r, err := replay.Evaluate(m, spec, uniqueTraces(data, *match, stderr), eo)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(r)
	}
	r.WriteText(stdout, pos[0])
	return nil
}

// evalDemo evaluates each embedded demo model on its embedded trace.
func evalDemo(stdout io.Writer, asJSON bool) error {
	tasks := demo.Tasks()
	if len(tasks) == 0 {
		return errors.New("this build has no embedded demo")
	}
	results := map[string]*replay.EvalResult{}
	for _, t := range tasks {
		m, err := engine.LoadBytes(t.Model, engine.Options{Name: t.ModelName})
		if err != nil {
			return err
		}
		spec, err := replay.SpecFromModel(m)
		if err != nil {
			return fmt.Errorf("demo %s: %w", t.ModelName, err)
		}
		r, err := replay.Evaluate(m, spec, []replay.Trace{{Name: t.Trace, FS: t.Traces, Path: t.Trace}}, replay.EvalOptions{})
		if err != nil {
			return fmt.Errorf("demo %s: %w", t.Name, err)
		}
		if asJSON {
			results[t.Name] = r
			continue
		}
		r.WriteText(stdout, "demo "+t.Name+" ("+t.ModelName+" on "+t.Trace+")")
	}
	if asJSON {
		return json.NewEncoder(stdout).Encode(results)
	}
	return nil
}
