package profile

import (
	"context"
	"fmt"

	"github.com/kagen-ai/kagen/approx"
	"github.com/kagen-ai/kagen/dataset"
	"github.com/kagen-ai/kagen/device"
)

// Executor runs batches of trials. LocalExecutor runs them in this
// process, in order; package profile/dist runs them on the workers of a
// NATS JetStream cluster. MeasureWith and TuneWith plan the trials and
// assemble their results the same way whatever the executor.
type Executor interface {
	// Execute runs every trial of b and calls done once per trial index
	// with its result, from one goroutine at a time, in any order. It
	// returns when every trial is done, when done returns an error (that
	// error), or when ctx is cancelled (ctx's error).
	Execute(ctx context.Context, b *Batch, done func(i int, r *TrialResult) error) error
}

// ShardSizer is implemented by executors that want datasets cut into
// shards of at most ShardWindows windows (0: one shard per dataset).
type ShardSizer interface {
	ShardWindows() int
}

// DeviceTargeter is implemented by executors that run latency trials on
// another device class than this machine's.
type DeviceTargeter interface {
	DeviceClass() string
}

// Shard is a data shard of a batch: its windows and their encoding.
type Shard struct {
	Data *dataset.Dataset
	Blob []byte
}

// Batch is a set of trials and the data shards they name, by key.
type Batch struct {
	Trials []Trial
	Shards map[string]*Shard
}

// AddShard adds a dataset as one shard and returns its key.
func (b *Batch) AddShard(d *dataset.Dataset) string {
	blob := EncodeShard(d)
	key := ShardKey(blob)
	if b.Shards == nil {
		b.Shards = map[string]*Shard{}
	}
	b.Shards[key] = &Shard{Data: d, Blob: blob}
	return key
}

// AddShards cuts a dataset into consecutive shards of at most size windows
// (0: one shard) and returns their keys in order.
func (b *Batch) AddShards(d *dataset.Dataset, size int) []string {
	if size <= 0 || size >= d.Len() {
		return []string{b.AddShard(d)}
	}
	var keys []string
	for lo := 0; lo < d.Len(); lo += size {
		hi := min(lo+size, d.Len())
		keys = append(keys, b.AddShard(&dataset.Dataset{Shape: d.Shape, X: d.X[lo:hi], Y: d.Y[lo:hi], Files: d.Files[lo:hi]}))
	}
	return keys
}

func shardWindows(ex Executor) int {
	if s, ok := ex.(ShardSizer); ok {
		return s.ShardWindows()
	}
	return 0
}

func deviceClassOf(ex Executor) string {
	if d, ok := ex.(DeviceTargeter); ok && d.DeviceClass() != "" {
		return d.DeviceClass()
	}
	return device.Class(device.This())
}

// LocalExecutor runs trials in this process, one after the other, with one
// TrialRunner: the local profiler and tuner.
type LocalExecutor struct {
	Runner *TrialRunner
}

// NewLocalExecutor returns an executor for a's model whose output trials
// use workers goroutines (0: every core).
func NewLocalExecutor(a *approx.Approximator, workers int) *LocalExecutor {
	return &LocalExecutor{Runner: NewTrialRunner(a, workers)}
}

// Close releases the runner's sessions.
func (e *LocalExecutor) Close() { e.Runner.Close() }

// Execute implements Executor.
func (e *LocalExecutor) Execute(ctx context.Context, b *Batch, done func(int, *TrialResult) error) error {
	for i := range b.Trials {
		if err := ctx.Err(); err != nil {
			return err
		}
		t := &b.Trials[i]
		var d *dataset.Dataset
		if s := b.Shards[t.Shard]; s != nil {
			d = s.Data
		}
		r, err := e.Runner.RunTrial(ctx, t, d)
		if err != nil {
			return err
		}
		if err := done(i, r); err != nil {
			return err
		}
	}
	return nil
}

// trialFailed turns a result's error into an error.
func trialFailed(t *Trial, r *TrialResult) error {
	if r.Error == "" {
		return nil
	}
	what := string(t.Kind)
	if t.Node != "" {
		what += " " + t.Node + " " + t.Knob
	} else if t.Config != "" {
		what += " " + t.Config
	}
	if r.Worker != "" {
		return fmt.Errorf("trial %s (%s) failed on worker %s: %s", t.ID(), what, r.Worker, r.Error)
	}
	return fmt.Errorf("trial %s (%s) failed: %s", t.ID(), what, r.Error)
}

// checkOutputs checks the size of an output trial's result.
func checkOutputs(t *Trial, r *TrialResult, windows, classes int) error {
	if r.Classes != classes || len(r.Outputs) != windows*classes {
		return fmt.Errorf("trial %s: %d outputs of %d classes for %d windows of %d classes", t.ID(), len(r.Outputs), r.Classes, windows, classes)
	}
	return nil
}
