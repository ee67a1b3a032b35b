package profile

import (
	"context"
	"fmt"
	"time"

	"github.com/kagen-ai/kagen/approx"
	"github.com/kagen-ai/kagen/dataset"
	"github.com/kagen-ai/kagen/device"
	"github.com/kagen-ai/kagen/measure"
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

// MeasureWith is Measure with the trials run by ex: it profiles every
// applicable (node, knob) pair of a model. The first batch holds the
// latency trials (the exact model, then every pair, on the device class of
// ex) and the exact outputs on the profile windows; the second the outputs
// of every pair that saves time. The profile is assembled as Measure's.
func MeasureWith(ctx context.Context, a *approx.Approximator, data *dataset.Dataset, opts Options, ex Executor) (*Profile, error) {
	opts.defaults()
	start := time.Now()
	m := a.Model()
	sha := m.SHA256()
	sub := data.Subset(opts.Windows)
	p := &Profile{Version: SchemaVersion, ModelSHA256: sha, Device: device.This(), Created: time.Now().UTC(), Windows: sub.Len(), Labels: sub.Y}
	type pair struct {
		step int
		knob approx.Knob
	}
	var pairs []pair
	for _, n := range a.Nodes() {
		if n.View {
			continue
		}
		p.Nodes = append(p.Nodes, NodeProfile{Step: n.Step, Name: n.Name, Op: n.Op, MACs: n.MACs})
		for _, k := range a.Applicable(n.Step) {
			if !k.IsExact() {
				pairs = append(pairs, pair{n.Step, k})
			}
		}
	}
	total := len(pairs)*2 + 2
	done := 0
	progress := func(what string) {
		done++
		if opts.Progress != nil {
			opts.Progress(done, total, what)
		}
	}
	classes := numel(m.Outputs()[0].Shape)
	dev := deviceClassOf(ex)
	size := shardWindows(ex)

	// Batch 1: latency, and the exact outputs.
	var b1 Batch
	in := b1.AddShard(&dataset.Dataset{Shape: sub.Shape, X: sub.X[:1], Y: sub.Y[:1], Files: sub.Files[:1]})
	b1.Trials = append(b1.Trials, Trial{Kind: TrialExactLatency, Model: sha, Shard: in, Repeats: opts.Repeats, Device: dev})
	for _, pr := range pairs {
		b1.Trials = append(b1.Trials, Trial{Kind: TrialPairLatency, Model: sha, Shard: in, Step: pr.step, Node: a.Nodes()[pr.step].Name, Knob: pr.knob.String(), Repeats: opts.Repeats, Device: dev})
	}
	subKeys := b1.AddShards(sub, size)
	firstOut := len(b1.Trials)
	for _, k := range subKeys {
		b1.Trials = append(b1.Trials, Trial{Kind: TrialOutputs, Model: sha, Shard: k, Config: "exact"})
	}
	p.Pairs = make([]PairProfile, len(pairs))
	shardOuts := make([][]float32, len(subKeys))
	outsLeft := len(subKeys)
	err := ex.Execute(ctx, &b1, func(i int, r *TrialResult) error {
		t := &b1.Trials[i]
		if err := trialFailed(t, r); err != nil {
			return err
		}
		switch {
		case i == 0:
			if len(r.StepUS) < m.Steps() {
				return fmt.Errorf("trial %s: %d step times for %d steps", t.ID(), len(r.StepUS), m.Steps())
			}
			p.ExactUS = r.ModelUS
			for j := range p.Nodes {
				p.Nodes[j].ExactUS = r.StepUS[p.Nodes[j].Step]
			}
			if r.Device != nil {
				p.Device = *r.Device
			}
			progress("exact latency")
		case i < firstOut:
			pp := PairProfile{Step: t.Step, Node: t.Node, Knob: t.Knob, NodeUS: r.NodeUS, ExactNodeUS: r.ExactNodeUS}
			pp.NodeSpeedup = pp.ExactNodeUS / pp.NodeUS
			pp.Pruned = pp.NodeSpeedup < opts.MinSpeedup
			p.Pairs[i-1] = pp
			progress("latency " + pp.Node + " " + pp.Knob)
		default:
			j := i - firstOut
			if err := checkOutputs(t, r, b1.Shards[t.Shard].Data.Len(), classes); err != nil {
				return err
			}
			shardOuts[j] = r.Outputs
			if outsLeft--; outsLeft == 0 {
				progress("exact outputs")
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	steadyExact(p.Pairs, opts.MinSpeedup)
	p.Classes = classes
	p.ExactOutputs = concat(shardOuts)
	p.ExactAccuracy = dataset.Accuracy(p.ExactOutputs, sub.Y, p.Classes)

	// Batch 2: the outputs of every pair kept.
	b2 := Batch{Shards: b1.Shards}
	type slot struct{ pair, shard int }
	var slots []slot
	pairOuts := make([][][]float32, len(p.Pairs))
	left := make([]int, len(p.Pairs))
	for i := range p.Pairs {
		pp := &p.Pairs[i]
		if pp.Pruned {
			progress("skip " + pp.Node + " " + pp.Knob)
			continue
		}
		pairOuts[i] = make([][]float32, len(subKeys))
		left[i] = len(subKeys)
		for j, k := range subKeys {
			b2.Trials = append(b2.Trials, Trial{Kind: TrialOutputs, Model: sha, Shard: k, Step: pp.Step, Node: pp.Node, Knob: pp.Knob})
			slots = append(slots, slot{i, j})
		}
	}
	finish := func(i int) {
		pp := &p.Pairs[i]
		out := concat(pairOuts[i])
		pp.Delta = make([]float32, len(out))
		for j := range out {
			pp.Delta[j] = out[j] - p.ExactOutputs[j]
		}
		pp.Accuracy = dataset.Accuracy(out, sub.Y, p.Classes)
		pp.LossPP = 100 * (p.ExactAccuracy - pp.Accuracy)
		progress("qos " + pp.Node + " " + pp.Knob)
	}
	err = ex.Execute(ctx, &b2, func(i int, r *TrialResult) error {
		t := &b2.Trials[i]
		if err := trialFailed(t, r); err != nil {
			return err
		}
		if err := checkOutputs(t, r, b2.Shards[t.Shard].Data.Len(), classes); err != nil {
			return err
		}
		s := slots[i]
		pairOuts[s.pair][s.shard] = r.Outputs
		if left[s.pair]--; left[s.pair] == 0 {
			finish(s.pair)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	p.ProfileTime = time.Since(start).Seconds()
	return p, nil
}

// steadyExact guards the node speedups against a stall during one
// pair's measurement. Each pair's exact node time is measured interleaved
// with its knob, so that slow drift cancels in the ratio; but a stall
// that hits only the exact runs (one pair of kws's conv2 once measured
// 6.8 ms exact against 2.7 ms for the node's 29 other pairs) makes that
// knob look 3.5x faster than it is, and the search then favours it. A
// pair whose exact time is off the node's median by more than a quarter
// takes the median instead (with at least three pairs on the node), and
// its speedup and pruning are worked out again.
func steadyExact(pairs []PairProfile, minSpeedup float64) {
	byStep := map[int][]float64{}
	for _, pp := range pairs {
		byStep[pp.Step] = append(byStep[pp.Step], pp.ExactNodeUS)
	}
	medians := map[int]float64{}
	for step, ex := range byStep {
		if len(ex) >= 3 {
			medians[step] = measure.Median(ex)
		}
	}
	for i := range pairs {
		pp := &pairs[i]
		med, ok := medians[pp.Step]
		if !ok || pp.NodeUS <= 0 {
			continue
		}
		if r := pp.ExactNodeUS / med; r <= 1.25 && r >= 0.8 {
			continue
		}
		pp.ExactNodeUS = med
		pp.NodeSpeedup = med / pp.NodeUS
		pp.Pruned = pp.NodeSpeedup < minSpeedup
	}
}

func concat(parts [][]float32) []float32 {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	out := make([]float32, 0, n)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
