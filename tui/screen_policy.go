package tui

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/kagen-ai/kagen/device"
	"github.com/kagen-ai/kagen/internal/atomicfile"
	"github.com/kagen-ai/kagen/internal/readfile"
	"github.com/kagen-ai/kagen/policy"
	"github.com/kagen-ai/kagen/tuning"
)

// policyScreen edits the controller, the accuracy floor, the energy
// budget and the device profile, and saves the policy file.
type policyScreen struct {
	ctx  *Context
	w, h int
	keys policyKeys

	field   int
	editing bool
	path    textinput.Model
	saving  bool
	saved   string // message after the last save
	rowY0   int
}

type policyKeys struct {
	Up, Down, Left, Right, Edit, Save, Cancel key.Binding
}

func newPolicyScreen(ctx *Context) *policyScreen {
	s := &policyScreen{ctx: ctx}
	s.keys = policyKeys{
		Up:     bind("↑/k", "field up", "up", "k"),
		Down:   bind("↓/j", "field down", "down", "j"),
		Left:   bind("←/h", "change", "left", "h"),
		Right:  bind("→/l", "change", "right", "l"),
		Edit:   bind("enter", "edit file name", "enter"),
		Save:   bind("s", "save policy", "s", "ctrl+s"),
		Cancel: bind("esc", "stop editing", "esc"),
	}
	s.path = textinput.New()
	s.path.Prompt = ""
	s.path.CharLimit = 4096
	s.path.SetValue(ctx.Bench.PolicyPath)
	return s
}

func (s *policyScreen) ID() ScreenID    { return PolicyScreen }
func (s *policyScreen) Title() string   { return "Policy" }
func (s *policyScreen) Init() tea.Cmd   { return nil }
func (s *policyScreen) Capturing() bool { return s.editing }
func (s *policyScreen) Focus() tea.Cmd  { return nil }
func (s *policyScreen) Blur() {
	if s.editing {
		s.commitPath()
	}
}

func (s *policyScreen) SetSize(w, h int) {
	s.w, s.h = w, h
	s.path.SetWidth(max(10, w-24))
}

func (s *policyScreen) Keys() help.KeyMap {
	k := s.keys
	if s.editing {
		return keyMap{short: []key.Binding{bind("enter", "done", "enter"), k.Cancel}, full: [][]key.Binding{{k.Cancel}}}
	}
	return keyMap{short: []key.Binding{k.Save, helpOnly("↑/↓", "field"), helpOnly("←/→", "change"), k.Edit},
		full: [][]key.Binding{{k.Up, k.Down, k.Left, k.Right}, {k.Edit, k.Save}}}
}

// field kinds
const (
	fieldController = "controller"
	fieldDevice     = "device"
	fieldFile       = "file"
)

// fields lists the rows of the form: the controller, its parameters, the
// device and the file.
func (s *policyScreen) fields() []string {
	out := []string{fieldController}
	for _, p := range editorParams(s.ctx.Bench.Controller) {
		out = append(out, p.id())
	}
	return append(out, fieldDevice, fieldFile)
}

type policySavedMsg struct {
	path, checksum, model string
	err                   error
}

func (s *policyScreen) Update(msg tea.Msg) tea.Cmd {
	b := s.ctx.Bench
	switch msg := msg.(type) {
	case policySavedMsg:
		s.saving = false
		if msg.err != nil {
			s.saved = ""
			return s.ctx.ShowError(fmt.Errorf("save policy: %w", msg.err))
		}
		b.SavedPath = msg.path
		b.Dirty = false
		b.SavedCommand = runCommand(b, msg.path, msg.model)
		s.saved = fmt.Sprintf("wrote %s (%s)", msg.path, shortSum(msg.checksum))
		if msg.model != "" {
			s.saved += fmt.Sprintf(" and the demo model %s", msg.model)
		}
		return tea.Batch(s.ctx.Notice("policy saved"), s.ctx.Changed(policySaved))
	case benchChangedMsg:
		s.field = clampInt(s.field, 0, len(s.fields())-1)
	case tea.KeyPressMsg:
		if s.editing {
			switch msg.String() {
			case "enter":
				s.commitPath()
				return nil
			case "esc":
				s.editing = false
				s.path.SetValue(b.PolicyPath)
				s.path.Blur()
				return nil
			}
			var cmd tea.Cmd
			s.path, cmd = s.path.Update(msg)
			return cmd
		}
		return s.key(msg)
	case tea.MouseClickMsg:
		if i := msg.Y - s.rowY0; i >= 0 && i < len(s.fields()) {
			s.field = i
		}
	default:
		if s.editing {
			var cmd tea.Cmd
			s.path, cmd = s.path.Update(msg)
			return cmd
		}
	}
	return nil
}

func (s *policyScreen) commitPath() {
	b := s.ctx.Bench
	s.editing = false
	s.path.Blur()
	v := strings.TrimSpace(s.path.Value())
	if v == "" {
		v = "policy.json"
	}
	if v != b.PolicyPath {
		b.PolicyPath = v
		b.Dirty = true
	}
	s.path.SetValue(v)
}

func (s *policyScreen) key(msg tea.KeyPressMsg) tea.Cmd {
	k := s.keys
	fs := s.fields()
	switch {
	case key.Matches(msg, k.Up):
		s.field = max(0, s.field-1)
	case key.Matches(msg, k.Down):
		s.field = min(len(fs)-1, s.field+1)
	case key.Matches(msg, k.Left), key.Matches(msg, k.Right):
		d := 1
		if key.Matches(msg, k.Left) {
			d = -1
		}
		return s.change(fs[s.field], d)
	case key.Matches(msg, k.Edit):
		if fs[s.field] == fieldFile {
			s.editing = true
			s.path.CursorEnd()
			return s.path.Focus()
		}
		return s.change(fs[s.field], 1)
	case key.Matches(msg, k.Save):
		return s.save()
	}
	return nil
}

// change moves a field by one notch.
func (s *policyScreen) change(field string, d int) tea.Cmd {
	b := s.ctx.Bench
	levels, _ := b.Levels()
	switch {
	case field == fieldController:
		c, err := nextController(b, d)
		if err != nil {
			return s.ctx.ShowError(err)
		}
		b.Controller = c
		b.Dirty = true
		return s.ctx.Changed(controllerChanged)
	case field == fieldDevice:
		devs := device.Profiles()
		i := 0
		for j, dv := range devs {
			if dv.Name == b.Device.Name {
				i = j
			}
		}
		dv := devs[(i+d+len(devs))%len(devs)]
		b.Device = &dv
		b.Dirty = true
		return s.ctx.Changed(deviceChanged)
	case field == fieldFile:
		s.editing = true
		return s.path.Focus()
	default:
		for _, p := range editorParams(b.Controller) {
			if p.id() == field {
				b.Controller = p.step(b.Controller, d, len(levels))
				b.Dirty = true
				return s.ctx.Changed(controllerChanged)
			}
		}
	}
	return nil
}

// save writes the policy in a job.
func (s *policyScreen) save() tea.Cmd {
	b := s.ctx.Bench
	if s.saving || !b.Ready() {
		return nil
	}
	if b.Pareto == nil {
		return s.ctx.ShowError(errUntuned)
	}
	pol, err := buildPolicy(b)
	if err != nil {
		return s.ctx.ShowError(fmt.Errorf("policy: %w", err))
	}
	s.saving = true
	path, m := b.PolicyPath, b.Model
	demoBytes, demoName := b.Source.ModelBytes, b.Source.Name
	inputs := []string{b.Source.ModelPath}
	for _, t := range b.Source.Traces {
		if t.FS == nil {
			inputs = append(inputs, t.Path)
		}
	}
	return s.ctx.Task(PolicyScreen, func(context.Context) tea.Msg {
		abs, sum, err := savePolicy(m, pol, path, inputs)
		if err != nil {
			return policySavedMsg{err: err}
		}
		res := policySavedMsg{path: abs, checksum: sum}
		if demoBytes != nil {
			// the embedded demo model has no file: put it beside the
			// policy so that the command shown runs as it is
			mp := filepath.Join(filepath.Dir(abs), demoName)
			// (a file there that is not the demo, or not a regular file,
			// is left alone)
			if old, err := readfile.Regular(mp, int64(len(demoBytes))); err == nil {
				if string(old) == string(demoBytes) {
					res.model = mp
				}
			} else if errors.Is(err, fs.ErrNotExist) && atomicfile.Write(mp, demoBytes) == nil {
				res.model = mp
			}
		}
		return res
	})
}

// runCommand is the command line that runs a saved policy on a device.
func runCommand(b *Bench, policyPath, demoModel string) string {
	model := b.Source.ModelPath
	if demoModel != "" {
		model = demoModel
	}
	if model == "" {
		model = b.Source.Name
	}
	input := "TRACE"
	if b.Spec != nil && b.Spec.Task == "kws" {
		input = "AUDIO.raw"
	} else {
		input = "TRACE.csv"
	}
	return fmt.Sprintf("kagen run --model %s --policy %s --input %s", shellQuote(model), shellQuote(policyPath), input)
}

func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t'\"$`\\!*?[]{}()<>|&;#~") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func shortSum(sum string) string {
	if len(sum) > 19 {
		return sum[:19] + "…"
	}
	return sum
}

func (s *policyScreen) View() string {
	st := s.ctx.Styles
	b := s.ctx.Bench
	if !b.Ready() {
		return fit(st.Dim.Render("No model loaded (see the error panel)."), s.w, s.h)
	}
	levels, tuned := b.Levels()
	var lines []string
	src := "untuned: tune on the Pareto screen first"
	if tuned {
		src = fmt.Sprintf("%s from the Pareto set (%s, objective %s)", plural(len(levels), "level"), b.Pareto.Meter, b.Pareto.Objective)
	}
	lines = append(lines, st.Header.Render("Policy ")+st.Dim.Render(src))
	s.rowY0 = len(lines)
	row := func(i int, name, value, note string) string {
		marker := "  "
		if i == s.field {
			marker = "▸ "
			value = st.Selected.Render(value)
		}
		return marker + pad(name, 18) + value + " " + st.Dim.Render(note)
	}
	i := 0
	doc := ""
	if info := policy.Lookup(b.Controller.Name); info != nil {
		doc = info.Doc
	}
	lines = append(lines, row(i, "controller", "◀ "+b.Controller.Name+" ▶", cut(doc, max(10, s.w-44))))
	i++
	for _, p := range editorParams(b.Controller) {
		value := p.value(b.Controller)
		lines = append(lines, row(i, "  "+p.label(), value, cut(paramNote(p, b, levels), max(10, s.w-24-len(value)))))
		i++
	}
	lines = append(lines, row(i, "device profile", "◀ "+b.Device.Name+" ▶", cut(b.Device.Description, max(10, s.w-44))))
	i++
	file := s.path.View()
	if !s.editing {
		file = b.PolicyPath
	}
	fileNote := "enter to edit"
	if s.editing {
		fileNote = "enter to keep, esc to cancel"
	}
	lines = append(lines, row(i, "file", file, fileNote))
	lines = append(lines, "")

	// levels
	head := "  (untuned)"
	if tuned {
		head = "  (calibrated"
		if n := tuning.Windows(levels[0].Confidence); n > 0 {
			head += fmt.Sprintf(" on %d windows; loss [its 95%% interval]", n)
		}
		head += ")"
	}
	lines = append(lines, st.Header.Render("Levels")+st.Dim.Render(cut(head, s.w-6)))
	fl := floorLevel(levels, b.Controller)
	maxLv := max(1, s.h-len(lines)-5)
	for j, l := range levels {
		if j >= maxLv {
			lines = append(lines, st.Dim.Render(fmt.Sprintf("  … %d more", len(levels)-j)))
			break
		}
		mark := " "
		if j > fl {
			mark = st.Dim.Render("×")
		}
		speed, loss, acc := fmt.Sprintf("%6.2fx", l.Speedup), fmt.Sprintf("%+6.2f pp", l.QoSLossPP), pct(l.Accuracy)
		if tuned && j > 0 && b.Pareto != nil {
			if ll := tuning.LevelLoss(l, b.Pareto.ExactAccuracy); ll.Windows > 0 {
				loss = fmt.Sprintf("%+6.2f [%+.1f, %+.1f]", ll.PP, ll.Lo, ll.Hi)
			}
		}
		loss = pad(loss, 22)
		if !tuned { // nothing measured yet: no figure rather than a zero
			speed, loss, acc = padLeft("-", 7), pad(padLeft("-", 6), 22), "-"
		}
		lines = append(lines, fmt.Sprintf("%s %2d %s %s %7s  %s", mark, j, speed, loss, acc, cut(l.Config, max(10, s.w-47))))
	}
	lines = append(lines, "")
	switch {
	case s.saving:
		lines = append(lines, st.Dim.Render("saving…"))
	case s.saved != "" && !b.Dirty:
		lines = append(lines, st.Notice.Render(cut("✓ "+s.saved, s.w)))
		for i, l := range wrapText(b.SavedCommand, s.w-8) {
			label := "run it: "
			if i > 0 {
				label = "        "
			}
			lines = append(lines, st.Dim.Render(label)+l)
		}
	case s.saved != "":
		lines = append(lines, st.Warn.Render(cut("changed since: "+s.saved, s.w)))
		lines = append(lines, st.Dim.Render("s saves again"))
	case !tuned:
		for _, l := range wrapText(errUntuned.Error(), s.w) {
			lines = append(lines, st.Warn.Render(l))
		}
	default:
		lines = append(lines, st.Dim.Render(fmt.Sprintf("s validates and writes %s atomically", b.PolicyPath)))
	}
	return fit(strings.Join(lines, "\n"), s.w, s.h)
}

// paramNote says what a parameter does: the registry's doc, or what its
// value means for these levels.
func paramNote(p editorParam, b *Bench, levels []policy.Level) string {
	c := b.Controller
	switch {
	case p.floor && c.Floor == nil:
		return "no accuracy floor"
	case p.Param == policy.FloorParamSpecs()[0]:
		return fmt.Sprintf("never above level %d; exact after a hard input", floorLevel(levels, c))
	case p.Level:
		if l, err := strconv.Atoi(p.Get(c)); err == nil && l >= 0 && l < len(levels) {
			return levels[l].Config
		}
	case p.Unit() == "J":
		exactJ, err := exactEnergy(b)
		if e, perr := strconv.ParseFloat(p.Get(c), 64); perr == nil && err == nil {
			return fmt.Sprintf("mean per inference, %.0f%% of exact (%s measured)", 100*e/exactJ, fmtEnergy(exactJ))
		}
	}
	return p.Doc
}
