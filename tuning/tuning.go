// Package tuning is the tuning pipeline every front end runs: load the
// labelled windows of traces (on disk or in an fs.FS) through the model's
// front-end, split them into a tune half and a calibration half, profile
// every (node, knob) pair, tune, and turn the result into the Pareto file
// with all its fields. `kagen tune`, the workbench's Pareto screen and the
// report call it, so that they tune on the same windows and write the
// same file.
package tuning

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/kagen-ai/kagen/approx"
	"github.com/kagen-ai/kagen/dataset"
	"github.com/kagen-ai/kagen/device"
	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/internal/atomicfile"
	"github.com/kagen-ai/kagen/internal/readfile"
	"github.com/kagen-ai/kagen/policy"
	"github.com/kagen-ai/kagen/profile"
	"github.com/kagen-ai/kagen/replay"
)

// Settings are a tune's parameters: kagen tune's flags and the workbench's
// Pareto screen.
type Settings struct {
	// MaxLossPP is the accuracy loss threshold in percentage points.
	MaxLossPP float64
	// Budget is the search time (profiling and validation come on top).
	Budget time.Duration
	// Evaluations, if positive, ends each search after that many
	// configurations scored instead of after its share of Budget
	// (profile.TuneOptions.MaxEvaluations): a time budget scores as many
	// as the machine's load allows, so two runs validate different
	// configurations; a count does not depend on the load.
	Evaluations int
	// Objective is policy.ObjectiveTime or policy.ObjectiveEnergy.
	Objective string
	// Device models energy (the energy objective and every energy_j).
	Device    *device.Profile
	Predictor profile.Predictor
	Seed      uint64
	// Candidates, Rounds and ScreenPairs bound the validation (see
	// profile.TuneOptions; 0: its defaults).
	Candidates, Rounds, ScreenPairs int
	// Profile are the profiler's options (windows, repeats).
	Profile profile.Options
	// MinWindows is the fewest windows each split may hold (0:
	// DefaultMinWindows), and MinClassWindows, if set, the fewest windows
	// of each class present in the data that each split may hold. Run
	// refuses fewer, naming the setting (CheckSplits).
	MinWindows, MinClassWindows int
}

// Defaults and bounds of the settings checked by Validate.
const (
	// DefaultMinWindows is the fewest windows each split must hold: a
	// level validated on fewer is noise (two windows once "validated" a
	// 2.39x level on one calibration window). WarnClassWindows is the
	// fewest windows of each class of the data a split holds without a
	// warning (Settings.MinClassWindows makes it an error).
	DefaultMinWindows = 10
	WarnClassWindows  = 2
	MaxCandidates     = 10000
	MaxRounds         = 100
	MaxBudget         = 7 * 24 * time.Hour
	MaxEvaluations    = 1 << 30
)

// Validate checks the settings. Zero Budget, Candidates, Rounds,
// ScreenPairs, MinWindows, MinClassWindows and Profile.Windows take their
// defaults; everything else out of range is refused, with a
// *policy.FlagError that names the setting by kagen tune's flag.
func (s *Settings) Validate() error {
	return s.validate(false)
}

// ValidateGiven is Validate for settings a user gave explicitly (kagen
// tune's and kagen profile's flags, whose defaults are not zero): a zero
// count or budget is refused instead of taking the default.
func (s *Settings) ValidateGiven() error {
	return s.validate(true)
}

func (s *Settings) validate(given bool) error {
	bad := func(flag, format string, args ...any) error {
		return &policy.FlagError{Flag: flag, Msg: fmt.Sprintf(format, args...)}
	}
	low := 0
	if given {
		low = 1
	}
	switch {
	case !(s.MaxLossPP >= 0 && s.MaxLossPP <= 100):
		return bad("max-loss", "%v, expected 0..100 percentage points", s.MaxLossPP)
	case s.Objective != policy.ObjectiveTime && s.Objective != policy.ObjectiveEnergy:
		return bad("objective", "%q, expected %s or %s", s.Objective, policy.ObjectiveTime, policy.ObjectiveEnergy)
	case s.Predictor != "" && s.Predictor != profile.P1 && s.Predictor != profile.P2:
		return bad("predictor", "%q, expected %s or %s", s.Predictor, profile.P1, profile.P2)
	case s.Device == nil:
		return bad("device-profile", "missing: no device profile")
	case s.Budget < time.Duration(low) || s.Budget > MaxBudget:
		return bad("budget", "%v, expected a duration above 0 and at most %v", s.Budget, MaxBudget)
	case s.Evaluations < 0 || s.Evaluations > MaxEvaluations:
		return bad("evaluations", "%d, expected 0 (the time budget decides) to %d", s.Evaluations, MaxEvaluations)
	case s.Candidates < low || s.Candidates > MaxCandidates:
		return bad("candidates", "%d, expected 1..%d", s.Candidates, MaxCandidates)
	case s.Rounds < low || s.Rounds > MaxRounds:
		return bad("rounds", "%d, expected 1..%d", s.Rounds, MaxRounds)
	case s.ScreenPairs < -1 || s.ScreenPairs > MaxCandidates:
		return bad("screen", "%d, expected -1 (none), 0 (half of --candidates) or up to %d pairs", s.ScreenPairs, MaxCandidates)
	case s.MinWindows < low:
		return bad("min-windows", "%d, expected 1 or more", s.MinWindows)
	case s.MinClassWindows < 0:
		return bad("min-class-windows", "%d, expected 0 (a warning only) or more", s.MinClassWindows)
	case s.Profile.Windows < low:
		return bad("windows", "%d, expected 1..%d", s.Profile.Windows, profile.MaxOptionWindows)
	case s.Profile.Workers < 0:
		return bad("workers", "%d, expected 0 or more", s.Profile.Workers)
	}
	if err := s.Profile.Validate(); err != nil {
		return fmt.Errorf("profile options: %w", err)
	}
	return nil
}

// CheckSplits refuses splits too small to validate a level on: fewer
// than s.MinWindows windows in the tune or the calibration split, or,
// with s.MinClassWindows set, fewer than that many windows of a class
// the data holds in either split. Without it, a class of the data with
// fewer than WarnClassWindows windows in a split gives a warning (the
// built-in keyword demo has such classes). Errors and the warning name
// the setting's flag.
func (p *Pipeline) CheckSplits(s Settings) (warning string, err error) {
	minW := cmp.Or(s.MinWindows, DefaultMinWindows)
	classes := len(p.Spec.Classes)
	all := p.Data.ClassCounts(classes)
	for _, sp := range []struct {
		name string
		d    *dataset.Dataset
	}{{"tune", p.Tune}, {"calibration", p.Calib}} {
		if sp.d.Len() < minW {
			return "", &policy.FlagError{Flag: "min-windows", Msg: fmt.Sprintf("not met: the %s split holds %d windows of the %d loaded, at least %d are needed to validate a level; "+
				"give more data, or --min-windows %d to tune on these anyway", sp.name, sp.d.Len(), p.Data.Len(), minW, max(sp.d.Len(), 1))}
		}
		for k, n := range sp.d.ClassCounts(classes) {
			switch {
			case all[k] == 0:
			case s.MinClassWindows > 0 && n < s.MinClassWindows:
				return "", &policy.FlagError{Flag: "min-class-windows", Msg: fmt.Sprintf("not met: the %s split holds %d windows of class %s (%d in the data), at least %d are needed; "+
					"give more data of that class, or a lower --min-class-windows to tune on these anyway", sp.name, n, p.Spec.Classes[k], all[k], s.MinClassWindows)}
			case s.MinClassWindows == 0 && n < WarnClassWindows && warning == "":
				warning = fmt.Sprintf("warning: the %s split holds %d windows of class %s (%d in the data): what a level does to that class is not validated "+
					"(give more data of it; --min-class-windows %d makes this an error)", sp.name, n, p.Spec.Classes[k], all[k], WarnClassWindows)
			}
		}
	}
	return warning, nil
}

// Progress is one progress report: a phase ("load", "profile", "screen",
// "validate") and how far it is.
type Progress struct {
	Phase       string
	Done, Total int
	Item        string
}

// Pipeline is one model and its labelled windows, ready to tune.
type Pipeline struct {
	Approx *approx.Approximator
	Spec   *replay.Spec
	// Data holds every labelled window; Tune and Calib its halves.
	Data, Tune, Calib *dataset.Dataset
	// Executor runs the trials (nil: in this process).
	Executor profile.Executor
	// QoS is replay.QoSAgreement when the windows' classes are the
	// exact model's own predictions (LoadAgreement), else "" (labels).
	QoS string
	// Dropped counts the windows LoadAgreement dropped because the exact
	// model's outputs on them were not finite.
	Dropped int
}

// Load reads the labelled windows of traces through the model's
// front-end (dataset.Load: one window per clip for keyword clip folders)
// and splits them.
func Load(m *engine.Model, traces []replay.Trace) (*Pipeline, error) {
	return LoadSpec(m, nil, traces)
}

// LoadSpec is Load with the front-end spec given (nil: the model's own),
// for a model that carries none; it is checked against the model.
func LoadSpec(m *engine.Model, spec *replay.Spec, traces []replay.Trace) (*Pipeline, error) {
	spec, err := modelSpec(m, spec)
	if err != nil {
		return nil, err
	}
	d, err := dataset.Load(spec, traces, 0)
	if err != nil {
		return nil, err
	}
	return New(approx.New(m), spec, d), nil
}

// modelSpec returns spec checked against m, or m's own spec when spec is
// nil.
func modelSpec(m *engine.Model, spec *replay.Spec) (*replay.Spec, error) {
	if spec == nil {
		return replay.SpecFromModel(m)
	}
	return spec, replay.CheckModel(spec, m)
}

// LoadAgreement is LoadSpec for the agreement QoS: every window of the
// traces is kept, labelled or not, and its class is the exact model's own
// top-1 prediction (dataset.Relabel), so that a tune's "accuracy" is each
// configuration's agreement with the exact model and its loss the
// disagreement in pp. Traces need no labels.
func LoadAgreement(m *engine.Model, spec *replay.Spec, traces []replay.Trace) (*Pipeline, error) {
	spec, err := modelSpec(m, spec)
	if err != nil {
		return nil, err
	}
	d, err := dataset.LoadAll(spec, traces, 0)
	if err != nil {
		return nil, err
	}
	ev := dataset.NewEvaluator(m, 0)
	dropped, err := d.Relabel(ev, nil)
	ev.Close()
	if err != nil {
		return nil, err
	}
	p := New(approx.New(m), spec, d)
	p.QoS, p.Dropped = replay.QoSAgreement, dropped
	return p, nil
}

// New is a pipeline over windows already loaded.
func New(a *approx.Approximator, spec *replay.Spec, d *dataset.Dataset) *Pipeline {
	tune, calib := d.Split()
	return &Pipeline{Approx: a, Spec: spec, Data: d, Tune: tune, Calib: calib}
}

// Files say where a tune keeps its work between runs, for --resume, and
// where it reads a profile measured before (all optional).
type Files struct {
	// Profile is where the profile is written, or read back with Resume.
	Profile string
	// From, if set, is a profile measured before (by kagen profile or an
	// earlier tune) that is read instead of profiling, and copied to
	// Profile if that is another file. The profile's timings are the only
	// measurements the search depends on: with the same profile, seed and
	// Settings.Evaluations, a tune validates the same configurations on
	// any machine under any load.
	From string
	// Partial receives every validated configuration as it comes, and is
	// read back with Resume.
	Partial string
	Resume  bool
}

// Result is a tune's outcome.
type Result struct {
	Profile *profile.Profile
	Tune    *profile.TuneResult
	// Pareto is the file kagen tune writes.
	Pareto *policy.Pareto
	// Seconds is the wall time from the start of Profile (or Run).
	Seconds float64
}

// Profile profiles every (node, knob) pair on the tune half (or reads the
// profile back with f.Resume) and writes it to f.Profile.
func (p *Pipeline) Profile(ctx context.Context, s Settings, f Files, progress func(Progress)) (*profile.Profile, error) {
	if err := s.Profile.Validate(); err != nil {
		return nil, err
	}
	ex, done := p.executor(s.Profile.Workers)
	defer done()
	return p.profile(ctx, s, f, progress, ex)
}

// executor returns the pipeline's executor, or a local one (which done
// closes).
func (p *Pipeline) executor(workers int) (ex profile.Executor, done func()) {
	if p.Executor != nil {
		return p.Executor, func() {}
	}
	local := profile.NewLocalExecutor(p.Approx, workers)
	return local, local.Close
}

func (p *Pipeline) profile(ctx context.Context, s Settings, f Files, progress func(Progress), ex profile.Executor) (*profile.Profile, error) {
	if f.From != "" {
		pr, err := profile.ReadProfile(f.From, p.Approx.Model().SHA256(), false)
		if err != nil {
			return nil, err
		}
		if err := pr.Matches(p.Approx, p.Tune, s.Profile); err != nil {
			return nil, fmt.Errorf("profile %s: %w; profile these windows again", f.From, err)
		}
		if f.Profile != "" && !atomicfile.SameFile(f.From, f.Profile) {
			if err := pr.Write(f.Profile); err != nil {
				return nil, err
			}
		}
		return pr, nil
	}
	if f.Resume {
		pr, err := profile.ReadProfile(f.Profile, p.Approx.Model().SHA256(), false)
		if err != nil {
			return nil, fmt.Errorf("resume: %w", err)
		}
		if err := pr.Matches(p.Approx, p.Tune, s.Profile); err != nil {
			return nil, fmt.Errorf("resume: profile %s: %w; profile again (tune without --resume)", f.Profile, err)
		}
		return pr, nil
	}
	opts := s.Profile
	if progress != nil {
		opts.Progress = func(done, total int, what string) { progress(Progress{"profile", done, total, what}) }
	}
	pr, err := profile.MeasureWith(ctx, p.Approx, p.Tune, opts, ex)
	if err != nil {
		return nil, err
	}
	if f.Profile != "" {
		if err := pr.Write(f.Profile); err != nil {
			return nil, err
		}
	}
	return pr, nil
}

// Run profiles (Profile), tunes and builds the Pareto file. Validated
// configurations are saved to f.Partial as they come; with f.Resume the
// ones saved before are not validated again. When ctx is cancelled after
// the exact figures are in, the result holds what was validated so far.
func (p *Pipeline) Run(ctx context.Context, s Settings, f Files, progress func(Progress)) (*Result, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	warning, err := p.CheckSplits(s)
	if err != nil {
		return nil, err
	}
	var known []profile.Candidate
	if f.Partial != "" && f.Resume {
		if known, err = p.readPartial(f.Partial, s); err != nil {
			return nil, fmt.Errorf("resume: %w", err)
		}
	}
	start := time.Now()
	ex, done := p.executor(s.Profile.Workers)
	defer done()
	pr, err := p.profile(ctx, s, f, progress, ex)
	if err != nil {
		return nil, err
	}
	opts := profile.TuneOptions{MaxLossPP: s.MaxLossPP, Budget: s.Budget, Predictor: s.Predictor, Objective: s.Objective,
		Device: s.Device, Seed: s.Seed, Candidates: s.Candidates, Rounds: s.Rounds, ScreenPairs: s.ScreenPairs, Workers: s.Profile.Workers,
		MaxEvaluations: s.Evaluations}
	if progress != nil {
		opts.Progress = func(phase string, done, total int) { progress(Progress{Phase: phase, Done: done, Total: total}) }
	}
	if f.Partial != "" {
		opts.Known, opts.Validated = known, p.savePartial(f.Partial, s, known)
	}
	res, err := profile.TuneWith(ctx, p.Approx, pr, p.Tune, p.Calib, opts, ex)
	if err != nil {
		return nil, err
	}
	if warning != "" {
		res.Note = strings.TrimSpace(warning + "\n" + res.Note)
	}
	secs := time.Since(start).Seconds()
	if p.QoS == replay.QoSAgreement {
		res.Agreement = true
		if p.Dropped > 0 {
			res.Note = strings.TrimSpace(res.Note + fmt.Sprintf("\n%d windows whose exact outputs were not finite were left out (no reference to agree with)", p.Dropped))
		}
	}
	par := ParetoFile(p.Approx.Model(), p.Spec, s, pr.Device, res)
	par.TuneSeconds = secs
	if res.Agreement {
		par.QoS = replay.QoSAgreement
	}
	if f.Partial != "" && ctx.Err() == nil {
		os.Remove(f.Partial)
	}
	return &Result{Profile: pr, Tune: res, Pareto: par, Seconds: secs}, nil
}

// PartialVersion is the version of the partial file (Files.Partial).
const PartialVersion = 1

// partialFile is what an interrupted run leaves in Files.Partial: the
// configurations validated so far, bound to the model, the windows of
// both splits and the settings that choose and score them, so that a
// resumed run does not take another tune's work as its own.
type partialFile struct {
	Version     int                 `json:"version"`
	ModelSHA256 string              `json:"model_sha256"`
	DataSHA256  string              `json:"data_sha256"`
	Binding     partialBinding      `json:"settings"`
	Validated   []profile.Candidate `json:"validated"`
}

// partialBinding are the settings that shape the validated
// configurations (the budget only bounds the search's time).
type partialBinding struct {
	MaxLossPP   float64 `json:"max_loss_pp"`
	Objective   string  `json:"objective"`
	Predictor   string  `json:"predictor"`
	Seed        uint64  `json:"seed"`
	Candidates  int     `json:"candidates"`
	Rounds      int     `json:"rounds"`
	ScreenPairs int     `json:"screen"`
}

func (p *Pipeline) binding(s Settings) (string, partialBinding) {
	pred := s.Predictor
	if pred == "" {
		pred = profile.P1
	}
	return p.Data.Digest(), partialBinding{MaxLossPP: s.MaxLossPP, Objective: s.Objective, Predictor: string(pred), Seed: s.Seed,
		Candidates: s.Candidates, Rounds: s.Rounds, ScreenPairs: s.ScreenPairs}
}

// readPartial reads the configurations an interrupted run saved (none
// when there is no file) and checks them: the file must belong to this
// model, these windows and these settings (it names what differs) and
// each configuration must parse and hold sound figures.
func (p *Pipeline) readPartial(path string, s Settings) ([]profile.Candidate, error) {
	b, err := readSmall(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	again := fmt.Sprintf("; tune without --resume (or remove %s) to validate again", path)
	var f partialFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil || f.Version != PartialVersion {
		return nil, fmt.Errorf("%s is not a partial file of this kagen (version %d expected)%s", path, PartialVersion, again)
	}
	data, want := p.binding(s)
	var diffs []string
	if f.ModelSHA256 != p.Approx.Model().SHA256() {
		diffs = append(diffs, "another model")
	}
	if f.DataSHA256 != data {
		diffs = append(diffs, "other data")
	}
	g := f.Binding
	for _, d := range []struct {
		flag      string
		was, want any
	}{{"max-loss", g.MaxLossPP, want.MaxLossPP}, {"objective", g.Objective, want.Objective}, {"predictor", g.Predictor, want.Predictor},
		{"seed", g.Seed, want.Seed}, {"candidates", g.Candidates, want.Candidates}, {"rounds", g.Rounds, want.Rounds}, {"screen", g.ScreenPairs, want.ScreenPairs}} {
		if d.was != d.want {
			diffs = append(diffs, fmt.Sprintf("--%s %v (not %v)", d.flag, d.was, d.want))
		}
	}
	if len(diffs) > 0 {
		return nil, fmt.Errorf("%s was saved by a tune with %s%s", path, strings.Join(diffs, ", "), again)
	}
	classes := len(p.Spec.Classes)
	for i := range f.Validated {
		c := &f.Validated[i]
		err := c.Validate(classes)
		if err == nil && !approx.IsConfigText(c.Config) {
			err = fmt.Errorf("config %q is not a configuration", c.Config)
		}
		if err == nil {
			_, err = p.Approx.Parse(c.Config)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: validated[%d]: %w%s", path, i, err, again)
		}
	}
	return f.Validated, nil
}

// savePartial returns the hook that saves each configuration validated,
// after those known already, to path.
func (p *Pipeline) savePartial(path string, s Settings, known []profile.Candidate) func(profile.Candidate) {
	data, g := p.binding(s)
	f := partialFile{Version: PartialVersion, ModelSHA256: p.Approx.Model().SHA256(), DataSHA256: data, Binding: g,
		Validated: append([]profile.Candidate(nil), known...)}
	var mu sync.Mutex
	return func(c profile.Candidate) {
		mu.Lock()
		defer mu.Unlock()
		f.Validated = append(f.Validated, c)
		if b, err := json.Marshal(f); err == nil {
			atomicfile.Write(path, b) // best effort: the tune goes on without it
		}
	}
}

// maxPartialBytes bounds a partial file read back.
const maxPartialBytes = 64 << 20

func readSmall(path string) ([]byte, error) { return readfile.Regular(path, maxPartialBytes) }

// ParetoFile turns a tune result into the Pareto file: the levels with
// their speedups, losses, times, energies and calibrated confidence
// statistics, and the header that binds them to the model, the device the
// times were measured on and the energy model.
func ParetoFile(m *engine.Model, spec *replay.Spec, s Settings, measuredOn device.Fingerprint, res *profile.TuneResult) *policy.Pareto {
	validated, _ := json.Marshal(res.Validated)
	f := &policy.Pareto{Version: policy.ParetoVersion, ModelSHA256: m.SHA256(), Device: measuredOn,
		Meter: s.Device.Name + " (modelled)", Objective: s.Objective, ExactAccuracy: res.ExactAccuracy, Classes: spec.Classes,
		MaxLossPP: s.MaxLossPP, PredictorMAEPP: res.PredictorMAE, Note: res.Note, Validated: validated}
	if s.Objective == policy.ObjectiveEnergy {
		// inference energy modelled from time: the same order as time
		f.Meter = s.Device.Name + " (modelled: active power x busy time)"
	}
	for i, l := range res.Levels {
		f.Configs = append(f.Configs, policy.Level{Level: i, Config: l.Config, Speedup: l.Speedup, QoSLossPP: l.LossPP, Accuracy: l.Accuracy,
			PredictedLossPP: l.PredictedLossPP, TimeUS: l.TimeUS, EnergyJ: l.EnergyJ,
			Confidence: policy.ConfidenceStats{CorrectMean: l.CorrectMean, WrongMean: l.WrongMean, CorrectN: l.CorrectN, WrongN: l.WrongN}})
		if c := l.Calib; c.N() > 0 {
			f.Configs[i].Calib = &policy.PairedCounts{Both: c.Both, Lost: c.Lost, Gained: c.Gained, Neither: c.Neither}
		}
	}
	return f
}
