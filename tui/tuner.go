package tui

import (
	"context"
	"time"

	"github.com/kagen-ai/kagen/device"
	"github.com/kagen-ai/kagen/policy"
	"github.com/kagen-ai/kagen/profile"
)

// TuneSettings are the tuner parameters chosen on the Pareto screen.
type TuneSettings struct {
	MaxLossPP float64
	Budget    time.Duration
	Objective string // policy.ObjectiveTime or policy.ObjectiveEnergy
	Seed      uint64
	Device    *device.Profile
}

// TuneProgress is one progress report of a tune.
type TuneProgress struct {
	Phase       string
	Done, Total int
}

// TuneOutcome is what a tune found.
type TuneOutcome struct {
	Pareto    *policy.Pareto
	Validated []profile.Candidate
	Note      string
}

// Tuner profiles a model and finds its Pareto set. Tune runs on a job's
// goroutine; it must stop soon after ctx is cancelled and may call
// progress from any goroutine.
type Tuner interface {
	Tune(ctx context.Context, b *Bench, s TuneSettings, progress func(TuneProgress)) (*TuneOutcome, error)
}

// profileTuner is the real tuner: profile.Measure then profile.Tune over the
// traces' labelled windows, as `kagen tune` does.
type profileTuner struct{}

func (profileTuner) Tune(ctx context.Context, b *Bench, s TuneSettings, progress func(TuneProgress)) (*TuneOutcome, error) {
	progress(TuneProgress{Phase: "load"})
	d, err := b.Dataset()
	if err != nil {
		return nil, err
	}
	tune, calib := d.Split()
	p, err := profile.Measure(ctx, b.Approx, tune, profile.Options{Progress: func(done, total int, _ string) {
		progress(TuneProgress{"profile", done, total})
	}})
	if err != nil {
		return nil, err
	}
	res, err := profile.Tune(ctx, b.Approx, p, tune, calib, profile.TuneOptions{
		MaxLossPP: s.MaxLossPP, Budget: s.Budget, Objective: s.Objective, Device: s.Device, Seed: s.Seed,
		Progress: func(phase string, done, total int) { progress(TuneProgress{phase, done, total}) },
	})
	if err != nil {
		return nil, err
	}
	return outcomeOf(b, s, res), nil
}

// outcomeOf turns a tune result into the Pareto file `kagen tune` writes.
func outcomeOf(b *Bench, s TuneSettings, res *profile.TuneResult) *TuneOutcome {
	par := &policy.Pareto{Version: policy.ParetoVersion, ModelSHA256: b.Model.SHA256(),
		Device: device.Fingerprint(device.This()), Meter: s.Device.Name + " (modelled)",
		Objective: s.Objective, ExactAccuracy: res.ExactAccuracy, Classes: b.Spec.Classes,
		MaxLossPP: s.MaxLossPP, PredictorMAEPP: res.PredictorMAE, Note: res.Note}
	for i, l := range res.Levels {
		par.Configs = append(par.Configs, policy.Level{Level: i, Config: l.Config, Speedup: l.Speedup,
			QoSLossPP: l.LossPP, Accuracy: l.Accuracy, PredictedLossPP: l.PredictedLossPP, TimeUS: l.TimeUS,
			EnergyJ: l.EnergyJ, Confidence: policy.ConfidenceStats{CorrectMean: l.CorrectMean,
				WrongMean: l.WrongMean, CorrectN: l.CorrectN, WrongN: l.WrongN}})
	}
	return &TuneOutcome{Pareto: par, Validated: res.Validated, Note: res.Note}
}
