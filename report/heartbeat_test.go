package report

import (
	"strings"
	"sync"
	"testing"
	"time"
)

type lockedBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuilder) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// TestHeartbeat: lines come every period while a step runs, none after
// stop has returned.
func TestHeartbeat(t *testing.T) {
	var log lockedBuilder
	stop := heartbeat(&log, "replaying har", time.Now(), 5*time.Millisecond)
	time.Sleep(40 * time.Millisecond)
	stop()
	log.mu.Lock()
	got := log.b.String()
	log.mu.Unlock()
	if n := strings.Count(got, "report: still replaying har ("); n < 2 {
		t.Fatalf("%d heartbeat lines in 40 ms at 5 ms:\n%s", n, got)
	}
	time.Sleep(20 * time.Millisecond)
	log.mu.Lock()
	defer log.mu.Unlock()
	if log.b.String() != got {
		t.Error("a line was written after stop returned")
	}
}
