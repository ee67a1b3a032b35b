package profile

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/kagen-ai/kagen/approx"
	"github.com/kagen-ai/kagen/dataset"
	"github.com/kagen-ai/kagen/device"
	"github.com/kagen-ai/kagen/profile/search"
)

// Executor runs batches of trials. LocalExecutor runs them in this
// process, in order; package profile/dist runs them on the workers of a
// NATS JetStream cluster. RunWith and TuneWith plan the trials and
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
		r, err := e.Runner.Run(ctx, t, d)
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

// RunWith is Run with the trials run by ex: it profiles every applicable
// (node, knob) pair of a model. The first batch holds the latency trials
// (the exact model, then every pair, on the device class of ex) and the
// exact outputs on the profile windows; the second the outputs of every
// pair that saves time. The profile is assembled as Run's.
func RunWith(ctx context.Context, a *approx.Approximator, data *dataset.Dataset, opts Options, ex Executor) (*Profile, error) {
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
			medians[step] = median(ex)
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

// timingWindows returns the windows the tuner times configurations on:
// up to 8 spread over the tune split.
func timingWindows(d *dataset.Dataset) *dataset.Dataset {
	n := min(8, d.Len())
	out := &dataset.Dataset{Shape: d.Shape}
	for i := 0; i < n; i++ {
		j := i * d.Len() / n
		out.X = append(out.X, d.X[j])
		out.Y = append(out.Y, d.Y[j])
		out.Files = append(out.Files, d.Files[j])
	}
	return out
}

// timerRuns is the number of timed runs of a configuration (and of exact).
const timerRuns = 15

// TuneWith is Tune with the validation trials run by ex. Validation runs
// in opts.Rounds rounds: each round searches (with the predictor
// calibrated on what the earlier rounds measured), then runs one batch
// holding, for each of its candidates not known already, the outputs on
// every shard of both splits and the time; the first batch also holds the
// exact outputs and time. Candidates are validated as their trials
// complete (opts.Validated is called then); the levels are assembled as
// Tune's. When ctx is cancelled after the exact figures are in, the
// result holds what was validated so far, as Tune's does.
func TuneWith(ctx context.Context, a *approx.Approximator, p *Profile, tune, calib *dataset.Dataset, opts TuneOptions, ex Executor) (*TuneResult, error) {
	if opts.Budget <= 0 {
		opts.Budget = 10 * time.Second
	}
	if opts.Predictor == "" {
		opts.Predictor = P1
	}
	if opts.Candidates <= 0 {
		opts.Candidates = 24
	}
	if opts.Rounds <= 0 {
		opts.Rounds = 3
	}
	if opts.ScreenPairs == 0 {
		opts.ScreenPairs = opts.Candidates / 2
	}
	if tune.Len() == 0 || calib.Len() == 0 {
		return nil, fmt.Errorf("empty split: %d tune and %d calibration windows", tune.Len(), calib.Len())
	}
	res := &TuneResult{}
	sp := search.NewSpace(searchInput(p))
	m := a.Model()
	sha := m.SHA256()
	classes := numel(m.Outputs()[0].Shape)
	dev := deviceClassOf(ex)
	size := shardWindows(ex)
	known := map[string]Candidate{}
	for _, k := range opts.Known {
		known[k.Config] = k
	}

	// What each trial of a batch is for.
	const (
		roleExactTune = iota
		roleExactCalib
		roleExactTime
		roleTune
		roleCalib
		roleTime
	)
	type slot struct{ role, cand, shard int }
	type partial struct {
		tune, calib [][]float32
		us, exactUS float64
		left        int
	}
	var (
		cands      []search.Point // every round's candidates, in order
		texts      []string
		parts      []*partial // nil: not validated here (exact or known)
		finished   []*Candidate
		exact      Candidate
		exactTune  float64
		exactReady bool
		exactPart  *partial
		nDone      int
		// The two-knob configurations screened before round 0, their
		// measured tune losses, and the exact tune outputs they needed.
		screenG    []search.Genome
		screenM    []float64
		screenTune [][]float32
	)
	report := func() {
		if opts.Progress != nil {
			opts.Progress("validate", nDone, opts.Candidates)
		}
	}
	finish := func(i int) {
		pt, pa := cands[i], parts[i]
		c := Candidate{Config: texts[i], PredictedLossPP: pt.LossPP, PredictedUS: pt.US}
		outs := concat(pa.tune)
		c.TuneLossPP = 100 * (exactTune - dataset.Accuracy(outs, tune.Y, classes))
		outs = concat(pa.calib)
		c.Accuracy = dataset.Accuracy(outs, calib.Y, classes)
		c.LossPP = 100 * (res.ExactAccuracy - c.Accuracy)
		confidenceStats(&c, outs, calib.Y, classes)
		c.TimeUS, c.ExactTimeUS = pa.us, pa.exactUS
		c.Speedup = c.ExactTimeUS / c.TimeUS
		finished[i] = &c
		if opts.Validated != nil {
			opts.Validated(c)
		}
		nDone++
		report()
	}
	tried := map[string]bool{"exact": true}
	limit := opts.MaxLossPP*1.5 + 0.5
	round := search.Options{Predictor: opts.Predictor, Seed: opts.Seed, Budget: opts.Budget / time.Duration(opts.Rounds), MaxEvaluations: opts.MaxEvaluations}
	report()
	// Validation runs in rounds: each round searches with the predictor
	// calibrated on what the earlier rounds measured, then validates its
	// share of the candidates, spread along the predicted front.
	for r := 0; r < opts.Rounds && len(cands) < opts.Candidates; r++ {
		if r > 0 && ctx.Err() != nil {
			break
		}
		want := (opts.Candidates - len(cands) + opts.Rounds - r - 1) / (opts.Rounds - r)
		t0 := time.Now()
		rb := round
		if r == 0 && opts.ScreenPairs > 0 {
			rb.Budget /= 2 // two searches, around the screening
		}
		archive, evaluated := sp.Search(ctx, rb, limit, opts.Candidates+len(tried))
		res.Evaluated += evaluated
		res.SearchTime += time.Since(t0)
		if r == 0 && opts.ScreenPairs > 0 {
			pairs := sp.ScreenPairs(archive, opts.ScreenPairs)
			if len(pairs) > 0 {
				exactOuts, losses, err := screen(ctx, ex, a, sp, tune, pairs, size, classes, opts.Progress)
				if err != nil {
					return nil, err
				}
				screenG, screenM, screenTune = pairs, losses, exactOuts
				for i, g := range pairs {
					// measured already: as a candidate its prediction
					// would be fitted to its own loss
					text := sp.Text(a, g)
					tried[text] = true
					res.Screened = append(res.Screened, Candidate{Config: text, TuneLossPP: losses[i]})
				}
				sp.Calibrate(opts.Predictor, screenG, screenM)
				t0 = time.Now()
				archive, evaluated = sp.Search(ctx, rb, limit, opts.Candidates+len(tried))
				res.Evaluated += evaluated
				res.SearchTime += time.Since(t0)
			}
		}
		var pool []search.Point
		var poolTexts []string
		inPool := map[string]bool{}
		for _, pt := range archive {
			if pt.LossPP > opts.MaxLossPP*1.25+0.25 {
				continue
			}
			if t := sp.Text(a, pt.Genome); !tried[t] && !inPool[t] {
				inPool[t] = true
				pool = append(pool, pt)
				poolTexts = append(poolTexts, t)
			}
		}
		pick := spread(len(pool), want)
		if len(pick) == 0 && r > 0 {
			break
		}
		first := len(cands)
		for _, j := range pick { // the ones not picked may come back next round
			cands = append(cands, pool[j])
			texts = append(texts, poolTexts[j])
			tried[poolTexts[j]] = true
		}
		var b Batch
		var slots []slot
		add := func(t Trial, s slot) {
			b.Trials = append(b.Trials, t)
			slots = append(slots, s)
		}
		tuneKeys, calibKeys := b.AddShards(tune, size), b.AddShards(calib, size)
		timing := b.AddShard(timingWindows(tune))
		newPartial := func() *partial {
			return &partial{tune: make([][]float32, len(tuneKeys)), calib: make([][]float32, len(calibKeys)), left: len(tuneKeys) + len(calibKeys) + 1}
		}
		if r == 0 {
			exactPart = newPartial()
			if screenTune != nil && len(screenTune) == len(tuneKeys) {
				// screening measured the exact tune outputs
				copy(exactPart.tune, screenTune)
				exactPart.left -= len(tuneKeys)
			} else {
				for j, k := range tuneKeys {
					add(Trial{Kind: TrialOutputs, Model: sha, Shard: k, Config: "exact"}, slot{roleExactTune, -1, j})
				}
			}
			for j, k := range calibKeys {
				add(Trial{Kind: TrialOutputs, Model: sha, Shard: k, Config: "exact"}, slot{roleExactCalib, -1, j})
			}
			add(Trial{Kind: TrialExactTime, Model: sha, Shard: timing, Repeats: timerRuns, Device: dev}, slot{roleExactTime, -1, 0})
		}
		for i := first; i < len(cands); i++ {
			parts = append(parts, nil)
			finished = append(finished, nil)
			if _, ok := known[texts[i]]; ok {
				nDone++
				continue
			}
			parts[i] = newPartial()
			for j, k := range tuneKeys {
				add(Trial{Kind: TrialOutputs, Model: sha, Shard: k, Config: texts[i]}, slot{roleTune, i, j})
			}
			for j, k := range calibKeys {
				add(Trial{Kind: TrialOutputs, Model: sha, Shard: k, Config: texts[i]}, slot{roleCalib, i, j})
			}
			add(Trial{Kind: TrialConfigTime, Model: sha, Shard: timing, Config: texts[i], Repeats: timerRuns, Device: dev}, slot{roleTime, i, 0})
		}
		report()
		err := ex.Execute(ctx, &b, func(i int, tr *TrialResult) error {
			t, s := &b.Trials[i], slots[i]
			if err := trialFailed(t, tr); err != nil {
				return err
			}
			pa := exactPart
			if s.cand >= 0 {
				pa = parts[s.cand]
			}
			switch s.role {
			case roleExactTune, roleTune, roleExactCalib, roleCalib:
				if err := checkOutputs(t, tr, b.Shards[t.Shard].Data.Len(), classes); err != nil {
					return err
				}
				if s.role == roleExactTune || s.role == roleTune {
					pa.tune[s.shard] = tr.Outputs
				} else {
					pa.calib[s.shard] = tr.Outputs
				}
			case roleExactTime, roleTime:
				pa.us, pa.exactUS = tr.TimeUS, tr.ExactTimeUS
			}
			if pa.left--; pa.left > 0 {
				return nil
			}
			if s.cand >= 0 {
				if exactReady {
					finish(s.cand)
				}
				return nil
			}
			// The exact figures are in: score exact, then every candidate
			// that was waiting for them.
			exactTune = dataset.Accuracy(concat(pa.tune), tune.Y, classes)
			outs := concat(pa.calib)
			res.ExactAccuracy = dataset.Accuracy(outs, calib.Y, classes)
			exact = Candidate{Config: "exact", Accuracy: res.ExactAccuracy, Speedup: 1, Kept: true}
			confidenceStats(&exact, outs, calib.Y, classes)
			exact.TimeUS = pa.us
			exact.ExactTimeUS = exact.TimeUS
			exactReady = true
			for j := range parts {
				if parts[j] != nil && parts[j].left == 0 {
					finish(j)
				}
			}
			return nil
		})
		if err != nil {
			if exactReady && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
				break // keep what is validated
			}
			return nil, err
		}
		// Calibrate the predictor on everything measured so far.
		gs := slices.Clone(screenG)
		measured := slices.Clone(screenM)
		for i, c := range finished {
			if c != nil {
				gs = append(gs, cands[i].Genome)
				measured = append(measured, c.TuneLossPP)
			}
		}
		sp.Calibrate(opts.Predictor, gs, measured)
	}
	var validated []Candidate
	var absErr float64
	nPred := 0
	for i := range cands {
		var c Candidate
		if k, ok := known[texts[i]]; ok && parts[i] == nil {
			c = k
		} else if finished[i] != nil {
			c = *finished[i]
		} else {
			continue // not validated before cancellation
		}
		absErr += math.Abs(c.PredictedLossPP - c.TuneLossPP)
		nPred++
		validated = append(validated, c)
	}
	if nPred > 0 {
		res.PredictorMAE = absErr / float64(nPred)
	}
	if opts.Progress != nil {
		opts.Progress("validate", opts.Candidates, opts.Candidates)
	}
	assembleLevels(res, exact, validated, &opts)
	return res, nil
}

// screen measures the tune loss of each two-knob configuration in pairs
// (see search.Space.ScreenPairs), with the exact tune outputs they are measured
// against, which it also returns (one slice per shard of size windows, as
// a round's batch shards the tune split).
func screen(ctx context.Context, ex Executor, a *approx.Approximator, sp *search.Space, tune *dataset.Dataset, pairs []search.Genome, size, classes int, progress func(string, int, int)) ([][]float32, []float64, error) {
	sha := a.Model().SHA256()
	var b Batch
	keys := b.AddShards(tune, size)
	exact := make([][]float32, len(keys))
	outs := make([][][]float32, len(pairs))
	type slot struct{ pair, shard int } // pair -1: exact
	var slots []slot
	for j, k := range keys {
		b.Trials = append(b.Trials, Trial{Kind: TrialOutputs, Model: sha, Shard: k, Config: "exact"})
		slots = append(slots, slot{-1, j})
	}
	for p, g := range pairs {
		outs[p] = make([][]float32, len(keys))
		text := sp.Text(a, g)
		for j, k := range keys {
			b.Trials = append(b.Trials, Trial{Kind: TrialOutputs, Model: sha, Shard: k, Config: text})
			slots = append(slots, slot{p, j})
		}
	}
	done := 0
	if progress != nil {
		progress("screen", 0, len(b.Trials))
	}
	err := ex.Execute(ctx, &b, func(i int, tr *TrialResult) error {
		t, s := &b.Trials[i], slots[i]
		if err := trialFailed(t, tr); err != nil {
			return err
		}
		if err := checkOutputs(t, tr, b.Shards[t.Shard].Data.Len(), classes); err != nil {
			return err
		}
		if s.pair < 0 {
			exact[s.shard] = tr.Outputs
		} else {
			outs[s.pair][s.shard] = tr.Outputs
		}
		done++
		if progress != nil {
			progress("screen", done, len(b.Trials))
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("screening knob pairs: %w", err)
	}
	exactAcc := dataset.Accuracy(concat(exact), tune.Y, classes)
	losses := make([]float64, len(pairs))
	for p := range pairs {
		losses[p] = 100 * (exactAcc - dataset.Accuracy(concat(outs[p]), tune.Y, classes))
	}
	return exact, losses, nil
}

// spread returns want indices of n spread evenly from first to last (all
// of them when n <= want).
func spread(n, want int) []int {
	var out []int
	if n <= want {
		for i := 0; i < n; i++ {
			out = append(out, i)
		}
		return out
	}
	if want == 1 {
		return []int{0}
	}
	for i := 0; i < want; i++ {
		out = append(out, i*(n-1)/(want-1))
	}
	return out
}
