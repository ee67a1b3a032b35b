package qgemm

import "golang.org/x/sys/unix"

// threadCPUTime returns the CPU time consumed by the calling OS thread, in
// seconds, or 0 if unknown.
func threadCPUTime() float64 {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts) != nil {
		return 0
	}
	return float64(ts.Sec) + float64(ts.Nsec)*1e-9
}
