// Package tui is kagen's terminal workbench: an engineer loads a model and
// recorded traces, runs the approximate engine live, slides per-layer
// knobs, watches accuracy and energy, lets the tuner find the Pareto front,
// picks a point and a controller and saves a policy file.
//
// # Structure
//
// The root model (App) is a thin router in the manner of soft-serve and
// gh-dash: it owns the tab bar, the help bar, the error panel and the quit
// confirmation, and forwards everything else to the active Screen. The five
// screens (Model, Knobs, Replay, Pareto, Policy) are components with their
// own keys, help and size handling; they share one Context that holds the
// workbench state (Bench), the styles, the clock and the injected services
// (tuner, latency source, session store).
//
// Long work (profiling and tuning, live replay inference, timing runs) never
// runs in Update: a screen starts it with Context.Job, which runs it as a
// command on its own goroutine and wraps its result in a message addressed
// to that screen, so the router delivers it home even when another screen
// is active. Live replays are chains of such jobs paced by the Clock, with
// at most one batch in flight per stream, so a key press waits for at most
// one Update, never for inference.
//
// # Sessions
//
// With a Store (SessionStore, over the sessions package's lease) every
// change to the Bench is saved from a job, so a killed workbench loses at
// most the last change; SessionSource and Options.Resume reopen it.
//
// # Testing
//
// The Clock, the Latency source and the Tuner are interfaces so that tests
// run with a fake clock, modelled per-step times and a fixed Pareto set,
// and golden files hold no timing-dependent numbers.
package tui
