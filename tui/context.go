package tui

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"charm.land/bubbles/v2/help"
	tea "charm.land/bubbletea/v2"

	"github.com/kagen-ai/kagen/deploy"
)

// ScreenID names a screen; messages addressed to a screen carry it.
type ScreenID int

// The screens, in tab order.
const (
	ModelScreen ScreenID = iota
	KnobsScreen
	ReplayScreen
	ParetoScreen
	PolicyScreen
	numScreens
)

// Screen is one page of the workbench. Screens are pointers updated in
// place; the router calls SetSize on every resize, Focus and Blur when
// the active screen changes, and delivers key and mouse messages only to
// the active screen but addressed messages to their screen whatever is
// active.
type Screen interface {
	// ID and Title identify the screen in the tab bar.
	ID() ScreenID
	Title() string
	// Init returns the screen's first command.
	Init() tea.Cmd
	// Update handles a message for this screen.
	Update(msg tea.Msg) tea.Cmd
	// View renders the screen in exactly the size of the last SetSize.
	View() string
	// SetSize gives the screen's body size.
	SetSize(width, height int)
	// Keys are the screen's key bindings for the help bar.
	Keys() help.KeyMap
	// Focus is called when the screen becomes active, Blur when it stops
	// being.
	Focus() tea.Cmd
	Blur()
	// Capturing reports whether the screen takes every key (a text field
	// is being edited), so that the global keys are not applied.
	Capturing() bool
}

// Context is what the screens share: the workbench state, the styles and
// the injected services. It is read-mostly; only the UI goroutine writes
// it.
type Context struct {
	Bench  *Bench
	Styles *Styles
	Clock  Clock
	Tuner  Tuner
	Store  Store
	Opts   Options

	// inflight counts jobs started and fake clock ticks fired whose
	// results have not been handled yet (tests wait for it to drain).
	inflight atomic.Int64

	// root is cancelled when the program quits; scopes[id], when set, is
	// the context of screen id's jobs, cancelled when it is left.
	root   context.Context
	stop   context.CancelFunc
	scopes [numScreens]scope

	// cpu serialises the inference of the background jobs (live replays,
	// timing rounds), so that a timing round never runs beside the
	// workbench's own inference: two inferences on the two cores of a
	// small machine share its caches and memory bandwidth, and the
	// medians would be of that, not of what kagen bench measures.
	cpu *sync.Mutex

	// replayReport is the Replay screen's last report (App.ReplayReport).
	replayReport atomic.Pointer[deploy.Report]
}

// scope is a cancellable context of one screen's jobs.
type scope struct {
	ctx    context.Context
	cancel context.CancelFunc
}

func newContext(b *Bench, opts Options) *Context {
	c := &Context{Bench: b, Styles: newStyles(), Clock: opts.Clock, Tuner: opts.Tuner, Store: opts.Store, Opts: opts, cpu: &sync.Mutex{}}
	c.root, c.stop = context.WithCancel(context.Background())
	return c
}

// scopeOf returns the context of screen id's jobs, made on first use
// after the screen was last left.
func (c *Context) scopeOf(id ScreenID) context.Context {
	if id < 0 || id >= numScreens {
		return c.root
	}
	sc := &c.scopes[id]
	if sc.ctx == nil {
		sc.ctx, sc.cancel = context.WithCancel(c.root)
	}
	return sc.ctx
}

// leave cancels the jobs of screen id (it is no longer shown).
func (c *Context) leave(id ScreenID) {
	if sc := &c.scopes[id]; sc.cancel != nil {
		sc.cancel()
		*sc = scope{}
	}
}

// addressed is a message for one screen: the result of a job or a tick.
type addressed struct {
	to  ScreenID
	msg tea.Msg
	// counted results decrement inflight when delivered.
	counted bool
}

// Job runs fn on its own goroutine, as a command, and delivers what it
// returns to the screen to. Use it for any work that may take more than
// a millisecond. fn's context is cancelled when the screen to is left
// (Blur) or the program quits: Job is for the live work only that screen
// shows. fn must read nothing the UI goroutine may change: the caller
// gives it an immutable snapshot (Bench.view, a policy built for it),
// taken when Job is called.
func (c *Context) Job(to ScreenID, fn func(context.Context) tea.Msg) tea.Cmd {
	return c.run(to, c.scopeOf(to), fn)
}

// Task is Job for work the user started that goes on whichever screen is
// shown (a tune, a save, the autosave): its context is cancelled only
// when the program quits.
func (c *Context) Task(to ScreenID, fn func(context.Context) tea.Msg) tea.Cmd {
	return c.run(to, c.root, fn)
}

func (c *Context) run(to ScreenID, ctx context.Context, fn func(context.Context) tea.Msg) tea.Cmd {
	c.inflight.Add(1)
	return func() tea.Msg { return addressed{to: to, msg: fn(ctx), counted: true} }
}

// After delivers msg to the screen to after d on the context's clock.
func (c *Context) After(to ScreenID, d time.Duration, msg tea.Msg) tea.Cmd {
	counted := false
	if f, ok := c.Clock.(interface{ counts() bool }); ok {
		counted = f.counts()
	}
	return c.Clock.Tick(d, func(time.Time) tea.Msg { return addressed{to: to, msg: msg, counted: counted} })
}

// rootID addresses the router itself.
const rootID ScreenID = -1

// Send delivers msg to the screen to (rootID: the router) through the
// event loop. Like a job it counts as work in flight until handled.
func (c *Context) Send(to ScreenID, msg tea.Msg) tea.Cmd {
	c.inflight.Add(1)
	return func() tea.Msg { return addressed{to: to, msg: msg, counted: true} }
}

// change says what part of the Bench changed.
type change int

// The changes every screen is told about.
const (
	configChanged     change = iota // the Knobs configuration
	paretoChanged                   // the Pareto set (a tune)
	controllerChanged               // the controller or its parameters
	deviceChanged                   // the device profile
	policySaved                     // the policy file was written
)

// Messages every screen receives (broadcasts) or the router handles.
type (
	// benchChangedMsg says the shared Bench changed.
	benchChangedMsg struct{ what change }
	// switchMsg asks the router to show a screen.
	switchMsg struct{ to ScreenID }
	// errMsg asks the router to show an error in the error panel.
	errMsg struct{ err error }
	// noticeMsg shows a one-line notice in the tab bar.
	noticeMsg struct{ text string }
)

// Changed returns the command that tells every screen the Bench changed.
func (c *Context) Changed(what change) tea.Cmd { return c.Send(rootID, benchChangedMsg{what}) }

// SwitchTo returns the command that shows a screen.
func (c *Context) SwitchTo(id ScreenID) tea.Cmd { return c.Send(rootID, switchMsg{id}) }

// ShowError returns the command that shows err in the error panel; a
// cancelled job's error is not one.
func (c *Context) ShowError(err error) tea.Cmd {
	if err == nil || errors.Is(err, context.Canceled) {
		return nil
	}
	return c.Send(rootID, errMsg{err})
}

// Notice returns the command that shows a notice in the tab bar.
func (c *Context) Notice(text string) tea.Cmd { return c.Send(rootID, noticeMsg{text}) }
