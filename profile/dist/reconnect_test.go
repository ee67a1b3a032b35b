package dist

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// natsServer runs a NATS server with JetStream on a TCP port, its streams
// in dir (so that they outlive a restart on the same port).
type natsServer struct {
	t    *testing.T
	dir  string
	port int
	srv  *server.Server
}

func (n *natsServer) start() {
	n.t.Helper()
	opts := &server.Options{ServerName: "kagen-test", Host: "127.0.0.1", Port: n.port, JetStream: true, StoreDir: n.dir, NoLog: true, NoSigs: true}
	if n.port == 0 {
		opts.Port = -1 // a free port, kept for the restart
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		n.t.Fatal(err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		n.t.Fatal("NATS not ready")
	}
	n.srv = srv
	n.port = srv.Addr().(*net.TCPAddr).Port
}

func (n *natsServer) stop() {
	n.srv.Shutdown()
	n.srv.WaitForShutdown()
}

func (n *natsServer) url() string { return fmt.Sprintf("nats://127.0.0.1:%d", n.port) }

// logLines collects a cluster's log.
type logLines struct {
	t     *testing.T
	mu    sync.Mutex
	lines []string
	start time.Time
}

func (l *logLines) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	line := fmt.Sprintf("%5.1fs ", time.Since(l.start).Seconds()) + fmt.Sprintf(format, args...)
	l.lines = append(l.lines, line)
	l.t.Log(line)
}

func (l *logLines) has(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		if strings.Contains(line, s) {
			return true
		}
	}
	return false
}

// TestNATSLossIsSaidAndSurvived stops the NATS server part-way through a
// profile: the coordinator says at once that the connection is lost, and
// either resumes when the server comes back (and the profile matches the
// local one) or gives up after ReconnectFor with a message that says so
// (#19 item 5: it was silent for a minute, then failed with "listing
// stored results: context deadline exceeded").
func TestNATSLossIsSaidAndSurvived(t *testing.T) {
	if testing.Short() {
		t.Skip("stops and restarts a NATS server")
	}
	f := tinyFixture(t)
	for _, tc := range []struct {
		name    string
		restart time.Duration // 0: never
		want    string        // in the error; "" none
	}{
		{"server comes back", 1500 * time.Millisecond, ""},
		{"server stays down", 0, "gave up after waiting 3s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns := &natsServer{t: t, dir: t.TempDir()}
			ns.start()
			t.Cleanup(ns.stop) // after the pool's Close
			stopped := make(chan time.Time, 1)
			restarted := make(chan struct{})
			log := &logLines{t: t, start: time.Now()}
			cfg := Config{URL: ns.url(), ReconnectFor: 3 * time.Second}
			p := newPool(t, f, 2, cfg, WorkerOptions{})
			p.Cluster.cfg.Logf = log.logf
			ctx := context.Background()
			var once sync.Once
			opts := f.popts
			opts.Progress = func(done, total int, what string) {
				if done < 3 {
					return
				}
				once.Do(func() {
					ns.stop()
					stopped <- time.Now()
					if tc.restart > 0 {
						go func() {
							defer close(restarted)
							time.Sleep(tc.restart)
							ns.start()
						}()
					} else {
						close(restarted)
					}
				})
			}
			prof, err := p.Profile(ctx, f.a, f.tune, opts)
			at := <-stopped
			<-restarted
			t.Logf("%.1f s after the loss: %v", time.Since(at).Seconds(), err)
			if !log.has("lost the connection to NATS") {
				t.Error("the loss of the connection was not logged")
			}
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("error %v, want %q", err, tc.want)
				}
				if took := time.Since(at); took > 3*time.Second+5*time.Second {
					t.Errorf("gave up %v after the loss, the wait is 3 s", took)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !log.has("reconnected to NATS") {
				t.Error("the reconnection was not logged")
			}
			if d := diffProfiles(f.wantProfile, prof); d != "" {
				t.Errorf("the profile after the restart differs from the local one:\n%s", d)
			}
		})
	}
}
