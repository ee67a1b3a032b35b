package tui

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/guptarohit/asciigraph"

	"github.com/kagen-ai/kagen/approx"
	"github.com/kagen-ai/kagen/device"
	"github.com/kagen-ai/kagen/engine"
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
// of every inference, with live curves, the decision log and the
// controller's parameters.
type replayScreen struct {
	ctx  *Context
	w, h int
	keys replayKeys

	playing, focused, busy bool
	speed                  int
	gen                    int
	tick                   int // the one pending tick that may start a batch
	player                 *player

	// the controller, its levels (configurations parsed) and the level of
	// the next inference; used by the batch in flight only.
	ctrl    policy.Controller
	levels  []policy.Level
	cfgs    []approx.Config
	level   int
	tuned   bool
	ctrlErr error

	// what the screen shows
	acc, energy, lvl, conf series
	accRoll                rolling
	log                    []policy.Decision
	allDecisions           bool
	logOff                 int // lines scrolled back from the newest
	windows                int64
	last                   frame
	correct                tally
	sumEnergy              float64
	switches               int
	paramSel               int
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
	s := &replayScreen{ctx: ctx, speed: speed10x}
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
		short: []key.Binding{k.Play, k.Step, k.Speed, k.Ctrl, k.ParamNext, k.Inc},
		full:  [][]key.Binding{{k.Play, k.Step, k.Speed, k.Restart}, {k.Ctrl, k.CtrlBack, k.ParamPrev, k.ParamNext, k.Dec, k.Inc}, {k.All, k.LogUp, k.LogDown}},
	}
}

func (s *replayScreen) Focus() tea.Cmd {
	s.focused = true
	if s.ctrl == nil && s.ctrlErr == nil {
		s.rebuild()
	}
	return s.kick(false)
}

func (s *replayScreen) Blur() { s.focused = false }

// reset clears the stream's figures.
func (s *replayScreen) reset() {
	s.gen++
	s.acc, s.energy = series{max: replayHistory}, series{max: replayHistory}
	s.lvl, s.conf = series{max: replayHistory}, series{max: replayHistory}
	s.accRoll = newRolling(replayRoll)
	s.log, s.logOff, s.windows, s.correct, s.sumEnergy, s.switches = nil, 0, 0, tally{}, 0, 0
}

// rebuild makes the controller of the Bench's policy; the stream goes on
// from the controller's start level.
func (s *replayScreen) rebuild() {
	b := s.ctx.Bench
	s.ctrl, s.levels, s.cfgs, s.ctrlErr = nil, nil, nil, nil
	if !b.Ready() {
		return
	}
	c, levels, err := newController(b)
	if err == nil {
		cfgs := make([]approx.Config, len(levels))
		for i, l := range levels {
			if cfgs[i], err = b.Approx.Parse(l.Config); err != nil {
				err = fmt.Errorf("level %d: %w", i, err)
				break
			}
		}
		if err == nil {
			s.ctrl, s.levels, s.cfgs = c, levels, cfgs
			s.level = c.Start()
		}
	}
	s.ctrlErr = err
	_, s.tuned = b.Levels()
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

// replayBatch is the result of a batch of inferences.
type replayBatch struct {
	gen     int
	samples []replaySample
	level   int
	err     error
}

type replaySample struct {
	f      frame
	level  int
	class  int
	conf   float32
	busyNS int64
	energy float64
	d      policy.Decision
}

// kick starts a batch when playing (or one window when step is set).
func (s *replayScreen) kick(step bool) tea.Cmd {
	b := s.ctx.Bench
	if s.busy || s.ctrl == nil || !s.focused || (!s.playing && !step) || len(b.Source.Traces) == 0 {
		return nil
	}
	if s.player == nil {
		s.player = newPlayer(b, s.ctx.Latency)
	}
	_, n := s.pace()
	budget := s.ctx.Opts.BatchBudget
	if step {
		n, budget = 1, 0
	} else if s.speed != speedMax {
		budget = 0
	}
	s.busy = true
	// the job reads a copy of the device: the Policy screen may change
	// the Bench's meanwhile
	p, ctrl, cfgs, level, gen, clock, dev := s.player, s.ctrl, s.cfgs, s.level, s.gen, s.ctx.Clock, *b.Device
	return s.ctx.Job(ReplayScreen, func(ctx context.Context) tea.Msg {
		return runReplayBatch(ctx, b, p, ctrl, cfgs, level, gen, n, budget, clock, &dev)
	})
}

func runReplayBatch(ctx context.Context, b *Bench, p *player, ctrl policy.Controller, cfgs []approx.Config, level, gen, n int, budget time.Duration, clock Clock, dev *device.Profile) tea.Msg {
	res := replayBatch{gen: gen, level: level}
	sels := make([]engine.Selector, len(cfgs))
	for i, c := range cfgs {
		var err error
		if sels[i], err = b.Selector(c); err != nil {
			res.err = err
			return res
		}
	}
	start := clock.Now()
	for i := 0; i < n && ctx.Err() == nil; i++ {
		f, err := p.next()
		if err != nil {
			res.err = err
			return res
		}
		l := clampInt(res.level, 0, len(cfgs)-1)
		pred, busy, err := p.infer(cfgs[l], sels[l])
		if err != nil {
			res.err = err
			return res
		}
		obs := observation(f.Seq, f.Time, l, pred.Class, pred.Confidence, busy, dev)
		d := ctrl.Decide(obs)
		res.samples = append(res.samples, replaySample{f: f, level: l, class: pred.Class, conf: pred.Confidence, busyNS: busy, energy: obs.EnergyJ, d: d})
		res.level = d.To
		if budget > 0 && clock.Now().Sub(start) > budget {
			break
		}
	}
	return res
}

func (s *replayScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case replayBatch:
		s.busy = false
		if msg.err != nil {
			s.playing = false
			return s.ctx.ShowError(fmt.Errorf("replay: %w", msg.err))
		}
		if msg.gen != s.gen {
			return s.kick(false)
		}
		s.level = msg.level
		s.apply(msg.samples)
		if s.playing && s.focused {
			d, _ := s.pace()
			s.tick++
			return s.ctx.After(ReplayScreen, d, replayTick{s.tick})
		}
	case replayTick:
		if msg.seq == s.tick {
			return s.kick(false)
		}
	case benchChangedMsg:
		switch msg.what {
		case controllerChanged, paretoChanged, deviceChanged:
			s.rebuild()
			s.gen++ // drop the batch in flight: it ran the old controller
		case configChanged:
			if !s.tuned {
				s.rebuild()
				s.gen++
			}
		}
		return s.kick(false)
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
		return s.kick(false)
	case key.Matches(msg, k.Step):
		s.playing = false
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
		if s.player != nil && !s.busy {
			s.player.close()
			s.player = nil
		}
		s.reset()
		s.rebuild()
		return s.kick(false)
	case key.Matches(msg, k.LogUp):
		s.logOff++
	case key.Matches(msg, k.LogDown):
		s.logOff = max(0, s.logOff-1)
	}
	return nil
}

func (s *replayScreen) apply(samples []replaySample) {
	for _, x := range samples {
		s.windows++
		s.last = x.f
		if x.f.Label >= 0 {
			ok := x.class == x.f.Label
			s.accRoll.add(b2f(ok))
			s.correct.add(ok)
		}
		acc := s.accRoll.mean()
		if !math.IsNaN(acc) {
			acc *= 100
		}
		s.acc.add(acc)
		s.energy.add(x.energy)
		s.lvl.add(float64(x.level))
		s.conf.add(float64(x.conf))
		s.sumEnergy += x.energy
		if x.d.To != x.d.From {
			s.switches++
		}
		s.log = append(s.log, x.d)
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
	if s.playing {
		state = st.Good.Render("▶ playing")
	}
	head := fmt.Sprintf("%s %s · window %d · %s", state, speedNames[s.speed], s.windows, fmtSeconds(s.last.Time))
	if len(s.levels) > 0 {
		head += fmt.Sprintf(" · level %d of 0-%d", s.level, len(s.levels)-1)
		if !s.tuned {
			head += st.Warn.Render(" (untuned: exact + Knobs config)")
		}
	}
	lines = append(lines, head)
	lines = append(lines, st.Header.Render("controller ")+cut(controllerSummary(b.Controller), s.w-11))
	lines = append(lines, s.paramLine())
	if s.ctrlErr != nil {
		lines = append(lines, st.Bad.Render(cut("controller: "+s.ctrlErr.Error(), s.w)))
	}
	// summary
	mean := math.NaN()
	if s.windows > 0 {
		mean = s.sumEnergy / float64(s.windows)
	}
	exactJ := math.NaN()
	if len(s.levels) > 0 && s.levels[0].EnergyJ > 0 {
		exactJ = s.levels[0].EnergyJ
	}
	sum := fmt.Sprintf("accuracy %s (%d labelled) · %s/inference", pct(s.correct.frac()), s.correct.n, energyOr(mean))
	if !math.IsNaN(exactJ) && !math.IsNaN(mean) {
		sum += fmt.Sprintf(" (%s vs exact)", relChange(exactJ, mean))
	}
	sum += fmt.Sprintf(" · %d switches", s.switches)
	lines = append(lines, st.Dim.Render(sum))

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
	eScale, eUnit := energyUnit(s.energy.get())
	ev := make([]float64, 0, len(s.energy.get()))
	for _, v := range hist(s.energy.get()) {
		ev = append(ev, v*eScale)
	}
	maxLevel := float64(max(1, len(s.levels)-1))
	top := joinCols(
		chart(st, fmt.Sprintf("accuracy, rolling %d (%%)", replayRoll), hist(s.acc.get()), chartH, colW, 0, 100, 0),
		chart(st, "energy per inference ("+eUnit+")", ev, chartH, s.w-colW, math.NaN(), math.NaN(), 2), colW)
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

// energyUnit picks a unit for a series of joules.
func energyUnit(vals []float64) (float64, string) {
	m := 0.0
	for _, v := range vals {
		if !math.IsNaN(v) {
			m = math.Max(m, math.Abs(v))
		}
	}
	switch {
	case m >= 1:
		return 1, "J"
	case m >= 1e-3:
		return 1e3, "mJ"
	case m >= 1e-6 || m == 0:
		return 1e6, "µJ"
	default:
		return 1e9, "nJ"
	}
}

func energyOr(j float64) string {
	if math.IsNaN(j) {
		return "-"
	}
	return fmtEnergy(j)
}
