package measure

import "fmt"

// The most timed runs the package takes: a run count is input (a flag, a
// file) and every timing function allocates one sample per run, so a huge
// one must be refused, not attempted.
const (
	// MaxRuns bounds the runs of Interleaved and Repeat (8 MB of samples
	// per function timed).
	MaxRuns = 1_000_000
	// MaxStepRuns bounds the runs that keep every step's time
	// (Inference.Compare, PerNode, PerKnob): their samples grow with the
	// number of nodes too (a 1,000-node model at this bound keeps 80 MB).
	MaxStepRuns = 10_000
)

// CheckRuns says whether runs is a valid run count for a function whose
// limit is limit (MaxRuns or MaxStepRuns).
func CheckRuns(runs, limit int) error {
	if runs < 1 || runs > limit {
		return fmt.Errorf("measure: %d runs, expected 1 to %d", runs, limit)
	}
	return nil
}
