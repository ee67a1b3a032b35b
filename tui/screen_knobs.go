package tui

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/guptarohit/asciigraph"

	"github.com/kagen-ai/kagen/approx"
	"github.com/kagen-ai/kagen/replay"
)

// knobsScreen slides each layer's knob over its applicable knobs while the
// traces replay continuously, every window run exactly and with the
// current configuration (interleaved), and shows accuracy, latency and
// energy against exact.
type knobsScreen struct {
	ctx  *Context
	w, h int
	keys knobsKeys

	layers []knobLayer
	cur    int
	top    int

	// live replay
	live, focused, busy bool
	gen                 int
	tick                int // the one pending tick that may start a batch
	player              *player
	exact               approx.Config
	st                  knobStats
	last                frame
	rowY0               int // screen row of the first layer row (mouse)
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

// knobStats are the live figures since the configuration last changed.
type knobStats struct {
	windows                  int
	exactAcc, approxAcc      rolling // correct (1/0) over labelled windows
	agree                    rolling
	exactNS, approxNS        rolling
	sinceExact, sinceApprox  tally
	sinceAgree               tally
	sumExactNS, sumApproxNS  float64
	diff                     series // rolling accuracy difference, one point per batch
	exactCurve, approxCurve  series // rolling accuracy, one point per labelled window
	labelledSeen, unlabelled int
}

const knobsRoll = 64

func newKnobStats() knobStats {
	return knobStats{exactAcc: newRolling(knobsRoll), approxAcc: newRolling(knobsRoll), agree: newRolling(knobsRoll),
		exactNS: newRolling(knobsRoll), approxNS: newRolling(knobsRoll), diff: series{max: 200},
		exactCurve: series{max: 400}, approxCurve: series{max: 400}}
}

func newKnobsScreen(ctx *Context) *knobsScreen {
	s := &knobsScreen{ctx: ctx, live: true, st: newKnobStats()}
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
		s.exact = b.Approx.NewConfig()
		for _, n := range b.Nodes {
			if n.View {
				continue
			}
			ks := b.Approx.Applicable(n.Step)
			if len(ks) < 2 {
				continue
			}
			op := n.Op
			if n.Fused != "" {
				op += "+" + n.Fused
			}
			s.layers = append(s.layers, knobLayer{step: n.Step, name: n.Name, op: op, macs: n.MACs, knobs: ks})
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
		short: []key.Binding{k.Up, k.Down, k.Left, k.Right, k.Exact, k.Pause},
		full:  [][]key.Binding{{k.Up, k.Down, k.Left, k.Right}, {k.Exact, k.AllExact, k.Pause, k.Reset}},
	}
}

func (s *knobsScreen) Focus() tea.Cmd {
	s.focused = true
	return s.kick()
}

func (s *knobsScreen) Blur() { s.focused = false }

// kick starts a batch if the replay should run and none is in flight.
func (s *knobsScreen) kick() tea.Cmd {
	if !s.live || !s.focused || s.busy || !s.ctx.Bench.Ready() || len(s.ctx.Bench.Source.Traces) == 0 {
		return nil
	}
	b := s.ctx.Bench
	if s.player == nil {
		s.player = newPlayer(b, s.ctx.Latency)
	}
	s.busy = true
	p, cfg, exact, gen := s.player, b.Config, s.exact, s.gen
	n, budget, clock := s.ctx.Opts.Batch, s.ctx.Opts.BatchBudget, s.ctx.Clock
	return s.ctx.Job(KnobsScreen, func(ctx context.Context) tea.Msg {
		return runKnobsBatch(ctx, b, p, cfg, exact, gen, n, budget, clock)
	})
}

// knobsSample is one window run exactly and with the configuration.
type knobsSample struct {
	f                 frame
	exactOK, approxOK bool
	agree             bool
	exactNS, approxNS int64
}

type knobsBatch struct {
	gen     int
	samples []knobsSample
	err     error
}

type knobsTick struct{ seq int }

func runKnobsBatch(ctx context.Context, b *Bench, p *player, cfg, exact approx.Config, gen, n int, budget time.Duration, clock Clock) tea.Msg {
	res := knobsBatch{gen: gen}
	sel, err := b.Selector(cfg)
	if err != nil {
		res.err = err
		return res
	}
	start := clock.Now()
	for i := 0; i < n && ctx.Err() == nil; i++ {
		f, err := p.next()
		if err != nil {
			res.err = err
			return res
		}
		// interleave, alternating which runs first so that neither
		// always meets a cold cache
		var pe, pa replay.Prediction
		var be, ba int64
		if f.Seq%2 == 0 {
			pe, be, err = p.infer(exact, nil)
			if err == nil {
				pa, ba, err = p.infer(cfg, sel)
			}
		} else {
			pa, ba, err = p.infer(cfg, sel)
			if err == nil {
				pe, be, err = p.infer(exact, nil)
			}
		}
		if err != nil {
			res.err = err
			return res
		}
		res.samples = append(res.samples, knobsSample{f: f, exactOK: pe.Class == f.Label, approxOK: pa.Class == f.Label,
			agree: pe.Class == pa.Class, exactNS: be, approxNS: ba})
		if budget > 0 && clock.Now().Sub(start) > budget {
			break
		}
	}
	return res
}

func (s *knobsScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case knobsBatch:
		s.busy = false
		if msg.err != nil {
			s.live = false
			return s.ctx.ShowError(fmt.Errorf("knobs replay: %w", msg.err))
		}
		if msg.gen == s.gen {
			s.apply(msg.samples)
		}
		if s.live && s.focused {
			s.tick++
			return s.ctx.After(KnobsScreen, s.ctx.Opts.KnobsPeriod, knobsTick{s.tick})
		}
	case knobsTick:
		if msg.seq == s.tick {
			return s.kick()
		}
	case selectLayerMsg:
		for i, l := range s.layers {
			if l.step == msg.step {
				s.cur = i
			}
		}
	case benchChangedMsg:
		if msg.what == configChanged || msg.what == deviceChanged {
			s.restart()
			return s.kick()
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

// restart drops the figures and any batch in flight.
func (s *knobsScreen) restart() {
	s.gen++
	s.st = newKnobStats()
}

func (s *knobsScreen) apply(samples []knobsSample) {
	st := &s.st
	for _, x := range samples {
		st.windows++
		if x.f.Label >= 0 {
			st.exactAcc.add(b2f(x.exactOK))
			st.approxAcc.add(b2f(x.approxOK))
			st.sinceExact.add(x.exactOK)
			st.sinceApprox.add(x.approxOK)
			st.exactCurve.add(100 * st.exactAcc.mean())
			st.approxCurve.add(100 * st.approxAcc.mean())
		} else {
			st.unlabelled++
		}
		st.agree.add(b2f(x.agree))
		st.sinceAgree.add(x.agree)
		st.exactNS.add(float64(x.exactNS))
		st.approxNS.add(float64(x.approxNS))
		st.sumExactNS += float64(x.exactNS)
		st.sumApproxNS += float64(x.approxNS)
		s.last = x.f
	}
	if len(samples) > 0 {
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
	lines = append(lines, st.Header.Render("Layers")+st.Dim.Render(fmt.Sprintf("  %d with knobs of %d steps · ←/→ slides the knob", len(s.layers), len(b.Nodes))))
	rows := s.rows()
	if s.cur < s.top {
		s.top = s.cur
	}
	if s.cur >= s.top+rows {
		s.top = s.cur - rows + 1
	}
	s.rowY0 = 1
	nameW := 18
	for i := s.top; i < len(s.layers) && i < s.top+rows; i++ {
		l := s.layers[i]
		k := b.Config.Knob(l.step)
		idx := knobIndex(l.knobs, k)
		marker := "  "
		if i == s.cur {
			marker = "▸ "
		}
		slider := fmt.Sprintf("◀ %s ▶", pad(k.String(), 18))
		bar := sliderBar(idx, len(l.knobs), 12)
		row := fmt.Sprintf("%s%s %s %s %s %s", marker, pad(l.name, nameW), pad(l.op, 12), slider, bar, st.Dim.Render(fmt.Sprintf("%d/%d", idx+1, len(l.knobs))))
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
	lines = append(lines, st.Dim.Render("config ")+cut(b.ConfigText(), s.w-7), "")
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
	plot := asciigraph.PlotMany([][]float64{ex, ap}, asciigraph.Height(h-2), asciigraph.Width(n),
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
		head += st.Dim.Render(fmt.Sprintf(" · %s %s · %d windows", filepath.Base(s.last.Win.File), fmtSeconds(s.last.Win.End), k.windows))
	} else {
		head += st.Dim.Render(" · waiting for the first windows")
	}
	const c0, c1 = 22, 13
	row := func(name, a, b, d string) string {
		return pad(name, c0) + padLeft(a, c1) + padLeft(b, c1) + "   " + d
	}
	exNS, apNS := k.exactNS.mean(), k.approxNS.mean()
	hop := time.Duration(b.Hop() * float64(time.Second))
	ie := func(ns float64) float64 {
		if math.IsNaN(ns) {
			return math.NaN()
		}
		return b.Device.InferenceEnergy(time.Duration(ns))
	}
	se := func(ns float64) float64 {
		if math.IsNaN(ns) {
			return math.NaN()
		}
		return b.Device.SystemEnergy(time.Duration(ns), hop)
	}
	energy := func(j float64) string {
		if math.IsNaN(j) {
			return "-"
		}
		return fmtEnergy(j)
	}
	lat := func(ns float64) string {
		if math.IsNaN(ns) {
			return "-"
		}
		return fmtTime(ns)
	}
	speed := "-"
	if apNS > 0 && exNS > 0 {
		speed = fmt.Sprintf("%.2fx", exNS/apNS)
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
		row("latency", lat(exNS), lat(apNS), speed+" "+st.Dim.Render(b.Device.Name+" x"+trimFloat(b.Device.TimeFactor))),
		row("inference energy", energy(ie(exNS)), energy(ie(apNS)), relChange(ie(exNS), ie(apNS))),
		row("system energy/window", energy(se(exNS)), energy(se(apNS)), relChange(se(exNS), se(apNS))),
		row(fmt.Sprintf("since change (%d)", k.sinceExact.n), pct(k.sinceExact.frac()), pct(k.sinceApprox.frac()), signedPP(k.sinceApprox.frac()-k.sinceExact.frac())),
	}
	spark := sparkline(k.diff.get(), -0.2, 0.2, max(10, s.w-26))
	lines = append(lines, pad("Δ accuracy over time", c0)+st.Accent.Render(spark))
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
