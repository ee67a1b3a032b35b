//go:build unix

package sessions

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// crashEnv, when set to a directory, turns the test binary into the child
// of TestCrashSafety: it saves sessions into the store there until killed.
const crashEnv = "KAGEN_SESSIONS_CRASH_CHILD"

// crashNames are the sessions the child writes in turn.
var crashNames = []string{"s0", "s1", "s2", "s3", "s4"}

// crashSession is the session the child's save number n writes. Every field
// derives from n, so the parent can tell a whole session from a torn one.
func crashSession(n int) *Session {
	sum := sha256.Sum256([]byte(strconv.Itoa(n)))
	h := hex.EncodeToString(sum[:])
	traces := make([]string, n%7+1)
	for i := range traces {
		traces[i] = fmt.Sprintf("/traces/%d/%d.csv", n, i)
	}
	// A profile of 64 KiB to 576 KiB spans many pages, so a kill can land
	// in the middle of writing it.
	profile, _ := json.Marshal(map[string]any{"counter": n, "pad": strings.Repeat(h, 1024+(n*131)%8192)})
	pareto, _ := json.Marshal(map[string]any{"counter": n, "points": []any{[]float64{float64(n), 1.5}, []float64{0.01, 2}}})
	policy, _ := json.Marshal(map[string]any{"counter": n, "controller": "floor"})
	return &Session{
		Name:        crashNames[n%len(crashNames)],
		ModelPath:   fmt.Sprintf("/models/%d.onnx", n),
		ModelSHA256: h,
		Traces:      traces,
		Profile:     profile,
		Pareto:      pareto,
		Config:      fmt.Sprintf("conv1=perf-row:%d:0,fc=int8", n),
		Policy:      policy,
		Notes:       fmt.Sprintf("save %d", n),
	}
}

// crashCounter returns the save number a stored session says it came from,
// after checking that all its fields agree with it.
func crashCounter(ss *Session) (int, error) {
	n, err := strconv.Atoi(strings.TrimPrefix(ss.Notes, "save "))
	if err != nil {
		return 0, fmt.Errorf("session %q: notes %q", ss.Name, ss.Notes)
	}
	want := crashSession(n)
	for _, b := range []json.RawMessage{ss.Profile, ss.Pareto, ss.Policy} {
		var v struct{ Counter int }
		if err := json.Unmarshal(b, &v); err != nil {
			return n, fmt.Errorf("session %q: a blob does not parse: %v", ss.Name, err)
		}
		if v.Counter != n {
			return n, fmt.Errorf("session %q: a blob has counter %d, notes say %d", ss.Name, v.Counter, n)
		}
	}
	got := *ss
	got.Created, got.Updated, got.Revision = time.Time{}, time.Time{}, 0
	if !reflect.DeepEqual(&got, want) {
		return n, fmt.Errorf("session %q is not whole save %d", ss.Name, n)
	}
	if ss.Revision < 1 || ss.Updated.Before(ss.Created) {
		return n, fmt.Errorf("session %q: revision %d, created %v, updated %v", ss.Name, ss.Revision, ss.Created, ss.Updated)
	}
	return n, nil
}

// TestCrashChild is the child process of TestCrashSafety; run alone it does
// nothing.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashEnv)
	if dir == "" {
		return
	}
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		os.Exit(3)
	}
	s, err := Open(dir)
	if err != nil {
		fail(err)
	}
	// The previous child was killed holding these leases; its pid is gone,
	// so they are taken over.
	leases := map[string]*Lease{}
	for _, name := range crashNames {
		if leases[name], err = s.Acquire(name); err != nil {
			fail(err)
		}
	}
	// Go on from the newest save in the store.
	next := 0
	list, err := s.List()
	if err != nil {
		fail(err)
	}
	for _, sum := range list {
		ss, err := s.Load(sum.Name)
		if err != nil {
			fail(err)
		}
		n, err := crashCounter(ss)
		if err != nil {
			fail(err)
		}
		next = max(next, n+1)
	}
	deadline := time.Now().Add(2 * time.Minute) // in case the parent is gone
	for n := next; time.Now().Before(deadline); n++ {
		ss := crashSession(n)
		if _, err := fmt.Fprintf(os.Stdout, "begin %d\n", n); err != nil {
			os.Exit(4)
		}
		if err := leases[ss.Name].Save(ss); err != nil {
			fail(err)
		}
		if _, err := fmt.Fprintf(os.Stdout, "commit %d\n", n); err != nil {
			os.Exit(4)
		}
	}
	os.Exit(5)
}

// TestCrashSafety kills a process that saves sessions in a loop with
// SIGKILL at random moments, and checks after each kill that the store is
// intact, every session whole, and nothing but the save in flight lost.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills subprocesses")
	}
	dir := t.TempDir()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))

	const rounds = 8
	committed := map[string]int{} // session -> last save the child reported committed
	lastCommit, midWrite, flightKept := -1, 0, 0
	for r := 0; r < rounds; r++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashEnv+"="+dir)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			if errors.Is(err, syscall.ENOEXEC) { // an emulated test binary (go test -exec qemu-...)
				t.Skipf("cannot re-execute the test binary: %v", err)
			}
			t.Fatal(err)
		}
		lines := make(chan string, 1024)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()

		// Kill after a random number of saves have begun, a random fraction
		// of a save later.
		killAt := 2 + rng.IntN(30)
		delay := time.Duration(rng.Int64N(int64(3 * time.Millisecond)))
		begun, lastBegin := 0, -1
		var killed bool
		timeout := time.After(time.Minute)
		record := func(line string) {
			verb, num, _ := strings.Cut(line, " ")
			n, err := strconv.Atoi(num)
			if err != nil {
				t.Fatalf("round %d: child printed %q", r, line)
			}
			switch verb {
			case "begin":
				begun++
				lastBegin = n
			case "commit":
				if n != lastBegin {
					t.Fatalf("round %d: commit %d after begin %d", r, n, lastBegin)
				}
				committed[crashNames[n%len(crashNames)]] = n
				lastCommit = n
			}
		}
	read:
		for {
			select {
			case line, ok := <-lines:
				if !ok {
					break read
				}
				record(line)
				if !killed && begun >= killAt {
					time.Sleep(delay)
					if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
						t.Fatal(err)
					}
					killed = true
				}
			case <-timeout:
				cmd.Process.Kill()
				t.Fatalf("round %d: child made no progress; stderr:\n%s", r, stderr.String())
			}
		}
		err = cmd.Wait() // reaps the child, so its pid is gone
		if !killed {
			t.Fatalf("round %d: child exited by itself (%v); stderr:\n%s", r, err, stderr.String())
		}
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("round %d: child ended with %v, not SIGKILL; stderr:\n%s", r, err, stderr.String())
		}
		inFlight := -1
		if lastBegin > lastCommit {
			inFlight = lastBegin
			midWrite++
		}

		// Reopen the store as the next kagen would.
		s, err := Open(dir)
		if err != nil {
			t.Fatalf("round %d: reopening after the kill: %v", r, err)
		}
		if err := s.Check(); err != nil {
			t.Fatalf("round %d: %v", r, err)
		}
		list, err := s.List()
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, sum := range list {
			seen[sum.Name] = true
			if sum.Holder != nil {
				t.Errorf("round %d: session %s still held by the killed child: %+v", r, sum.Name, sum.Holder)
			}
			ss, err := s.Load(sum.Name)
			if err != nil {
				t.Fatalf("round %d: %v", r, err)
			}
			n, err := crashCounter(ss)
			if err != nil {
				t.Fatalf("round %d: %v", r, err)
			}
			c, ok := committed[sum.Name]
			switch {
			case ok && n == c:
			case n == inFlight:
				// The save in flight committed before the kill.
				committed[sum.Name] = n
				lastCommit = n
				flightKept++
			default:
				t.Fatalf("round %d: session %s holds save %d; last committed %d (ok %v), in flight %d",
					r, sum.Name, n, c, ok, inFlight)
			}
		}
		for name := range committed {
			if !seen[name] {
				t.Fatalf("round %d: committed session %s is missing", r, name)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		t.Logf("round %d: killed %s after save %d began; store holds saves up to %d; in flight: %d",
			r, delay.Round(time.Microsecond), lastBegin, lastCommit, inFlight)
	}
	t.Logf("%d of %d kills landed while a save was in flight; %d of those saves had committed, the rest were lost",
		midWrite, rounds, flightKept)
	if lastCommit < rounds {
		t.Errorf("only %d saves committed in %d rounds", lastCommit+1, rounds)
	}
}
