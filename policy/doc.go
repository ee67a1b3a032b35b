// Package policy holds what goes onto the device besides the model: the
// Pareto file the tuner writes (pareto.json), the policy file built from it
// (policy.json), and the run-time controllers that pick an approximation
// level for every inference.
//
// # Levels
//
// A Pareto file lists configurations ordered by increasing approximation:
// level 0 is the exact configuration, and each level carries its measured
// speedup and energy relative to level 0, its calibrated accuracy loss and
// its calibrated per-class confidence statistics (the mean softmax
// confidence of correct and of wrong predictions).
//
// # Controllers
//
// A Controller is fed the Observation of the last inference (the level it
// ran at, the predicted class and its confidence, the measured cost) and
// returns a Decision: the level of the next inference, the rule that fired
// and the signals it looked at. Decide allocates nothing and costs well
// under a microsecond. The controllers are:
//
//   - static: a fixed level;
//   - naive, state, kalman, confidence: the published Mobiprox engines,
//     which walk the level index (less: idx/2, step 1; more: idx+step,
//     step*factor);
//   - budget: a PI controller on the required speedup that time-multiplexes
//     two neighbouring levels so the mean cost per inference meets an energy
//     or latency budget.
//
// Any of them can be wrapped by the floor guard (WithFloor), which never
// selects a level whose calibrated accuracy loss exceeds the floor and
// returns to exact right after an input that looks hard (confidence below
// the calibrated threshold of its predicted class).
//
// # Parameters
//
// Every controller parameter is described once, in the registry
// (Controllers, Lookup, LookupParam, FloorParamSpecs): its flag, its JSON
// field, its default, range and step. kagen's command-line flags (Builder),
// the workbench's parameter editor, Params.WithDefaults, Validate and
// String are all derived from it.
//
// # Decision log
//
// Every Decision can be written as a JSON line (LogWriter) and kept in a
// bounded in-memory Ring for a user interface; neither allocates per entry.
//
// Besides the standard library, the package depends only on package device
// (the fingerprint recorded in the files) and two small file helpers (atomic
// writes, bounded reads of regular files), so that it can be built into an
// application on the device on its own.
//
// The file formats, each rule, the guarantees and their assumptions are
// documented in docs/policy.md.
package policy
