//go:build race

package engine

// raceBuild reports a -race build, in which sync.Pool drops items at
// random, so a parallel GEMM's pooled job may be allocated again: the
// multi-threaded allocation checks are skipped.
const raceBuild = true
