package tui

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/kagen-ai/kagen/approx"
	"github.com/kagen-ai/kagen/deploy"
	"github.com/kagen-ai/kagen/device"
	"github.com/kagen-ai/kagen/policy"
	"github.com/kagen-ai/kagen/profile"
	"github.com/kagen-ai/kagen/tuning"
)

// fakeClock is a manual clock: Tick commands wait until Advance moves the
// time past them. A fired tick counts as work in flight until the router
// has handled it, so that a barrier after Advance waits for it.
type fakeClock struct {
	mu       sync.Mutex
	now      time.Time
	timers   []*fakeTimer
	inflight *atomic.Int64
}

type fakeTimer struct {
	at time.Time
	ch chan struct{}
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) counts() bool { return true }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Tick registers the timer when it is called (in Update), not when the
// command runs, so that an Advance right after a barrier sees it.
func (c *fakeClock) Tick(d time.Duration, fn func(time.Time) tea.Msg) tea.Cmd {
	c.mu.Lock()
	t := &fakeTimer{at: c.now.Add(d), ch: make(chan struct{})}
	c.timers = append(c.timers, t)
	c.mu.Unlock()
	return func() tea.Msg {
		<-t.ch
		return fn(t.at)
	}
}

// Advance moves the time by d and fires the timers due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	keep := c.timers[:0]
	for _, t := range c.timers {
		if t.at.After(c.now) {
			keep = append(keep, t)
			continue
		}
		c.inflight.Add(1)
		close(t.ch)
	}
	c.timers = keep
}

// modelSteps is a model of the step times of an inference under cfg: 200
// ns plus 1 ns per MAC, divided by the knob's ideal speedup; views cost
// nothing.
func modelSteps(a *approx.Approximator, cfg approx.Config) []float64 {
	steps := make([]float64, len(a.Nodes()))
	for _, n := range a.Nodes() {
		if n.View {
			continue
		}
		steps[n.Step] = math.Round((200 + float64(n.MACs)) / cfg.Knob(n.Step).IdealSpeedup())
	}
	return steps
}

// modelCost is an Options.Cost of the modelled step times.
func modelCost(a *approx.Approximator) func([]policy.Level) (*deploy.LevelCost, error) {
	return func(levels []policy.Level) (*deploy.LevelCost, error) {
		c := &deploy.LevelCost{Source: "model"}
		for i, l := range levels {
			cfg, err := deploy.ParseLevel(a, i, l.Config)
			if err != nil {
				return nil, err
			}
			var ns float64
			for _, t := range modelSteps(a, cfg) {
				ns += t
			}
			c.Times = append(c.Times, time.Duration(ns))
		}
		return c, nil
	}
}

// fakeTuner returns a fixed Pareto set of the fixture model, reporting
// progress on the way.
type fakeTuner struct{}

func (fakeTuner) Tune(ctx context.Context, b *Bench, s tuning.Settings, progress func(tuning.Progress)) (*TuneOutcome, error) {
	for i := 0; i <= 4; i++ {
		progress(tuning.Progress{Phase: "profile", Done: i, Total: 4})
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	e := func(us float64) float64 { return s.Device.InferenceEnergy(time.Duration(us * 1e3)) }
	stats := func(c, w float64) policy.ConfidenceStats {
		n := len(b.Spec.Classes)
		cs := policy.ConfidenceStats{}
		for k := 0; k < n; k++ {
			cs.CorrectMean = append(cs.CorrectMean, c)
			cs.WrongMean = append(cs.WrongMean, w)
			cs.CorrectN = append(cs.CorrectN, 10)
			cs.WrongN = append(cs.WrongN, 5)
		}
		return cs
	}
	level1, level2 := "Conv_0=samp:2:1", "Conv_0=samp:2:1,Gemm_4=red:0.5"
	others := []string{"Conv_0=perf-row:2:0", "Conv_0=samp:3:0"}
	if _, err := b.Approx.Parse(level1); err != nil { // not the fixture: a demo
		level1, level2, others = demoConfigs(b)
	}
	par := &policy.Pareto{Version: policy.ParetoVersion, ModelSHA256: b.Model.SHA256(),
		Device: device.Fingerprint{GOOS: "linux", GOARCH: "amd64", CPU: "test", Features: []string{}, Kagen: device.KagenVersion},
		Meter:  s.Device.Name + " (modelled)", Objective: s.Objective, ExactAccuracy: 0.8, Classes: b.Spec.Classes, MaxLossPP: s.MaxLossPP,
		Configs: []policy.Level{
			{Level: 0, Config: "exact", Speedup: 1, Accuracy: 0.8, TimeUS: 9.5, EnergyJ: e(9.5), Confidence: stats(0.8, 0.5)},
			{Level: 1, Config: level1, Speedup: 1.6, QoSLossPP: 0.5, PredictedLossPP: 0.4, Accuracy: 0.795, TimeUS: 5.9, EnergyJ: e(5.9), Confidence: stats(0.75, 0.5)},
			{Level: 2, Config: level2, Speedup: 1.9, QoSLossPP: 2, PredictedLossPP: 1.5, Accuracy: 0.78, TimeUS: 5, EnergyJ: e(5), Confidence: stats(0.7, 0.5)},
		}}
	validated := []profile.Candidate{
		{Config: others[0], Speedup: 1.3, LossPP: 3, Accuracy: 0.77, TimeUS: 7.3, EnergyJ: e(7.3)},
		{Config: others[1], Speedup: 1.4, LossPP: 1.2, Accuracy: 0.788, TimeUS: 6.8, EnergyJ: e(6.8)},
		{Config: level1, Speedup: 1.6, LossPP: 0.5, Accuracy: 0.795, TimeUS: 5.9, EnergyJ: e(5.9)},
	}
	return &TuneOutcome{Pareto: par, Validated: validated}, nil
}

// demoConfigs are configurations of any model for the fake tuner: the
// layer with the most MACs at the middle of its knobs (level 1), and with
// the second such layer at a third of its (level 2); others are two more
// of the first layer's knobs.
func demoConfigs(b *Bench) (level1, level2 string, others []string) {
	a := b.Approx
	var steps []int
	for _, n := range b.Nodes {
		if !n.View && len(a.Applicable(n.Step)) > 2 {
			steps = append(steps, n.Step)
		}
	}
	sort.SliceStable(steps, func(i, j int) bool { return b.Nodes[steps[i]].MACs > b.Nodes[steps[j]].MACs })
	ka, kb := a.Applicable(steps[0]), a.Applicable(steps[1])
	c1 := a.NewConfig().With(steps[0], ka[len(ka)/2])
	c2 := c1.With(steps[1], kb[len(kb)/3])
	others = []string{a.Text(a.NewConfig().With(steps[0], ka[1])), a.Text(a.NewConfig().With(steps[0], ka[2]))}
	return a.Text(c1), a.Text(c2), others
}

// fixture is the source of the golden tests: a copy of the placeholder
// demo model and one trace, so that the goldens do not follow the demo.
func fixture() Source {
	return FileSource("testdata/har.onnx", []string{"testdata/har/s18_02_sp.csv"})
}

// harness runs the workbench under teatest with a fake clock, modelled
// costs and step times (unless opts has a Cost) and the fake tuner.
type harness struct {
	t     *testing.T
	tm    *teatest.TestModel
	app   *App
	clock *fakeClock
}

func newHarness(t *testing.T, src Source, w, h int, opts Options) *harness {
	t.Helper()
	return startHarness(t, src, w, h, opts, true)
}

// newTimedHarness is newHarness with the times measured in the
// background, as the workbench runs: no model of them.
func newTimedHarness(t *testing.T, src Source, w, h int, opts Options) *harness {
	t.Helper()
	return startHarness(t, src, w, h, opts, false)
}

func startHarness(t *testing.T, src Source, w, h int, opts Options, modelled bool) *harness {
	t.Helper()
	clk := newFakeClock()
	if opts.Clock == nil {
		opts.Clock = clk
	}
	if opts.Tuner == nil {
		opts.Tuner = fakeTuner{}
	}
	if opts.Batch == 0 {
		opts.Batch = 8
	}
	if opts.PolicyPath == "" {
		opts.PolicyPath = "policy.json"
	}
	app := New(src, opts)
	if modelled && opts.Cost == nil && app.ctx.Bench.Ready() {
		app.ctx.Opts.Cost = modelCost(app.ctx.Bench.Approx)
		app.ctx.Opts.stepTimes = modelSteps
		app.ctx.Opts.measured = func(inf *deploy.Inference) time.Duration { return inf.Busy }
	}
	clk.inflight = &app.ctx.inflight
	tm := teatest.NewTestModel(t, app, teatest.WithInitialTermSize(w, h))
	hs := &harness{t: t, tm: tm, app: app, clock: clk}
	t.Cleanup(func() {
		app.Close()
		tm.Quit()
		tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	})
	return hs
}

// press sends keys (names as tea prints them: "right", "space", "q"),
// settling after each so that the session is the same on every run.
func (h *harness) press(keys ...string) string {
	h.t.Helper()
	var v string
	for _, k := range keys {
		h.tm.Send(keyMsg(k))
		v = h.settle()
	}
	return v
}

func keyMsg(k string) tea.KeyPressMsg {
	switch k {
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "left":
		return tea.KeyPressMsg{Code: tea.KeyLeft}
	case "right":
		return tea.KeyPressMsg{Code: tea.KeyRight}
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	}
	r := []rune(k)
	if len(r) != 1 {
		panic("key " + k)
	}
	return tea.KeyPressMsg{Code: r[0], Text: k}
}

// settle waits until every job and fired tick has been handled and
// returns the screen as plain text.
func (h *harness) settle() string {
	h.t.Helper()
	return h.settleWithin(20 * time.Second)
}

func (h *harness) settleWithin(d time.Duration) string {
	h.t.Helper()
	reply := make(chan string, 1)
	h.tm.Send(barrierMsg{reply: reply})
	select {
	case v := <-reply:
		return ansi.Strip(v)
	case <-time.After(d):
		h.t.Fatalf("the workbench did not settle within %s", d)
		return ""
	}
}

// advance moves the fake clock and settles, n times.
func (h *harness) advance(d time.Duration, n int) string {
	var v string
	for i := 0; i < n; i++ {
		h.clock.Advance(d)
		v = h.settle()
	}
	return v
}

// checkSize fails when the screen is not exactly w x h cells.
func checkSize(t *testing.T, view string, w, h int) {
	t.Helper()
	lines := strings.Split(view, "\n")
	if len(lines) != h {
		t.Errorf("view has %d lines, want %d", len(lines), h)
	}
	for i, l := range lines {
		if n := ansi.StringWidth(l); n > w {
			t.Errorf("line %d is %d cells wide, more than %d: %q", i, n, w, l)
		}
	}
}

func sizeName(w, h int) string { return fmt.Sprintf("%dx%d", w, h) }
