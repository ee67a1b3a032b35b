package tui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"
)

// TestGolden renders every screen at 100x30 and 80x24 after a scripted
// session, with a fake clock, modelled step times and a fixed Pareto set,
// and compares the plain text with testdata/TestGolden/SCREEN/SIZE.golden
// (go test ./tui -run TestGolden -update rewrites them).
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
		}, []string{"Conv_0", "time share", "Front-end har", "SEATED"}},
		{"knobs", KnobsScreen, func(h *harness) string {
			h.settle() // the first batch
			h.press("right", "right")
			h.settle()
			return h.advance(h.app.ctx.Opts.KnobsPeriod, 3)
		}, []string{"Conv_0=int8", "· 32 windows", "since change (32)", "accuracy (last 64)", "inference energy"}},
		{"replay", ParetoScreen, func(h *harness) string {
			tune(h)
			h.press("3", "s", "space")
			h.settle()
			return h.advance(0, 4)
		}, []string{"playing max", "window 40", "Decision log", "state:"}},
		{"pareto", ParetoScreen, func(h *harness) string {
			tune(h)
			h.press("left")
			return h.settle()
		}, []string{"◆ level 1", "Conv_0=samp:2:1", "tuned in 0.0 s: 3 levels"}},
		{"policy", ParetoScreen, func(h *harness) string {
			tune(h)
			h.press("5", "down", "right")
			return h.settle()
		}, []string{"controller", "factor", "device profile", "policy.json"}},
	}
	for _, sz := range [][2]int{{100, 30}, {80, 24}} {
		for _, sc := range screens {
			t.Run(sc.name+"/"+sizeName(sz[0], sz[1]), func(t *testing.T) {
				h := newHarness(t, fixture(), sz[0], sz[1], Options{Start: sc.start})
				v := sc.run(h)
				checkSize(t, v, sz[0], sz[1])
				for _, w := range sc.want {
					if !strings.Contains(v, w) {
						t.Errorf("screen lacks %q:\n%s", w, v)
					}
				}
				golden.RequireEqual(t, v)
			})
		}
	}
}

// TestResize checks that every screen redraws to the new size.
func TestResize(t *testing.T) {
	h := newHarness(t, fixture(), 100, 30, Options{})
	h.settle()
	for _, sz := range [][2]int{{80, 24}, {132, 40}, {100, 30}} {
		h.tm.Send(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
		for _, k := range []string{"1", "2", "3", "4", "5"} {
			h.press(k)
			checkSize(t, h.settle(), sz[0], sz[1])
		}
	}
}
