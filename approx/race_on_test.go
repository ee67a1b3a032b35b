//go:build race

package approx

// raceBuild reports a -race build, in which sync.Pool drops items at
// random (a parallel GEMM's pooled job is allocated again): the
// multi-threaded allocation checks are skipped.
const raceBuild = true
