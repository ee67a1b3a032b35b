package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kagen-ai/kagen/approx"
	"github.com/kagen-ai/kagen/device"
	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/policy"
	"github.com/kagen-ai/kagen/replay"
)

// Cost sources of `kagen replay`.
const (
	costMeasured = "measured" // busy time of each inference, measured here
	costPareto   = "pareto"   // the policy's time_us of the level that ran
)

// cmdReplay streams traces through the front-end, the engine and a
// controller, next to an exact run of the same stream.
func cmdReplay(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("replay", stderr)
	model := fs.String("model", "", "ONNX model")
	polPath := fs.String("policy", "", "policy file (kagen policy new)")
	var traces pathList
	fs.Var(&traces, "trace", "trace file or folder (repeatable; further arguments are traces too)")
	ctrlName := fs.String("controller", "", "run this controller instead of the policy's: "+strings.Join(policy.Names(), ", ")+", or all (side by side)")
	devName := fs.String("device-profile", "phone-big", "device energy profile: "+deviceNames()+", or a JSON file")
	realtime := fs.Bool("realtime", false, "pace the input at the trace's window hop, as on the device")
	asJSON := fs.Bool("json", false, "print one JSON object")
	logPath := fs.String("log", "", "write every decision as a JSON line to this file")
	cost := fs.String("cost", costMeasured, "inference cost: measured (busy time here) or pareto (the policy's time_us of each level)")
	hop := fs.Int("hop", 0, "window hop in samples (default: the model's)")
	match := fs.String("match", "", "file name pattern when a trace is a folder (default *.csv or *.wav)")
	gap := fs.Float64("gap", 0, "seconds of silence (or noise) around the clips of a clip folder")
	noise := fs.Bool("noise", false, "add white noise to clip folders at --snr dB")
	snr := fs.Float64("snr", 20, "signal-to-noise ratio in dB with --noise")
	seed := fs.Uint64("trace-seed", 0, "seed of the noise and shuffle of clip folders")
	shuffle := fs.Bool("shuffle", false, "play a clip folder in a seeded random order")
	cf := newControllerFlags(fs, "budget: mean energy per inference as a fraction of exact inference's, measured here (median over the first windows of the first trace, paced with --realtime) (with --cost pareto: the policy's time_us of level 0)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kagen replay --model MODEL --policy FILE --trace PATH... [--controller NAME|all] [--device-profile NAME] [--realtime] [--json] [--log decisions.jsonl]\n\n"+
			"Streams traces through the model's front-end and the engine, choosing each window's level with the\n"+
			"policy's controller, and runs the same stream exactly (level 0) beside it. Reports accuracy against\n"+
			"the exact run's, modelled inference and system-wide energy (one inference per window hop) and\n"+
			"their savings, the time at each level and the number of switches.")
		fs.PrintDefaults()
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	traces = append(traces, pos...)
	if *model == "" || *polPath == "" || len(traces) == 0 {
		fs.Usage()
		return usageError{"expected --model, --policy and at least one --trace"}
	}
	if *cost != costMeasured && *cost != costPareto {
		return usageError{fmt.Sprintf("--cost %q, expected measured or pareto", *cost)}
	}
	if *ctrlName == "all" && *logPath != "" {
		return usageError{"--log needs one controller, not all"}
	}
	dev, err := device.Lookup(*devName)
	if err != nil {
		return usageError{err.Error()}
	}
	m, spec, pol, sels, err := loadPolicy(*model, *polPath)
	if err != nil {
		return err
	}
	if *cost == costPareto {
		for _, l := range pol.Levels {
			if !(l.TimeUS > 0) {
				return fmt.Errorf("--cost pareto: %s: levels[%d].time_us is %v, expected > 0", *polPath, l.Level, l.TimeUS)
			}
		}
	}
	opts := replay.Options{Hop: *hop, Match: *match, Gap: *gap, Noise: *noise, SNR: *snr, Seed: *seed, Shuffle: *shuffle}
	budgetFrac := func(f float64) (float64, error) {
		if *cost == costPareto {
			return f * dev.InferenceEnergy(time.Duration(pol.Levels[0].TimeUS*1e3)), nil
		}
		pace := time.Duration(0)
		if *realtime {
			pace = time.Duration(float64(hopSamples(spec, *hop)) / float64(spec.SampleRate) * float64(time.Second))
		}
		busy, err := calibrateExact(m, spec, sels[0], traces[0], opts, pace)
		if err != nil {
			return 0, fmt.Errorf("--budget-frac: %w", err)
		}
		return f * dev.InferenceEnergy(busy), nil
	}
	runs, err := replayControllers(pol, cf, *ctrlName, budgetFrac)
	if err != nil {
		return err
	}
	var logw *policy.LogWriter
	var logFile *os.File
	if *logPath != "" {
		if logFile, err = os.CreateTemp(filepath.Dir(*logPath), "."+filepath.Base(*logPath)+".tmp*"); err != nil {
			return fmt.Errorf("decision log: %w", err)
		}
		defer func() {
			if logFile != nil {
				logFile.Close()
				os.Remove(logFile.Name())
			}
		}()
		logw = policy.NewLogWriter(logFile, pol.Classes)
		runs[0].log = logw
	}
	rp := &replayer{m: m, spec: spec, pol: pol, sels: sels, dev: dev, cost: *cost, realtime: *realtime,
		hopS: float64(hopSamples(spec, *hop)) / float64(spec.SampleRate), runs: runs, filter: newBusyFilter(len(pol.Levels))}
	if err := rp.run(traces, opts); err != nil {
		return err
	}
	if logw != nil {
		err := logw.Flush()
		if err == nil {
			err = logFile.Chmod(0o644)
		}
		if err == nil {
			err = logFile.Sync()
		}
		if cerr := logFile.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(logFile.Name(), *logPath)
		}
		if err != nil {
			return fmt.Errorf("decision log %s: %w", *logPath, err)
		}
		logFile = nil
	}
	reports := make([]*replayReport, len(runs))
	for i, r := range runs {
		reports[i] = rp.report(r, *model, *polPath, traces)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if *ctrlName == "all" {
			return enc.Encode(struct {
				Results []*replayReport `json:"results"`
			}{reports})
		}
		return enc.Encode(reports[0])
	}
	if *ctrlName == "all" {
		printReplayTable(stdout, reports)
		return nil
	}
	printReplay(stdout, reports[0])
	return nil
}

func deviceNames() string {
	var names []string
	for _, d := range device.Profiles() {
		names = append(names, d.Name)
	}
	return strings.Join(names, ", ")
}

// controlledRun is one controller's run over the stream and its tallies.
type controlledRun struct {
	ctrl     policy.Controller
	params   policy.Params
	level    int
	correct  int
	busy     time.Duration
	windows  []int // per level
	switches int
	rules    map[string]int
	energyJ  float64 // sum of the observations' EnergyJ
	log      *policy.LogWriter
	// record, if set, sees every observation and the decision taken on
	// it (the report's trace figure).
	record func(policy.Observation, policy.Decision)
}

// replayControllers builds the controllers to run: the policy's, another
// one by name, or all of them.
func replayControllers(pol *policy.Policy, cf *controllerFlags, name string, budgetFrac func(float64) (float64, error)) ([]*controlledRun, error) {
	given := cf.set()
	var names []string
	switch name {
	case "":
		names = []string{pol.Controller.Name}
	case "all":
		names = policy.Names()
	default:
		if !slices.Contains(policy.Names(), name) {
			return nil, usageError{fmt.Sprintf("--controller %q, expected one of %s, or all", name, strings.Join(policy.Names(), ", "))}
		}
		names = []string{name}
	}
	var runs []*controlledRun
	for _, n := range names {
		var params policy.Params
		switch {
		case n == pol.Controller.Name && len(given) == 0:
			params = pol.Controller
		case name == "all":
			p, err := lenientParams(cf, n, given, budgetFrac)
			if err != nil {
				return nil, err
			}
			if p == nil {
				continue // a budget controller without a budget
			}
			params = *p
		default:
			p, err := cf.params(n, budgetFrac)
			if err != nil {
				return nil, err
			}
			params = p
		}
		if params.Floor == nil && !slices.Contains(given, "floor") && !slices.Contains(given, "hard-frac") {
			params.Floor = pol.Controller.Floor
		}
		if name == "all" && n == policy.Static && !slices.Contains(given, "level") && pol.Controller.Name != policy.Static {
			// The static baseline of a side-by-side run: always the
			// highest level the floor allows (or the last level).
			top := len(pol.Levels) - 1
			if params.Floor != nil {
				top = policy.FloorLevel(pol.Levels, params.Floor.LossPP)
			}
			params.Static = &policy.StaticParams{Level: top}
		}
		p := *pol
		var err error
		if p.Controller, err = params.WithDefaults(); err != nil {
			return nil, err
		}
		ctrl, err := policy.NewController(&p)
		if err != nil {
			return nil, fmt.Errorf("controller %s: %w", n, err)
		}
		runs = append(runs, &controlledRun{ctrl: ctrl, params: p.Controller, windows: make([]int, len(pol.Levels)), rules: map[string]int{}})
	}
	return runs, nil
}

// lenientParams builds controller n's parameters from the flags that apply
// to it, ignoring the others; nil for a budget controller when no budget
// was given.
func lenientParams(cf *controllerFlags, n string, given []string, budgetFrac func(float64) (float64, error)) (*policy.Params, error) {
	var mine []string
	for _, g := range given {
		if owners := flagOwners[g]; owners[0] == "" || slices.Contains(owners, n) {
			mine = append(mine, g)
		}
	}
	if n == policy.Budget && !slices.Contains(mine, "budget-j") && !slices.Contains(mine, "budget-us") && !slices.Contains(mine, "budget-frac") {
		return nil, nil
	}
	p, err := cf.build(n, mine, budgetFrac)
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// replayer runs the stream.
type replayer struct {
	m        *engine.Model
	spec     *replay.Spec
	pol      *policy.Policy
	sels     []*approx.Selector
	dev      *device.Profile
	cost     string
	realtime bool
	hopS     float64
	runs     []*controlledRun

	windows    int
	labelled   int
	exactRight int
	exactBusy  time.Duration
	filter     *busyFilter
	order      []int // run indices, len(runs) for the exact run
	rng        *rand.Rand
}

// busyFilter replaces measured busy times that are outliers for their
// level: more than outlierFactor times the median of the level's recent
// times (preemption by other processes, a page fault), by that median, so
// that a figure reports the cost of inference rather than of scheduling on
// a shared machine. The replacements are counted and reported.
type busyFilter struct {
	hist     [][]time.Duration // per level, the last filterWindow kept times
	n        []int             // times recorded per level
	scratch  []time.Duration
	replaced int
}

const (
	filterWindow  = 31
	filterMin     = 8
	outlierFactor = 10
)

func newBusyFilter(levels int) *busyFilter {
	f := &busyFilter{hist: make([][]time.Duration, levels), n: make([]int, levels), scratch: make([]time.Duration, filterWindow)}
	for i := range f.hist {
		f.hist[i] = make([]time.Duration, filterWindow)
	}
	return f
}

func (f *busyFilter) filter(level int, d time.Duration) time.Duration {
	h, n := f.hist[level], f.n[level]
	if n >= filterMin {
		k := min(n, filterWindow)
		s := f.scratch[:k]
		copy(s, h[:k])
		slices.Sort(s)
		if med := s[k/2]; d > outlierFactor*med {
			f.replaced++
			return med
		}
	}
	h[n%filterWindow] = d
	f.n[level]++
	return d
}

// hopSamples is the window hop in samples: the option's, or the spec's.
func hopSamples(spec *replay.Spec, hop int) int {
	if hop > 0 {
		return hop
	}
	return spec.Hop
}

// Windows calibrateExact times: as fast as possible, or paced.
const (
	calibrateWindows      = 64
	calibratePacedWindows = 16
)

// calibrateExact returns the median busy time of exact inference over the
// first windows of a trace, for a budget given as a fraction of it. With
// pace > 0 it waits that long between windows, as a real-time replay
// does (idle time leaves the caches cold, which makes inference slower).
func calibrateExact(m *engine.Model, spec *replay.Spec, exact engine.Selector, trace string, opts replay.Options, pace time.Duration) (time.Duration, error) {
	n := calibrateWindows
	if pace > 0 {
		n = calibratePacedWindows
	}
	src, err := replay.Open(trace, spec, opts)
	if err != nil {
		return 0, err
	}
	defer src.Close()
	s := m.NewSession()
	defer s.Close()
	x := engine.NewFloat(make([]float32, spec.InputSize()), spec.InputShape()...)
	in := []*engine.Tensor{x}
	var times []time.Duration
	for len(times) < n {
		if len(times) > 0 {
			time.Sleep(pace)
		}
		if _, err := src.Next(x.F); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return 0, err
		}
		_, busy, err := infer(s, in, exact)
		if err != nil {
			return 0, err
		}
		times = append(times, busy)
	}
	if len(times) == 0 {
		return 0, fmt.Errorf("%s: no window to time exact inference on", trace)
	}
	slices.Sort(times)
	return times[len(times)/2], nil
}

// infer runs one inference and returns the prediction and busy time.
func infer(s *engine.Session, in []*engine.Tensor, sel engine.Selector) (replay.Prediction, time.Duration, error) {
	t0 := time.Now()
	outs, err := s.RunWith(in, sel)
	busy := time.Since(t0)
	if err != nil {
		return replay.Prediction{}, 0, err
	}
	return replay.Predict(outs[0].F), busy, nil
}

func (rp *replayer) run(traces []string, opts replay.Options) error {
	s := rp.m.NewSession()
	defer s.Close()
	x := engine.NewFloat(make([]float32, rp.spec.InputSize()), rp.spec.InputShape()...)
	in := []*engine.Tensor{x}
	for _, r := range rp.runs {
		r.level = r.ctrl.Start()
	}
	rp.rng = rand.New(rand.NewPCG(1, 2))
	rp.order = make([]int, len(rp.runs)+1)
	for i := range rp.order {
		rp.order[i] = i
	}
	start := time.Now()
	for _, path := range traces {
		src, err := replay.Open(path, rp.spec, opts)
		if err != nil {
			return err
		}
		err = rp.stream(src, s, x, in, start)
		src.Close()
		if err != nil {
			return err
		}
	}
	if rp.windows == 0 {
		return fmt.Errorf("no windows in %v (each trace shorter than one window?)", traces)
	}
	return nil
}

func (rp *replayer) stream(src replay.Source, s *engine.Session, x *engine.Tensor, in []*engine.Tensor, start time.Time) error {
	for {
		w, err := src.Next(x.F)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if rp.realtime {
			due := start.Add(time.Duration(float64(rp.windows) * rp.hopS * float64(time.Second)))
			time.Sleep(time.Until(due))
		}
		want := -1
		if w.Label != "" {
			want = rp.spec.ClassIndex(w.Label)
		}
		if want >= 0 {
			rp.labelled++
		}
		// Shuffle the order of the runs (the exact one included) from
		// window to window, so that none always finds the caches cold
		// after the front-end, or always follows the same other run.
		rp.rng.Shuffle(len(rp.order), func(i, j int) { rp.order[i], rp.order[j] = rp.order[j], rp.order[i] })
		for _, i := range rp.order {
			if i == len(rp.runs) {
				if err := rp.exact(s, in, want, w); err != nil {
					return err
				}
				continue
			}
			if err := rp.controlled(rp.runs[i], s, in, want, w); err != nil {
				return err
			}
		}
		rp.windows++
	}
}

func (rp *replayer) controlled(r *controlledRun, s *engine.Session, in []*engine.Tensor, want int, w replay.Window) error {
	pred, busy, err := infer(s, in, rp.sels[r.level])
	if err != nil {
		return fmt.Errorf("%s window %d at level %d: %w", w.File, w.Index, r.level, err)
	}
	if rp.cost == costPareto {
		busy = time.Duration(rp.pol.Levels[r.level].TimeUS * 1e3)
	} else {
		busy = rp.filter.filter(r.level, busy)
	}
	if pred.Class == want {
		r.correct++
	}
	r.busy += busy
	r.windows[r.level]++
	e := rp.dev.InferenceEnergy(busy)
	r.energyJ += e
	obs := policy.Observation{
		Index: int64(rp.windows), Time: float64(rp.windows+1) * rp.hopS, Level: r.level,
		Class: pred.Class, Confidence: pred.Confidence, TimeUS: float64(busy) / 1e3, EnergyJ: e,
	}
	d := r.ctrl.Decide(obs)
	if r.record != nil {
		r.record(obs, d)
	}
	r.rules[d.Rule]++
	if r.log != nil {
		if err := r.log.Write(d); err != nil {
			return err
		}
	}
	if d.To != r.level {
		r.switches++
	}
	r.level = d.To
	return nil
}

func (rp *replayer) exact(s *engine.Session, in []*engine.Tensor, want int, w replay.Window) error {
	pred, busy, err := infer(s, in, rp.sels[0])
	if err != nil {
		return fmt.Errorf("%s window %d exact: %w", w.File, w.Index, err)
	}
	if rp.cost == costPareto {
		busy = time.Duration(rp.pol.Levels[0].TimeUS * 1e3)
	} else {
		busy = rp.filter.filter(0, busy)
	}
	rp.exactBusy += busy
	if pred.Class == want {
		rp.exactRight++
	}
	return nil
}

// replayReport is the outcome of one controller's run. Energies are
// modelled from busy time by a device profile.
type replayReport struct {
	Model      string   `json:"model"`
	Policy     string   `json:"policy"`
	Traces     []string `json:"traces"`
	Controller string   `json:"controller"`
	Params     string   `json:"params"`
	// Meter names the device profile and says the figures are modelled.
	Meter         string  `json:"meter"`
	DeviceProfile string  `json:"device_profile"`
	Cost          string  `json:"cost"`
	Realtime      bool    `json:"realtime"`
	Windows       int     `json:"windows"`
	Labelled      int     `json:"labelled"`
	HopS          float64 `json:"hop_s"`
	WallS         float64 `json:"wall_s"`

	Accuracy       float64 `json:"accuracy"`
	ExactAccuracy  float64 `json:"exact_accuracy"`
	AccuracyLossPP float64 `json:"accuracy_loss_pp"`

	InferenceEnergyJ      float64 `json:"inference_energy_j"`
	ExactInferenceEnergyJ float64 `json:"exact_inference_energy_j"`
	InferenceEnergySaving float64 `json:"inference_energy_saving"`
	SystemEnergyJ         float64 `json:"system_energy_j"`
	ExactSystemEnergyJ    float64 `json:"exact_system_energy_j"`
	SystemEnergySaving    float64 `json:"system_energy_saving"`
	// InferenceShare is the exact run's inference energy over its system
	// energy.
	InferenceShare     float64 `json:"inference_share"`
	MeanLatencyUS      float64 `json:"mean_latency_us"`
	ExactMeanLatencyUS float64 `json:"exact_mean_latency_us"`
	// BudgetJ and MeanInferenceEnergyJ compare a budget controller's
	// target with what it spent per inference.
	BudgetJ              float64 `json:"budget_j,omitempty"`
	MeanInferenceEnergyJ float64 `json:"mean_inference_energy_j"`

	// OutliersReplaced counts measured busy times (of every run) replaced
	// by their level's median as outliers.
	OutliersReplaced int `json:"outliers_replaced"`

	Switches int              `json:"switches"`
	Levels   []levelTime      `json:"levels"`
	Rules    map[string]int   `json:"rules"`
	Profiles []profileSavings `json:"profiles"`
}

type levelTime struct {
	Level    int     `json:"level"`
	Config   string  `json:"config"`
	Windows  int     `json:"windows"`
	Seconds  float64 `json:"seconds"`
	Fraction float64 `json:"fraction"`
}

// profileSavings are the modelled savings under one built-in device
// profile.
type profileSavings struct {
	Name                  string  `json:"name"`
	InferenceEnergySaving float64 `json:"inference_energy_saving"`
	SystemEnergySaving    float64 `json:"system_energy_saving"`
	InferenceShare        float64 `json:"inference_share"`
}

func (rp *replayer) report(r *controlledRun, model, pol string, traces []string) *replayReport {
	n := rp.windows
	wall := time.Duration(float64(n) * rp.hopS * float64(time.Second))
	rep := &replayReport{
		Model: model, Policy: pol, Traces: traces, Controller: r.ctrl.Name(), Params: r.params.String(),
		Meter: rp.dev.Name + " (modelled)", DeviceProfile: rp.dev.Name, Cost: rp.cost, Realtime: rp.realtime,
		Windows: n, Labelled: rp.labelled, HopS: rp.hopS, WallS: wall.Seconds(),
		Switches: r.switches, Rules: r.rules, OutliersReplaced: rp.filter.replaced,
	}
	if rp.labelled > 0 {
		rep.Accuracy = float64(r.correct) / float64(rp.labelled)
		rep.ExactAccuracy = float64(rp.exactRight) / float64(rp.labelled)
		rep.AccuracyLossPP = 100 * (rep.ExactAccuracy - rep.Accuracy)
	}
	rep.InferenceEnergyJ = rp.dev.InferenceEnergy(r.busy)
	rep.ExactInferenceEnergyJ = rp.dev.InferenceEnergy(rp.exactBusy)
	rep.SystemEnergyJ = rp.dev.SystemEnergy(r.busy, wall)
	rep.ExactSystemEnergyJ = rp.dev.SystemEnergy(rp.exactBusy, wall)
	rep.InferenceEnergySaving = saving(rep.InferenceEnergyJ, rep.ExactInferenceEnergyJ)
	rep.SystemEnergySaving = saving(rep.SystemEnergyJ, rep.ExactSystemEnergyJ)
	rep.InferenceShare = rep.ExactInferenceEnergyJ / rep.ExactSystemEnergyJ
	rep.MeanLatencyUS = float64(r.busy) / 1e3 / float64(n)
	rep.ExactMeanLatencyUS = float64(rp.exactBusy) / 1e3 / float64(n)
	rep.MeanInferenceEnergyJ = r.energyJ / float64(n)
	if r.params.Budget != nil {
		rep.BudgetJ = r.params.Budget.EnergyJ
	}
	for i, w := range r.windows {
		rep.Levels = append(rep.Levels, levelTime{Level: i, Config: rp.pol.Levels[i].Config, Windows: w,
			Seconds: float64(w) * rp.hopS, Fraction: float64(w) / float64(n)})
	}
	for _, d := range device.Profiles() {
		ie, ee := d.InferenceEnergy(r.busy), d.InferenceEnergy(rp.exactBusy)
		se, es := d.SystemEnergy(r.busy, wall), d.SystemEnergy(rp.exactBusy, wall)
		rep.Profiles = append(rep.Profiles, profileSavings{Name: d.Name, InferenceEnergySaving: saving(ie, ee), SystemEnergySaving: saving(se, es), InferenceShare: ee / es})
	}
	return rep
}

// saving is 1 - e/exact (0 when exact is 0).
func saving(e, exact float64) float64 {
	if exact == 0 {
		return 0
	}
	return 1 - e/exact
}

func printReplay(w io.Writer, r *replayReport) {
	fmt.Fprintf(w, "replay of %d windows (%d labelled), hop %.3g s: %.1f s of stream; energy modelled by device profile %s from %s busy time\n",
		r.Windows, r.Labelled, r.HopS, r.WallS, r.DeviceProfile, r.Cost)
	fmt.Fprintf(w, "controller %s\n", r.Params)
	fmt.Fprintf(w, "accuracy %.2f%% (exact %.2f%%): loss %.2f pp\n", 100*r.Accuracy, 100*r.ExactAccuracy, r.AccuracyLossPP)
	fmt.Fprintf(w, "inference energy %.4g J (exact %.4g J): saving %.1f%%; mean latency %.1f us (exact %.1f us)\n",
		r.InferenceEnergyJ, r.ExactInferenceEnergyJ, 100*r.InferenceEnergySaving, r.MeanLatencyUS, r.ExactMeanLatencyUS)
	fmt.Fprintf(w, "system energy %.4g J (exact %.4g J): saving %.3f%%; inference is %.3f%% of the exact run's system energy\n",
		r.SystemEnergyJ, r.ExactSystemEnergyJ, 100*r.SystemEnergySaving, 100*r.InferenceShare)
	if r.BudgetJ > 0 {
		fmt.Fprintf(w, "budget %.4g J per inference, spent %.4g J (%+.1f%%)\n", r.BudgetJ, r.MeanInferenceEnergyJ, 100*(r.MeanInferenceEnergyJ-r.BudgetJ)/r.BudgetJ)
	}
	fmt.Fprintf(w, "switches %d\n", r.Switches)
	if r.OutliersReplaced > 0 {
		fmt.Fprintf(w, "%d measured busy times over %dx their level's median were replaced by it (preemption)\n", r.OutliersReplaced, outlierFactor)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "level\twindows\ttime s\tshare\tconfig")
	for _, l := range r.Levels {
		fmt.Fprintf(tw, "%d\t%d\t%.1f\t%.1f%%\t%s\n", l.Level, l.Windows, l.Seconds, 100*l.Fraction, l.Config)
	}
	tw.Flush()
	rules := make([]string, 0, len(r.Rules))
	for k := range r.Rules {
		rules = append(rules, k)
	}
	sort.Slice(rules, func(i, j int) bool {
		return r.Rules[rules[i]] > r.Rules[rules[j]] || r.Rules[rules[i]] == r.Rules[rules[j]] && rules[i] < rules[j]
	})
	fmt.Fprintln(w, "rules fired:")
	for _, k := range rules {
		fmt.Fprintf(w, "  %6d  %s\n", r.Rules[k], k)
	}
	fmt.Fprintln(w, "system-wide saving under each built-in device profile (modelled):")
	for _, p := range r.Profiles {
		fmt.Fprintf(w, "  %-13s inference saving %.1f%%, system saving %.3f%%, inference share of system %.3f%%\n", p.Name, 100*p.InferenceEnergySaving, 100*p.SystemEnergySaving, 100*p.InferenceShare)
	}
}

func printReplayTable(w io.Writer, rs []*replayReport) {
	if len(rs) == 0 {
		return
	}
	r0 := rs[0]
	fmt.Fprintf(w, "replay of %d windows (%d labelled), hop %.3g s: %.1f s of stream; exact accuracy %.2f%%; energy modelled from %s busy time\n",
		r0.Windows, r0.Labelled, r0.HopS, r0.WallS, 100*r0.ExactAccuracy, r0.Cost)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := "controller\taccuracy\tloss pp\tinference saving\tswitches\tmean level"
	for _, p := range r0.Profiles {
		head += "\tsystem saving " + p.Name
	}
	fmt.Fprintln(tw, head)
	for _, r := range rs {
		mean := 0.0
		for _, l := range r.Levels {
			mean += float64(l.Level) * l.Fraction
		}
		line := fmt.Sprintf("%s\t%.2f%%\t%.2f\t%.1f%%\t%d\t%.2f", r.Params, 100*r.Accuracy, r.AccuracyLossPP, 100*r.InferenceEnergySaving, r.Switches, mean)
		for _, p := range r.Profiles {
			line += fmt.Sprintf("\t%.3f%%", 100*p.SystemEnergySaving)
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
	fmt.Fprint(w, "inference share of the exact run's system energy:")
	for _, p := range r0.Profiles {
		fmt.Fprintf(w, " %s %.3f%%", p.Name, 100*p.InferenceShare)
	}
	fmt.Fprintln(w)
}
