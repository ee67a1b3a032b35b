package tui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// TestHelpListsEveryKey checks the help of every screen at three widths
// (#20 item 5): ? lists the screen's keys and the router's (tab, 1-5, ?,
// q) on lines that are not cut; the footer is never cut; while a file
// name is typed q is not offered as quit.
func TestHelpListsEveryKey(t *testing.T) {
	for _, w := range []int{70, 80, 130} {
		h := newHarness(t, fixture(), w, 30, Options{})
		h.settle()
		for i, sc := range h.app.screens {
			h.press(string(rune('1' + i)))
			v := h.press("?")
			lines := strings.Split(v, "\n")
			start := len(lines) - len(h.app.fullHelp(sc)) // the help is the bottom panel
			help := strings.Join(lines[start:], "\n")
			for _, k := range []string{"tab next screen", "shift+tab previous screen", "1-5 screen", "? fewer keys", "q/ctrl+c quit"} {
				if !strings.Contains(help, k) {
					t.Errorf("%d columns, %s: ? lacks %q:\n%s", w, sc.Title(), k, help)
				}
			}
			for _, g := range sc.Keys().FullHelp() {
				for _, b := range g {
					if k := b.Help().Key + " " + b.Help().Desc; !strings.Contains(help, k) {
						t.Errorf("%d columns, %s: ? lacks %q:\n%s", w, sc.Title(), k, help)
					}
				}
			}
			for _, l := range lines[start:] {
				if strings.HasSuffix(strings.TrimRight(l, " "), "…") || ansi.StringWidth(l) > w {
					t.Errorf("%d columns, %s: help line %q is cut", w, sc.Title(), l)
				}
			}
			v = h.press("?")
			checkFooter(t, v)
		}
		h.press("5")
		for i := 0; i < 12 && !strings.HasPrefix(lineWith(h.settle(), "▸ "), "▸ file"); i++ {
			h.press("down")
		}
		v := h.press("enter")
		footer := lineWith(v, " • ")
		if strings.Contains(footer, "q quit") || !strings.Contains(footer, "esc") || !strings.Contains(footer, "ctrl+c quit") {
			t.Errorf("%d columns: footer while typing a file name: %q", w, footer)
		}
		h.press("q")
		if h.app.quiting || !strings.Contains(lineWith(h.settle(), "▸ file"), "policy.jsonq") {
			t.Errorf("%d columns: q while typing a file name did not type:\n%s", w, h.settle())
		}
		h.press("esc")
	}
}
