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
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/kagen-ai/kagen/approx"
	"github.com/kagen-ai/kagen/dataset"
	"github.com/kagen-ai/kagen/device"
	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/internal/atomicfile"
	"github.com/kagen-ai/kagen/internal/readfile"
	"github.com/kagen-ai/kagen/measure"
)

// SchemaVersion is the version of profile.json. Version 2 binds the
// profile to its windows and options (DataSHA256, MaxWindows, Repeats,
// MinSpeedup).
const SchemaVersion = 2

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
	// Pruned is set when the knob saves no time on this device, or when
	// it makes the model's outputs NaN or infinite on NonFinite windows;
	// such a pair has no QoS figures and the tuner ignores it.
	Pruned    bool `json:"pruned,omitempty"`
	NonFinite int  `json:"non_finite,omitempty"`
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
	// DataSHA256 is the digest of the profile windows (dataset.Digest);
	// MaxWindows, Repeats and MinSpeedup are the options they were
	// profiled with. A resumed tune refuses a profile whose data or
	// options differ from its own (Matches).
	DataSHA256 string  `json:"data_sha256"`
	MaxWindows int     `json:"max_windows"`
	Repeats    int     `json:"repeats"`
	MinSpeedup float64 `json:"min_speedup"`
	// OneOffset is Options.OneOffset: one offset per stride profiled;
	// NodeAlone is Options.NodeAlone: nodes timed alone.
	OneOffset    bool          `json:"one_offset,omitempty"`
	NodeAlone    bool          `json:"node_alone,omitempty"`
	Classes      int           `json:"classes"`
	Labels       []int         `json:"labels"`
	ExactOutputs []float32     `json:"exact_outputs"`
	Nodes        []NodeProfile `json:"nodes"`
	Pairs        []PairProfile `json:"pairs"`
	ProfileTime  float64       `json:"profile_seconds"`
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
	// OneOffset samples the knob pairs: perforation and filter sampling
	// are profiled at one offset per stride, OFFSET = step mod STRIDE
	// (so that neighbouring nodes drop different rows or taps), not at
	// every offset. A convolution's pairs shrink about 3x (2349 to 849 on
	// MobileNetV2): what makes a model of 50+ tunable nodes affordable.
	OneOffset bool
	// NodeAlone times each pair's node alone (TrialNodeLatency: the
	// steps before it once, then the node under the knob and exact,
	// interleaved) rather than within whole inferences: on MobileNetV2 a
	// pair's latency costs a fraction of one inference instead of
	// 2*(Repeats+2). The node then runs with its inputs in cache, as it
	// does not in inference, so speedups can differ from in-context ones
	// (the validation times whole configurations in context either way).
	NodeAlone bool
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

// MaxOptionWindows bounds Options.Windows.
const MaxOptionWindows = 1 << 20

// Validate checks the options a caller gives (zero takes the default;
// negative numbers, non-finite speedups and more than MaxOptionWindows
// windows are refused), naming the option.
func (o *Options) Validate() error {
	switch {
	case o.Windows < 0 || o.Windows > MaxOptionWindows:
		return fmt.Errorf("windows %d, expected 1..%d", o.Windows, MaxOptionWindows)
	case o.Repeats < 0 || o.Repeats > 1000:
		return fmt.Errorf("repeats %d, expected 1..1000", o.Repeats)
	case o.Workers < 0:
		return fmt.Errorf("workers %d, expected 0 (every core) or more", o.Workers)
	case !finite(o.MinSpeedup) || o.MinSpeedup < 0:
		return fmt.Errorf("minimum speedup %v, expected a finite number above 0", o.MinSpeedup)
	}
	return nil
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
	p := &Profile{Version: SchemaVersion, ModelSHA256: sha, Device: device.This(), Created: time.Now().UTC(), Windows: sub.Len(), Labels: sub.Y,
		DataSHA256: sub.Digest(), MaxWindows: opts.Windows, Repeats: opts.Repeats, MinSpeedup: opts.MinSpeedup, OneOffset: opts.OneOffset, NodeAlone: opts.NodeAlone}
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
			if !k.IsExact() && (!opts.OneOffset || k.Stride == 0 || k.Offset == n.Step%k.Stride) {
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
	latency := TrialPairLatency
	if opts.NodeAlone {
		latency = TrialNodeLatency
	}
	for _, pr := range pairs {
		b1.Trials = append(b1.Trials, Trial{Kind: latency, Model: sha, Shard: in, Step: pr.step, Node: a.Nodes()[pr.step].Name, Knob: pr.knob.String(), Repeats: opts.Repeats, Device: dev})
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
	if n, first := dataset.NonFinite(p.ExactOutputs, classes); n > 0 {
		return nil, fmt.Errorf("the exact model gives NaN or infinite outputs on %d of %d windows; the first: %s", n, sub.Len(), dataset.Locate(m, sub, first, nil))
	}
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
		if n, _ := dataset.NonFinite(out, p.Classes); n > 0 {
			// a knob that breaks the model is no choice: the tuner ignores it
			pp.Pruned, pp.NonFinite = true, n
			progress("qos " + pp.Node + " " + pp.Knob + ": NaN or infinite outputs")
			return
		}
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
	f, err := readfile.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hashing %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
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
		return nil, fmt.Errorf("profile %s: schema version %d, this kagen reads %d; profile again (kagen profile, or kagen tune without --resume and --profile)", path, p.Version, SchemaVersion)
	}
	if force {
		return &p, nil
	}
	if p.ModelSHA256 != modelSHA {
		return nil, fmt.Errorf("profile %s was measured for model %s, not %s; profile again (kagen profile, or kagen tune without --resume and --profile)", path, clip(p.ModelSHA256), modelSHA)
	}
	if dev := device.This(); !p.Device.Equal(dev) {
		return nil, fmt.Errorf("profile %s was measured on %s, this device is %s; profile again (kagen profile, or kagen tune without --resume and --profile)", path, p.Device, dev)
	}
	if err := p.Validate(-1); err != nil {
		return nil, fmt.Errorf("profile %s: %w", path, err)
	}
	return &p, nil
}

// maxProfileBytes bounds a profile file read back.
const maxProfileBytes = 1 << 30

// Validate checks every field of a profile read back, as the tuner relies
// on them: the sizes of the outputs, labels and deltas, labels in range,
// steps below the model's count of steps (unless steps is negative), each
// node and pair once, knobs that parse, accuracies in 0..1 and losses that
// agree with them, times that are finite and positive, and finite outputs
// and deltas. It names the field at fault.
func (p *Profile) Validate(steps int) error {
	if p.Windows < 1 || p.Classes < 1 || p.Classes > 1<<20 || p.Windows > MaxOptionWindows ||
		len(p.ExactOutputs) != p.Windows*p.Classes || len(p.Labels) != p.Windows {
		return fmt.Errorf("%d exact outputs and %d labels for %d windows of %d classes", len(p.ExactOutputs), len(p.Labels), p.Windows, p.Classes)
	}
	for i, l := range p.Labels {
		if l < 0 || l >= p.Classes {
			return fmt.Errorf("labels[%d] is %d, expected 0..%d", i, l, p.Classes-1)
		}
	}
	if i := nonFinite32(p.ExactOutputs); i >= 0 {
		return fmt.Errorf("exact_outputs[%d] is %v, expected a finite number", i, p.ExactOutputs[i])
	}
	switch {
	case !finite(p.ExactUS) || p.ExactUS <= 0:
		return fmt.Errorf("exact_us %v, expected a time above 0", p.ExactUS)
	case !isFraction(p.ExactAccuracy):
		return fmt.Errorf("exact_accuracy %v, expected 0..1", p.ExactAccuracy)
	case !finite(p.ProfileTime) || p.ProfileTime < 0:
		return fmt.Errorf("profile_seconds %v, expected a duration", p.ProfileTime)
	case p.Repeats < 1 || p.Repeats > 1000:
		return fmt.Errorf("repeats %d, expected 1..1000", p.Repeats)
	case p.MaxWindows < p.Windows || p.MaxWindows > MaxOptionWindows:
		return fmt.Errorf("max_windows %d, expected %d..%d (windows is %d)", p.MaxWindows, p.Windows, MaxOptionWindows, p.Windows)
	case !finite(p.MinSpeedup) || p.MinSpeedup <= 0:
		return fmt.Errorf("min_speedup %v, expected a finite number above 0", p.MinSpeedup)
	case len(p.DataSHA256) != 64:
		return fmt.Errorf("data_sha256 %q, expected the 64 hex digits of a digest", clip(p.DataSHA256))
	}
	inRange := func(step int) bool { return step >= 0 && (steps < 0 || step < steps) }
	nodes := map[int]string{}
	for i, n := range p.Nodes {
		switch {
		case !inRange(n.Step):
			return fmt.Errorf("nodes[%d].step %d, expected 0..%d", i, n.Step, steps-1)
		case nodes[n.Step] != "":
			return fmt.Errorf("nodes[%d]: step %d appears twice", i, n.Step)
		case n.Name == "":
			return fmt.Errorf("nodes[%d].name is empty", i)
		case !finite(n.ExactUS) || n.ExactUS < 0:
			return fmt.Errorf("nodes[%d].exact_us %v, expected a time", i, n.ExactUS)
		case n.MACs < 0:
			return fmt.Errorf("nodes[%d].macs %d, expected 0 or more", i, n.MACs)
		}
		nodes[n.Step] = n.Name
	}
	seen := map[string]bool{}
	for i, pp := range p.Pairs {
		what := fmt.Sprintf("pairs[%d] (%s %s)", i, clip(pp.Node), clip(pp.Knob))
		if !inRange(pp.Step) {
			return fmt.Errorf("%s: step %d, expected 0..%d", what, pp.Step, steps-1)
		}
		if name, ok := nodes[pp.Step]; !ok || name != pp.Node {
			return fmt.Errorf("%s: node %q is not the profiled node of step %d", what, clip(pp.Node), pp.Step)
		}
		if _, err := approx.ParseKnob(pp.Knob); err != nil {
			return fmt.Errorf("%s: knob: %w", what, err)
		}
		key := fmt.Sprint(pp.Step, " ", pp.Knob)
		if seen[key] {
			return fmt.Errorf("%s: the pair appears twice", what)
		}
		seen[key] = true
		pos := func(v float64) bool { return finite(v) && (v > 0 || pp.Pruned && v == 0) }
		switch {
		case !pos(pp.NodeUS) || !pos(pp.ExactNodeUS):
			return fmt.Errorf("%s: node_us %v and exact_node_us %v, expected times above 0", what, pp.NodeUS, pp.ExactNodeUS)
		case pp.NonFinite < 0 || pp.NonFinite > p.Windows || pp.NonFinite > 0 && !pp.Pruned:
			return fmt.Errorf("%s: non_finite %d, expected 0..%d windows, on a pruned pair", what, pp.NonFinite, p.Windows)
		case !finite(pp.NodeSpeedup) || pp.NodeSpeedup < 0:
			return fmt.Errorf("%s: node_speedup %v, expected a finite number", what, pp.NodeSpeedup)
		case !pp.Pruned && math.Abs(pp.NodeSpeedup-pp.ExactNodeUS/pp.NodeUS) > 1e-6*pp.NodeSpeedup+1e-9:
			return fmt.Errorf("%s: node_speedup %v, but exact_node_us / node_us is %v", what, pp.NodeSpeedup, pp.ExactNodeUS/pp.NodeUS)
		case pp.Pruned:
			continue // no QoS figures
		case !isFraction(pp.Accuracy):
			return fmt.Errorf("%s: accuracy %v, expected 0..1", what, pp.Accuracy)
		case math.Abs(pp.LossPP-100*(p.ExactAccuracy-pp.Accuracy)) > 1e-6:
			return fmt.Errorf("%s: loss_pp %v, but exact_accuracy and accuracy make it %v", what, pp.LossPP, 100*(p.ExactAccuracy-pp.Accuracy))
		case len(pp.Delta) != len(p.ExactOutputs):
			return fmt.Errorf("%s: %d output deltas, expected %d", what, len(pp.Delta), len(p.ExactOutputs))
		}
		if j := nonFinite32(pp.Delta); j >= 0 {
			return fmt.Errorf("%s: delta[%d] is %v, expected a finite number", what, j, pp.Delta[j])
		}
	}
	return nil
}

// Matches checks that a profile read back was measured for this model
// (its nodes, their ops and the knobs that apply to them), on the windows
// a new profile would take of data with opts, and with opts' repeats and
// minimum speedup: a resumed tune must not trust a profile of other data
// or options. It names what differs.
func (p *Profile) Matches(a *approx.Approximator, data *dataset.Dataset, opts Options) error {
	opts.defaults()
	m := a.Model()
	if p.ModelSHA256 != m.SHA256() {
		return fmt.Errorf("it was measured for model %s, not %s", clip(p.ModelSHA256), m.SHA256())
	}
	if err := p.Validate(m.Steps()); err != nil {
		return err
	}
	if c := numel(m.Outputs()[0].Shape); p.Classes != c {
		return fmt.Errorf("classes %d, the model has %d outputs", p.Classes, c)
	}
	infos := a.Nodes()
	for i, n := range p.Nodes {
		if n.Step >= len(infos) || infos[n.Step].Name != n.Name || infos[n.Step].Op != n.Op {
			return fmt.Errorf("nodes[%d]: %s %s at step %d is not a node of the model", i, clip(n.Op), clip(n.Name), n.Step)
		}
	}
	for i, pp := range p.Pairs {
		k, _ := approx.ParseKnob(pp.Knob)
		if !slices.Contains(a.Applicable(pp.Step), k) {
			return fmt.Errorf("pairs[%d]: knob %s does not apply to node %s", i, clip(pp.Knob), clip(pp.Node))
		}
	}
	sub := data.Subset(opts.Windows)
	var diffs []string
	if p.MaxWindows != opts.Windows {
		diffs = append(diffs, fmt.Sprintf("--windows %d, not %d", p.MaxWindows, opts.Windows))
	}
	if p.Repeats != opts.Repeats {
		diffs = append(diffs, fmt.Sprintf("%d repeats, not %d", p.Repeats, opts.Repeats))
	}
	if p.MinSpeedup != opts.MinSpeedup {
		diffs = append(diffs, fmt.Sprintf("minimum speedup %v, not %v", p.MinSpeedup, opts.MinSpeedup))
	}
	if p.OneOffset != opts.OneOffset {
		diffs = append(diffs, fmt.Sprintf("one offset per stride %v, not %v", p.OneOffset, opts.OneOffset))
	}
	if p.NodeAlone != opts.NodeAlone {
		diffs = append(diffs, fmt.Sprintf("nodes timed alone %v, not %v", p.NodeAlone, opts.NodeAlone))
	}
	if d := sub.Digest(); p.DataSHA256 != d || p.Windows != sub.Len() {
		diffs = append(diffs, fmt.Sprintf("other data: %d windows with digest %.12s, these are %d with digest %.12s", p.Windows, p.DataSHA256, sub.Len(), d))
	} else if !slices.Equal(p.Labels, sub.Y) {
		diffs = append(diffs, "other labels for the same windows")
	}
	if len(diffs) > 0 {
		return fmt.Errorf("it was profiled with %s", strings.Join(diffs, "; "))
	}
	return nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func isFraction(v float64) bool { return v >= 0 && v <= 1 }

// nonFinite32 returns the index of the first NaN or infinity in v, or -1.
func nonFinite32(v []float32) int {
	for i, x := range v {
		if x != x || x > math.MaxFloat32 || x < -math.MaxFloat32 {
			return i
		}
	}
	return -1
}

// clip shortens a string read from a file for an error message.
func clip(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}

func numel(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}
