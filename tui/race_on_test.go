//go:build race

package tui

// raceDetector is set when the tests run with -race, which slows every
// goroutine several times over: timing assertions then only log.
const raceDetector = true
