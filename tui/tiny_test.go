package tui

import (
	"fmt"
	"testing"

	tea "charm.land/bubbletea/v2"
)

// TestTinyTerminal is the regression test of #19 item 2: the workbench
// panicked (tui.fit, slice bounds [:-1]) when the terminal was one row
// high. Every screen, in the state of its golden session, is started
// through teatest at heights 1, 2 and 3, then shrunk to every width from
// 1 to 12 (and a few wider) at heights 1 to 8, with the short and the
// full help, and at height 3 with the error panel: no panic, and the
// screen is exactly the terminal's size.
func TestTinyTerminal(t *testing.T) {
	tune := func(h *harness) { h.press("t"); h.settle() }
	screens := []struct {
		name  string
		start ScreenID
		run   func(h *harness)
	}{
		{"model", ModelScreen, func(h *harness) { h.settle(); h.press("down") }},
		{"knobs", KnobsScreen, func(h *harness) {
			h.settle()
			h.press("right", "right")
			h.advance(h.app.ctx.Opts.KnobsPeriod, 2)
		}},
		{"replay", ParetoScreen, func(h *harness) {
			tune(h)
			h.press("3", "s", "space")
			h.advance(0, 2)
		}},
		{"pareto", ParetoScreen, func(h *harness) { tune(h); h.press("left") }},
		{"policy", ParetoScreen, func(h *harness) { tune(h); h.press("5", "down", "right") }},
	}
	warn := []string{"a warning long enough to be wrapped over more than one line of the error panel"}
	widths := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 20, 40, 80}
	for _, height := range []int{1, 2, 3} {
		for _, sc := range screens {
			t.Run(fmt.Sprintf("%s/height%d", sc.name, height), func(t *testing.T) {
				opts := Options{Start: sc.start}
				if height == 3 {
					opts.Warnings = warn // the error panel shown too
				}
				h := newHarness(t, fixture(), 10, height, opts)
				sc.run(h)
				checkSize(t, h.settle(), 10, height)
				for _, w := range widths {
					for _, ht := range []int{1, 2, 3, 4, 5, 6, 8} {
						h.tm.Send(tea.WindowSizeMsg{Width: w, Height: ht})
						checkSize(t, h.settle(), w, ht)
						h.press("?") // full help
						checkSize(t, h.settle(), w, ht)
						h.press("?")
					}
				}
			})
		}
	}
}
