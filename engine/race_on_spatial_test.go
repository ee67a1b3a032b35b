//go:build race

package engine

// spatialRaceBuild reports a -race build, in which sync.Pool drops items at
// random, so a parallel GEMM's pooled job may be allocated again: the
// multi-threaded allocation checks of the spatial ops' tests are skipped.
const spatialRaceBuild = true
