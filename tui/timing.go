package tui

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/kagen-ai/kagen/approx"
	"github.com/kagen-ai/kagen/deploy"
	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/measure"
	"github.com/kagen-ai/kagen/policy"
)

// The background timing of the live screens. A round is short, so that
// a change of configuration is timed soon and a cancelled round ends
// soon; its first round warms up as kagen bench does (five runs of each
// and 200 ms); the figures wait until measure.Live calls them stable (at
// least measure.LiveEnough runs of each, medians known to
// measure.StableWidth, or measure.LiveKeep runs) and follow the machine
// with the newest measure.LiveKeep. (On the demo, the Knobs screen's 256
// runs gave 2.35x at the tuner's fastest level where `kagen bench
// demo/data/har.onnx --config CFG --runs 300` gave 2.33x, and 0.99x for
// both with fp16 on the first layer.)
const (
	timingRuns  = 16
	timingPause = 100 * time.Millisecond
)

// levelTimer times a list of configurations (levels) against each other
// in the background, the one way kagen times (package measure: warm-up,
// interleaved runs, medians, measure.Live), in rounds of a few runs on
// its own engine session, while its screen is shown. The medians of each
// level's newest runs are the screen's latency and energy figures and,
// as a deploy.LevelCost, what a replay charges; figures of the levels
// together (a speedup, a saving) come with their interval
// (levelTimer.estimate). A configuration listed twice (exact, and a
// Knobs configuration still exact) is timed once, so that it is
// compared with itself. With Options.Cost the figures are that cost's
// and nothing is timed.
type levelTimer struct {
	ctx *Context
	to  ScreenID

	key     string          // the configurations timed, joined
	configs []approx.Config // the distinct configurations timed
	of      []int           // the index in configs of each level
	live    *measure.Live
	cost    *deploy.LevelCost // of the medians; nil until stable
	fixed   bool
	err     error

	active bool // rounds go on (the screen is shown)
	busy   bool // a round is in flight: it holds bench
	warm   bool // a round of this list ran (warm-up done)
	bench  *benchSession

	// timeRound, if set, replaces the timing of a round (tests: a
	// deterministic model of noisy times).
	timeRound func(cfgs []approx.Config, runs int) []measure.Sample
}

// timingMsg is a round's result.
type timingMsg struct {
	key    string
	totals []measure.Sample
	err    error
}

// timingTick starts the next round.
type timingTick struct{}

func newLevelTimer(ctx *Context, to ScreenID) *levelTimer {
	return &levelTimer{ctx: ctx, to: to, bench: &benchSession{cpu: ctx.cpu}}
}

// set makes levels the configurations timed; the runs of another list
// are dropped.
func (t *levelTimer) set(levels []policy.Level) {
	texts := make([]string, len(levels))
	for i, l := range levels {
		texts[i] = l.Config
	}
	key := strings.Join(texts, "\n")
	if key == t.key && t.configs != nil {
		return
	}
	t.key, t.live, t.cost, t.err, t.warm, t.configs, t.of = key, nil, nil, nil, false, nil, nil
	if f := t.ctx.Opts.Cost; f != nil {
		t.fixed = true
		t.cost, t.err = f(levels)
		if t.err == nil && len(t.cost.Times) != len(levels) {
			t.cost, t.err = nil, fmt.Errorf("cost: %d times for %d levels", len(t.cost.Times), len(levels))
		}
		t.configs = []approx.Config{}
		if t.err == nil && len(levels) > 0 && levels[0].Config == "exact" {
			t.ctx.Bench.ExactTime = t.cost.Times[0]
		}
		return
	}
	a := t.ctx.Bench.Approx
	seen := map[string]int{}
	for i, text := range texts {
		cfg, err := deploy.ParseLevel(a, i, text)
		if err != nil {
			t.err = err
			return
		}
		norm := a.Text(cfg)
		j, ok := seen[norm]
		if !ok {
			j = len(t.configs)
			seen[norm] = j
			t.configs = append(t.configs, cfg)
		}
		t.of = append(t.of, j)
	}
	t.live = measure.NewLive(len(t.configs), 0, 0)
}

// setActive starts (the screen is shown) or stops the rounds.
func (t *levelTimer) setActive(on bool) tea.Cmd {
	t.active = on
	return t.kick()
}

// kick starts a round unless one is in flight.
func (t *levelTimer) kick() tea.Cmd {
	if t.fixed || t.busy || !t.active || len(t.configs) == 0 || t.err != nil {
		return nil
	}
	t.busy = true
	v, cfgs, key, bs, warm := t.ctx.Bench.view(), t.configs, t.key, t.bench, t.warm
	if f := t.timeRound; f != nil {
		return t.ctx.Job(t.to, func(context.Context) tea.Msg { return timingMsg{key: key, totals: f(cfgs, timingRuns)} })
	}
	return t.ctx.Job(t.to, func(ctx context.Context) tea.Msg { return timeRound(ctx, &v, bs, cfgs, key, warm) })
}

// timeRound times one round of cfgs interleaved.
func timeRound(ctx context.Context, v *benchView, bs *benchSession, cfgs []approx.Config, key string, warm bool) timingMsg {
	res := timingMsg{key: key}
	sels := make([]engine.Selector, len(cfgs))
	for i, c := range cfgs {
		if sels[i], res.err = v.selector(c); res.err != nil {
			return res
		}
	}
	o := measure.Options{Warmup: 1, Runs: timingRuns}
	if !warm {
		o.Warmup, o.WarmupTime = 5, 200*time.Millisecond
	}
	r, err := bs.compare(ctx, v.model, o, sels...)
	if res.err = err; err != nil {
		return res
	}
	for _, x := range r {
		res.totals = append(res.totals, x.Total)
	}
	return res
}

// handle takes a round's result and returns the next round's command
// and whether the figures changed.
func (t *levelTimer) handle(m timingMsg) (tea.Cmd, bool) {
	t.busy = false
	switch {
	case errors.Is(m.err, context.Canceled):
		return nil, false
	case m.err == nil && m.key == t.key && t.live != nil:
		m.err = t.live.Add(m.totals)
	}
	switch {
	case m.err != nil:
		t.err = m.err
		return t.ctx.ShowError(fmt.Errorf("timing: %w", m.err)), true
	case m.key != t.key:
		return t.kick(), false // another list now: time it at once
	case t.live == nil:
		return nil, false
	}
	t.warm = true
	// once stable the figures stay shown (and the replay charged), each
	// round's medians replacing the last
	if t.cost != nil || t.live.Stable() {
		t.cost = &deploy.LevelCost{Source: "medians"}
		med := t.live.Medians()
		for _, j := range t.of {
			t.cost.Times = append(t.cost.Times, med[j])
		}
		if b := t.ctx.Bench; len(t.of) > 0 && t.configs[t.of[0]].IsExact() {
			b.ExactTime = med[t.of[0]]
		}
	}
	var next tea.Cmd
	if t.active {
		next = t.ctx.After(t.to, timingPause, timingTick{})
	}
	return next, true
}

// runs returns the number of runs of each level kept so far.
func (t *levelTimer) runs() int {
	if t.live == nil {
		return 0
	}
	return t.live.Runs()
}

// timing is one level's figure: the median time, the spread of the runs
// (interquartile range over the median; NaN for a fixed cost) and their
// number (0 for a fixed cost).
type timing struct {
	median time.Duration
	spread float64
	n      int
}

// figure returns level i's timing; ok is false while it is measured.
func (t *levelTimer) figure(i int) (tm timing, ok bool) {
	if t.cost == nil || i >= len(t.cost.Times) {
		return timing{}, false
	}
	if t.fixed {
		return timing{median: t.cost.Times[i], spread: math.NaN()}, true
	}
	s := t.live.Summary(t.of[i])
	return timing{median: s.Median, spread: s.Spread(), n: s.N}, true
}

// estimate returns a figure f of the levels' times together (f is given
// the time of every level, in order), with its interval: exact for a
// fixed cost, else from the runs timed together (measure.Live.Paired).
// ok is false while the levels are measured.
func (t *levelTimer) estimate(f func(times []time.Duration) float64) (e measure.Estimate, ok bool) {
	if t.cost == nil {
		return measure.Estimate{}, false
	}
	if t.fixed {
		return measure.ExactEstimate(f(t.cost.Times)), true
	}
	lv := make([]time.Duration, len(t.of))
	return t.live.Paired(func(times []time.Duration) float64 {
		for i, j := range t.of {
			lv[i] = times[j]
		}
		return f(lv)
	}), true
}

// status says where the figures come from, or how far the measuring is.
func (t *levelTimer) status() string {
	switch {
	case t.err != nil:
		return "not timed: " + t.err.Error()
	case t.fixed:
		return "fixed cost (" + t.cost.Source + ")"
	case t.cost == nil && t.live != nil && t.runs() >= t.live.Enough():
		return fmt.Sprintf("measuring… %d interleaved runs, medians not yet known to ±%.0f%%", t.runs(), 100*measure.StableWidth)
	case t.cost == nil:
		n := 0
		if t.live != nil {
			n = t.live.Enough()
		}
		return fmt.Sprintf("measuring… %d/%d interleaved runs", t.runs(), n)
	}
	return fmt.Sprintf("medians of %d interleaved runs ±IQR/2; ratios ±95%% interval", t.runs())
}

// fmtTiming formats a timing: "103 µs ±2.1%".
func fmtTiming(tm timing) string {
	s := fmtTime(float64(tm.median))
	if !math.IsNaN(tm.spread) {
		s += fmt.Sprintf(" ±%.0f%%", 100*tm.spread/2)
	}
	return s
}

// benchSession is an engine session and the inputs to time on, made on
// first use, for one job at a time (the one in flight of a timer or a
// screen).
type benchSession struct {
	cpu    *sync.Mutex // Context.cpu
	sess   *engine.Session
	inputs [][]*engine.Tensor
}

// compare times sels on m as kagen bench does (measure.Inference.Compare
// on benchInputs), while no other inference of the workbench runs.
func (b *benchSession) compare(ctx context.Context, m *engine.Model, o measure.Options, sels ...engine.Selector) ([]measure.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if b.sess == nil {
		b.sess, b.inputs = m.NewSession(), benchInputs(m)
	}
	b.cpu.Lock()
	defer b.cpu.Unlock()
	return (&measure.Inference{Session: b.sess, Inputs: b.inputs}).Compare(o, sels...)
}

// benchInputs are the inputs every timing runs on: kagen bench's
// (measure.RandomInputs, seed 1), so that the live figures are the ones
// kagen bench --config gives. Some kernels' times depend on the data, so
// timing the trace's own windows would give figures kagen bench cannot
// reproduce.
func benchInputs(m *engine.Model) [][]*engine.Tensor {
	return [][]*engine.Tensor{measure.RandomInputs(m, 1)}
}
