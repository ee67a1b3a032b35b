package tui

import (
	"time"

	tea "charm.land/bubbletea/v2"
)

// Clock is the workbench's source of time: the pacing of live replays and
// the elapsed time of long work. Tests install a fake one.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// Tick returns a command that waits d and then returns fn of the time.
	Tick(d time.Duration, fn func(time.Time) tea.Msg) tea.Cmd
}

// realClock is the wall clock.
type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Tick(d time.Duration, fn func(time.Time) tea.Msg) tea.Cmd {
	if d <= 0 {
		return func() tea.Msg { return fn(time.Now()) }
	}
	return tea.Tick(d, fn)
}
