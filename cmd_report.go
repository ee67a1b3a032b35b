package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"time"

	"github.com/kagen-ai/kagen/approx"
	"github.com/kagen-ai/kagen/device"
	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/policy"
	"github.com/kagen-ai/kagen/replay"
	"github.com/kagen-ai/kagen/report"
)

// cmdReport regenerates docs/EVALUATION.md and its figures.
func cmdReport(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("report", stderr)
	out := fs.String("o", "docs", "output directory")
	peers := fs.String("peers", "", "JSON lines from bench/peers.sh --json-only (tools/report.sh runs it)")
	dataRoot := fs.String("data-root", "../shared/data", "folder holding har-spsw/ and fsdd/")
	models := fs.String("models", "models", "folder holding har.onnx, kws.onnx and kws-ds.onnx")
	maxLoss := fs.Float64("max-loss", 1, "accuracy loss threshold of the tuner, in percentage points")
	budget := fs.Duration("budget", 20*time.Second, "tuner search time per model")
	realtime := fs.Bool("realtime", true, "replay the held-out traces in real time (one inference per window hop), as the run-time targets require")
	kwsClips := fs.Int("kws-clips", 200, "held-out keyword clips replayed per keyword model (every k-th of the speaker's, in order; 0: all)")
	floor := fs.Float64("floor", 1, "the controllers' accuracy floor in percentage points")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kagen report [-o docs] [--peers peers.jsonl] [--data-root DIR] [--models DIR]\n\nProfiles, tunes and replays the demo models on their held-out traces and writes\nEVALUATION.md and figures/*.png. tools/report.sh also runs the engine comparison.")
		fs.PrintDefaults()
	}
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	har := filepath.Join(*dataRoot, "har-spsw", "DATA")
	fsdd := filepath.Join(*dataRoot, "fsdd", "recordings")
	var ms []report.Model
	add := func(name, file string, data, replayed []string, held string) {
		p := filepath.Join(*models, file)
		if _, err := os.Stat(p); err == nil {
			ms = append(ms, report.Model{Name: name, Path: p, Data: data, Replay: replayed, Held: held})
		}
	}
	theo, err := linkFiles("kagen-theo-", filepath.Join(fsdd, "*_theo_*.wav"))
	if err != nil {
		return err
	}
	defer os.RemoveAll(theo)
	theoReplay, err := linkEvery("kagen-theo-replay-", filepath.Join(fsdd, "*_theo_*.wav"), *kwsClips)
	if err != nil {
		return err
	}
	defer os.RemoveAll(theoReplay)
	// The HAR model reads the smartphone streams; the folders also hold the
	// smartwatch's.
	phone, err := linkFiles("kagen-har-", filepath.Join(har, "s1[789]", "*_sp.csv"))
	if err != nil {
		return err
	}
	defer os.RemoveAll(phone)
	add("har", "har.onnx", []string{phone}, nil, "subjects s17, s18, s19 (smartphone, 30 executions)")
	add("kws", "kws.onnx", []string{theo}, []string{theoReplay}, "speaker theo (500 clips)")
	add("kws-ds", "kws-ds.onnx", []string{theo}, []string{theoReplay}, "speaker theo (500 clips)")
	if len(ms) == 0 {
		return fmt.Errorf("no models in %s", *models)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	return report.Generate(ctx, report.Options{Out: *out, Models: ms, PeersJSON: *peers, MaxLossPP: *maxLoss, Budget: *budget, Log: stderr,
		Controllers: reportReplay(*realtime, *floor), Realtime: *realtime})
}

// reportReplay is the report's run-time section: every controller (the
// budget controller aiming at 70% of exact inference's energy) with the
// accuracy floor, side by side against the exact run, as `kagen replay
// --controller all` runs them; keyword clip folders are played with half
// a second of silence between clips. The confidence controller's run is
// kept as the trace figure.
func reportReplay(realtime bool, floor float64) report.RunTime {
	return func(ctx context.Context, rm report.Model, pareto, deviceName string) ([]report.ControllerRow, *report.Trace, error) {
		m, err := engine.LoadFile(rm.Path, engine.Options{})
		if err != nil {
			return nil, nil, err
		}
		par, err := policy.ReadPareto(pareto, policy.ReadOptions{ModelSHA256: m.SHA256()})
		if err != nil {
			return nil, nil, err
		}
		dev, err := device.Lookup(deviceName)
		if err != nil {
			return nil, nil, err
		}
		fs := flag.NewFlagSet("report replay", flag.ContinueOnError)
		cf := newControllerFlags(fs, "")
		if err := fs.Parse([]string{"--floor", strconv.FormatFloat(floor, 'g', -1, 64), "--budget-frac", "0.7"}); err != nil {
			return nil, nil, err
		}
		traces := rm.Replay
		if len(traces) == 0 {
			traces = rm.Data
		}
		opts := replay.Options{Gap: 0.5}
		var spec *replay.Spec
		var sels []*approx.Selector
		budgetFrac := func(f float64) (float64, error) {
			pace := time.Duration(0)
			if realtime {
				pace = time.Duration(float64(hopSamples(spec, 0)) / float64(spec.SampleRate) * float64(time.Second))
			}
			busy, err := calibrateExact(m, spec, sels[0], traces[0], opts, pace)
			return f * dev.InferenceEnergy(busy), err
		}
		pf := flag.NewFlagSet("report policy", flag.ContinueOnError)
		pcf := newControllerFlags(pf, "")
		if err := pf.Parse([]string{"--floor", strconv.FormatFloat(floor, 'g', -1, 64)}); err != nil {
			return nil, nil, err
		}
		params, err := pcf.params(policy.Confidence, budgetFrac)
		if err != nil {
			return nil, nil, err
		}
		pol, err := policy.FromPareto(par, params)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", pareto, err)
		}
		if sels, spec, err = checkPolicyModel(pol, m, pareto); err != nil {
			return nil, nil, err
		}
		runs, err := replayControllers(pol, cf, "all", budgetFrac)
		if err != nil {
			return nil, nil, err
		}
		tr := &report.Trace{}
		for _, r := range runs {
			if r.params.Name == policy.Confidence {
				tr.Controller = r.params.String()
				r.record = func(o policy.Observation, _ policy.Decision) {
					tr.Level = append(tr.Level, float64(o.Level))
					tr.Confidence = append(tr.Confidence, float64(o.Confidence))
					tr.EnergyMJ = append(tr.EnergyMJ, 1e3*o.EnergyJ)
				}
			}
		}
		rp := &replayer{m: m, spec: spec, pol: pol, sels: sels, dev: dev, cost: costMeasured, realtime: realtime,
			hopS: float64(hopSamples(spec, 0)) / float64(spec.SampleRate), runs: runs, filter: newBusyFilter(len(pol.Levels))}
		if err := rp.run(traces, opts); err != nil {
			return nil, nil, err
		}
		var rows []report.ControllerRow
		for _, r := range runs {
			rep := rp.report(r, rm.Path, pareto, traces)
			row := report.ControllerRow{Controller: rep.Params, Accuracy: rep.Accuracy, ExactAcc: rep.ExactAccuracy, LossPP: rep.AccuracyLossPP,
				InferenceSaving: rep.InferenceEnergySaving, Switches: rep.Switches,
				SystemSaving: map[string]float64{}, InferenceShare: map[string]float64{}}
			for _, p := range rep.Profiles {
				row.SystemSaving[p.Name] = p.SystemEnergySaving
				row.InferenceShare[p.Name] = p.InferenceShare
			}
			for _, l := range rep.Levels {
				row.TimeAtLevel = append(row.TimeAtLevel, l.Fraction)
			}
			rows = append(rows, row)
		}
		if len(tr.Level) == 0 {
			tr = nil
		}
		return rows, tr, ctx.Err()
	}
}

// linkEvery links every k-th file matching pattern (k chosen so that at
// most n are linked; n <= 0 links all) into a temporary folder.
func linkEvery(prefix, pattern string, n int) (string, error) {
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return "", err
	}
	files, _ := filepath.Glob(pattern)
	step := 1
	if n > 0 && len(files) > n {
		step = (len(files) + n - 1) / n
	}
	for i := 0; i < len(files); i += step {
		abs, _ := filepath.Abs(files[i])
		if err := os.Symlink(abs, filepath.Join(dir, filepath.Base(files[i]))); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// linkFiles links the files matching pattern into a temporary folder, which
// then reads as one set of traces (a clip folder, or IMU executions).
func linkFiles(prefix, pattern string) (string, error) {
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return "", err
	}
	clips, _ := filepath.Glob(pattern)
	for _, c := range clips {
		abs, _ := filepath.Abs(c)
		if err := os.Symlink(abs, filepath.Join(dir, filepath.Base(c))); err != nil {
			return "", err
		}
	}
	return dir, nil
}
