package tui

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/charmbracelet/x/ansi"
	"github.com/guptarohit/asciigraph"

	"github.com/kagen-ai/kagen/approx"
	"github.com/kagen-ai/kagen/deploy"
	"github.com/kagen-ai/kagen/device"
	"github.com/kagen-ai/kagen/replay"
)

// knobsScreen slides each layer's knob over its applicable knobs while the
// traces replay continuously, every window run exactly and with the
// current configuration (a deploy.Replayer of the two, the static
// controller on the configuration), and shows accuracy per window and
// latency and energy against exact from the medians of interleaved runs
// timed in the background (levelTimer).
type knobsScreen struct {
	ctx  *Context
	w, h int
	keys knobsKeys

	layers []knobLayer
	cur    int
	top    int

	// live replay
	live, focused bool
	tick          int // the one pending tick that may start a batch
	stream        stream
	timer         *levelTimer
	dev           *device.Profile
	polErr        error
	st            knobStats
	last          replay.Window
	rowY0         int // screen row of the first layer row (mouse)
}

type knobLayer struct {
	step     int
	name, op string
	macs     int64
	knobs    []approx.Knob
}

type knobsKeys struct {
	Up, Down, Left, Right, Exact, AllExact, Pause, Reset key.Binding
}

// knobStats are the live accuracy figures since the configuration last
// changed.
type knobStats struct {
	windows                  int
	exactAcc, approxAcc      rolling // correct (1/0) over labelled windows
	agree                    rolling
	sinceExact, sinceApprox  tally
	sinceAgree               tally
	diff                     series // rolling accuracy difference, one point per batch
	exactCurve, approxCurve  series // rolling accuracy, one point per labelled window
	labelledSeen, unlabelled int
}

const knobsRoll = 64

func newKnobStats() knobStats {
	return knobStats{exactAcc: newRolling(knobsRoll), approxAcc: newRolling(knobsRoll), agree: newRolling(knobsRoll),
		diff: series{max: 200}, exactCurve: series{max: 400}, approxCurve: series{max: 400}}
}

func newKnobsScreen(ctx *Context) *knobsScreen {
	s := &knobsScreen{ctx: ctx, live: true, st: newKnobStats(), stream: stream{ctx: ctx, to: KnobsScreen}, timer: newLevelTimer(ctx, KnobsScreen)}
	s.keys = knobsKeys{
		Up:       bind("↑/k", "layer up", "up", "k"),
		Down:     bind("↓/j", "layer down", "down", "j"),
		Left:     bind("←/h", "knob left", "left", "h"),
		Right:    bind("→/l", "knob right", "right", "l"),
		Exact:    bind("x", "layer exact", "x"),
		AllExact: bind("X", "all exact", "X"),
		Pause:    bind("space", "pause/run replay", "space"),
		Reset:    bind("r", "reset figures", "r"),
	}
	b := ctx.Bench
	if b.Ready() {
		for i, n := range b.Nodes {
			if n.View {
				continue
			}
			ks := b.Approx.Applicable(n.Step)
			if len(ks) < 2 {
				continue
			}
			s.layers = append(s.layers, knobLayer{step: n.Step, name: b.Short[i], op: b.Ops[i], macs: n.MACs, knobs: ks})
		}
	}
	return s
}

func (s *knobsScreen) ID() ScreenID  { return KnobsScreen }
func (s *knobsScreen) Title() string { return "Knobs" }
func (s *knobsScreen) Init() tea.Cmd { return nil }
func (s *knobsScreen) Capturing() bool {
	return false
}

func (s *knobsScreen) SetSize(w, h int) { s.w, s.h = w, h }

func (s *knobsScreen) Keys() help.KeyMap {
	k := s.keys
	return keyMap{
		short: []key.Binding{helpOnly("←/→", "knob"), helpOnly("↑/↓", "layer"), k.Exact, k.Pause, k.AllExact},
		full:  [][]key.Binding{{k.Up, k.Down, k.Left, k.Right}, {k.Exact, k.AllExact, k.Pause, k.Reset}},
	}
}

func (s *knobsScreen) Focus() tea.Cmd {
	s.focused = true
	if s.stream.want.pol == nil && s.polErr == nil {
		s.sync()
	}
	return tea.Batch(s.kick(), s.timer.setActive(true))
}

func (s *knobsScreen) Blur() {
	s.focused = false
	s.timer.setActive(false)
}

// sync makes the Bench's configuration and device what the replay plays
// and the timer times.
func (s *knobsScreen) sync() {
	b := s.ctx.Bench
	if !b.Ready() {
		return
	}
	s.dev = b.deviceCopy(s.dev)
	pol, err := knobsPolicy(b)
	if s.polErr = err; err != nil {
		return
	}
	s.stream.set(streamSetup{pol: pol, device: s.dev})
	s.timer.set(pol.Levels)
}

// kick starts a batch if the replay should run and none is in flight.
func (s *knobsScreen) kick() tea.Cmd {
	if !s.live || !s.focused {
		return nil
	}
	return s.stream.batch(s.ctx.Opts.Batch, s.ctx.Opts.BatchBudget)
}

type knobsTick struct{ seq int }

func (s *knobsScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case streamBatch:
		s.stream.done(msg)
		if msg.err != nil && !errors.Is(msg.err, context.Canceled) {
			s.live = false
			return s.ctx.ShowError(fmt.Errorf("knobs replay: %w", msg.err))
		}
		if msg.setup.pol == s.stream.want.pol { // not of a configuration left since
			s.apply(msg.events)
		}
		if s.live && s.focused {
			s.tick++
			return s.ctx.After(KnobsScreen, s.ctx.Opts.KnobsPeriod, knobsTick{s.tick})
		}
	case knobsTick:
		if msg.seq == s.tick {
			return s.kick()
		}
	case timingMsg:
		cmd, _ := s.timer.handle(msg)
		return cmd
	case timingTick:
		return s.timer.kick()
	case selectLayerMsg:
		for i, l := range s.layers {
			if l.step == msg.step {
				s.cur = i
			}
		}
	case benchChangedMsg:
		if msg.what == configChanged || msg.what == deviceChanged {
			s.restart()
			s.sync()
			return tea.Batch(s.kick(), s.timer.kick())
		}
	case tea.KeyPressMsg:
		return s.key(msg)
	case tea.MouseClickMsg:
		if i := msg.Y - s.rowY0 + s.top; msg.Y >= s.rowY0 && i >= 0 && i < len(s.layers) && i-s.top < s.rows() {
			s.cur = i
		}
	case tea.MouseWheelMsg:
		switch msg.Button {
		case tea.MouseWheelUp:
			s.move(-1)
		case tea.MouseWheelDown:
			s.move(1)
		}
	}
	return nil
}

func (s *knobsScreen) key(msg tea.KeyPressMsg) tea.Cmd {
	k := s.keys
	switch {
	case key.Matches(msg, k.Up):
		s.move(-1)
	case key.Matches(msg, k.Down):
		s.move(1)
	case key.Matches(msg, k.Left):
		return s.slide(-1)
	case key.Matches(msg, k.Right):
		return s.slide(1)
	case key.Matches(msg, k.Exact):
		if l, ok := s.layer(); ok {
			return s.set(s.ctx.Bench.Config.With(l.step, approx.Exact))
		}
	case key.Matches(msg, k.AllExact):
		return s.set(s.ctx.Bench.Approx.NewConfig())
	case key.Matches(msg, k.Pause):
		s.live = !s.live
		return s.kick()
	case key.Matches(msg, k.Reset):
		s.restart()
	}
	return nil
}

func (s *knobsScreen) layer() (knobLayer, bool) {
	if s.cur < 0 || s.cur >= len(s.layers) {
		return knobLayer{}, false
	}
	return s.layers[s.cur], true
}

func (s *knobsScreen) move(d int) {
	if len(s.layers) == 0 {
		return
	}
	s.cur = clampInt(s.cur+d, 0, len(s.layers)-1)
}

// slide moves the selected layer's knob one position along its list.
func (s *knobsScreen) slide(d int) tea.Cmd {
	l, ok := s.layer()
	if !ok {
		return nil
	}
	i := knobIndex(l.knobs, s.ctx.Bench.Config.Knob(l.step))
	j := clampInt(i+d, 0, len(l.knobs)-1)
	if j == i {
		return nil
	}
	return s.set(s.ctx.Bench.Config.With(l.step, l.knobs[j]))
}

// set makes cfg the Bench's configuration and tells every screen.
func (s *knobsScreen) set(cfg approx.Config) tea.Cmd {
	b := s.ctx.Bench
	if cfg.Equal(b.Config) {
		return nil
	}
	b.Config = cfg
	b.Dirty = true
	return s.ctx.Changed(configChanged)
}

// restart drops the accuracy figures.
func (s *knobsScreen) restart() {
	s.st = newKnobStats()
}

// apply adds a batch's windows: each run with the configuration (Runs[0])
// and exactly.
func (s *knobsScreen) apply(events []deploy.Event) {
	st := &s.st
	for i := range events {
		ev := &events[i]
		approxOK, exactOK := ev.Runs[0].Pred.Class == ev.Label, ev.Exact.Pred.Class == ev.Label
		agree := ev.Runs[0].Pred.Class == ev.Exact.Pred.Class
		st.windows++
		if ev.Label >= 0 {
			st.exactAcc.add(b2f(exactOK))
			st.approxAcc.add(b2f(approxOK))
			st.sinceExact.add(exactOK)
			st.sinceApprox.add(approxOK)
			st.exactCurve.add(100 * st.exactAcc.mean())
			st.approxCurve.add(100 * st.approxAcc.mean())
		} else {
			st.unlabelled++
		}
		st.agree.add(b2f(agree))
		st.sinceAgree.add(agree)
		s.last = ev.Window
	}
	if len(events) > 0 {
		st.diff.add(st.approxAcc.mean() - st.exactAcc.mean())
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func knobIndex(ks []approx.Knob, k approx.Knob) int {
	for i, x := range ks {
		if x == k {
			return i
		}
	}
	return 0
}

// rows is the number of layer rows shown.
func (s *knobsScreen) rows() int {
	return max(1, min(len(s.layers), s.h-knobsPanelHeight-4))
}

const knobsPanelHeight = 11

func (s *knobsScreen) View() string {
	st := s.ctx.Styles
	b := s.ctx.Bench
	if !b.Ready() {
		return fit(st.Dim.Render("No model loaded (see the error panel)."), s.w, s.h)
	}
	var lines []string
	rows := s.rows()
	if s.cur < s.top {
		s.top = s.cur
	}
	if s.cur >= s.top+rows {
		s.top = s.cur - rows + 1
	}
	s.top = clampInt(s.top, 0, max(0, len(s.layers)-rows))
	var parts []string
	if hid := hiddenRows(s.top, rows, len(s.layers), ""); hid != "" {
		parts = append(parts, strings.TrimSpace(strings.TrimSuffix(hid, " ()")))
	}
	parts = append(parts, fmt.Sprintf("%d of %s with knobs", len(s.layers), plural(len(b.Nodes), "node")), "~2x = the node's ideal speedup")
	title := "  " + strings.Join(parts, " · ")
	if len(title)+6 > s.w { // narrow: the legend shorter
		parts[len(parts)-1] = "~2x ideal"
		title = "  " + strings.Join(parts, " · ")
	}
	lines = append(lines, st.Header.Render("Layers")+st.Dim.Render(cut(title, s.w-6)))
	s.rowY0 = 1
	// columns: the name whole where the terminal allows, then the op and
	// the knob
	nameW, opW, knobW := 4, 2, 4
	for _, l := range s.layers {
		nameW, opW = max(nameW, ansi.StringWidth(l.name)), max(opW, min(14, ansi.StringWidth(l.op)))
		for _, k := range l.knobs {
			knobW = max(knobW, ansi.StringWidth(k.String()))
		}
	}
	// a narrow terminal: the op column gives way first, then the knob's,
	// the bar, and the names last (cut from the left)
	barW := 12
	over := func() int { return 2 + nameW + 1 + opW + 1 + knobW + 4 + 1 + barW + 1 + 5 + 1 + 6 - s.w }
	for _, c := range []struct {
		w   *int
		min int
	}{{&opW, 9}, {&knobW, 10}, {&barW, 5}, {&nameW, 12}} {
		if o := over(); o > 0 {
			*c.w -= min(o, max(0, *c.w-c.min))
		}
	}
	for i := s.top; i < len(s.layers) && i < s.top+rows; i++ {
		l := s.layers[i]
		k := b.Config.Knob(l.step)
		idx := knobIndex(l.knobs, k)
		marker := "  "
		if i == s.cur {
			marker = "▸ "
		}
		slider := fmt.Sprintf("◀ %s ▶", pad(cut(k.String(), knobW), knobW))
		bar := sliderBar(idx, len(l.knobs), barW)
		row := fmt.Sprintf("%s%s %s %s %s %s", marker, pad(cutLeft(l.name, nameW), nameW), pad(l.op, opW), slider, bar, st.Dim.Render(padLeft(fmt.Sprintf("%d/%d", idx+1, len(l.knobs)), 5)))
		if i == s.cur {
			row = st.Bold.Render(row)
		}
		if !k.IsExact() {
			row += " " + st.Accent.Render("~"+trimFloat(k.IdealSpeedup())+"x")
		}
		lines = append(lines, row)
	}
	if len(s.layers) == 0 {
		lines = append(lines, st.Dim.Render("  no layer of this model has an approximation knob"))
	}
	lines = append(lines, st.Dim.Render("config ")+cut(b.ConfigText(), s.w-7))
	if s.polErr != nil {
		lines = append(lines, st.Bad.Render(cut("not replayed: "+s.polErr.Error(), s.w)))
	} else {
		lines = append(lines, "")
	}
	lines = append(lines, s.panel()...)
	if h := s.h - len(lines); h >= 4 {
		lines = append(lines, s.curves(h)...)
	}
	return fit(strings.Join(lines, "\n"), s.w, s.h)
}

// curves plots the rolling accuracy of exact and of the configuration.
func (s *knobsScreen) curves(h int) []string {
	st := s.ctx.Styles
	k := &s.st
	lines := []string{st.Dim.Render(fmt.Sprintf("rolling accuracy (last %d, %%): ", knobsRoll)) + "exact " + st.Accent.Render("config")}
	n := max(8, s.w-12)
	ex, ap := k.exactCurve.get(), k.approxCurve.get()
	if len(ex) > n {
		ex, ap = ex[len(ex)-n:], ap[len(ap)-n:]
	}
	if len(ex) < 2 {
		return append(lines, st.Dim.Render("  (no labelled window yet)"))
	}
	plot := asciigraph.PlotMany([][]float64{ex, ap}, asciigraph.Height(niceHeight(h-2)), asciigraph.Width(n),
		asciigraph.LowerBound(0), asciigraph.UpperBound(100), asciigraph.Precision(0),
		asciigraph.SeriesColors(asciigraph.Default, asciigraph.SlateBlue))
	return append(lines, strings.Split(plot, "\n")...)
}

// sliderBar draws the knob position as a bar of w cells.
func sliderBar(i, n, w int) string {
	if n <= 1 {
		return strings.Repeat("─", w)
	}
	p := i * (w - 1) / (n - 1)
	return strings.Repeat("─", p) + "●" + strings.Repeat("─", w-1-p)
}

func (s *knobsScreen) panel() []string {
	st := s.ctx.Styles
	b := s.ctx.Bench
	k := &s.st
	state := st.Good.Render("▶ running")
	if !s.live {
		state = st.Warn.Render("⏸ paused")
	}
	head := st.Header.Render("Live replay ") + state
	if k.windows > 0 {
		head += st.Dim.Render(fmt.Sprintf(" · %s %s · %d windows", filepath.Base(s.last.File), fmtSeconds(s.last.End), k.windows))
	} else {
		head += st.Dim.Render(" · waiting for the first windows")
	}
	const c0, c1 = 22, 13
	row := func(name, a, b, d string) string {
		return pad(name, c0) + padLeft(a, c1) + padLeft(b, c1) + "   " + d
	}
	ex, exOK := s.timer.figure(0)
	ap, apOK := s.timer.figure(1)
	timed := exOK && apOK
	hop := time.Duration(b.Hop() * float64(time.Second))
	cell := func(f func(timing) string, tm timing) string {
		if !timed {
			return "-"
		}
		return f(tm)
	}
	ie := func(tm timing) float64 { return b.Device.InferenceEnergy(tm.median) }
	se := func(tm timing) float64 { return b.Device.SystemEnergy(tm.median, hop) }
	energy := func(f func(timing) float64) func(timing) string {
		return func(tm timing) string { return fmtEnergy(f(tm)) }
	}
	// ratios of the configuration's figure to exact's, from the runs
	// timed together, shown with their interval and as ~ within it
	change := func(f func(time.Duration) float64) string {
		e, ok := s.timer.estimate(func(t []time.Duration) float64 { return f(t[1]) / f(t[0]) })
		if !ok {
			return ""
		}
		return e.Change()
	}
	ie0 := func(d time.Duration) float64 { return b.Device.InferenceEnergy(d) }
	se0 := func(d time.Duration) float64 { return b.Device.SystemEnergy(d, hop) }
	speed := st.Dim.Render("measuring…")
	if e, ok := s.timer.estimate(func(t []time.Duration) float64 { return float64(t[0]) / float64(t[1]) }); ok && timed {
		speed = e.Speedup() + " " + st.Dim.Render(b.Device.Name+" x"+trimFloat(b.Device.TimeFactor))
	}
	accDiff := k.approxAcc.mean() - k.exactAcc.mean()
	diff := signedPP(accDiff)
	if !math.IsNaN(accDiff) {
		switch {
		case accDiff < -0.005:
			diff = st.Bad.Render(diff)
		case accDiff > 0.005:
			diff = st.Good.Render(diff)
		}
	}
	lines := []string{
		head,
		st.Dim.Render(row("", "exact", "config", "difference")),
		row(fmt.Sprintf("accuracy (last %d)", knobsRoll), pct(k.exactAcc.mean()), pct(k.approxAcc.mean()), diff),
		row("agreement with exact", "", pct(k.agree.mean()), ""),
		row("latency", cell(fmtTiming, ex), cell(fmtTiming, ap), speed),
		row("inference energy", cell(energy(ie), ex), cell(energy(ie), ap), change(ie0)),
		row("system energy/window", cell(energy(se), ex), cell(energy(se), ap), change(se0)),
		row(fmt.Sprintf("since change (%d)", k.sinceExact.n), pct(k.sinceExact.frac()), pct(k.sinceApprox.frac()), signedPP(k.sinceApprox.frac()-k.sinceExact.frac())),
	}
	spark := sparkline(k.diff.get(), -0.2, 0.2, max(10, s.w-26))
	lines = append(lines, pad("Δ accuracy over time", c0)+st.Accent.Render(spark))
	lines = append(lines, st.Dim.Render(cut("latency and energy: "+s.timer.status(), s.w)))
	note := fmt.Sprintf("energy: %s profile (modelled), one inference per %s window", b.Device.Name, fmtSeconds(b.Hop()))
	if k.unlabelled > 0 {
		note += fmt.Sprintf(" · %d unlabelled windows not scored", k.unlabelled)
	}
	lines = append(lines, st.Dim.Render(note))
	for len(lines) < knobsPanelHeight {
		lines = append(lines, "")
	}
	return lines
}
