package engine

import "golang.org/x/sys/unix"

// processCPUTime returns the CPU time the process consumed, in seconds, or
// 0 if unknown: benchmarks report it next to wall time, which on a loaded
// machine counts the time spent waiting for a core.
func processCPUTime() float64 {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts) != nil {
		return 0
	}
	return float64(ts.Sec) + float64(ts.Nsec)*1e-9
}
