package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/kagen-ai/kagen/profile"
	"github.com/kagen-ai/kagen/tuning"
)

// cmdProfile measures every (node, knob) pair of a model on this device.
func cmdProfile(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("profile", stderr)
	var data pathList
	fs.Var(&data, "data", "labelled trace files or folders (repeatable; further arguments are data too)")
	out := fs.String("o", "profile.json", "output file")
	asJSON := fs.Bool("json", false, "JSON progress lines and a JSON summary")
	s := tuning.Settings{}
	fs.IntVar(&s.Profile.Windows, "windows", 600, "windows used for the QoS predictors")
	fs.BoolVar(&s.Profile.OneOffset, "one-offset", false, "profile perforation and sampling at one offset per stride (step mod stride): about 3x fewer pairs, for models of 50+ tunable nodes")
	fs.BoolVar(&s.Profile.NodeAlone, "node-alone", false, "time each (node, knob) pair's node alone after one run of the nodes before it, not within whole inferences: for large models")
	setup := distFlags(fs)
	specPath := specFlag(fs)
	match := matchFlag(fs)
	qos := qosFlag(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kagen profile MODEL --data PATH... [--match GLOB] [--spec FILE] [--qos accuracy|agreement] [--one-offset] [--node-alone] [-o profile.json] [--json] [--nats URL] [--workers N]")
		fs.PrintDefaults()
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		data = append(data, pos[1:]...)
	}
	if len(pos) == 0 || len(data) == 0 {
		fs.Usage()
		return usageError{"expected one model and at least one --data"}
	}
	if s.Profile.Windows < 1 || s.Profile.Windows > profile.MaxOptionWindows {
		return usageError{fmt.Sprintf("--windows %d, expected 1..%d", s.Profile.Windows, profile.MaxOptionWindows)}
	}
	if err := setup.Validate(); err != nil {
		return usageError{err.Error()}
	}
	if err := checkMatch(*match); err != nil {
		return err
	}
	run, err := startTuning(pos[0], *specPath, *qos, data, *match, []string{*out}, nil, setup, *asJSON, stdout, stderr)
	if err != nil {
		return err
	}
	defer run.close()
	prof, err := run.p.Profile(run.ctx, s, tuning.Files{Profile: *out}, run.progress)
	run.done()
	if err != nil {
		return err
	}
	kept := 0
	for _, pp := range prof.Pairs {
		if !pp.Pruned {
			kept++
		}
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(map[string]any{"profile": *out, "pairs": len(prof.Pairs), "kept": kept, "exact_us": prof.ExactUS, "exact_accuracy": prof.ExactAccuracy, "seconds": prof.ProfileTime, "trials": run.pool.TrialStats()})
	}
	fmt.Fprintf(stdout, "profiled %d (node, knob) pairs in %.1f s (%d save time on this device); exact %.1f us, accuracy %.2f%% on %d windows\nwrote %s\n",
		len(prof.Pairs), prof.ProfileTime, kept, prof.ExactUS, 100*prof.ExactAccuracy, prof.Windows, *out)
	return nil
}
