package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/kagen-ai/kagen/approx"
	"github.com/kagen-ai/kagen/demo"
	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/replay"
)

// cmdEval measures a model's accuracy over labelled traces.
func cmdEval(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("eval", stderr)
	var data pathList
	fs.Var(&data, "data", "trace file or folder (repeatable)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	hop := fs.Int("hop", 0, "window hop in samples (default: the model's)")
	cfgText := fs.String("config", "", "approximation configuration (SELECTOR=KNOB,... or a JSON file)")
	demoRun := fs.Bool("demo", false, "evaluate the built-in demo models on their embedded held-out traces (no MODEL or --data)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kagen eval MODEL --data PATH [--data PATH...] [--config CFG] [--json]\n       kagen eval --demo [--json]\n\nRuns the model's front-end and the engine over IMU CSV files or folders,\nWAV files with NAME.labels.csv, or folders of labelled clips (one window per clip).")
		fs.PrintDefaults()
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *demoRun {
		if len(pos) != 0 || len(data) != 0 || *cfgText != "" {
			fs.Usage()
			return usageError{"--demo takes no model, --data or --config"}
		}
		return evalDemo(stdout, *asJSON)
	}
	if len(pos) != 1 || len(data) == 0 {
		fs.Usage()
		return usageError{"expected one model and at least one --data"}
	}
	m, err := engine.LoadFile(pos[0], engine.Options{})
	if err != nil {
		return err
	}
	spec, err := replay.SpecFromModel(m)
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	eo := replay.EvalOptions{Options: replay.Options{Hop: *hop}}
	if *cfgText != "" {
		a := approx.New(m)
		cfg, err := a.Parse(*cfgText)
		if err != nil {
			return err
		}
		if eo.Selector, err = a.Prepare(cfg); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "config %s\n", a.Text(cfg))
	}
	r, err := replay.Evaluate(m, spec, data, eo)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(r)
	}
	printEval(stdout, pos[0], r)
	return nil
}

// printEval prints accuracy, per-class recall and the confusion matrix.
func printEval(w io.Writer, name string, r *replay.EvalResult) {
	fmt.Fprintf(w, "%s: accuracy %.2f%% (%d of %d windows)\n", name, 100*r.Accuracy, r.Correct, r.N)
	if len(r.Skipped) > 0 {
		fmt.Fprintf(w, "skipped windows with labels outside the classes: %v\n", r.Skipped)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "true \\ predicted\t%s\trecall\tn\t\n", strings.Join(short(r.Classes), "\t"))
	for i, c := range r.Classes {
		row := make([]string, len(r.Confusion[i]))
		for j, v := range r.Confusion[i] {
			row[j] = fmt.Sprint(v)
		}
		pc := r.PerClass[c]
		fmt.Fprintf(tw, "%s\t%s\t%.1f%%\t%d\t\n", c, strings.Join(row, "\t"), 100*pc.Recall, pc.N)
	}
	tw.Flush()
}

// short abbreviates long class names for the confusion matrix header.
func short(classes []string) []string {
	out := make([]string, len(classes))
	for i, c := range classes {
		if len(c) > 6 {
			c = c[:6]
		}
		out[i] = c
	}
	return out
}

// evalDemo evaluates each embedded demo model on its embedded trace (the
// files are written to a temporary folder, which is removed after).
func evalDemo(stdout io.Writer, asJSON bool) error {
	tasks := demo.Tasks()
	if len(tasks) == 0 {
		return errors.New("this build has no embedded demo")
	}
	dir, err := os.MkdirTemp("", "kagen-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
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
		root := filepath.Join(dir, t.Name)
		if err := os.CopyFS(root, t.Traces); err != nil {
			return fmt.Errorf("demo %s: %w", t.Name, err)
		}
		r, err := replay.Evaluate(m, spec, []string{filepath.Join(root, t.Trace)}, replay.EvalOptions{})
		if err != nil {
			return fmt.Errorf("demo %s: %w", t.Name, err)
		}
		if asJSON {
			results[t.Name] = r
			continue
		}
		printEval(stdout, "demo "+t.Name+" ("+t.ModelName+" on "+t.Trace+")", r)
	}
	if asJSON {
		return json.NewEncoder(stdout).Encode(results)
	}
	return nil
}
