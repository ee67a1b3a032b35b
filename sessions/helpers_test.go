package sessions

import (
	"sync"
	"testing"
	"time"
)

// clock is a settable clock shared by the stores of a test; each reading
// advances it by a millisecond so successive saves get distinct times.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testOptions are options with an injected pid and clock, every pid alive,
// and no background heartbeat.
func testOptions(pid int, c *clock) options {
	o := defaultOptions()
	o.pid = pid
	o.host = "testhost"
	o.now = c.now
	o.alive = func(int) bool { return true }
	o.heartbeat = 0
	return o
}

func openTest(t *testing.T, dir string, o options) *Store {
	t.Helper()
	s, err := openWith(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
