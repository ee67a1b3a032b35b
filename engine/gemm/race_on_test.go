//go:build race

package gemm

// raceEnabled reports a -race build, in which sync.Pool drops items at
// random, so the pooled parallel job may be allocated again.
const raceEnabled = true
