package tui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/charmbracelet/x/ansi"
	"github.com/kagen-ai/kagen/measure"
)

// modelScreen shows the layer table (op, output shape, MACs, measured
// time share, current knob) and the model's front-end.
type modelScreen struct {
	ctx  *Context
	w, h int
	keys modelKeys

	cur, top int
	rowY0    int

	// measured time share per step, of the configuration measured
	share     []float64
	perInfNS  float64
	measured  string // configuration text measured ("" before)
	runs      int
	busy      bool
	stale     bool
	focused   bool
	bench     *benchSession // the measuring job's while busy
	measuring string

	traces  *traceSummary // nil while read
	listing bool          // the trace list is shown instead of the table
	listTop int
}

type modelKeys struct {
	Up, Down, Open, Measure, List key.Binding
}

func newModelScreen(ctx *Context) *modelScreen {
	return &modelScreen{ctx: ctx, stale: true, bench: &benchSession{cpu: ctx.cpu}, keys: modelKeys{
		Up:      bind("↑/k", "up", "up", "k"),
		Down:    bind("↓/j", "down", "down", "j"),
		Open:    bind("enter", "knobs of layer", "enter"),
		Measure: bind("r", "measure again", "r"),
		List:    bind("l", "list traces", "l"),
	}}
}

func (s *modelScreen) ID() ScreenID  { return ModelScreen }
func (s *modelScreen) Title() string { return "Model" }

// tracesMsg is the traces' summary.
type tracesMsg struct{ s traceSummary }

// Init reads the traces once in the background for their summary.
func (s *modelScreen) Init() tea.Cmd {
	b := s.ctx.Bench
	if !b.Ready() || len(b.Source.Traces) == 0 {
		return nil
	}
	spec, traces := b.Spec, b.Source.Traces
	return s.ctx.Task(ModelScreen, func(ctx context.Context) tea.Msg { return tracesMsg{summariseTraces(ctx, spec, traces)} })
}
func (s *modelScreen) Capturing() bool  { return false }
func (s *modelScreen) SetSize(w, h int) { s.w, s.h = w, h }
func (s *modelScreen) Blur() {
	s.focused = false
	if s.busy {
		s.stale = true // the job is cancelled: measure again on return
	}
}

func (s *modelScreen) Keys() help.KeyMap {
	k := s.keys
	return keyMap{short: []key.Binding{helpOnly("↑/↓", "layer"), k.Open, k.List, k.Measure}, full: [][]key.Binding{{k.Up, k.Down, k.Open, k.Measure, k.List}}}
}

func (s *modelScreen) Focus() tea.Cmd {
	s.focused = true
	if s.stale {
		return s.measure()
	}
	return nil
}

// modelTimingRuns is the number of timed runs of a layer-time
// measurement, after kagen bench's warm-up.
const modelTimingRuns = 64

// stepTimesMsg is the result of a layer-time measurement.
type stepTimesMsg struct {
	config string
	stepNS []float64 // median time of each step
	runs   int
	exact  time.Duration // the whole inference's median when config is exact
	err    error
}

// measure times the current configuration's steps in a job: the medians
// of each step over runs after a warm-up (measure.Inference).
func (s *modelScreen) measure() tea.Cmd {
	b := s.ctx.Bench
	if s.busy || !b.Ready() || len(b.Source.Traces) == 0 {
		return nil
	}
	s.busy, s.stale = true, false
	s.measuring = b.ConfigText()
	v, text, bs, fixed := b.view(), s.measuring, s.bench, s.ctx.Opts.stepTimes
	return s.ctx.Job(ModelScreen, func(ctx context.Context) tea.Msg {
		res := stepTimesMsg{config: text, runs: modelTimingRuns}
		if fixed != nil {
			res.stepNS = fixed(v.approx, v.config)
			if v.config.IsExact() {
				var ns float64
				for _, t := range res.stepNS {
					ns += t
				}
				res.exact = time.Duration(ns)
			}
			return res
		}
		sel, err := v.selector(v.config)
		if res.err = err; err != nil {
			return res
		}
		r, err := bs.compare(ctx, v.model, measure.Options{Warmup: 5, WarmupTime: 200 * time.Millisecond, Runs: modelTimingRuns}, sel)
		if res.err = err; err != nil {
			return res
		}
		if v.config.IsExact() {
			res.exact = r[0].Total.Median()
		}
		for j := range r[0].Steps {
			res.stepNS = append(res.stepNS, 1e3*r[0].StepMedianUS(j))
		}
		return res
	})
}

// selectLayerMsg asks the Knobs screen to select the layer at step.
type selectLayerMsg struct{ step int }

func (s *modelScreen) Update(msg tea.Msg) tea.Cmd {
	n := len(s.ctx.Bench.Nodes)
	switch msg := msg.(type) {
	case stepTimesMsg:
		s.busy = false
		if msg.err != nil {
			s.stale = true
			return s.ctx.ShowError(fmt.Errorf("timing: %w", msg.err))
		}
		var total float64
		for _, v := range msg.stepNS {
			total += v
		}
		s.share = make([]float64, len(msg.stepNS))
		for i, v := range msg.stepNS {
			if total > 0 {
				s.share[i] = v / total
			}
		}
		s.measured, s.runs, s.perInfNS = msg.config, msg.runs, total
		if msg.exact > 0 {
			s.ctx.Bench.ExactTime = msg.exact
		}
		if (s.stale || s.measured != s.ctx.Bench.ConfigText()) && s.focused { // r pressed, or a change, while measuring
			return s.measure()
		}
	case benchChangedMsg:
		if msg.what == configChanged {
			s.stale = true
			if s.focused {
				return s.measure()
			}
		}
	case tracesMsg:
		s.traces = &msg.s
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, s.keys.List):
			s.listing, s.listTop = !s.listing, 0
		case s.listing && key.Matches(msg, s.keys.Up):
			s.listTop = max(0, s.listTop-1)
		case s.listing && key.Matches(msg, s.keys.Down):
			s.listTop = min(max(0, len(s.ctx.Bench.Source.Traces)-s.tableRows()), s.listTop+1)
		case key.Matches(msg, s.keys.Up):
			s.cur = max(0, s.cur-1)
		case key.Matches(msg, s.keys.Down):
			s.cur = min(max(0, n-1), s.cur+1)
		case key.Matches(msg, s.keys.Measure):
			s.stale = true
			return s.measure()
		case key.Matches(msg, s.keys.Open):
			if s.cur < n {
				return tea.Batch(s.ctx.Send(KnobsScreen, selectLayerMsg{s.ctx.Bench.Nodes[s.cur].Step}), s.ctx.SwitchTo(KnobsScreen))
			}
		}
	case tea.MouseClickMsg:
		if i := msg.Y - s.rowY0 + s.top; msg.Y >= s.rowY0 && i >= 0 && i < n && i-s.top < s.tableRows() {
			s.cur = i
		}
	case tea.MouseWheelMsg:
		switch msg.Button {
		case tea.MouseWheelUp:
			s.cur = max(0, s.cur-1)
		case tea.MouseWheelDown:
			s.cur = min(max(0, n-1), s.cur+1)
		}
	}
	return nil
}

// specLines describes the front-end and the model.
func (s *modelScreen) specLines() []string {
	st := s.ctx.Styles
	b := s.ctx.Bench
	sp := b.Spec
	sr := float64(sp.SampleRate)
	var lines []string
	add := func(label, text string) {
		for i, l := range wrapText(text, s.w-10) {
			if i == 0 {
				lines = append(lines, label+l)
			} else {
				lines = append(lines, strings.Repeat(" ", 10)+l)
			}
		}
	}
	add(st.Header.Render("Front-end "), fmt.Sprintf("%s · %s · %d Hz · window %d (%s) · hop %d (%s) · input %s",
		sp.Task, sp.Features.Type, sp.SampleRate, sp.Window, fmtSeconds(float64(sp.Window)/sr), sp.Hop, fmtSeconds(float64(sp.Hop)/sr), fmtShape(sp.InputShape())))
	if len(sp.Channels) > 0 {
		add(st.Dim.Render("channels  "), strings.Join(sp.Channels, " "))
	}
	add(st.Dim.Render("classes   "), strings.Join(sp.Classes, " "))
	m := b.Model
	add(st.Dim.Render("model     "), fmt.Sprintf("%s · sha256 %s… · opset %d · %s params · %s MACs/inference",
		b.Source.Name, m.SHA256()[:12], m.Opset(), fmtCount(int64(m.Params())), fmtCount(m.MACs())))
	tl := tracesLine(b.Source.Traces, s.traces)
	if len(b.Source.Traces) > 1 {
		if s.listing {
			tl += " · l shows the layers"
		} else {
			tl += " · l lists them"
		}
	}
	add(st.Dim.Render("traces    "), tl)
	var time string
	switch {
	case s.measured == "" && s.busy:
		time = "measuring…"
	case s.measured == "":
		time = "not measured yet"
	default:
		time = fmt.Sprintf("%s per inference (sum of layer medians, %d runs, this machine) · config %s", fmtTime(s.perInfNS), s.runs, s.measured)
		if s.busy {
			time += " · measuring again…"
		}
	}
	add(st.Dim.Render("time      "), time)
	return lines
}

// traceList is the list of trace paths in h rows, in place of the
// layer table.
func (s *modelScreen) traceList(h int) []string {
	st := s.ctx.Styles
	traces := s.ctx.Bench.Source.Traces
	lines := []string{st.Header.Render(fmt.Sprintf("Traces (%d, replayed in this order)", len(traces)))}
	rows := h - 2
	s.listTop = clampInt(s.listTop, 0, max(0, len(traces)-rows))
	for i := s.listTop; i < len(traces) && i < s.listTop+rows; i++ {
		lines = append(lines, fmt.Sprintf("%3d %s", i+1, cutLeft(traces[i].Name, s.w-4)))
	}
	for len(lines) < h-1 {
		lines = append(lines, "")
	}
	return append(lines, st.Dim.Render(cut(hiddenRows(s.listTop, rows, len(traces), "↑/↓ scroll, l shows the layers"), s.w)))
}

// modelColumns are the widths of the layer table's columns.
type modelColumns struct{ name, op, shape, share int }

// columns fits the table to the width: the names whole and the shapes
// never cut where the terminal allows; the op column and the share bar
// give way first, then the names (cut from the left: their end tells
// them apart).
func (s *modelScreen) columns() modelColumns {
	b := s.ctx.Bench
	c := modelColumns{name: 4, op: 2, shape: 6, share: 14}
	for i, n := range b.Nodes {
		c.name = max(c.name, ansi.StringWidth(b.Short[i]))
		op := b.Ops[i]
		if n.View {
			op += " (view)"
		}
		c.op = max(c.op, min(20, ansi.StringWidth(op)))
		c.shape = max(c.shape, ansi.StringWidth(fmtShape(n.Shape)))
	}
	const knobMin = 6
	used := func() int { return 4 + c.name + 1 + c.op + 1 + c.shape + 1 + 8 + c.share + 1 + knobMin }
	for _, g := range []struct {
		w   *int
		min int
	}{{&c.op, 9}, {&c.share, 8}, {&c.name, 12}} {
		if over := used() - s.w; over > 0 {
			*g.w -= min(over, max(0, *g.w-g.min))
		}
	}
	return c
}

// hiddenRows says which rows of a list of n scrolled to top, rows at a
// time, are out of view ("" when none): "↑ 2 above · ↓ 6 below".
func hiddenRows(top, rows, n int, how string) string {
	var parts []string
	if top > 0 {
		parts = append(parts, fmt.Sprintf("↑ %d above", top))
	}
	if below := n - top - rows; below > 0 {
		parts = append(parts, fmt.Sprintf("↓ %d below", below))
	}
	if len(parts) == 0 {
		return ""
	}
	return "  " + strings.Join(parts, " · ") + " (" + how + ")"
}

func (s *modelScreen) tableRows() int {
	return max(1, s.h-len(s.specLines())-2)
}

func (s *modelScreen) View() string {
	st := s.ctx.Styles
	b := s.ctx.Bench
	if !b.Ready() {
		return fit(st.Dim.Render("No model loaded (see the error panel). Run kagen open MODEL TRACE..."), s.w, s.h)
	}
	spec := s.specLines()
	rows := s.tableRows()
	if s.cur < s.top {
		s.top = s.cur
	}
	if s.cur >= s.top+rows {
		s.top = s.cur - rows + 1
	}
	if s.listing {
		lines := append(s.traceList(rows+1), spec...)
		return fit(strings.Join(lines, "\n"), s.w, s.h)
	}
	cols := s.columns()
	hdr := fmt.Sprintf("%3s %s %s %s %s %s %s", "#", pad("node", cols.name), pad("op", cols.op), pad("output", cols.shape), padLeft("MACs", 7), pad(map[bool]string{true: "  time share", false: "  time"}[cols.share >= 12], cols.share), "knob")
	lines := []string{st.Header.Render(cut(hdr, s.w))}
	s.rowY0 = 1
	for i := s.top; i < len(b.Nodes) && i < s.top+rows; i++ {
		n := b.Nodes[i]
		op := b.Ops[i]
		if n.View {
			op += " (view)"
		}
		macs := ""
		if n.MACs > 0 {
			macs = fmtCount(n.MACs)
		}
		share := ""
		if s.share != nil && n.Step < len(s.share) && !n.View {
			share = fmt.Sprintf("%5.1f%% %s", 100*s.share[n.Step], bar(s.share[n.Step], cols.share-8))
		}
		k := b.Config.Knob(n.Step)
		knob := "-"
		if len(b.Approx.Applicable(n.Step)) > 1 {
			knob = k.String()
		}
		row := fmt.Sprintf("%3d %s %s %s %s %s ", n.Step, pad(cutLeft(b.Short[i], cols.name), cols.name), pad(op, cols.op), pad(fmtShape(n.Shape), cols.shape), padLeft(macs, 7), pad(" "+share, cols.share))
		knob = cut(knob, max(4, s.w-ansi.StringWidth(row)))
		switch {
		case i == s.cur:
			row = st.Selected.Render(pad(row+knob, s.w))
		case knob == "-":
			row += st.Dim.Render(knob)
		case !k.IsExact():
			row += st.Accent.Render(knob)
		default:
			row += knob
		}
		lines = append(lines, row)
	}
	lines = append(lines, st.Dim.Render(cut(hiddenRows(s.top, rows, len(b.Nodes), "↑/↓ scroll"), s.w)))
	lines = append(lines, spec...)
	return fit(strings.Join(lines, "\n"), s.w, s.h)
}

// bar draws a fraction as w cells.
func bar(f float64, w int) string {
	n := int(f*float64(w) + 0.5)
	n = clampInt(n, 0, w)
	return strings.Repeat("█", n) + strings.Repeat("░", w-n)
}
