package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/kagen-ai/kagen/internal/atomicfile"
	"github.com/kagen-ai/kagen/policy"
	"github.com/kagen-ai/kagen/profile"
	"github.com/kagen-ai/kagen/replay"
	"github.com/kagen-ai/kagen/tuning"
)

// cmdTune profiles a model and finds its Pareto-optimal configurations.
func cmdTune(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("tune", stderr)
	var data pathList
	fs.Var(&data, "data", "labelled trace files or folders (repeatable; further arguments are data too)")
	out := fs.String("o", "pareto.json", "output file")
	s := tuning.Settings{}
	fs.Float64Var(&s.MaxLossPP, "max-loss", 1, "accuracy loss threshold in percentage points (with --qos agreement: disagreement with the exact model)")
	fs.DurationVar(&s.Budget, "budget", 10*time.Second, "search time (profiling and validation come on top)")
	fs.IntVar(&s.Evaluations, "evaluations", 0, "end each search after this many configurations scored instead of after --budget: the same configurations scored on a fast or a slow machine (0: --budget decides); with --profile as well, the same validated configurations every run")
	fs.StringVar(&s.Objective, "objective", policy.ObjectiveTime, "time or energy")
	devName := deviceFlag(fs, "device profile for energy figures")
	predictor := fs.String("predictor", "p1", "QoS predictor: p1 (output deltas) or p2 (accuracy deltas)")
	fs.Uint64Var(&s.Seed, "seed", 1, "search seed")
	fs.IntVar(&s.Candidates, "candidates", 24, "configurations validated on the data")
	fs.IntVar(&s.ScreenPairs, "screen", 0, "knob pairs measured on the tune split before the first round (0: half of --candidates; -1: none)")
	fs.IntVar(&s.Rounds, "rounds", 3, "validation rounds; each anchors the predictor on what the earlier ones measured")
	fs.IntVar(&s.Profile.Windows, "windows", 600, "windows used for the QoS predictors")
	fs.BoolVar(&s.Profile.OneOffset, "one-offset", false, "profile perforation and sampling at one offset per stride (step mod stride): about 3x fewer pairs, for models of 50+ tunable nodes")
	fs.BoolVar(&s.Profile.NodeAlone, "node-alone", false, "time each (node, knob) pair's node alone after one run of the nodes before it, not within whole inferences: for large models")
	fs.IntVar(&s.MinWindows, "min-windows", tuning.DefaultMinWindows, "refuse to tune when a split (tune or calibration) holds fewer windows")
	fs.IntVar(&s.MinClassWindows, "min-class-windows", 0, "refuse to tune when a split holds fewer windows of a class the data has (0: warn below 2)")
	asJSON := fs.Bool("json", false, "JSON progress lines and a JSON result")
	resume := fs.Bool("resume", false, "reuse OUT.profile.json and the configurations validated by an interrupted run")
	profPath := fs.String("profile", "", "tune on this profile (written by kagen profile, or an earlier tune's OUT.profile.json) instead of measuring one: with --evaluations, the same validated configurations every run")
	setup := distFlags(fs)
	specPath := specFlag(fs)
	match := matchFlag(fs)
	qos := qosFlag(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kagen tune MODEL --data PATH... [--match GLOB] [--spec FILE] [--qos accuracy|agreement] --max-loss PP [--budget DURATION | --evaluations N] [--objective time|energy] [--one-offset] [--node-alone] [--device-profile NAME] [--screen N] [--min-windows N] [-o pareto.json] [--json] [--resume] [--profile FILE] [--nats URL] [--workers N]")
		fs.PrintDefaults()
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		data = append(data, pos[1:]...)
	}
	s.Predictor = profile.Predictor(*predictor)
	if s.Device, err = lookupDevice(*devName); err != nil {
		return err
	}
	if len(pos) == 0 || len(data) == 0 {
		fs.Usage()
		return usageError{"expected one model and at least one --data"}
	}
	if err := s.ValidateGiven(); err != nil {
		return err
	}
	if err := setup.Validate(); err != nil {
		return usageError{err.Error()}
	}
	if err := checkMatch(*match); err != nil {
		return err
	}
	files := tuning.Files{Profile: *out + ".profile.json", Partial: *out + ".partial.json", Resume: *resume, From: *profPath}
	outs, ins := []string{*out, files.Profile, files.Partial}, []string(nil)
	if *profPath != "" {
		ins = []string{*profPath}
		if atomicfile.SameFile(*profPath, files.Profile) { // read, and left as it is
			outs = []string{*out, files.Partial}
		}
	}
	run, err := startTuning(pos[0], *specPath, *qos, data, *match, outs, ins, setup, *asJSON, stdout, stderr)
	if err != nil {
		return err
	}
	defer run.close()
	res, err := run.p.Run(run.ctx, s, files, run.progress)
	run.done()
	if err != nil {
		return err
	}
	if err := policy.WritePareto(*out, res.Pareto); err != nil {
		return err
	}
	warnings := tuning.SplitWarnings(res.Tune, run.p.Calib.Len(), s.MaxLossPP)
	if *asJSON {
		return json.NewEncoder(stdout).Encode(map[string]any{"pareto": *out, "levels": len(res.Pareto.Configs), "validated": len(res.Tune.Validated),
			"predictor_mae_pp": res.Tune.PredictorMAE, "tune_seconds": res.Seconds, "note": res.Tune.Note, "trials": run.pool.TrialStats(),
			"tune_windows": run.p.Tune.Len(), "calib_windows": run.p.Calib.Len(), "warnings": warnings, "qos": cmp.Or(res.Pareto.QoS, replay.QoSAccuracy)})
	}
	fmt.Fprint(stdout, tuning.Text(res.Tune, s.Objective))
	for _, w := range warnings {
		fmt.Fprintln(stderr, "warning:", w)
	}
	if res.Tune.Note != "" {
		fmt.Fprintln(stdout, res.Tune.Note)
	}
	fmt.Fprintf(stdout, "tuned in %.1f s; wrote %s\n", res.Seconds, *out)
	if run.ctx.Err() != nil {
		fmt.Fprintf(stdout, "interrupted: kept what was validated; run again with --resume to continue\n")
	}
	return nil
}
