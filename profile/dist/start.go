package dist

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/kagen-ai/kagen/internal/readfile"
	"io"
	"log"
	"time"

	"github.com/kagen-ai/kagen/device"
	"github.com/kagen-ai/kagen/engine"
)

// Setup says where the trials of kagen profile and kagen tune run: an
// embedded NATS server with in-process workers (the default), the
// workers of a cluster at URL, or no NATS at all.
type Setup struct {
	// URL is the cluster to coordinate on ("": an embedded server).
	URL string
	// Workers is the number of in-process workers (negative: 2 with the
	// embedded server, 0 with URL; 0 without URL: no NATS at all).
	Workers int
	// DeviceClass is the class whose workers measure latency ("": this
	// machine's).
	DeviceClass  string
	ShardWindows int
	AckWait      time.Duration
	// ReconnectFor is how long to wait for a lost connection to NATS
	// (0: DefaultReconnectFor).
	ReconnectFor time.Duration
	// Log receives the coordinator's messages with URL.
	Log io.Writer
}

// ErrOtherDevice is returned when a device class other than this
// machine's is asked for without a cluster to find its workers in.
var ErrOtherDevice = errors.New("--device-class names another device: it needs --nats and workers of that class")

// MaxWorkers bounds Setup.Workers.
const MaxWorkers = 1024

// Validate checks the setup as kagen's flags give it (Workers -1: the
// default), naming the flag at fault.
func (s Setup) Validate() error {
	switch {
	case s.Workers < -1 || s.Workers > MaxWorkers:
		return fmt.Errorf("--workers %d, expected 0..%d (or -1: the default)", s.Workers, MaxWorkers)
	case s.ShardWindows < 1 || s.ShardWindows > 1<<20:
		return fmt.Errorf("--shard-windows %d, expected 1..%d", s.ShardWindows, 1<<20)
	case s.AckWait < time.Second || s.AckWait > 24*time.Hour:
		return fmt.Errorf("--ack-wait %v, expected 1s..24h", s.AckWait)
	case s.ReconnectFor < time.Second || s.ReconnectFor > 24*time.Hour:
		return fmt.Errorf("--nats-retry %v, expected 1s..24h", s.ReconnectFor)
	}
	return nil
}

// ValidateWorker checks the settings of kagen worker, naming the flag at
// fault.
func ValidateWorker(o WorkerOptions, ackWait time.Duration) error {
	switch {
	case o.Concurrency < 1 || o.Concurrency > MaxWorkers:
		return fmt.Errorf("--concurrency %d, expected 1..%d", o.Concurrency, MaxWorkers)
	case o.Delay < 0 || o.Delay > time.Hour:
		return fmt.Errorf("--trial-delay %v, expected 0..1h", o.Delay)
	case ackWait < time.Second || ackWait > 24*time.Hour:
		return fmt.Errorf("--ack-wait %v, expected 1s..24h", ackWait)
	}
	return nil
}

// StartFor starts the pool that runs the trials of the model file at path
// (whose loaded form is m), or returns nil when the trials run in-process
// without NATS. With a URL it reports on log how many workers of the
// device class are alive.
func (s Setup) StartFor(ctx context.Context, path string, m *engine.Model) (*Pool, error) {
	workers := s.Workers
	if workers < 0 {
		workers = 2
		if s.URL != "" {
			workers = 0
		}
	}
	if workers == 0 && s.URL == "" {
		return nil, nil
	}
	if s.URL == "" && s.DeviceClass != "" && s.DeviceClass != device.Class(device.This()) {
		return nil, ErrOtherDevice
	}
	if s.ShardWindows < 1 {
		return nil, fmt.Errorf("--shard-windows %d, expected at least 1", s.ShardWindows)
	}
	model, err := readfile.Regular(path, engine.DefaultMaxBytes)
	if err != nil {
		return nil, err
	}
	if h := sha256.Sum256(model); hex.EncodeToString(h[:]) != m.SHA256() {
		return nil, fmt.Errorf("%s changed while it was loaded", path)
	}
	cfg := Config{URL: s.URL, AckWait: s.AckWait, ReconnectFor: s.ReconnectFor, Name: "kagen coordinator"}
	if s.URL != "" && s.Log != nil {
		cfg.Logf = log.New(s.Log, "", log.LstdFlags).Printf
	}
	p, err := NewPool(ctx, cfg, model, workers, WorkerOptions{Name: "local"}, CoordinatorOptions{ShardWindows: s.ShardWindows, DeviceClass: s.DeviceClass})
	if err != nil {
		return nil, err
	}
	if s.URL != "" && s.Log != nil {
		if ws, err := p.Cluster.Workers(ctx); err == nil {
			n := 0
			for _, w := range ws {
				if w.Class == p.DeviceClass() {
					n++
				}
			}
			fmt.Fprintf(s.Log, "coordinating on %s: %d workers alive, %d of device class %s\n", s.URL, len(ws), n, p.DeviceClass())
		}
	}
	return p, nil
}

// TrialStats summarises the trials for JSON output.
func (p *Pool) TrialStats() map[string]any {
	if p == nil {
		return nil
	}
	st := p.Stats()
	return map[string]any{"queued": st.Queued, "reused": st.Reused, "received": st.Received, "ignored": st.Ignored, "already_queued": st.Queuing}
}
