package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"strings"
	"sync"
	"time"

	"github.com/kagen-ai/kagen/approx"
	"github.com/kagen-ai/kagen/dataset"
	"github.com/kagen-ai/kagen/device"
	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/internal/atomicfile"
	"github.com/kagen-ai/kagen/policy"
	"github.com/kagen-ai/kagen/profile"
	"github.com/kagen-ai/kagen/profile/dist"
	"github.com/kagen-ai/kagen/replay"
)

// loadForTuning loads a model, its front-end and labelled windows.
func loadForTuning(path string, data []string) (*approx.Approximator, *replay.Spec, *dataset.Dataset, error) {
	m, err := engine.LoadFile(path, engine.Options{})
	if err != nil {
		return nil, nil, nil, err
	}
	spec, err := replay.SpecFromModel(m)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	d, err := dataset.Load(spec, replay.DiskTraces(data), 0)
	if err != nil {
		return nil, nil, nil, err
	}
	return approx.New(m), spec, d, nil
}

// progressPrinter reports progress as a line redrawn on a terminal, or as
// JSON lines.
type progressPrinter struct {
	mu    sync.Mutex
	w     io.Writer
	json  bool
	tty   bool
	start time.Time
}

func newProgress(w io.Writer, asJSON bool) *progressPrinter {
	p := &progressPrinter{w: w, json: asJSON, start: time.Now()}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progressPrinter) report(phase string, done, total int, what string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.json {
		json.NewEncoder(p.w).Encode(map[string]any{"phase": phase, "done": done, "total": total, "item": what, "elapsed_s": time.Since(p.start).Seconds()})
		return
	}
	if !p.tty {
		return
	}
	const width = 30
	fill := 0
	if total > 0 {
		fill = done * width / total
	}
	if len(what) > 36 {
		what = what[:36]
	}
	fmt.Fprintf(p.w, "\r%-9s [%s%s] %d/%d %-36s", phase, strings.Repeat("#", fill), strings.Repeat(".", width-fill), done, total, what)
}

func (p *progressPrinter) done() {
	if p.tty && !p.json {
		fmt.Fprintln(p.w)
	}
}

// distFlags are the flags of kagen profile and kagen tune that say where
// trials run (docs/distributed.md).
type distFlags struct {
	url         *string
	workers     *int
	deviceClass *string
	shard       *int
	ackWait     *time.Duration
}

func addDistFlags(fs *flag.FlagSet) *distFlags {
	return &distFlags{
		url:         fs.String("nats", "", "run trials on the workers of this NATS cluster (URL) instead of an embedded server"),
		workers:     fs.Int("workers", -1, "in-process workers (default 2 with the embedded server, 0 with --nats; 0 without --nats: no NATS at all)"),
		deviceClass: fs.String("device-class", "", "device class whose workers measure latency (default this machine's)"),
		shard:       fs.Int("shard-windows", 64, "windows per data shard, the unit of a QoS trial"),
		ackWait:     fs.Duration("ack-wait", 30*time.Second, "redeliver a trial whose worker shows no sign of life for this long"),
	}
}

// distPool runs trials on NATS JetStream: an embedded server with
// in-process workers by default, or the workers of --nats. It is nil when
// the trials run in-process without NATS (--workers 0 without --nats).
type distPool struct {
	*dist.Pool
}

// start starts the pool for the model file at path, whose loaded form a
// holds.
func (d *distFlags) start(ctx context.Context, path string, a *approx.Approximator, stderr io.Writer) (*distPool, error) {
	workers := *d.workers
	if workers < 0 {
		workers = 2
		if *d.url != "" {
			workers = 0
		}
	}
	if workers == 0 && *d.url == "" {
		return nil, nil
	}
	if *d.url == "" && *d.deviceClass != "" && *d.deviceClass != device.Class(device.This()) {
		return nil, usageError{"--device-class names another device: it needs --nats and workers of that class"}
	}
	if *d.shard < 1 {
		return nil, usageError{"--shard-windows must be at least 1"}
	}
	model, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if h := sha256.Sum256(model); hex.EncodeToString(h[:]) != a.Model().SHA256() {
		return nil, fmt.Errorf("%s changed while it was loaded", path)
	}
	cfg := dist.Config{URL: *d.url, AckWait: *d.ackWait, Name: "kagen coordinator"}
	if *d.url != "" {
		logger := log.New(stderr, "", log.LstdFlags)
		cfg.Logf = logger.Printf
	}
	p, err := dist.NewPool(ctx, cfg, model, workers, dist.WorkerOptions{Name: "local"}, dist.CoordinatorOptions{ShardWindows: *d.shard, DeviceClass: *d.deviceClass})
	if err != nil {
		return nil, err
	}
	if *d.url != "" {
		ws, err := p.Cluster.Workers(ctx)
		if err == nil {
			n := 0
			for _, w := range ws {
				if w.Class == p.DeviceClass() {
					n++
				}
			}
			fmt.Fprintf(stderr, "coordinating on %s: %d workers alive, %d of device class %s\n", *d.url, len(ws), n, p.DeviceClass())
		}
	}
	return &distPool{p}, nil
}

// profile profiles on the pool, or locally when there is none.
func (p *distPool) profile(ctx context.Context, a *approx.Approximator, d *dataset.Dataset, opts profile.Options) (*profile.Profile, error) {
	if p == nil {
		return profile.Measure(ctx, a, d, opts)
	}
	return p.Profile(ctx, a, d, opts)
}

// tune tunes on the pool, or locally when there is none.
func (p *distPool) tune(ctx context.Context, a *approx.Approximator, pr *profile.Profile, tune, calib *dataset.Dataset, opts profile.TuneOptions) (*profile.TuneResult, error) {
	if p == nil {
		return profile.Tune(ctx, a, pr, tune, calib, opts)
	}
	return p.Tune(ctx, a, pr, tune, calib, opts)
}

// stats summarises the trials for JSON output (nil without NATS).
func (p *distPool) stats() map[string]any {
	if p == nil {
		return nil
	}
	st := p.Stats()
	return map[string]any{"queued": st.Queued, "reused": st.Reused, "received": st.Received, "ignored": st.Ignored, "already_queued": st.Queuing}
}

func (p *distPool) close() {
	if p != nil {
		p.Close()
	}
}

// cmdProfile measures every (node, knob) pair of a model on this device.
func cmdProfile(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("profile", stderr)
	var data pathList
	fs.Var(&data, "data", "labelled trace file or folder (repeatable)")
	out := fs.String("o", "profile.json", "output file")
	asJSON := fs.Bool("json", false, "JSON progress lines and a JSON summary")
	windows := fs.Int("windows", 600, "windows used for the QoS predictors")
	df := addDistFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kagen profile MODEL --data PATH... [-o profile.json] [--json] [--nats URL] [--workers N]")
		fs.PrintDefaults()
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || len(data) == 0 {
		fs.Usage()
		return usageError{"expected one model and at least one --data"}
	}
	a, _, d, err := loadForTuning(pos[0], data)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	pool, err := df.start(ctx, pos[0], a, stderr)
	if err != nil {
		return err
	}
	defer pool.close()
	pr := newProgress(stderr, *asJSON)
	if *asJSON {
		pr.w = stdout
	}
	p, err := pool.profile(ctx, a, d, profile.Options{Windows: *windows, Progress: func(done, total int, what string) { pr.report("profile", done, total, what) }})
	pr.done()
	if err != nil {
		return err
	}
	if err := p.Write(*out); err != nil {
		return err
	}
	kept := 0
	for _, pp := range p.Pairs {
		if !pp.Pruned {
			kept++
		}
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(map[string]any{"profile": *out, "pairs": len(p.Pairs), "kept": kept, "exact_us": p.ExactUS, "exact_accuracy": p.ExactAccuracy, "seconds": p.ProfileTime, "trials": pool.stats()})
	}
	fmt.Fprintf(stdout, "profiled %d (node, knob) pairs in %.1f s (%d save time on this device); exact %.1f us, accuracy %.2f%% on %d windows\nwrote %s\n",
		len(p.Pairs), p.ProfileTime, kept, p.ExactUS, 100*p.ExactAccuracy, p.Windows, *out)
	return nil
}

// cmdTune profiles a model and finds its Pareto-optimal configurations.
func cmdTune(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("tune", stderr)
	var data pathList
	fs.Var(&data, "data", "labelled trace file or folder (repeatable)")
	out := fs.String("o", "pareto.json", "output file")
	maxLoss := fs.Float64("max-loss", 1, "accuracy loss threshold in percentage points")
	budget := fs.Duration("budget", 10*time.Second, "search time (profiling and validation come on top)")
	objective := fs.String("objective", "time", "time or energy")
	devName := fs.String("device-profile", "phone-big", "device profile for energy figures")
	predictor := fs.String("predictor", "p1", "QoS predictor: p1 (output deltas) or p2 (accuracy deltas)")
	seed := fs.Uint64("seed", 1, "search seed")
	candidates := fs.Int("candidates", 24, "configurations validated on the data")
	screenPairs := fs.Int("screen", 0, "knob pairs measured on the tune split before the first round (0: half of --candidates; -1: none)")
	rounds := fs.Int("rounds", 3, "validation rounds; each anchors the predictor on what the earlier ones measured")
	asJSON := fs.Bool("json", false, "JSON progress lines and a JSON result")
	resume := fs.Bool("resume", false, "reuse OUT.profile.json and the configurations validated by an interrupted run")
	df := addDistFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kagen tune MODEL --data PATH... --max-loss PP [--budget DURATION] [--objective time|energy] [--device-profile NAME] [--screen N] [-o pareto.json] [--json] [--resume] [--nats URL] [--workers N]")
		fs.PrintDefaults()
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || len(data) == 0 || *maxLoss < 0 || (*objective != "time" && *objective != "energy") || (*predictor != "p1" && *predictor != "p2") {
		fs.Usage()
		return usageError{"expected one model, --data, --max-loss >= 0, --objective time|energy and --predictor p1|p2"}
	}
	dev, err := device.Lookup(*devName)
	if err != nil {
		return err
	}
	start := time.Now()
	a, spec, d, err := loadForTuning(pos[0], data)
	if err != nil {
		return err
	}
	tune, calib := d.Split()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	pool, err := df.start(ctx, pos[0], a, stderr)
	if err != nil {
		return err
	}
	defer pool.close()
	pr := newProgress(stderr, *asJSON)
	if *asJSON {
		pr.w = stdout
	}
	profPath, partialPath := *out+".profile.json", *out+".partial.json"
	var p *profile.Profile
	if *resume {
		if p, err = profile.ReadProfile(profPath, a.Model().SHA256(), false); err != nil {
			return fmt.Errorf("--resume: %w", err)
		}
	} else {
		p, err = pool.profile(ctx, a, tune, profile.Options{Progress: func(done, total int, what string) { pr.report("profile", done, total, what) }})
		if err != nil {
			pr.done()
			return err
		}
		if err := p.Write(profPath); err != nil {
			return err
		}
	}
	var known []profile.Candidate
	if *resume {
		if b, err := os.ReadFile(partialPath); err == nil {
			json.Unmarshal(b, &known)
		}
	}
	var mu sync.Mutex
	saved := append([]profile.Candidate(nil), known...)
	res, err := pool.tune(ctx, a, p, tune, calib, profile.TuneOptions{
		MaxLossPP: *maxLoss, Budget: *budget, Predictor: profile.Predictor(*predictor), Objective: *objective,
		Device: dev, Seed: *seed, Known: known, Candidates: *candidates, Rounds: *rounds, ScreenPairs: *screenPairs,
		Progress: func(phase string, done, total int) { pr.report(phase, done, total, "") },
		Validated: func(c profile.Candidate) {
			mu.Lock()
			defer mu.Unlock()
			saved = append(saved, c)
			if b, err := json.Marshal(saved); err == nil {
				atomicfile.Write(partialPath, b)
			}
		},
	})
	pr.done()
	if err != nil {
		return err
	}
	validated, err := json.Marshal(res.Validated)
	if err != nil {
		return err
	}
	f := policy.Pareto{Version: policy.ParetoVersion, ModelSHA256: a.Model().SHA256(), Device: device.Fingerprint(p.Device),
		Meter: dev.Name + " (modelled)", Objective: *objective, ExactAccuracy: res.ExactAccuracy, Classes: spec.Classes,
		MaxLossPP: *maxLoss, PredictorMAEPP: res.PredictorMAE, TuneSeconds: time.Since(start).Seconds(), Note: res.Note, Validated: validated}
	if *objective == "energy" {
		// energy is inference energy from time: the same order as time.
		f.Meter = dev.Name + " (modelled: active power x busy time)"
	}
	for i, l := range res.Levels {
		f.Configs = append(f.Configs, policy.Level{Level: i, Config: l.Config, Speedup: l.Speedup, QoSLossPP: l.LossPP, Accuracy: l.Accuracy,
			PredictedLossPP: l.PredictedLossPP, TimeUS: l.TimeUS, EnergyJ: l.EnergyJ,
			Confidence: policy.ConfidenceStats{CorrectMean: l.CorrectMean, WrongMean: l.WrongMean, CorrectN: l.CorrectN, WrongN: l.WrongN}})
	}
	b, err := json.MarshalIndent(f, "", " ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(*out, b); err != nil {
		return err
	}
	if ctx.Err() == nil {
		os.Remove(partialPath)
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(map[string]any{"pareto": *out, "levels": len(f.Configs), "validated": len(res.Validated),
			"predictor_mae_pp": res.PredictorMAE, "tune_seconds": f.TuneSeconds, "note": res.Note, "trials": pool.stats()})
	}
	fmt.Fprintf(stdout, "%s", res)
	if res.Note != "" {
		fmt.Fprintln(stdout, res.Note)
	}
	fmt.Fprintf(stdout, "tuned in %.1f s; wrote %s\n", f.TuneSeconds, *out)
	if ctx.Err() != nil {
		fmt.Fprintf(stdout, "interrupted: kept what was validated; run again with --resume to continue\n")
	}
	return nil
}
