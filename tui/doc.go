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
// (tuner, session store).
//
// The screens call the application layer the commands call, so that they
// show the same numbers: the Knobs and Replay screens stream the traces
// through a deploy.Replayer (the loop of kagen replay); their latency and
// energy figures, and the cost the replayer charges, are medians of
// interleaved runs (package measure, as kagen bench times) refreshed in
// the background, and their speedups and savings come with a 95%
// interval from the runs timed together (measure.Live), shown as ~1.00x
// or ~0% when they cannot be told from none; the Pareto screen runs the tuning pipeline of kagen
// tune; the controller editor comes from the policy registry; a saved
// policy is checked with deploy.ReadPolicy.
//
// Long work (profiling and tuning, live replay inference, timing runs) never
// runs in Update: a screen starts it with Context.Job (or Task), which runs
// it as a command on its own goroutine with a context and an immutable
// snapshot of the state it reads, and wraps its result in a message
// addressed to that screen, so the router delivers it home even when
// another screen is active. A Job is cancelled when its screen is left or
// the program quits. Live replays are chains of such jobs paced by the
// Clock, with at most one batch in flight per stream, so a key press waits
// for at most one Update, never for inference. Changes of the Bench are
// broadcast as typed events (benchChangedMsg).
//
// # Sessions
//
// With a Store (SessionStore, over the sessions package's lease) every
// change to the Bench is saved from a job, so a killed workbench loses at
// most the last change; SessionSource and Options.Resume reopen it.
//
// # Testing
//
// The Clock and the Tuner are interfaces and Options.Cost fixes what an
// inference costs, so that tests run with a fake clock, modelled times
// and a fixed Pareto set, and golden files hold no timing-dependent
// numbers. Options.Policy, Options.ReplayOnce and App.ReplayReport let a
// test play a policy once through the traces and compare the Replay
// screen's figures with kagen replay's.
package tui
