package profile

import (
	"context"
	"fmt"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/kagen-ai/kagen/approx"
	"github.com/kagen-ai/kagen/dataset"
	"github.com/kagen-ai/kagen/device"
	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/measure"
)

// deviceMu keeps a process's latency trials apart from its other trials:
// a latency trial holds it exclusively, any other trial shares it, so
// timings are not disturbed by work of the same process (other workers'
// goroutines, for example).
var deviceMu sync.RWMutex

// LatencyFunc, when set on a TrialRunner, answers the trials that measure
// time instead of timing them; when it returns no result and no error the
// trial is timed as usual. It is a seam for tests and simulations that need
// reproducible latencies; it is called with the device lock held.
type LatencyFunc func(t *Trial) (*TrialResult, error)

// TrialRunner runs the trials of one model on this device, keeping what
// successive trials share: the sessions of the QoS runs, the latency
// session (warmed up once, as the local profiler does) and the timers of
// the tuner. It is not safe for concurrent use; give each goroutine its
// own (they may share the Approximator).
type TrialRunner struct {
	a       *approx.Approximator
	workers int
	runner  *dataset.Evaluator
	benches map[string]*latencyBench
	timers  map[string]*timer

	// Latency, if set, replaces the timing of latency and time trials.
	Latency LatencyFunc
}

// NewTrialRunner returns a runner for a's model whose output trials use
// workers goroutines (0: every core).
func NewTrialRunner(a *approx.Approximator, workers int) *TrialRunner {
	return &TrialRunner{a: a, workers: workers, benches: map[string]*latencyBench{}, timers: map[string]*timer{}}
}

// Close releases the sessions.
func (r *TrialRunner) Close() {
	if r.runner != nil {
		r.runner.Close()
	}
	for _, b := range r.benches {
		b.close()
	}
	for _, t := range r.timers {
		t.close()
	}
}

// RunTrial runs one trial on shard (the decoded data its Shard names; nil for
// a no-op trial). A trial that cannot run on this model (a step it does not
// have, a knob that does not apply, a shard of the wrong shape) is an
// error, and so is a panic in the engine: RunTrial never panics.
func (r *TrialRunner) RunTrial(ctx context.Context, t *Trial, shard *dataset.Dataset) (res *TrialResult, err error) {
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			res, err = nil, fmt.Errorf("trial %s %s panicked: %v\n%s", t.Kind, t.ID(), p, debug.Stack())
		}
	}()
	if err := t.Validate(); err != nil {
		return nil, err
	}
	if t.Kind == TrialNoop {
		return &TrialResult{ID: t.ID()}, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m := r.a.Model()
	if t.Model != m.SHA256() {
		return nil, fmt.Errorf("trial for model %s run on model %s", t.Model, m.SHA256())
	}
	if err := r.checkShard(shard); err != nil {
		return nil, err
	}
	if t.Kind.NeedsDevice() {
		deviceMu.Lock()
		defer deviceMu.Unlock()
	} else {
		deviceMu.RLock()
		defer deviceMu.RUnlock()
	}
	if t.Kind.NeedsDevice() && r.Latency != nil {
		res, err = r.Latency(t)
	}
	if res == nil && err == nil {
		res, err = r.run(t, shard)
	}
	if err != nil {
		return nil, fmt.Errorf("trial %s %s: %w", t.Kind, t.ID(), err)
	}
	res.ID = t.ID()
	res.Seconds = time.Since(start).Seconds()
	if t.Kind.NeedsDevice() {
		dev := device.This()
		res.Device = &dev
	}
	return res, nil
}

// checkShard checks that a shard's windows fit the model's input.
func (r *TrialRunner) checkShard(d *dataset.Dataset) error {
	if d == nil || d.Len() == 0 {
		return fmt.Errorf("trial has no data windows")
	}
	want := numel(r.a.Model().Inputs()[0].Shape)
	if numel(d.Shape) != want {
		return fmt.Errorf("shard windows of shape %v do not fit the model input %v", d.Shape, r.a.Model().Inputs()[0].Shape)
	}
	for i, x := range d.X {
		if len(x) != want {
			return fmt.Errorf("shard window %d has %d values, the model takes %d", i, len(x), want)
		}
	}
	return nil
}

// selector returns the kernels a trial runs: one pair, or a configuration.
func (r *TrialRunner) selector(t *Trial) (engine.Selector, error) {
	if t.Knob != "" {
		if t.Step >= len(r.a.Nodes()) || t.Step >= r.a.Model().Steps() {
			return nil, fmt.Errorf("step %d: the model has %d steps", t.Step, len(r.a.Nodes()))
		}
		k, err := approx.ParseKnob(t.Knob)
		if err != nil {
			return nil, err
		}
		kr, err := r.a.Kernel(t.Step, k)
		if err != nil {
			return nil, err
		}
		return single{t.Step, kr}, nil
	}
	if t.Config == "exact" {
		return nil, nil
	}
	cfg, err := r.a.Parse(t.Config)
	if err != nil {
		return nil, err
	}
	sel, err := r.a.Prepare(cfg)
	if err != nil {
		return nil, err
	}
	return sel, nil
}

func (r *TrialRunner) run(t *Trial, shard *dataset.Dataset) (*TrialResult, error) {
	m := r.a.Model()
	switch t.Kind {
	case TrialExactLatency, TrialPairLatency, TrialNodeLatency:
		b := r.benches[t.Shard]
		if b == nil {
			b = newLatencyBench(m, shard)
			r.benches[t.Shard] = b
		}
		if t.Kind == TrialExactLatency {
			us, steps, err := b.exact(t.Repeats)
			return &TrialResult{ModelUS: us, StepUS: steps}, err
		}
		sel, err := r.selector(t)
		if err != nil {
			return nil, err
		}
		pair := b.pair
		if t.Kind == TrialNodeLatency {
			pair = b.pairAlone
		}
		nodeUS, exactUS, err := pair(sel.(single), t.Repeats)
		return &TrialResult{NodeUS: nodeUS, ExactNodeUS: exactUS}, err
	case TrialExactTime, TrialConfigTime:
		tm := r.timers[t.Shard]
		if tm == nil {
			tm = newTimer(m, shard)
			r.timers[t.Shard] = tm
		}
		tm.runs = t.Repeats
		if t.Kind == TrialExactTime {
			us, err := tm.exactUS()
			return &TrialResult{TimeUS: us}, err
		}
		sel, err := r.selector(t)
		if err != nil {
			return nil, err
		}
		us, exactUS, err := tm.compare(sel)
		return &TrialResult{TimeUS: us, ExactTimeUS: exactUS}, err
	case TrialOutputs:
		sel, err := r.selector(t)
		if err != nil {
			return nil, err
		}
		if r.runner == nil {
			r.runner = dataset.NewEvaluator(m, r.workers)
		}
		out := make([]float32, shard.Len()*r.runner.Classes())
		if err := r.runner.Outputs(shard, sel, out); err != nil {
			return nil, err
		}
		return &TrialResult{Outputs: out, Classes: r.runner.Classes()}, nil
	}
	return nil, fmt.Errorf("trial kind %s has no runner", t.Kind)
}

// latencyBench times nodes on one input with one session. Its first
// measurement starts with five warm-up runs more than the others.
type latencyBench struct {
	in    measure.Inference
	warm  bool
	nanos []int64 // pairAlone's timings
}

func newLatencyBench(m *engine.Model, d *dataset.Dataset) *latencyBench {
	in := [][]*engine.Tensor{{{DType: engine.Float32, Shape: d.Shape, F: d.X[0]}}}
	return &latencyBench{in: measure.Inference{Session: m.NewSession(), Inputs: in}}
}

func (b *latencyBench) close() { b.in.Session.Close() }

// warmup returns the warm-up runs a measurement adds for the bench: 5 the
// first time, then none.
func (b *latencyBench) warmup() int {
	if b.warm {
		return 0
	}
	b.warm = true
	return 5
}

// exact returns the median time of the exact model and of each step over
// 3*repeats runs.
func (b *latencyBench) exact(repeats int) (float64, []float64, error) {
	r, err := b.in.Compare(measure.Options{Warmup: b.warmup(), Runs: 3 * repeats}, nil)
	if err != nil {
		return 0, nil, err
	}
	steps := make([]float64, len(r[0].Steps))
	for j := range steps {
		steps[j] = r[0].StepMedianUS(j)
	}
	return r[0].Total.MedianUS(), steps, nil
}

// pair returns the median time of one step with its knob and exact over
// repeats interleaved runs, after two warm-up runs of each.
func (b *latencyBench) pair(sel single, repeats int) (nodeUS, exactNodeUS float64, err error) {
	r, err := b.in.Compare(measure.Options{Warmup: b.warmup() + 2, Runs: repeats}, nil, sel)
	if err != nil {
		return 0, 0, err
	}
	return r[1].StepMedianUS(sel.step), r[0].StepMedianUS(sel.step), nil
}

// pairAlone returns the median time of one step with its knob and
// exact over repeats interleaved runs of the step alone (after two
// warm-up runs of each), its inputs computed by one exact run of the
// steps before it (engine.Session.TimeStep).
func (b *latencyBench) pairAlone(sel single, repeats int) (nodeUS, exactNodeUS float64, err error) {
	n := repeats + 2
	if cap(b.nanos) < 2*n {
		b.nanos = make([]int64, 2*n)
	}
	na, ne := b.nanos[:n], b.nanos[n:2*n]
	if err := b.in.Session.TimeStep(b.in.Inputs[0], sel.step, sel, nil, na, ne); err != nil {
		return 0, 0, err
	}
	return medianUS(na[2:]), medianUS(ne[2:]), nil
}

// medianUS is the median of nanosecond times, in microseconds; it sorts
// them.
func medianUS(ns []int64) float64 {
	slices.Sort(ns)
	m := len(ns) / 2
	if len(ns)%2 == 1 {
		return float64(ns[m]) / 1e3
	}
	return float64(ns[m-1]+ns[m]) / 2e3
}

// timer times configurations against exact on the timing windows (up to
// 8, cycled through), single thread.
type timer struct {
	in   measure.Inference
	runs int
}

func newTimer(m *engine.Model, d *dataset.Dataset) *timer {
	t := &timer{in: measure.Inference{Session: m.NewSession()}, runs: 15}
	for i := 0; i < min(8, d.Len()); i++ {
		t.in.Inputs = append(t.in.Inputs, []*engine.Tensor{{DType: engine.Float32, Shape: d.Shape, F: d.X[i*d.Len()/min(8, d.Len())]}})
	}
	return t
}

func (t *timer) close() { t.in.Session.Close() }

// exactUS returns the median time of exact over 3*runs runs.
func (t *timer) exactUS() (float64, error) {
	r, err := t.in.Compare(measure.Options{Runs: 3 * t.runs}, nil)
	if err != nil {
		return 0, err
	}
	return r[0].Total.MedianUS(), nil
}

// compare returns the median times of sel and of exact over runs
// interleaved runs, after 3 warm-up runs of each.
func (t *timer) compare(sel engine.Selector) (us, exactUS float64, err error) {
	r, err := t.in.Compare(measure.Options{Warmup: 3, Runs: t.runs}, nil, sel)
	if err != nil {
		return 0, 0, err
	}
	return r[1].Total.MedianUS(), r[0].Total.MedianUS(), nil
}
