package tui

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/guptarohit/asciigraph"

	"github.com/kagen-ai/kagen/deploy"
	"github.com/kagen-ai/kagen/device"
	"github.com/kagen-ai/kagen/measure"
	"github.com/kagen-ai/kagen/policy"
)

// Replay speeds.
const (
	speed1x = iota
	speed10x
	speedMax
	numSpeeds
)

var speedNames = [numSpeeds]string{"1x", "10x", "max"}

// replayScreen replays the traces under a controller that picks the level
// of every inference, beside the exact run (a deploy.Replayer, the loop
// of `kagen replay`), with live curves, the decision log and the
// controller's parameters. Every inference is charged its level's median
// time from interleaved runs timed in the background (levelTimer, given
// to the replayer as a deploy.LevelCost), or Options.Cost; the time
// measured per window is drawn apart, as what it is.
type replayScreen struct {
	ctx  *Context
	w, h int
	keys replayKeys

	playing, focused bool
	ended            bool // the traces ended (Options.ReplayOnce)
	speed            int
	tick             int // the one pending tick that may start a batch
	stream           stream
	timer            *levelTimer
	dev              *device.Profile

	// the policy replayed and its levels
	levels  []policy.Level
	tuned   bool
	ctrlErr error
	// report is the replayer's report since the policy last changed
	// (nil after a change, until the next batch)
	report *deploy.Report

	// what the screen shows
	acc, measured, lvl, conf series
	accRoll                  rolling
	log                      []policy.Decision
	allDecisions             bool
	logOff                   int // lines scrolled back from the newest
	windows                  int64
	lastTime                 float64
	level                    int // the controller's level for the next window
	paramSel                 int
}

type replayKeys struct {
	Play, Step, Speed, Ctrl, CtrlBack, ParamPrev, ParamNext, Dec, Inc, All, Restart, LogUp, LogDown key.Binding
}

const (
	replayHistory = 600
	replayLogMax  = 2000
	replayRoll    = 20
)

func newReplayScreen(ctx *Context) *replayScreen {
	s := &replayScreen{ctx: ctx, speed: speed10x, stream: stream{ctx: ctx, to: ReplayScreen, once: ctx.Opts.ReplayOnce}, timer: newLevelTimer(ctx, ReplayScreen)}
	s.keys = replayKeys{
		Play:      bind("space", "play/pause", "space"),
		Step:      bind(".", "step one window", "."),
		Speed:     bind("s", "speed 1x/10x/max", "s"),
		Ctrl:      bind("c", "next controller", "c"),
		CtrlBack:  bind("C", "previous controller", "C"),
		ParamPrev: bind("[", "previous parameter", "["),
		ParamNext: bind("]", "next parameter", "]"),
		Dec:       bind("-", "parameter down", "-", "_"),
		Inc:       bind("+", "parameter up", "+", "="),
		All:       bind("a", "all decisions/switches", "a"),
		Restart:   bind("r", "restart", "r"),
		LogUp:     bind("↑/pgup", "scroll log", "up", "pgup", "k"),
		LogDown:   bind("↓/pgdn", "scroll log", "down", "pgdown", "j"),
	}
	s.reset()
	return s
}

func (s *replayScreen) ID() ScreenID     { return ReplayScreen }
func (s *replayScreen) Title() string    { return "Replay" }
func (s *replayScreen) Init() tea.Cmd    { return nil }
func (s *replayScreen) Capturing() bool  { return false }
func (s *replayScreen) SetSize(w, h int) { s.w, s.h = w, h }

func (s *replayScreen) Keys() help.KeyMap {
	k := s.keys
	return keyMap{
		short: []key.Binding{k.Play, k.Speed, k.Ctrl, helpOnly("[/]", "parameter"), helpOnly("-/+", "value"), k.Step},
		full:  [][]key.Binding{{k.Play, k.Step, k.Speed, k.Restart}, {k.Ctrl, k.CtrlBack, k.ParamPrev, k.ParamNext, k.Dec, k.Inc}, {k.All, k.LogUp, k.LogDown}},
	}
}

func (s *replayScreen) Focus() tea.Cmd {
	s.focused = true
	if s.stream.want.pol == nil && s.ctrlErr == nil {
		s.rebuild()
	}
	return tea.Batch(s.kick(false), s.timer.setActive(true))
}

func (s *replayScreen) Blur() {
	s.focused = false
	s.timer.setActive(false)
}

// reset clears the stream's figures.
func (s *replayScreen) reset() {
	s.acc, s.measured = series{max: replayHistory}, series{max: replayHistory}
	s.lvl, s.conf = series{max: replayHistory}, series{max: replayHistory}
	s.accRoll = newRolling(replayRoll)
	s.log, s.logOff, s.windows, s.report = nil, 0, 0, nil
}

// rebuild makes the Bench's policy, device and the level cost what the
// replayer plays from the next batch on; the stream goes on where it is,
// from the controller's start level.
func (s *replayScreen) rebuild() {
	b := s.ctx.Bench
	s.ctrlErr = nil
	if !b.Ready() {
		return
	}
	s.dev = b.deviceCopy(s.dev)
	pol, err := buildPolicy(b)
	_, s.tuned = b.Levels()
	if s.ctrlErr = err; err != nil {
		s.levels = nil
		return
	}
	s.levels = pol.Levels
	s.level = 0
	if c, err := policy.NewController(pol); err == nil {
		s.level = c.Start()
	}
	s.timer.set(pol.Levels)
	s.stream.set(streamSetup{pol: pol, device: s.dev, cost: s.timer.cost})
	s.report = nil
	s.paramSel = clampInt(s.paramSel, 0, max(0, len(editorParams(b.Controller))-1))
}

// pace returns the pause before the next batch and the windows per batch.
func (s *replayScreen) pace() (time.Duration, int) {
	hop := time.Duration(s.ctx.Bench.Hop() * float64(time.Second))
	switch s.speed {
	case speed1x:
		return hop, 1
	case speed10x:
		p := hop / 10
		n := 1
		for p*time.Duration(n) < 50*time.Millisecond {
			n++
		}
		return p * time.Duration(n), n
	}
	return 0, s.ctx.Opts.Batch
}

type replayTick struct{ seq int }

// kick starts a batch when playing (or one window when step is set), once
// the levels' costs are known.
func (s *replayScreen) kick(step bool) tea.Cmd {
	if !s.focused || (!s.playing && !step) || s.ctrlErr != nil || s.timer.cost == nil {
		return nil
	}
	_, n := s.pace()
	budget := s.ctx.Opts.BatchBudget
	if step {
		n, budget = 1, 0
	} else if s.speed != speedMax {
		budget = 0
	}
	return s.stream.batch(n, budget)
}

func (s *replayScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case streamBatch:
		s.stream.done(msg)
		s.apply(msg.events)
		if msg.report != nil && msg.setup.pol == s.stream.want.pol {
			s.report = msg.report
			s.ctx.replayReport.Store(msg.report)
		}
		switch {
		case msg.setupErr:
			s.playing, s.ctrlErr = false, msg.err
			return nil
		case msg.err != nil && !errors.Is(msg.err, context.Canceled):
			s.playing = false
			return s.ctx.ShowError(fmt.Errorf("replay: %w", msg.err))
		case msg.eof:
			s.playing, s.ended = false, true
		}
		if s.playing && s.focused {
			d, _ := s.pace()
			s.tick++
			return s.ctx.After(ReplayScreen, d, replayTick{s.tick})
		}
	case replayTick:
		if msg.seq == s.tick {
			return s.kick(false)
		}
	case timingMsg:
		cmd, changed := s.timer.handle(msg)
		if changed && s.timer.cost != nil {
			w := s.stream.want
			w.cost = s.timer.cost
			s.stream.set(w)
		}
		return tea.Batch(cmd, s.kick(false))
	case timingTick:
		return s.timer.kick()
	case benchChangedMsg:
		switch msg.what {
		case controllerChanged, paretoChanged, deviceChanged:
			s.rebuild()
		case configChanged:
			if !s.tuned {
				s.rebuild()
			}
		}
		return tea.Batch(s.kick(false), s.timer.kick())
	case tea.KeyPressMsg:
		return s.key(msg)
	case tea.MouseWheelMsg:
		switch msg.Button {
		case tea.MouseWheelUp:
			s.logOff++
		case tea.MouseWheelDown:
			s.logOff = max(0, s.logOff-1)
		}
	}
	return nil
}

func (s *replayScreen) key(msg tea.KeyPressMsg) tea.Cmd {
	k := s.keys
	b := s.ctx.Bench
	switch {
	case key.Matches(msg, k.Play):
		s.playing = !s.playing
		if s.playing && s.ended {
			s.restart()
		}
		return s.kick(false)
	case key.Matches(msg, k.Step):
		s.playing = false
		if s.ended {
			s.restart()
		}
		return s.kick(true)
	case key.Matches(msg, k.Speed):
		s.speed = (s.speed + 1) % numSpeeds
	case key.Matches(msg, k.Ctrl), key.Matches(msg, k.CtrlBack):
		d := 1
		if key.Matches(msg, k.CtrlBack) {
			d = -1
		}
		c, err := nextController(b, d)
		if err != nil {
			return s.ctx.ShowError(err)
		}
		b.Controller = c
		b.Dirty = true
		s.paramSel = 0
		return s.ctx.Changed(controllerChanged)
	case key.Matches(msg, k.ParamNext), key.Matches(msg, k.ParamPrev):
		n := len(editorParams(b.Controller))
		d := 1
		if key.Matches(msg, k.ParamPrev) {
			d = n - 1
		}
		if n > 0 {
			s.paramSel = (s.paramSel + d) % n
		}
	case key.Matches(msg, k.Inc), key.Matches(msg, k.Dec):
		ps := editorParams(b.Controller)
		if s.paramSel < len(ps) {
			d := 1
			if key.Matches(msg, k.Dec) {
				d = -1
			}
			b.Controller = ps[s.paramSel].step(b.Controller, d, len(s.levels))
			b.Dirty = true
			return s.ctx.Changed(controllerChanged)
		}
	case key.Matches(msg, k.All):
		s.allDecisions = !s.allDecisions
		s.logOff = 0
	case key.Matches(msg, k.Restart):
		s.restart()
		return s.kick(false)
	case key.Matches(msg, k.LogUp):
		s.logOff++
	case key.Matches(msg, k.LogDown):
		s.logOff = max(0, s.logOff-1)
	}
	return nil
}

// restart starts the traces again with fresh figures.
func (s *replayScreen) restart() {
	s.stream.restart()
	s.ended = false
	s.reset()
	s.rebuild()
}

// apply adds a batch's windows: the controller's run (Runs[0]).
func (s *replayScreen) apply(events []deploy.Event) {
	for i := range events {
		ev := &events[i]
		r := &ev.Runs[0]
		s.windows++
		s.lastTime = ev.Time
		if ev.Label >= 0 {
			s.accRoll.add(b2f(r.Pred.Class == ev.Label))
		}
		acc := s.accRoll.mean()
		if !math.IsNaN(acc) {
			acc *= 100
		}
		s.acc.add(acc)
		d := r.Measured
		if f := s.ctx.Opts.measured; f != nil {
			d = f(&r.Inference)
		}
		s.measured.add(measure.US(d))
		s.lvl.add(float64(r.Level))
		s.conf.add(float64(r.Pred.Confidence))
		s.level = r.Decision.To
		s.log = append(s.log, r.Decision)
		if len(s.log) >= 2*replayLogMax { // amortised: compact now and then
			n := copy(s.log, s.log[len(s.log)-replayLogMax:])
			clear(s.log[n:])
			s.log = s.log[:n]
		}
	}
}

func (s *replayScreen) View() string {
	st := s.ctx.Styles
	b := s.ctx.Bench
	if !b.Ready() {
		return fit(st.Dim.Render("No model loaded (see the error panel)."), s.w, s.h)
	}
	var lines []string
	state := st.Warn.Render("⏸ paused")
	switch {
	case s.ended:
		state = st.Warn.Render("■ end of traces")
	case s.playing && s.timer.cost == nil && s.ctrlErr == nil:
		state = st.Warn.Render("⏳ measuring level costs")
	case s.playing:
		state = st.Good.Render("▶ playing")
	}
	head := fmt.Sprintf("%s %s · window %d · %s", state, speedNames[s.speed], s.windows, fmtSeconds(s.lastTime))
	if len(s.levels) > 0 {
		head += fmt.Sprintf(" · level %d of 0-%d", s.level, len(s.levels)-1)
		if !s.tuned {
			head += st.Warn.Render(" (untuned: exact + Knobs config)")
		}
	}
	lines = append(lines, wrapText(head, s.w)...)
	// the controller's name and what it does; its parameters, formatted
	// with their units, are on the next line
	ctrl := b.Controller.Name
	if info := policy.Lookup(ctrl); info != nil {
		ctrl += st.Dim.Render(" · " + info.Doc)
	}
	lines = append(lines, st.Header.Render("controller ")+cut(ctrl, s.w-11))
	lines = append(lines, s.paramLine())
	if s.ctrlErr != nil {
		lines = append(lines, st.Bad.Render(cut("controller: "+s.ctrlErr.Error(), s.w)))
	}
	for _, l := range append(wrapText(s.summary(), s.w), wrapText(s.costLine(), s.w)...) {
		lines = append(lines, st.Dim.Render(l))
	}

	// charts: 2 x 2
	logMin := 4
	avail := s.h - len(lines) - 1 - logMin
	chartH := clampInt(avail/2, 2, 9)
	colW := s.w / 2
	n := max(8, colW-12)
	hist := func(v []float64) []float64 {
		if len(v) > n {
			return v[len(v)-n:]
		}
		return v
	}
	maxLevel := float64(max(1, len(s.levels)-1))
	top := joinCols(
		chart(st, fmt.Sprintf("accuracy, rolling %d (%%)", replayRoll), hist(s.acc.get()), chartH, colW, 0, 100, 0),
		chart(st, "µs measured per window (not charged)", hist(s.measured.get()), chartH, s.w-colW, math.NaN(), math.NaN(), 1), colW)
	bottom := joinCols(
		chartRows(st, "approximation level", hist(s.lvl.get()), chartH, colW, 0, maxLevel, 0, int(maxLevel)),
		chart(st, "confidence", hist(s.conf.get()), chartH, s.w-colW, 0, 1, 2), colW)
	lines = append(lines, top...)
	lines = append(lines, bottom...)

	// decision log
	logH := s.h - len(lines) - 1
	what := "switches"
	if s.allDecisions {
		what = "all decisions"
	}
	lines = append(lines, st.Header.Render("Decision log ")+st.Dim.Render("("+what+", newest last; a toggles, ↑/↓ scroll)"))
	lines = append(lines, s.logLines(logH)...)
	return fit(strings.Join(lines, "\n"), s.w, s.h)
}

// summary is the replayer's report since the last change: the controller
// against the exact run, both charged the levels' costs, so that the
// energy is compared like for like; its change comes with its interval
// (the levels' runs timed together, weighted by the windows the
// controller spent at each) and shows as ~0% within it.
func (s *replayScreen) summary() string {
	r := s.report
	if r == nil {
		return "accuracy - · energy per inference - · switches -"
	}
	acc, exact := math.NaN(), math.NaN()
	if r.Labelled > 0 {
		acc, exact = r.Accuracy, r.ExactAccuracy
	}
	return fmt.Sprintf("accuracy %s (exact %s) · %s/inference (%s vs exact) · %d switches · %d windows",
		pct(acc), pct(exact), fmtEnergy(r.MeanInferenceEnergyJ), s.vsExact(r), r.Switches, r.Windows)
}

// vsExact is the controller's inference energy relative to the exact
// run's: the levels' times weighted by the windows spent at each, over
// exact's, with its interval ("measuring…" while the levels are).
func (s *replayScreen) vsExact(r *deploy.Report) string {
	if len(r.Levels) != len(s.levels) || r.Windows == 0 {
		return "-"
	}
	e, ok := s.timer.estimate(func(t []time.Duration) float64 {
		var sum float64
		for i, l := range r.Levels {
			sum += l.Fraction * float64(t[i])
		}
		return sum / float64(t[0])
	})
	if !ok {
		return "measuring…"
	}
	return e.Change()
}

// costLine shows what each level is charged, and where it comes from.
func (s *replayScreen) costLine() string {
	parts := []string{"cost per level:"}
	for i := range s.levels {
		if tm, ok := s.timer.figure(i); ok {
			parts = append(parts, fmt.Sprintf("%d %s", i, fmtTiming(tm)))
		}
	}
	return strings.Join(parts, " ") + " · " + s.timer.status()
}

func (s *replayScreen) paramLine() string {
	st := s.ctx.Styles
	p := s.ctx.Bench.Controller
	parts := []string{st.Dim.Render("params")}
	for i, e := range editorParams(p) {
		t := e.label() + " " + e.value(p)
		if i == s.paramSel {
			t = st.Selected.Render("[" + t + "]")
		}
		parts = append(parts, t)
	}
	return strings.Join(parts, "  ")
}

func (s *replayScreen) logLines(h int) []string {
	if h <= 0 {
		return nil
	}
	st := s.ctx.Styles
	// the newest h+logOff decisions shown, scanning back from the end
	var sel []policy.Decision
	for i := len(s.log) - 1; i >= 0 && len(sel) < h+s.logOff; i-- {
		if d := s.log[i]; s.allDecisions || d.From != d.To {
			sel = append(sel, d)
		}
	}
	slices.Reverse(sel)
	if len(sel) == 0 {
		return []string{st.Dim.Render("  no switch yet")}
	}
	s.logOff = clampInt(s.logOff, 0, max(0, len(sel)-h))
	end := len(sel) - s.logOff
	start := max(0, end-h)
	var out []string
	classes := s.ctx.Bench.Spec.Classes
	for _, d := range sel[start:end] {
		arrow := fmt.Sprintf("%d→%d", d.From, d.To)
		switch {
		case d.To > d.From:
			arrow = st.Accent.Render(arrow)
		case d.To < d.From:
			arrow = st.Warn.Render(arrow)
		}
		cls := "?"
		if d.Class >= 0 && d.Class < len(classes) {
			cls = classes[d.Class]
		}
		out = append(out, fmt.Sprintf("%7s %s %s %s", fmtSeconds(d.Time), arrow, d.Rule,
			st.Dim.Render(fmt.Sprintf("· #%d %s %.2f", d.Index, cut(cls, 12), d.Confidence))))
	}
	return out
}

// chart plots a curve with a caption in a w x h block (h includes the
// caption). lo and hi bound the axis (NaN: from the data).
func chart(st *Styles, caption string, vals []float64, h, w int, lo, hi float64, prec uint) []string {
	return chartRows(st, caption, vals, h, w, lo, hi, prec, 0)
}

// chartRows is chart with at most rows+1 plot rows (rows > 0), so that an
// integer curve such as the level gets one row per value.
func chartRows(st *Styles, caption string, vals []float64, h, w int, lo, hi float64, prec uint, rows int) []string {
	lines := []string{st.Dim.Render(cut(caption, w-1))}
	ok := 0
	for _, v := range vals {
		if !math.IsNaN(v) {
			ok++
		}
	}
	if ok == 0 {
		lines = append(lines, st.Dim.Render("  (no data yet)"))
	} else {
		ph := max(1, h-2)
		if rows > 0 {
			ph = min(ph, rows)
		} else if !math.IsNaN(lo) && !math.IsNaN(hi) {
			ph = niceHeight(ph)
		}
		opts := []asciigraph.Option{asciigraph.Height(ph), asciigraph.Width(max(4, w-12)), asciigraph.Precision(prec)}
		if !math.IsNaN(lo) {
			opts = append(opts, asciigraph.LowerBound(lo))
		}
		if !math.IsNaN(hi) {
			opts = append(opts, asciigraph.UpperBound(hi))
		}
		if len(vals) == 1 {
			vals = []float64{vals[0], vals[0]}
		}
		lines = append(lines, strings.Split(asciigraph.Plot(vals, opts...), "\n")...)
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	for i := range lines {
		lines[i] = pad(lines[i], w-1)
	}
	return lines[:h]
}

// niceHeight is the most plot rows up to h (asciigraph's height: rows
// less one) that divide a fixed axis into round steps: 10, 5, 4, 2 or 1
// (0-100% in steps of 10, 20, 25, 50).
func niceHeight(h int) int {
	for _, n := range []int{10, 5, 4, 2} {
		if n <= h {
			return n
		}
	}
	return 1
}

// joinCols puts two blocks of lines side by side, the first w wide.
func joinCols(a, b []string, w int) []string {
	out := make([]string, max(len(a), len(b)))
	for i := range out {
		var l, r string
		if i < len(a) {
			l = a[i]
		}
		if i < len(b) {
			r = b[i]
		}
		out[i] = pad(l, w) + r
	}
	return out
}
