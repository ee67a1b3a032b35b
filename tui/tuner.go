package tui

import (
	"context"

	"github.com/kagen-ai/kagen/policy"
	"github.com/kagen-ai/kagen/profile"
	"github.com/kagen-ai/kagen/tuning"
)

// TuneOutcome is what a tune found.
type TuneOutcome struct {
	Pareto    *policy.Pareto
	Validated []profile.Candidate
	Note      string
}

// Tuner profiles a model and finds its Pareto set. Tune runs on a job's
// goroutine: it reads only what never changes in b (Model, Approx, Spec,
// Source, and the methods safe for concurrent use such as Pipeline), and
// s is its own copy. It must stop soon after ctx is cancelled and may call
// progress from any goroutine.
type Tuner interface {
	Tune(ctx context.Context, b *Bench, s tuning.Settings, progress func(tuning.Progress)) (*TuneOutcome, error)
}

// pipelineTuner is the real tuner: the tuning pipeline `kagen tune` runs,
// over the same windows (Bench.Pipeline), giving the same Pareto file
// (tuning.ParetoFile, every field).
type pipelineTuner struct{}

func (pipelineTuner) Tune(ctx context.Context, b *Bench, s tuning.Settings, progress func(tuning.Progress)) (*TuneOutcome, error) {
	progress(tuning.Progress{Phase: "load"})
	p, err := b.Pipeline()
	if err != nil {
		return nil, err
	}
	res, err := p.Run(ctx, s, tuning.Files{}, progress)
	if err != nil {
		return nil, err
	}
	return &TuneOutcome{Pareto: res.Pareto, Validated: res.Tune.Validated, Note: res.Tune.Note}, nil
}
