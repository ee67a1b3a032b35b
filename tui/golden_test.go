package tui

import (
	"strconv"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"
)

// TestGolden renders every screen of the test fixture and of both demos
// (HAR and keywords) at 80x24, 100x30 and 130x40 after a scripted
// session, with a fake clock, modelled step times and costs and a fixed
// Pareto set, and compares the plain text with
// testdata/TestGolden/SOURCE/SCREEN/SIZE.golden (go test ./tui -run
// TestGolden -update rewrites them). On every screen no footer line is
// cut; on the Model and Knobs screens every layer row shown is told
// apart from the others and every shape is whole (#20 items 2 and 5).
func TestGolden(t *testing.T) {
	tune := func(h *harness) {
		h.press("t")
		h.settle()
	}
	screens := []struct {
		name  string
		start ScreenID
		run   func(h *harness) string
		want  []string // text the screen must show
	}{
		{"model", ModelScreen, func(h *harness) string {
			h.settle() // the timing job
			h.press("down")
			return h.settle()
		}, []string{"# node", "Front-end", "labelled"}},
		{"knobs", KnobsScreen, func(h *harness) string {
			h.settle() // the first batch
			h.press("right", "right")
			h.settle()
			return h.advance(h.app.ctx.Opts.KnobsPeriod, 3)
		}, []string{"since change", "accuracy (last 64)", "inference energy", "~2x"}},
		{"replay", ParetoScreen, func(h *harness) string {
			tune(h)
			h.press("3", "s", "space")
			h.settle()
			return h.advance(0, 4)
		}, []string{"playing max", "Decision log", "vs exact"}},
		{"pareto", ParetoScreen, func(h *harness) string {
			tune(h)
			h.press("left")
			return h.settle()
		}, []string{"◆ level 1", "tuned in 0.0 s: 3 levels", "] on "}},
		{"policy", ParetoScreen, func(h *harness) string {
			tune(h)
			h.press("5", "down", "right")
			return h.settle()
		}, []string{"controller", "factor", "device profile", "policy.json"}},
	}
	sources := []struct {
		name string
		src  func() (Source, error)
	}{
		{"fixture", func() (Source, error) { return fixture(), nil }},
		{"har", func() (Source, error) { return DemoSource("har") }},
		{"kws", func() (Source, error) { return DemoSource("kws") }},
	}
	for _, src := range sources {
		for _, sz := range [][2]int{{80, 24}, {100, 30}, {130, 40}} {
			for _, sc := range screens {
				t.Run(src.name+"/"+sc.name+"/"+sizeName(sz[0], sz[1]), func(t *testing.T) {
					source, err := src.src()
					if err != nil {
						t.Skip(err) // a build without this demo
					}
					h := newHarness(t, source, sz[0], sz[1], Options{Start: sc.start})
					v := sc.run(h)
					checkSize(t, v, sz[0], sz[1])
					for _, w := range sc.want {
						if !strings.Contains(v, w) {
							t.Errorf("screen lacks %q:\n%s", w, v)
						}
					}
					checkFooter(t, v)
					switch sc.name {
					case "model":
						checkModelRows(t, h.app.ctx.Bench, v)
					case "knobs":
						checkKnobRows(t, v)
					}
					golden.RequireEqual(t, v)
				})
			}
		}
	}
}

// checkFooter fails when the footer (the last line) is cut.
func checkFooter(t *testing.T, v string) {
	t.Helper()
	lines := strings.Split(v, "\n")
	if last := strings.TrimRight(lines[len(lines)-1], " "); strings.HasSuffix(last, "…") || !strings.Contains(last, "quit") {
		t.Errorf("footer %q is cut or lacks quit", last)
	}
}

// checkModelRows fails when two layer rows of the Model screen show the
// same name or a shape is not shown whole.
func checkModelRows(t *testing.T, b *Bench, v string) {
	t.Helper()
	seen := map[string]bool{}
	for _, l := range strings.Split(v, "\n") {
		f := strings.Fields(l)
		if len(f) < 3 {
			continue
		}
		step, err := strconv.Atoi(f[0])
		if err != nil || step < 0 || step >= len(b.Nodes) || !strings.HasPrefix(strings.TrimSpace(l), f[0]+" ") {
			continue
		}
		if seen[f[1]] {
			t.Errorf("two layer rows named %q:\n%s", f[1], v)
		}
		seen[f[1]] = true
		if shape := fmtShape(b.Nodes[step].Shape); !strings.Contains(l, shape) {
			t.Errorf("row %q lacks the whole shape %s", l, shape)
		}
	}
	if len(seen) == 0 {
		t.Errorf("no layer row:\n%s", v)
	}
}

// checkKnobRows fails when two layer rows of the Knobs screen show the
// same name.
func checkKnobRows(t *testing.T, v string) {
	t.Helper()
	seen := map[string]bool{}
	for _, l := range strings.Split(v, "\n") {
		if !strings.Contains(l, "◀") || strings.Contains(l, "controller") {
			continue
		}
		name := strings.Fields(strings.TrimPrefix(l, "▸"))[0]
		if seen[name] {
			t.Errorf("two knob rows named %q:\n%s", name, v)
		}
		seen[name] = true
	}
	if len(seen) == 0 {
		t.Errorf("no knob row:\n%s", v)
	}
}

// TestResize checks that every screen redraws to the new size.
func TestResize(t *testing.T) {
	h := newHarness(t, fixture(), 100, 30, Options{})
	h.settle()
	for _, sz := range [][2]int{{80, 24}, {132, 40}, {100, 30}} {
		h.tm.Send(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
		// the program's own first size message may come late on a loaded
		// machine and undo this one: send it again until it holds
		for i := 0; i < 5 && len(strings.Split(h.settle(), "\n")) != sz[1]; i++ {
			time.Sleep(50 * time.Millisecond)
			h.tm.Send(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
		}
		for _, k := range []string{"1", "2", "3", "4", "5"} {
			h.press(k)
			checkSize(t, h.settle(), sz[0], sz[1])
		}
	}
}
