// Package profile measures a model on this device (per-node latency and the
// effect of each knob on the output and the accuracy: Measure) and tunes:
// it validates the configurations that package profile/search predicts
// best and keeps the Pareto-optimal ones (Tune). Both are cut into trials
// (Trial) that an Executor runs: in this process with a TrialRunner
// (LocalExecutor), or on the workers of a NATS cluster (package
// profile/dist).
package profile

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"time"

	"github.com/kagen-ai/kagen/approx"
	"github.com/kagen-ai/kagen/dataset"
	"github.com/kagen-ai/kagen/device"
	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/internal/atomicfile"
	"github.com/kagen-ai/kagen/internal/readfile"
	"github.com/kagen-ai/kagen/measure"
)

// SchemaVersion is the version of profile.json.
const SchemaVersion = 1

// NodeProfile is the exact cost of one node.
type NodeProfile struct {
	Step    int     `json:"step"`
	Name    string  `json:"name"`
	Op      string  `json:"op"`
	MACs    int64   `json:"macs"`
	ExactUS float64 `json:"exact_us"`
}

// PairProfile is what one (node, knob) pair does on this device.
type PairProfile struct {
	Step int    `json:"step"`
	Node string `json:"node"`
	Knob string `json:"knob"`
	// NodeUS is the node's median time with the knob (single thread);
	// ExactNodeUS the node's exact time measured interleaved with it.
	NodeUS      float64 `json:"node_us"`
	ExactNodeUS float64 `json:"exact_node_us"`
	NodeSpeedup float64 `json:"node_speedup"`
	// Pruned is set when the knob saves no time on this device; such a
	// pair has no QoS figures and the tuner ignores it.
	Pruned bool `json:"pruned,omitempty"`
	// Accuracy of the model with only this pair approximated, on the
	// profile windows (the P2 predictor's input), and its loss in points.
	Accuracy float64 `json:"accuracy"`
	LossPP   float64 `json:"loss_pp"`
	// Delta is the change of the model's outputs on the profile windows
	// ([windows x classes]), the P1 predictor's input.
	Delta []float32 `json:"delta,omitempty"`
}

// Profile is the measured behaviour of a model's knobs on one device.
type Profile struct {
	Version       int                `json:"version"`
	ModelSHA256   string             `json:"model_sha256"`
	Device        device.Fingerprint `json:"device"`
	Created       time.Time          `json:"created"`
	ExactUS       float64            `json:"exact_us"`
	ExactAccuracy float64            `json:"exact_accuracy"`
	Windows       int                `json:"windows"`
	Classes       int                `json:"classes"`
	Labels        []int              `json:"labels"`
	ExactOutputs  []float32          `json:"exact_outputs"`
	Nodes         []NodeProfile      `json:"nodes"`
	Pairs         []PairProfile      `json:"pairs"`
	ProfileTime   float64            `json:"profile_seconds"`
}

// Options control profiling.
type Options struct {
	// Windows bounds the windows used for the QoS predictors (default 600;
	// the tuner validates on the whole tune split, so the predictors see as
	// much of it as is affordable).
	Windows int
	// Repeats is the number of timed runs per pair (default 9).
	Repeats int
	// Workers is the number of goroutines for QoS runs (0: every core).
	Workers int
	// MinSpeedup prunes pairs whose node speedup is below it (default 1.03).
	MinSpeedup float64
	// Progress, if set, is called after each step of work.
	Progress func(done, total int, what string)
}

func (o *Options) defaults() {
	if o.Windows <= 0 {
		o.Windows = 600
	}
	if o.Repeats <= 0 {
		o.Repeats = 9
	}
	if o.MinSpeedup == 0 {
		o.MinSpeedup = 1.03
	}
}

// Measure profiles every applicable (node, knob) pair of a model: node
// latency on this device (median of repeated single-thread runs
// interleaved with exact runs, after warm-up), the change of the model
// output on the profile windows (P1) and the accuracy with only that pair
// approximated (P2).
func Measure(ctx context.Context, a *approx.Approximator, data *dataset.Dataset, opts Options) (*Profile, error) {
	ex := NewLocalExecutor(a, opts.Workers)
	defer ex.Close()
	return MeasureWith(ctx, a, data, opts, ex)
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

// single is a selector that approximates one step.
type single struct {
	step int
	k    engine.Kernel
}

func (s single) Kernel(step int) engine.Kernel {
	if step == s.step {
		return s.k
	}
	return nil
}

// ModelHash returns the hex SHA-256 of a file.
func ModelHash(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:]), nil
}

// Write stores the profile atomically.
func (p *Profile) Write(path string) error {
	data, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return atomicfile.Write(path, data)
}

// ReadProfile reads a profile and checks it belongs to the model and this
// device (unless force), naming both identities when it does not.
func ReadProfile(path, modelSHA string, force bool) (*Profile, error) {
	data, err := readfile.Regular(path, maxProfileBytes)
	if err != nil {
		return nil, err
	}
	var p Profile
	if err := decodeProfile(path, data, &p); err != nil {
		return nil, err
	}
	if p.Version != SchemaVersion {
		return nil, fmt.Errorf("profile %s: schema version %d, this kagen reads %d", path, p.Version, SchemaVersion)
	}
	if force {
		return &p, nil
	}
	if p.ModelSHA256 != modelSHA {
		return nil, fmt.Errorf("profile %s was measured for model %s, not %s (use --force to use it anyway)", path, p.ModelSHA256, modelSHA)
	}
	if dev := device.This(); !p.Device.Equal(dev) {
		return nil, fmt.Errorf("profile %s was measured on %s, this device is %s (use --force to use it anyway)", path, p.Device, dev)
	}
	if err := p.Validate(-1); err != nil {
		return nil, fmt.Errorf("profile %s: %w", path, err)
	}
	return &p, nil
}

// maxProfileBytes bounds a profile file read back.
const maxProfileBytes = 1 << 30

// Validate checks what the tuner relies on: the sizes of the outputs,
// labels and deltas, labels and steps in range (steps below the model's
// count of steps, unless it is negative), knobs that parse, and finite
// figures.
func (p *Profile) Validate(steps int) error {
	if p.Windows < 0 || p.Classes < 1 || p.Classes > 1<<20 || len(p.ExactOutputs) != p.Windows*p.Classes || len(p.Labels) != p.Windows {
		return fmt.Errorf("%d exact outputs and %d labels for %d windows of %d classes", len(p.ExactOutputs), len(p.Labels), p.Windows, p.Classes)
	}
	for i, l := range p.Labels {
		if l < 0 || l >= p.Classes {
			return fmt.Errorf("labels[%d] is %d, expected 0..%d", i, l, p.Classes-1)
		}
	}
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	if !finite(p.ExactUS) || p.ExactUS < 0 {
		return fmt.Errorf("exact_us %v, expected a time", p.ExactUS)
	}
	for i, pp := range p.Pairs {
		switch {
		case pp.Step < 0 || steps >= 0 && pp.Step >= steps:
			return fmt.Errorf("pairs[%d].step %d, expected 0..%d", i, pp.Step, steps-1)
		case !finite(pp.NodeUS) || !finite(pp.ExactNodeUS) || !finite(pp.LossPP) || !finite(pp.Accuracy):
			return fmt.Errorf("pairs[%d] (%s %s): a figure is not finite", i, pp.Node, pp.Knob)
		case !pp.Pruned && len(pp.Delta) != len(p.ExactOutputs):
			return fmt.Errorf("pair %s %s has %d output deltas, expected %d", pp.Node, pp.Knob, len(pp.Delta), len(p.ExactOutputs))
		}
		if _, err := approx.ParseKnob(pp.Knob); err != nil {
			return fmt.Errorf("pairs[%d].knob: %w", i, err)
		}
	}
	for i, n := range p.Nodes {
		if n.Step < 0 || steps >= 0 && n.Step >= steps {
			return fmt.Errorf("nodes[%d].step %d, expected 0..%d", i, n.Step, steps-1)
		}
	}
	return nil
}

func numel(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}
