package tui

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/progress"
	tea "charm.land/bubbletea/v2"

	"github.com/kagen-ai/kagen/policy"
	"github.com/kagen-ai/kagen/tuning"
)

// paretoScreen shows the tuned configurations as a scatter of accuracy
// loss against speedup or energy, runs the tuner with a progress bar, and
// loads a chosen point into the Knobs screen.
type paretoScreen struct {
	ctx  *Context
	w, h int
	keys paretoKeys

	energyAxis bool
	points     []paretoPoint
	sel        int
	plot       plotArea

	settings tuning.Settings
	running  bool
	cancel   context.CancelFunc
	progCh   chan tuning.Progress
	prog     tuning.Progress
	started  time.Time
	elapsed  time.Duration
	result   string
	bar      progress.Model
	runID    int
}

// paretoPoint is one validated configuration; level is its index in the
// Pareto levels, -1 when it is not on the thinned front.
type paretoPoint struct {
	config                                     string
	level                                      int
	speedup, lossPP, accuracy, timeUS, energyJ float64
	loss                                       tuning.Loss // the loss with its interval and windows
}

type plotArea struct{ x0, y0, w, h int }

type paretoKeys struct {
	Left, Right, Load, Tune, Cancel, Axis, LossUp, LossDown, Budget, Objective key.Binding
}

var tuneBudgets = []time.Duration{2 * time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second, time.Minute}

func newParetoScreen(ctx *Context) *paretoScreen {
	s := &paretoScreen{ctx: ctx, settings: tuning.Settings{MaxLossPP: 1, Budget: 10 * time.Second, Objective: policy.ObjectiveTime, Seed: 1}}
	s.keys = paretoKeys{
		Left:      bind("←/h", "previous point", "left", "h"),
		Right:     bind("→/l", "next point", "right", "l"),
		Load:      bind("enter", "load into Knobs", "enter"),
		Tune:      bind("t", "tune", "t"),
		Cancel:    bind("x/esc", "cancel tune", "x", "esc"),
		Axis:      bind("e", "speedup/energy axis", "e"),
		LossUp:    bind("+", "max loss up", "+", "="),
		LossDown:  bind("-", "max loss down", "-", "_"),
		Budget:    bind("b", "search budget", "b"),
		Objective: bind("o", "objective", "o"),
	}
	s.bar = progress.New(progress.WithWidth(30), progress.WithoutPercentage(), progress.WithFillCharacters('█', '░'))
	s.refresh()
	return s
}

func (s *paretoScreen) ID() ScreenID     { return ParetoScreen }
func (s *paretoScreen) Title() string    { return "Pareto" }
func (s *paretoScreen) Init() tea.Cmd    { return nil }
func (s *paretoScreen) Capturing() bool  { return false }
func (s *paretoScreen) SetSize(w, h int) { s.w, s.h = w, h }
func (s *paretoScreen) Focus() tea.Cmd   { return nil }
func (s *paretoScreen) Blur()            {}

func (s *paretoScreen) Keys() help.KeyMap {
	k := s.keys
	short := []key.Binding{k.Tune, helpOnly("←/→", "point"), k.Load, k.Axis, k.LossDown, k.LossUp}
	if s.running {
		short = []key.Binding{k.Cancel, helpOnly("←/→", "point"), k.Load}
	}
	return keyMap{short: short, full: [][]key.Binding{{k.Left, k.Right, k.Load, k.Axis}, {k.Tune, k.Cancel, k.LossUp, k.LossDown, k.Budget, k.Objective}}}
}

// refresh rebuilds the points from the Bench, keeping the selection.
func (s *paretoScreen) refresh() {
	b := s.ctx.Bench
	var keep string
	if s.sel < len(s.points) {
		keep = s.points[s.sel].config
	}
	if b.Selected != "" && keep == "" {
		keep = b.Selected
	}
	s.points = nil
	if b.Pareto == nil {
		return
	}
	seen := map[string]bool{}
	for i, l := range b.Pareto.Configs {
		s.points = append(s.points, paretoPoint{config: l.Config, level: i, speedup: l.Speedup, lossPP: l.QoSLossPP, accuracy: l.Accuracy, timeUS: l.TimeUS, energyJ: l.EnergyJ,
			loss: tuning.LevelLoss(l, b.Pareto.ExactAccuracy)})
		seen[l.Config] = true
	}
	for _, c := range b.Validated {
		if seen[c.Config] || !(c.Speedup > 0) {
			continue
		}
		seen[c.Config] = true
		s.points = append(s.points, paretoPoint{config: c.Config, level: -1, speedup: c.Speedup, lossPP: c.LossPP, accuracy: c.Accuracy, timeUS: c.TimeUS, energyJ: c.EnergyJ,
			loss: tuning.IndependentLoss(c.LossPP, b.Pareto.ExactAccuracy, c.Accuracy, tuning.Windows(policy.ConfidenceStats{CorrectN: c.CorrectN, WrongN: c.WrongN}))})
	}
	sort.SliceStable(s.points, func(i, j int) bool { return s.xOf(s.points[i]) < s.xOf(s.points[j]) })
	s.sel = 0
	for i, p := range s.points {
		if p.config == keep {
			s.sel = i
		}
	}
}

// xOf is a point's position on the horizontal axis.
func (s *paretoScreen) xOf(p paretoPoint) float64 {
	if s.energyAxis {
		return -p.energyJ // lower energy to the right, like higher speedup
	}
	return p.speedup
}

type tuneProgressMsg struct {
	run int
	p   tuning.Progress
	ok  bool
}

type tuneDoneMsg struct {
	run int
	out *TuneOutcome
	err error
}

// listen returns the command that delivers the next progress report.
func (s *paretoScreen) listen() tea.Cmd {
	ch, run := s.progCh, s.runID
	return func() tea.Msg {
		p, ok := <-ch
		return addressed{to: ParetoScreen, msg: tuneProgressMsg{run: run, p: p, ok: ok}}
	}
}

func (s *paretoScreen) startTune() tea.Cmd {
	b := s.ctx.Bench
	if s.running || !b.Ready() {
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.running, s.cancel = true, cancel
	s.runID++
	s.progCh = make(chan tuning.Progress, 1)
	s.prog = tuning.Progress{Phase: "start"}
	s.started = s.ctx.Clock.Now()
	s.result = ""
	set := s.settings
	dev := *b.Device
	set.Device = &dev
	ch, run, tuner := s.progCh, s.runID, s.ctx.Tuner
	report := func(p tuning.Progress) {
		select { // keep only the newest report
		case <-ch:
		default:
		}
		select {
		case ch <- p:
		default:
		}
	}
	// a tune goes on while other screens are shown (Task); x cancels it
	job := s.ctx.Task(ParetoScreen, func(quit context.Context) tea.Msg {
		stop := context.AfterFunc(quit, cancel)
		defer stop()
		out, err := tuner.Tune(ctx, b, set, report)
		close(ch)
		return tuneDoneMsg{run: run, out: out, err: err}
	})
	return tea.Batch(job, s.listen())
}

func (s *paretoScreen) Update(msg tea.Msg) tea.Cmd {
	b := s.ctx.Bench
	switch msg := msg.(type) {
	case tuneProgressMsg:
		if msg.run != s.runID || !s.running || !msg.ok {
			return nil
		}
		s.prog = msg.p
		s.elapsed = s.ctx.Clock.Now().Sub(s.started)
		return s.listen()
	case tuneDoneMsg:
		if msg.run != s.runID {
			return nil
		}
		s.running = false
		s.cancel()
		s.elapsed = s.ctx.Clock.Now().Sub(s.started)
		if msg.err != nil {
			if msg.err == context.Canceled || strings.Contains(msg.err.Error(), context.Canceled.Error()) {
				s.result = "tune cancelled"
				return nil
			}
			s.result = "tune failed"
			return s.ctx.ShowError(fmt.Errorf("tune: %w", msg.err))
		}
		b.Pareto, b.Validated = msg.out.Pareto, msg.out.Validated
		b.Dirty = true
		s.result = fmt.Sprintf("tuned in %.1f s: %s, %s validated", s.elapsed.Seconds(), plural(len(b.Pareto.Configs), "level"), plural(len(b.Validated), "configuration"))
		if msg.out.Note != "" {
			s.result += " · " + msg.out.Note
		}
		s.refresh()
		s.sel = len(s.points) - 1
		for i, p := range s.points { // select the most approximate level
			if p.level == len(b.Pareto.Configs)-1 {
				s.sel = i
			}
		}
		return s.ctx.Changed(paretoChanged)
	case benchChangedMsg:
		if msg.what == paretoChanged {
			s.refresh()
		}
	case tea.KeyPressMsg:
		return s.key(msg)
	case tea.MouseClickMsg:
		if i, ok := s.pointAt(msg.X, msg.Y); ok {
			s.sel = i
		}
	case tea.MouseWheelMsg:
		switch msg.Button {
		case tea.MouseWheelUp, tea.MouseWheelLeft:
			s.sel = max(0, s.sel-1)
		case tea.MouseWheelDown, tea.MouseWheelRight:
			s.sel = min(max(0, len(s.points)-1), s.sel+1)
		}
	}
	return nil
}

func (s *paretoScreen) key(msg tea.KeyPressMsg) tea.Cmd {
	k := s.keys
	switch {
	case key.Matches(msg, k.Left):
		s.sel = max(0, s.sel-1)
	case key.Matches(msg, k.Right):
		s.sel = min(max(0, len(s.points)-1), s.sel+1)
	case key.Matches(msg, k.Load):
		return s.load()
	case key.Matches(msg, k.Tune):
		return s.startTune()
	case key.Matches(msg, k.Cancel):
		if s.running {
			s.cancel()
			s.prog.Phase = "cancelling"
		}
	case key.Matches(msg, k.Axis):
		s.energyAxis = !s.energyAxis
		s.refresh()
	case key.Matches(msg, k.LossUp):
		s.settings.MaxLossPP = math.Min(50, round2(s.settings.MaxLossPP+0.5))
	case key.Matches(msg, k.LossDown):
		s.settings.MaxLossPP = math.Max(0, round2(s.settings.MaxLossPP-0.5))
	case key.Matches(msg, k.Budget):
		i := 0
		for j, d := range tuneBudgets {
			if d == s.settings.Budget {
				i = j
			}
		}
		s.settings.Budget = tuneBudgets[(i+1)%len(tuneBudgets)]
	case key.Matches(msg, k.Objective):
		if s.settings.Objective == policy.ObjectiveTime {
			s.settings.Objective = policy.ObjectiveEnergy
		} else {
			s.settings.Objective = policy.ObjectiveTime
		}
	}
	return nil
}

// load makes the selected point the Knobs configuration.
func (s *paretoScreen) load() tea.Cmd {
	b := s.ctx.Bench
	if s.sel >= len(s.points) {
		return nil
	}
	p := s.points[s.sel]
	cfg, err := b.Approx.Parse(p.config)
	if err != nil {
		return s.ctx.ShowError(fmt.Errorf("point %q: %w", p.config, err))
	}
	b.Config = cfg
	b.Selected = p.config
	b.Dirty = true
	cmds := []tea.Cmd{s.ctx.Changed(configChanged), s.ctx.Notice("loaded " + cut(p.config, 40) + " into Knobs"), s.ctx.SwitchTo(KnobsScreen)}
	if p.level >= 0 { // a controller with a level to run (static) runs this one
		for _, e := range editorParams(b.Controller) {
			if e.Level {
				c := b.Controller
				if e.Set(&c, strconv.Itoa(p.level)) == nil {
					b.Controller = c
					cmds = append(cmds, s.ctx.Changed(controllerChanged))
				}
			}
		}
	}
	return tea.Batch(cmds...)
}

// pointAt maps a click to the nearest point within two cells.
func (s *paretoScreen) pointAt(x, y int) (int, bool) {
	best, bestD := -1, 5.0
	for i, p := range s.points {
		px, py, ok := s.cell(p)
		if !ok {
			continue
		}
		d := math.Hypot(float64(px+s.plot.x0-x)/2, float64(py+s.plot.y0-y))
		if d < bestD {
			best, bestD = i, d
		}
	}
	return best, best >= 0
}

// bounds returns the axis ranges.
func (s *paretoScreen) bounds() (x0, x1, y0, y1 float64) {
	x0, x1, y0, y1 = math.Inf(1), math.Inf(-1), 0, 0.5
	for _, p := range s.points {
		x := s.xOf(p)
		x0, x1 = math.Min(x0, x), math.Max(x1, x)
		y0, y1 = math.Min(y0, p.lossPP), math.Max(y1, p.lossPP)
	}
	if x1-x0 < 1e-9 {
		d := math.Max(math.Abs(x0)*0.1, 1e-9)
		x0, x1 = x0-d, x1+d
	}
	pad := (y1 - y0) * 0.05
	return x0, x1, y0 - pad, y1 + pad
}

// cell returns a point's cell in the plot area.
func (s *paretoScreen) cell(p paretoPoint) (int, int, bool) {
	if s.plot.w <= 1 || s.plot.h <= 1 {
		return 0, 0, false
	}
	x0, x1, y0, y1 := s.bounds()
	cx := int(math.Round((s.xOf(p) - x0) / (x1 - x0) * float64(s.plot.w-1)))
	cy := int(math.Round((y1 - p.lossPP) / (y1 - y0) * float64(s.plot.h-1)))
	return clampInt(cx, 0, s.plot.w-1), clampInt(cy, 0, s.plot.h-1), true
}

func (s *paretoScreen) View() string {
	st := s.ctx.Styles
	b := s.ctx.Bench
	if !b.Ready() {
		return fit(st.Dim.Render("No model loaded (see the error panel)."), s.w, s.h)
	}
	var foot []string
	if w := s.splitWarning(); w != "" {
		for _, l := range wrapText("⚠ "+w, s.w) {
			foot = append(foot, st.Warn.Render(l))
		}
	}
	foot = append(foot, s.selectedLines()...)
	foot = append(foot, s.tuneLines()...)
	plotH := s.h - len(foot) - 2
	var lines []string
	title := "loss (pp) vs speedup"
	if s.energyAxis {
		title = "loss (pp) vs energy per inference"
	}
	legend := " · 0-9 front levels · · validated · ◆ selected"
	if len("Pareto "+title+legend) > s.w {
		legend = " · 0-9 levels · ◆ selected"
	}
	lines = append(lines, st.Header.Render("Pareto ")+title+st.Dim.Render(legend))
	if len(s.points) == 0 {
		msg := "No tuned configurations yet. Press t to profile and tune on the traces"
		msg += fmt.Sprintf(" (max loss %s pp, budget %s, objective %s).", trimFloat(s.settings.MaxLossPP), s.settings.Budget, s.settings.Objective)
		lines = append(lines, "")
		for _, l := range wrapText(msg, s.w) {
			lines = append(lines, st.Dim.Render(l))
		}
		for len(lines) < s.h-len(foot) {
			lines = append(lines, "")
		}
		lines = append(lines, foot...)
		return fit(strings.Join(lines, "\n"), s.w, s.h)
	}
	lines = append(lines, s.scatter(plotH)...)
	lines = append(lines, foot...)
	return fit(strings.Join(lines, "\n"), s.w, s.h)
}

// scatter draws the plot: h-1 rows of points and one of x labels.
func (s *paretoScreen) scatter(h int) []string {
	st := s.ctx.Styles
	const labelW = 8
	s.plot = plotArea{x0: labelW + 1, y0: 1, w: max(10, s.w-labelW-2), h: max(3, h-1)}
	x0, x1, y0, y1 := s.bounds()
	grid := make([][]string, s.plot.h)
	prio := make([][]int, s.plot.h)
	for r := range grid {
		grid[r] = make([]string, s.plot.w)
		prio[r] = make([]int, s.plot.w)
		for c := range grid[r] {
			grid[r][c] = " "
		}
	}
	// zero-loss line
	if y0 < 0 && y1 > 0 {
		zy := int(math.Round(y1 / (y1 - y0) * float64(s.plot.h-1)))
		for c := range grid[zy] {
			grid[zy][c] = st.Dim.Render("┈")
		}
	}
	for i, p := range s.points {
		cx, cy, _ := s.cell(p)
		pr, mark := 1, st.Point.Render("·")
		if p.level >= 0 {
			pr, mark = 2, st.Front.Render(levelMark(p.level))
		}
		if i == s.sel {
			pr, mark = 3, st.SelPoint.Render("◆")
		}
		if pr > prio[cy][cx] {
			prio[cy][cx], grid[cy][cx] = pr, mark
		}
	}
	var out []string
	for r := range grid {
		label := ""
		switch r {
		case 0:
			label = fmt.Sprintf("%.3g", y1)
		case s.plot.h / 2:
			label = fmt.Sprintf("%.3g", y1-(y1-y0)*float64(r)/float64(s.plot.h-1))
		case s.plot.h - 1:
			label = fmt.Sprintf("%.3g", y0)
		}
		out = append(out, padLeft(label, labelW)+st.Dim.Render("│")+strings.Join(grid[r], ""))
	}
	scale, unit := energyUnit(math.Max(math.Abs(x0), math.Abs(x1)))
	xl := func(v float64) string {
		if s.energyAxis { // one unit along the axis
			return fmt.Sprintf("%.3g %s", -v/scale, unit)
		}
		return fmt.Sprintf("%.2fx", v)
	}
	left, mid, right := xl(x0), xl((x0+x1)/2), xl(x1)
	axis := strings.Repeat(" ", labelW) + "└" + left
	gap := s.plot.w/2 - len(left) - len(mid)/2
	axis += strings.Repeat(" ", max(1, gap)) + mid
	axis += strings.Repeat(" ", max(1, s.plot.w-len(left)-max(1, gap)-len(mid)-len(right))) + right
	out = append(out, st.Dim.Render(axis))
	return out
}

func levelMark(l int) string {
	if l < 10 {
		return fmt.Sprint(l)
	}
	return "●"
}

func (s *paretoScreen) selectedLines() []string {
	st := s.ctx.Styles
	if s.sel >= len(s.points) {
		return nil
	}
	p := s.points[s.sel]
	where := "validated, not on the front"
	if p.level >= 0 {
		where = fmt.Sprintf("level %d", p.level)
	}
	line := fmt.Sprintf("%s %s · speedup %.2fx · loss %s · accuracy %s · %s · %s", st.Bold.Render("◆"), where,
		p.speedup, s.lossText(p), pct(p.accuracy), fmtTime(p.timeUS*1e3), fmtEnergy(p.energyJ))
	cfg := st.Dim.Render("config ") + cut(p.config, s.w-7)
	if p.config == s.ctx.Bench.ConfigText() {
		cfg += st.Good.Render(" (in Knobs)")
	}
	return append(wrapText(line, s.w), cfg)
}

// lossText is a point's calibrated loss with its 95% interval and the
// windows it rests on, as kagen tune prints it (tuning.Loss).
func (s *paretoScreen) lossText(p paretoPoint) string {
	if p.loss.Windows > 0 {
		return p.loss.String()
	}
	return fmt.Sprintf("%+.2f pp", p.lossPP)
}

// splitWarning warns when the calibration windows cannot decide a loss
// at the tune's threshold (tuning.ParetoWarnings, as kagen tune warns).
func (s *paretoScreen) splitWarning() string {
	return strings.Join(tuning.ParetoWarnings(s.ctx.Bench.Pareto, s.settings.MaxLossPP), "; ")
}

func (s *paretoScreen) tuneLines() []string {
	st := s.ctx.Styles
	set := fmt.Sprintf("tune: max loss %s pp (-/+) · budget %s (b) · objective %s (o) · device %s", trimFloat(s.settings.MaxLossPP), s.settings.Budget, s.settings.Objective, s.ctx.Bench.Device.Name)
	var lines []string
	for _, l := range wrapText(set, s.w) {
		lines = append(lines, st.Dim.Render(l))
	}
	switch {
	case s.running:
		frac := 0.0
		if s.prog.Total > 0 {
			frac = float64(s.prog.Done) / float64(s.prog.Total)
		}
		s.bar.SetWidth(min(30, max(10, s.w-50)))
		lines = append(lines, fmt.Sprintf("%s %s %d/%d · %.0f s · x cancels", s.bar.ViewAs(frac), s.prog.Phase, s.prog.Done, s.prog.Total, s.elapsed.Seconds()))
	case s.result != "":
		for _, l := range wrapText(s.result, s.w) {
			lines = append(lines, st.Notice.Render(l))
		}
	default:
		for _, l := range wrapText("t tunes: profiles every (layer, knob) pair on this machine, then searches and validates", s.w) {
			lines = append(lines, st.Dim.Render(l))
		}
	}
	return lines
}
