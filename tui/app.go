package tui

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/kagen-ai/kagen/approx"
	"github.com/kagen-ai/kagen/deploy"
	"github.com/kagen-ai/kagen/policy"
)

// Options configure the workbench. The zero value is the interactive
// default.
type Options struct {
	// Device is the energy profile's name or a JSON file ("phone-big").
	Device string
	// ParetoPath is a pareto.json (from `kagen tune`) to start from.
	ParetoPath string
	// PolicyPath is where the policy is saved (default policy.json).
	PolicyPath string
	// Store keeps the work between runs; Resume is the state to resume.
	Store  Store
	Resume *Snapshot
	// Clock and Tuner replace the wall clock and the real tuner (tests).
	Clock Clock
	Tuner Tuner
	// Cost, if set, fixes the time the Knobs and Replay screens charge an
	// inference at each of levels (level 0 exact; the Knobs screen asks
	// for exact and its configuration) instead of timing the levels in
	// the background: ParetoCost charges the Pareto file's time_us, as
	// `kagen replay --cost pareto` does; tests charge a model of the
	// times, so that their figures do not depend on the machine.
	Cost func(levels []policy.Level) (*deploy.LevelCost, error)
	// ReplayOnce makes the Replay screen stop at the end of the traces
	// instead of starting them again. With it, a test runs the Replay
	// screen once through its traces, as `kagen replay` does: Start
	// ReplayScreen, send the keys "s" (speed max) and space, wait for the
	// screen to show "end of traces", and read App.ReplayReport.
	ReplayOnce bool
	// Policy, if set, is a policy of the model to start from (read with
	// policy.ReadPolicy or deploy.ReadPolicy): its levels become the
	// Pareto set, in place of ParetoPath's, and its controller the one
	// the Replay and Policy screens edit and replay.
	Policy *policy.Policy
	// Batch bounds the windows of one live batch and BatchBudget its
	// duration (defaults 32 and 8 ms); KnobsPeriod is the pause between
	// two batches of the Knobs replay (default 30 ms).
	Batch       int
	BatchBudget time.Duration
	KnobsPeriod time.Duration
	// Start is the screen shown first.
	Start ScreenID
	// Warnings are shown in the error panel at start (a session opened
	// read-only, say).
	Warnings []string

	// observe, if set, sees every message after it was handled (tests).
	observe func(tea.Msg)
	// stepTimes, if set, replaces the Model screen's measured layer
	// times with a model of them (tests).
	stepTimes func(a *approx.Approximator, cfg approx.Config) []float64
	// measured, if set, replaces the time measured per window that the
	// Replay screen draws (tests: the charged time).
	measured func(inf *deploy.Inference) time.Duration
}

// ParetoCost is an Options.Cost that charges each level the time_us the
// Pareto file (or policy) gives it, as `kagen replay --cost pareto` does
// (deploy.PolicyCost). Untuned levels, which have none, are refused.
func ParetoCost(levels []policy.Level) (*deploy.LevelCost, error) {
	return deploy.PolicyCost(&policy.Policy{Levels: levels})
}

// App is the workbench's root model: a thin router over the screens.
type App struct {
	ctx     *Context
	screens []Screen
	active  ScreenID
	w, h    int
	keys    globalKeys
	showAll bool
	errs    []string
	notice  string
	quiting bool
	tabs    [][2]int // x range of each tab in the tab bar

	waiters []chan string
	saveMu  sync.Mutex
}

// New builds the workbench on a source. Errors loading the model, the
// Pareto file or the session are shown in the error panel; the workbench
// opens regardless.
func New(src Source, opts Options) *App {
	if opts.Clock == nil {
		opts.Clock = realClock{}
	}
	if opts.Tuner == nil {
		opts.Tuner = pipelineTuner{}
	}
	if opts.Batch <= 0 {
		opts.Batch = 32
	}
	if opts.BatchBudget == 0 {
		opts.BatchBudget = 8 * time.Millisecond
	}
	if opts.KnobsPeriod == 0 {
		opts.KnobsPeriod = 30 * time.Millisecond
	}
	b := loadBench(src, opts.Device)
	a := &App{keys: newGlobalKeys(), active: opts.Start}
	a.ctx = newContext(b, opts)
	if b.LoadErr != nil {
		a.errs = append(a.errs, b.LoadErr.Error())
	}
	a.errs = append(a.errs, opts.Warnings...)
	if opts.PolicyPath != "" {
		b.PolicyPath = opts.PolicyPath
	}
	if b.Ready() {
		if opts.Resume != nil {
			if err := b.restore(*opts.Resume); err != nil {
				a.errs = append(a.errs, "session: "+err.Error())
			}
		}
		if opts.ParetoPath != "" {
			if p, err := readPareto(opts.ParetoPath, b); err != nil {
				a.errs = append(a.errs, err.Error())
			} else {
				b.Pareto, b.Validated = p, nil
				if len(p.Validated) > 0 { // the tuner's record: the scatter's other points
					if err := json.Unmarshal(p.Validated, &b.Validated); err != nil {
						b.Validated = nil
						a.errs = append(a.errs, opts.ParetoPath+": its \"validated\" list is not a list of validated configurations; only the levels are plotted")
					}
				}
			}
		}
		if pol := opts.Policy; pol != nil {
			if pol.ModelSHA256 != b.Model.SHA256() {
				a.errs = append(a.errs, "policy: made for another model (its model_sha256 differs); not loaded")
			} else if c, err := pol.Controller.WithDefaults(); err != nil {
				a.errs = append(a.errs, "policy: "+err.Error())
			} else {
				b.Pareto, b.Validated, b.Controller = paretoOf(pol), nil, c
			}
		}
	}
	a.screens = []Screen{newModelScreen(a.ctx), newKnobsScreen(a.ctx), newReplayScreen(a.ctx), newParetoScreen(a.ctx), newPolicyScreen(a.ctx)}
	return a
}

// Run opens the workbench in the terminal and returns when it quits,
// its jobs cancelled.
func Run(src Source, opts Options, progOpts ...tea.ProgramOption) error {
	a := New(src, opts)
	defer a.Close()
	_, err := tea.NewProgram(a, progOpts...).Run()
	return err
}

// Close cancels every job still running (the program quit). The keys that
// quit call it; a caller that runs the App in its own program calls it
// when the program has returned.
func (a *App) Close() { a.ctx.stop() }

// ReplayReport returns the Replay screen's figures: its replayer's report
// of the controller against the exact run since the policy, the device or
// the traces last started (nil before the first window). It is safe to
// call from any goroutine while the program runs; see
// Options.ReplayOnce for reading the figures of a whole replay.
func (a *App) ReplayReport() *deploy.Report { return a.ctx.replayReport.Load() }

// Init implements tea.Model.
func (a *App) Init() tea.Cmd {
	var cmds []tea.Cmd
	for _, s := range a.screens {
		cmds = append(cmds, s.Init())
	}
	cmds = append(cmds, a.screens[a.active].Focus(), a.autosave())
	return tea.Batch(cmds...)
}

// barrierMsg is answered with the rendered view once no job or fired
// tick is waiting to be handled, or at once with now set (tests).
type barrierMsg struct {
	reply chan string
	now   bool
}

// rootMsg is a result for the router itself.
type saveDoneMsg struct{ err error }

// Update implements tea.Model.
func (a *App) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	cmd := a.update(msg)
	if a.ctx.Opts.observe != nil {
		a.ctx.Opts.observe(msg)
	}
	return a, cmd
}

func (a *App) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		a.w, a.h = msg.Width, msg.Height
		a.layout()
		return nil
	case addressed:
		var cmd tea.Cmd
		if msg.to >= 0 && msg.to < numScreens {
			cmd = a.screens[msg.to].Update(msg.msg)
		} else {
			cmd = a.update(msg.msg)
		}
		if msg.counted && a.ctx.inflight.Add(-1) == 0 {
			a.release()
		}
		return cmd
	case barrierMsg:
		if msg.now {
			msg.reply <- a.render()
			return nil
		}
		a.waiters = append(a.waiters, msg.reply)
		if a.ctx.inflight.Load() == 0 {
			a.release()
		}
		return nil
	case benchChangedMsg:
		var cmds []tea.Cmd
		for _, s := range a.screens {
			cmds = append(cmds, s.Update(msg))
		}
		cmds = append(cmds, a.autosave())
		return tea.Batch(cmds...)
	case switchMsg:
		return a.activate(msg.to)
	case errMsg:
		a.addError(msg.err.Error())
		return nil
	case noticeMsg:
		a.notice = msg.text
		return nil
	case saveDoneMsg:
		if msg.err != nil {
			a.addError("session autosave: " + msg.err.Error())
		}
		return nil
	case tea.KeyPressMsg:
		return a.key(msg)
	case tea.MouseClickMsg:
		if msg.Y == 0 {
			for i, r := range a.tabs {
				if msg.X >= r[0] && msg.X < r[1] {
					return a.activate(ScreenID(i))
				}
			}
			return nil
		}
		m := msg
		m.Y--
		return a.screens[a.active].Update(m)
	case tea.MouseWheelMsg:
		m := msg
		m.Y--
		return a.screens[a.active].Update(m)
	}
	return a.screens[a.active].Update(msg)
}

// release answers the barrier waiters.
func (a *App) release() {
	if len(a.waiters) == 0 {
		return
	}
	v := a.render()
	for _, w := range a.waiters {
		w <- v
	}
	a.waiters = nil
}

func (a *App) key(msg tea.KeyPressMsg) tea.Cmd {
	if a.quiting {
		switch msg.String() {
		case "y", "Y", "q", "ctrl+c":
			a.Close()
			return tea.Quit
		default:
			a.quiting = false
			return nil
		}
	}
	s := a.screens[a.active]
	if s.Capturing() && msg.String() != "ctrl+c" {
		return s.Update(msg)
	}
	k := a.keys
	switch {
	case key.Matches(msg, k.Quit):
		if a.ctx.Bench.Dirty {
			a.quiting = true
			return nil
		}
		a.Close()
		return tea.Quit
	case key.Matches(msg, k.Next):
		return a.activate((a.active + 1) % numScreens)
	case key.Matches(msg, k.Prev):
		return a.activate((a.active + numScreens - 1) % numScreens)
	case key.Matches(msg, k.Jump):
		return a.activate(ScreenID(msg.String()[0] - '1'))
	case key.Matches(msg, k.Help):
		a.showAll = !a.showAll
		a.layout()
		return nil
	case key.Matches(msg, k.Dismiss) && len(a.errs) > 0:
		a.errs = nil
		a.layout()
		return nil
	}
	return s.Update(msg)
}

func (a *App) activate(id ScreenID) tea.Cmd {
	if id < 0 || id >= numScreens || id == a.active {
		return nil
	}
	a.screens[a.active].Blur()
	a.ctx.leave(a.active)
	a.active = id
	a.notice = ""
	a.layout()
	return a.screens[id].Focus()
}

func (a *App) addError(e string) {
	for _, x := range a.errs {
		if x == e {
			return
		}
	}
	a.errs = append(a.errs, e)
	if len(a.errs) > 3 {
		a.errs = a.errs[len(a.errs)-3:]
	}
	a.layout()
}

// autosave writes the session in a job when there is a store.
func (a *App) autosave() tea.Cmd {
	if a.ctx.Store == nil {
		return nil
	}
	snap, store := a.ctx.Bench.snapshot(), a.ctx.Store
	return a.ctx.Task(rootID, func(context.Context) tea.Msg {
		a.saveMu.Lock()
		defer a.saveMu.Unlock()
		return saveDoneMsg{store.Save(snap)}
	})
}

// bottom renders the error panel and the help bar.
func (a *App) bottom() []string {
	st := a.ctx.Styles
	var lines []string
	for _, e := range a.errs {
		for i, l := range wrapText(e, a.w-4) {
			if i == 2 {
				break
			}
			prefix := "✗ "
			if i > 0 {
				prefix = "  "
			}
			lines = append(lines, st.ErrorBox.Render(prefix+l))
		}
	}
	if len(a.errs) > 0 {
		lines = append(lines, st.Dim.Render("  esc dismisses the errors; the workbench keeps running"))
	}
	if a.quiting {
		lines = append(lines, st.Warn.Render("Unsaved work (not in a saved policy file). Quit anyway? y/n"))
		return lines
	}
	s := a.screens[a.active]
	if a.showAll {
		lines = append(lines, a.fullHelp(s)...)
	} else {
		lines = append(lines, a.shortHelp(s))
	}
	return lines
}

// helpItem renders one key and what it does.
func (a *App) helpItem(b key.Binding) (text string, width int) {
	st := a.ctx.Styles.Help
	h := b.Help()
	return st.ShortKey.Render(h.Key) + " " + st.ShortDesc.Render(h.Desc), ansi.StringWidth(h.Key + " " + h.Desc)
}

// globalHelp lists the router's keys for the help: none but ctrl+c
// while a screen takes every key (a file name is typed).
func (a *App) globalHelp(s Screen, all bool) []key.Binding {
	k := a.keys
	if s.Capturing() {
		return []key.Binding{bind("ctrl+c", "quit", "ctrl+c")}
	}
	help := bind("?", "all keys", "?")
	if a.showAll {
		help = bind("?", "fewer keys", "?")
	}
	if !all {
		return []key.Binding{k.Next, help, k.Quit}
	}
	out := []key.Binding{k.Next, k.Prev, k.Jump, help, bind("q/ctrl+c", "quit", "q")}
	if len(a.errs) > 0 {
		out = append(out, k.Dismiss)
	}
	return out
}

// shortHelp is the one-line footer: the router's keys (next screen, all
// keys, quit) and as many of the screen's as fit, in the screen's order
// of priority; never cut.
func (a *App) shortHelp(s Screen) string {
	sep := a.ctx.Styles.Help.ShortSeparator.Render(" • ")
	var tail []string
	var widths []int
	used := -3 // the first item has no separator
	for _, b := range a.globalHelp(s, false) {
		t, w := a.helpItem(b)
		tail, widths = append(tail, t), append(widths, w)
		used += w + 3
	}
	for len(tail) > 1 && used > a.w { // a very narrow terminal: quit stays
		tail, used, widths = tail[1:], used-widths[0]-3, widths[1:]
	}
	var head []string
	for _, b := range s.Keys().ShortHelp() {
		if b.Help().Key == "" {
			continue
		}
		t, w := a.helpItem(b)
		if used+w+3 > a.w {
			break
		}
		head = append(head, t)
		used += w + 3
	}
	return strings.Join(append(head, tail...), sep)
}

// fullHelp lists every key of the screen and of the router, wrapped to
// the width: nothing is cut.
func (a *App) fullHelp(s Screen) []string {
	sep := a.ctx.Styles.Help.ShortSeparator.Render(" • ")
	var binds []key.Binding
	seen := map[string]bool{}
	for _, g := range s.Keys().FullHelp() {
		for _, b := range g {
			if h := b.Help(); h.Key != "" && !seen[h.Key+h.Desc] {
				seen[h.Key+h.Desc] = true
				binds = append(binds, b)
			}
		}
	}
	binds = append(binds, a.globalHelp(s, true)...)
	var lines []string
	line, lw := "", 0
	for _, b := range binds {
		t, w := a.helpItem(b)
		switch {
		case lw == 0:
			line, lw = t, w
		case lw+3+w <= a.w:
			line, lw = line+sep+t, lw+3+w
		default:
			lines = append(lines, line)
			line, lw = t, w
		}
	}
	return append(lines, line)
}

// layout gives every screen the body size.
func (a *App) layout() {
	h, _ := rows(a.h, len(a.bottom()))
	for _, s := range a.screens {
		s.SetSize(max(1, a.w), max(1, h))
	}
}

// rows splits a terminal of h rows into the body's and the bottom
// panel's, under the tab bar's one: the body gets at least one row when
// there is room for it, the bottom panel what is left of its n lines. A
// terminal of one row shows only the tab bar, of two the tab bar and one
// row of the body.
func rows(h, n int) (body, bottom int) {
	if h <= 1 {
		return 0, 0
	}
	body = max(1, h-1-n)
	return body, h - 1 - body
}

func (a *App) tabBar() string {
	st := a.ctx.Styles
	title := st.Title.Render("kagen")
	x := lipgloss.Width(title) + 1
	parts := []string{title}
	a.tabs = a.tabs[:0]
	for i, s := range a.screens {
		label := fmt.Sprintf("%d %s", i+1, s.Title())
		w := len(label)
		if ScreenID(i) == a.active {
			label = st.ActiveTab.Render(label)
		} else {
			label = st.Tab.Render(label)
		}
		parts = append(parts, label)
		a.tabs = append(a.tabs, [2]int{x, x + w})
		x += w + 2
	}
	bar := strings.Join(parts[:1], "") + " " + strings.Join(parts[1:], "  ")
	b := a.ctx.Bench
	right := b.Source.Name
	if b.Source.Demo != "" {
		right += " (demo)"
	}
	if b.Dirty {
		right += " •"
	}
	if a.notice != "" {
		right = a.notice + " · " + right
	}
	if free := a.w - lipgloss.Width(bar) - 2; free > 3 {
		right = cut(right, free)
		bar += strings.Repeat(" ", a.w-lipgloss.Width(bar)-ansi.StringWidth(right)) + st.Dim.Render(right)
	}
	return bar
}

// render draws the whole screen.
func (a *App) render() string {
	if a.w <= 0 || a.h <= 0 {
		return ""
	}
	bottom := a.bottom()
	bodyH, bottomH := rows(a.h, len(bottom))
	// screens render exactly their size (fit); the bars are built to the
	// width, so the parts are joined as they are. At one to three rows
	// (a shrunk window) the parts that do not fit are left out.
	parts := []string{fit(a.tabBar(), a.w, 1)}
	if bodyH > 0 {
		parts = append(parts, fit(a.screens[a.active].View(), a.w, bodyH))
	}
	if bottomH > 0 {
		parts = append(parts, fit(strings.Join(bottom, "\n"), a.w, bottomH))
	}
	return strings.Join(parts, "\n")
}

// View implements tea.Model.
func (a *App) View() tea.View {
	v := tea.NewView(a.render())
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	v.WindowTitle = "kagen · " + a.ctx.Bench.Source.Name
	return v
}

// wrapText breaks s into lines of at most w cells.
func wrapText(s string, w int) []string {
	if w < 10 {
		w = 10
	}
	return strings.Split(lipgloss.Wrap(s, w, " "), "\n")
}
