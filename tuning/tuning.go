// Package tuning is the tuning pipeline every front end runs: load the
// labelled windows of traces (on disk or in an fs.FS) through the model's
// front-end, split them into a tune half and a calibration half, profile
// every (node, knob) pair, tune, and turn the result into the Pareto file
// with all its fields. `kagen tune`, the workbench's Pareto screen and the
// report call it, so that they tune on the same windows and write the
// same file.
package tuning

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
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
}

// Validate checks the settings, naming the setting at fault.
func (s *Settings) Validate() error {
	switch {
	case !(s.MaxLossPP >= 0 && s.MaxLossPP <= 100):
		return fmt.Errorf("max-loss %v, expected 0..100 percentage points", s.MaxLossPP)
	case s.Objective != policy.ObjectiveTime && s.Objective != policy.ObjectiveEnergy:
		return fmt.Errorf("objective %q, expected %s or %s", s.Objective, policy.ObjectiveTime, policy.ObjectiveEnergy)
	case s.Predictor != "" && s.Predictor != profile.P1 && s.Predictor != profile.P2:
		return fmt.Errorf("predictor %q, expected %s or %s", s.Predictor, profile.P1, profile.P2)
	case s.Device == nil:
		return fmt.Errorf("no device profile")
	case s.Budget < 0 || s.Candidates < 0 || s.Rounds < 0:
		return fmt.Errorf("budget, candidates and rounds must not be negative")
	}
	return nil
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
}

// Load reads the labelled windows of traces through the model's
// front-end (dataset.Load: one window per clip for keyword clip folders)
// and splits them.
func Load(m *engine.Model, traces []replay.Trace) (*Pipeline, error) {
	spec, err := replay.SpecFromModel(m)
	if err != nil {
		return nil, err
	}
	d, err := dataset.Load(spec, traces, 0)
	if err != nil {
		return nil, err
	}
	return New(approx.New(m), spec, d), nil
}

// New is a pipeline over windows already loaded.
func New(a *approx.Approximator, spec *replay.Spec, d *dataset.Dataset) *Pipeline {
	tune, calib := d.Split()
	return &Pipeline{Approx: a, Spec: spec, Data: d, Tune: tune, Calib: calib}
}

// Files say where a tune keeps its work between runs, for --resume (all
// optional).
type Files struct {
	// Profile is where the profile is written, or read back with Resume.
	Profile string
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
	if f.Resume {
		pr, err := profile.ReadProfile(f.Profile, p.Approx.Model().SHA256(), false)
		if err == nil {
			err = pr.Validate(p.Approx.Model().Steps())
		}
		if err != nil {
			return nil, fmt.Errorf("resume: %w", err)
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
	start := time.Now()
	ex, done := p.executor(s.Profile.Workers)
	defer done()
	pr, err := p.profile(ctx, s, f, progress, ex)
	if err != nil {
		return nil, err
	}
	opts := profile.TuneOptions{MaxLossPP: s.MaxLossPP, Budget: s.Budget, Predictor: s.Predictor, Objective: s.Objective,
		Device: s.Device, Seed: s.Seed, Candidates: s.Candidates, Rounds: s.Rounds, ScreenPairs: s.ScreenPairs, Workers: s.Profile.Workers}
	if progress != nil {
		opts.Progress = func(phase string, done, total int) { progress(Progress{Phase: phase, Done: done, Total: total}) }
	}
	if f.Partial != "" {
		opts.Known, opts.Validated = partial(f)
	}
	res, err := profile.TuneWith(ctx, p.Approx, pr, p.Tune, p.Calib, opts, ex)
	if err != nil {
		return nil, err
	}
	secs := time.Since(start).Seconds()
	par := ParetoFile(p.Approx.Model(), p.Spec, s, pr.Device, res)
	par.TuneSeconds = secs
	if f.Partial != "" && ctx.Err() == nil {
		os.Remove(f.Partial)
	}
	return &Result{Profile: pr, Tune: res, Pareto: par, Seconds: secs}, nil
}

// partial reads the configurations an interrupted run saved (with
// f.Resume) and returns the hook that saves each new one.
func partial(f Files) (known []profile.Candidate, save func(profile.Candidate)) {
	if f.Resume {
		if b, err := readSmall(f.Partial); err == nil {
			if json.Unmarshal(b, &known) != nil {
				known = nil // a damaged partial file only costs the work again
			}
		}
	}
	var mu sync.Mutex
	saved := append([]profile.Candidate(nil), known...)
	return known, func(c profile.Candidate) {
		mu.Lock()
		defer mu.Unlock()
		saved = append(saved, c)
		if b, err := json.Marshal(saved); err == nil {
			atomicfile.Write(f.Partial, b) // best effort: the tune goes on without it
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
	}
	return f
}
