package tui

import (
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// Styles are the workbench's colours and text styles.
type Styles struct {
	Title, Tab, ActiveTab, Dim, Bold, Header, Selected, Good, Bad, Warn,
	Accent, ErrorBox, Notice, Point, Front, SelPoint lipgloss.Style
	Help help.Styles
}

func newStyles() *Styles {
	accent := lipgloss.Color("#7D56F4")
	s := &Styles{
		Title:     lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("#FAFAFA")).Background(accent).Padding(0, 1),
		Tab:       lipgloss.NewStyle().Foreground(lipgloss.Color("245")),
		ActiveTab: lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("#FAFAFA")).Underline(true),
		Dim:       lipgloss.NewStyle().Foreground(lipgloss.Color("243")),
		Bold:      lipgloss.NewStyle().Bold(true),
		Header:    lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("111")),
		Selected:  lipgloss.NewStyle().Reverse(true),
		Good:      lipgloss.NewStyle().Foreground(lipgloss.Color("78")),
		Bad:       lipgloss.NewStyle().Foreground(lipgloss.Color("203")),
		Warn:      lipgloss.NewStyle().Foreground(lipgloss.Color("214")),
		Accent:    lipgloss.NewStyle().Foreground(accent),
		ErrorBox:  lipgloss.NewStyle().Foreground(lipgloss.Color("203")).Bold(true),
		Notice:    lipgloss.NewStyle().Foreground(lipgloss.Color("78")),
		Point:     lipgloss.NewStyle().Foreground(lipgloss.Color("243")),
		Front:     lipgloss.NewStyle().Foreground(lipgloss.Color("111")).Bold(true),
		SelPoint:  lipgloss.NewStyle().Foreground(lipgloss.Color("#FAFAFA")).Background(lipgloss.Color("203")).Bold(true),
		Help:      help.DefaultDarkStyles(),
	}
	return s
}

// globalKeys are the router's keys.
type globalKeys struct {
	Next, Prev, Jump, Help, Quit, Dismiss key.Binding
}

func newGlobalKeys() globalKeys {
	return globalKeys{
		Next:    key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next screen")),
		Prev:    key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous screen")),
		Jump:    key.NewBinding(key.WithKeys("1", "2", "3", "4", "5"), key.WithHelp("1-5", "screen")),
		Help:    key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:    key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		Dismiss: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "dismiss error")),
	}
}

// keyMap is a help.KeyMap built from binding lists.
type keyMap struct {
	short []key.Binding
	full  [][]key.Binding
}

func (k keyMap) ShortHelp() []key.Binding  { return k.short }
func (k keyMap) FullHelp() [][]key.Binding { return k.full }

// bind is a short form of key.NewBinding.
func bind(help, desc string, keys ...string) key.Binding {
	return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
}

// helpOnly is a binding shown in a footer for keys bound one by one (↑/↓
// for two bindings): it matches no key.
func helpOnly(keys, desc string) key.Binding {
	return key.NewBinding(key.WithHelp(keys, desc))
}

// fit makes s exactly h lines of at most w cells: long lines are cut,
// missing lines are blank.
func fit(s string, w, h int) string {
	if h <= 0 {
		return ""
	}
	w = max(0, w)
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for i, l := range lines {
		// a line of at most w bytes is at most w cells wide
		if len(l) > w && ansi.StringWidth(l) > w {
			lines[i] = ansi.Truncate(l, w, "")
		}
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}

// cut shortens s to at most w cells with an ellipsis.
func cut(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if ansi.StringWidth(s) <= w {
		return s
	}
	if w == 1 {
		return "…"
	}
	return ansi.Truncate(s, w-1, "") + "…"
}

// pad pads s with spaces to w cells (cutting it if longer).
func pad(s string, w int) string {
	sw := ansi.StringWidth(s)
	if sw > w {
		return cut(s, w)
	}
	return s + strings.Repeat(" ", w-sw)
}

// cutLeft cuts s to at most w cells from the left, marking the cut with
// "…": the end of a name is what tells it from the others.
func cutLeft(s string, w int) string {
	if w <= 0 {
		return ""
	}
	sw := ansi.StringWidth(s)
	if sw <= w {
		return s
	}
	if w == 1 {
		return "…"
	}
	return "…" + ansi.TruncateLeft(s, sw-(w-1), "")
}

// padLeft right-aligns s in w cells.
func padLeft(s string, w int) string {
	s = cut(s, w)
	if n := w - ansi.StringWidth(s); n > 0 {
		return strings.Repeat(" ", n) + s
	}
	return s
}
