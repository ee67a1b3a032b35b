package sessions

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Two Store instances on one file stand for two kagen processes: they differ
// in the pid injected into their options.
func TestLeaseBetweenStores(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	a := openTest(t, dir, testOptions(1001, c))
	b := openTest(t, dir, testOptions(1002, c))
	if err := a.Save(fullSession("s")); err != nil {
		t.Fatal(err)
	}

	la, err := a.Acquire("s")
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.Acquire("s")
	var le *LockedError
	if !errors.Is(err, ErrLocked) || !errors.As(err, &le) {
		t.Fatalf("second Acquire: %v, want ErrLocked", err)
	}
	if le.Holder.PID != 1001 || le.Holder.Host != "testhost" || le.Session != "s" || le.File != b.File() {
		t.Errorf("LockedError = %+v", le)
	}
	if msg := err.Error(); !strings.Contains(msg, "pid 1001 on testhost") || !strings.Contains(msg, `"s"`) {
		t.Errorf("message %q does not name the holder and session", msg)
	}
	// The same process cannot hold a session twice either.
	if _, err := a.Acquire("s"); !errors.Is(err, ErrLocked) {
		t.Errorf("second Acquire in the holder's store: %v, want ErrLocked", err)
	}
	// Without the lease, b may read but not write or delete.
	if _, err := b.Load("s"); err != nil {
		t.Errorf("read-only Load: %v", err)
	}
	if err := b.Save(fullSession("s")); !errors.Is(err, ErrLocked) {
		t.Errorf("Save without the lease: %v, want ErrLocked", err)
	}
	if err := b.Delete("s"); !errors.Is(err, ErrLocked) {
		t.Errorf("Delete without the lease: %v, want ErrLocked", err)
	}
	if l, err := b.List(); err != nil || len(l) != 1 || l[0].Holder == nil || l[0].Holder.PID != 1001 {
		t.Errorf("List does not show the holder: %+v %v", l, err)
	}
	// Other sessions are not affected.
	if err := b.Save(fullSession("other")); err != nil {
		t.Error(err)
	}

	// The holder saves through its lease.
	ss := fullSession("s")
	ss.Notes = "by a"
	if err := la.Save(ss); err != nil {
		t.Fatal(err)
	}
	if err := la.Save(fullSession("other")); !errors.Is(err, ErrInvalid) {
		t.Errorf("saving another session through the lease: %v", err)
	}
	if err := la.Release(); err != nil {
		t.Fatal(err)
	}
	if err := la.Save(ss); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("Save through a released lease: %v, want ErrLeaseLost", err)
	}
	if err := la.Release(); err != nil {
		t.Errorf("second Release: %v", err)
	}

	lb, err := b.Acquire("s")
	if err != nil {
		t.Fatalf("Acquire after release: %v", err)
	}
	if err := lb.Save(ss); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Acquire("s"); !errors.Is(err, ErrLocked) {
		t.Errorf("a's Acquire while b holds: %v", err)
	}
	// Closing b's store releases its lease.
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if lb.Err() == nil {
		t.Error("lease still reported held after its store closed")
	}
	la2, err := a.Acquire("s")
	if err != nil {
		t.Fatalf("Acquire after the holder's store closed: %v", err)
	}
	la2.Release()
}

func TestStaleLeaseTakeover(t *testing.T) {
	const (
		holderPID = 2001
		takerPID  = 2002
	)
	for _, tc := range []struct {
		name       string
		holderHost string
		dead       bool          // the holder's pid is gone
		age        time.Duration // since the holder's last heartbeat
		takeover   bool
	}{
		{"live holder, fresh heartbeat", "testhost", false, 5 * time.Second, false},
		{"dead pid on this host", "testhost", true, time.Second, true},
		{"dead pid on another host is not trusted", "otherhost", true, 5 * time.Second, false},
		{"live holder, stale heartbeat", "testhost", false, StaleAfter + time.Second, true},
		{"another host, stale heartbeat", "otherhost", false, 2 * StaleAfter, true},
		{"heartbeat just inside the limit", "otherhost", false, StaleAfter - time.Second, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			c := newClock()
			ho := testOptions(holderPID, c)
			ho.host = tc.holderHost
			holder := openTest(t, dir, ho)
			to := testOptions(takerPID, c)
			to.alive = func(pid int) bool { return !(tc.dead && pid == holderPID) }
			taker := openTest(t, dir, to)

			lh, err := holder.Acquire("s")
			if err != nil {
				t.Fatal(err)
			}
			if err := lh.Save(fullSession("s")); err != nil {
				t.Fatal(err)
			}
			c.add(tc.age)
			lt, err := taker.Acquire("s")
			if !tc.takeover {
				if !errors.Is(err, ErrLocked) {
					t.Fatalf("Acquire: %v, want ErrLocked", err)
				}
				if err := lh.Save(fullSession("s")); err != nil {
					t.Errorf("holder's Save after a refused takeover: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("takeover: %v", err)
			}
			// The old holder learns it lost the lease and cannot write.
			if err := lh.Save(fullSession("s")); !errors.Is(err, ErrLeaseLost) {
				t.Errorf("old holder's Save: %v, want ErrLeaseLost", err)
			}
			if err := lh.Heartbeat(); !errors.Is(err, ErrLeaseLost) {
				t.Errorf("old holder's Heartbeat: %v, want ErrLeaseLost", err)
			}
			if !errors.Is(lh.Err(), ErrLeaseLost) {
				t.Errorf("old holder's Err: %v", lh.Err())
			}
			// Its Release leaves the new holder's lease alone.
			if err := lh.Release(); !errors.Is(err, ErrLeaseLost) {
				t.Errorf("old holder's Release: %v, want ErrLeaseLost", err)
			}
			if err := lt.Save(fullSession("s")); err != nil {
				t.Errorf("new holder's Save: %v", err)
			}
			if _, err := holder.Acquire("s"); !errors.Is(err, ErrLocked) {
				t.Errorf("old holder re-acquiring from the new one: %v, want ErrLocked", err)
			}
		})
	}
}

func TestHeartbeatKeepsLease(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	a := openTest(t, dir, testOptions(1, c))
	b := openTest(t, dir, testOptions(2, c))
	la, err := a.Acquire("s")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		c.add(StaleAfter * 3 / 4)
		if err := la.Heartbeat(); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Acquire("s"); !errors.Is(err, ErrLocked) {
			t.Fatalf("after %d heartbeats: %v, want ErrLocked", i+1, err)
		}
	}
	c.add(StaleAfter + time.Second)
	if _, err := b.Acquire("s"); err != nil {
		t.Fatalf("Acquire once the heartbeat stopped: %v", err)
	}
}

func TestBackgroundHeartbeat(t *testing.T) {
	o := testOptions(1, newClock())
	o.heartbeat = 5 * time.Millisecond
	s := openTest(t, t.TempDir(), o)
	l, err := s.Acquire("s")
	if err != nil {
		t.Fatal(err)
	}
	var first, hb int64
	if err := s.db.QueryRow(`SELECT heartbeat_ns FROM leases`).Scan(&first); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for hb <= first && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
		if err := s.db.QueryRow(`SELECT heartbeat_ns FROM leases`).Scan(&hb); err != nil {
			t.Fatal(err)
		}
	}
	if hb <= first {
		t.Fatal("the background heartbeat never refreshed the lease")
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.db.QueryRow(`SELECT COUNT(*) FROM leases`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("lease rows after Release: %d %v", n, err)
	}
}

func TestProcessAlive(t *testing.T) {
	if !processAlive(os.Getpid()) {
		t.Error("this process is not alive")
	}
	if processAlive(0) || processAlive(-1) {
		t.Error("pids <= 0 are alive")
	}
	if runtime.GOOS != "linux" {
		return
	}
	// A child that exited but is not reaped yet (a zombie) is dead; once
	// reaped its pid is gone.
	cmd := exec.Command("/bin/sh", "-c", "exit 0")
	if err := cmd.Start(); err != nil {
		t.Skip(err)
	}
	pid := cmd.Process.Pid
	deadline := time.Now().Add(10 * time.Second)
	for processAlive(pid) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if processAlive(pid) {
		t.Errorf("exited, unreaped child %d still reported alive", pid)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if processAlive(pid) {
		t.Logf("pid %d reported alive after reaping (reused already?)", pid)
	}
}

// Writers in two stores (two processes) and several goroutines each never
// see SQLITE_BUSY: transactions take the write lock at BEGIN and wait.
func TestConcurrentWriters(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	stores := []*Store{openTest(t, dir, testOptions(1, c)), openTest(t, dir, testOptions(2, c))}
	const perWriter = 20
	errs := make(chan error, 64)
	var wg sync.WaitGroup
	for i, s := range stores {
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := 0; k < perWriter; k++ {
					ss := fullSession(fmt.Sprintf("shared-%d", k%3))
					ss.Notes = fmt.Sprintf("store %d goroutine %d save %d", i, g, k)
					if err := s.Save(ss); err != nil {
						errs <- err
						return
					}
					if _, err := s.List(); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var total int64
	list, err := stores[0].List()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range list {
		total += s.Revision
	}
	if want := int64(len(stores) * 4 * perWriter); total != want {
		t.Errorf("revisions add up to %d, want %d", total, want)
	}
}

// Of many concurrent Acquires of one session, exactly one wins.
func TestConcurrentAcquire(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	var wg sync.WaitGroup
	var mu sync.Mutex
	won, locked := 0, 0
	for i := 0; i < 6; i++ {
		s := openTest(t, dir, testOptions(100+i, c))
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Acquire("s")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case errors.Is(err, ErrLocked):
				locked++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if won != 1 || locked != 5 {
		t.Errorf("%d won, %d locked; want 1 and 5", won, locked)
	}
}
