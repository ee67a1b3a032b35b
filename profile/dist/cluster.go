package dist

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kagen-ai/kagen/device"
	"github.com/kagen-ai/kagen/internal/tempdir"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Config says which NATS to use and how the streams behave.
type Config struct {
	// URL of a NATS server with JetStream (nats://host:4222, several
	// separated by commas); empty starts an embedded server in this
	// process that listens on no port.
	URL string
	// StoreDir is the embedded server's JetStream directory (file
	// storage, which outlives the process); empty keeps the streams in
	// memory (and the server's scratch files in a temporary directory
	// removed by Close).
	StoreDir string
	// AckWait is how long a trial may go without a sign of life from its
	// worker before it is redelivered (default 30 s). Workers signal
	// progress every AckWait/3 while a trial runs.
	AckWait time.Duration
	// ResultTTL is how long results are kept (default 7 days).
	ResultTTL time.Duration
	// Replicas of the streams on a cluster (default 1).
	Replicas int
	// Name names this process's connections.
	Name string
	// ReconnectFor is how long a coordinator waits for a lost connection
	// to NATS to come back (retrying every half second) before it gives
	// up (default DefaultReconnectFor). The loss is logged at once.
	ReconnectFor time.Duration
	// Logf, if set, receives diagnostics.
	Logf func(format string, args ...any)
}

func (c *Config) defaults() {
	if c.AckWait <= 0 {
		c.AckWait = 30 * time.Second
	}
	if c.ResultTTL <= 0 {
		c.ResultTTL = 7 * 24 * time.Hour
	}
	if c.Replicas <= 0 {
		c.Replicas = 1
	}
	if c.ReconnectFor <= 0 {
		c.ReconnectFor = DefaultReconnectFor
	}
	if c.Name == "" {
		host, _ := os.Hostname()
		c.Name = fmt.Sprintf("kagen-%s-%d", host, os.Getpid())
	}
}

// DefaultReconnectFor is how long a coordinator waits for a lost NATS
// connection by default.
const DefaultReconnectFor = 2 * time.Minute

// reconnectWait is the pause between attempts to reconnect.
const reconnectWait = 500 * time.Millisecond

// link is the state of the cluster's own connection: when it was lost
// (zero while connected), and a channel closed at each change.
type link struct {
	mu      sync.Mutex
	down    time.Time
	changed chan struct{}
}

func (l *link) set(down time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.down = down
	close(l.changed)
	l.changed = make(chan struct{})
}

func (l *link) get() (down time.Time, changed <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.down, l.changed
}

// Cluster is a connection to NATS JetStream with kagen's streams, object
// store and worker bucket in place: an embedded server or a real one.
type Cluster struct {
	cfg   Config
	srv   *server.Server
	tmp   string
	nc    *nats.Conn
	js    jetstream.JetStream
	blobs jetstream.ObjectStore
	kv    jetstream.KeyValue
	link  link

	// deviceSlot lets one latency trial at a time be taken by the
	// workers of this cluster handle (in practice, of this process), so
	// that they do not hold latency trials that they cannot run yet
	// (another device of the class could), nor time two at once on the
	// same cores.
	deviceSlot atomic.Bool
	// workerSeq numbers the workers started from this handle in their
	// default names.
	workerSeq atomic.Int64
}

// Start connects to cfg.URL, or starts an embedded server when it is
// empty, and creates (or updates) the streams, consumers and buckets.
func Start(ctx context.Context, cfg Config) (*Cluster, error) {
	cfg.defaults()
	c := &Cluster{cfg: cfg, link: link{changed: make(chan struct{})}}
	if cfg.URL == "" {
		if err := c.startEmbedded(); err != nil {
			return nil, err
		}
	}
	nc, err := c.connect(cfg.Name,
		nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
			if nc.IsClosed() {
				return // Close, not a loss
			}
			c.link.set(time.Now())
			why := ""
			if err != nil {
				why = ": " + err.Error()
			}
			c.logf("lost the connection to NATS %s%s; retrying every %v for up to %v", c.url(), why, reconnectWait, c.cfg.ReconnectFor)
		}),
		nats.ReconnectHandler(func(*nats.Conn) {
			down, _ := c.link.get()
			c.link.set(time.Time{})
			c.logf("reconnected to NATS %s after %.1f s; resuming", c.url(), time.Since(down).Seconds())
		}))
	if err != nil {
		c.Close()
		return nil, err
	}
	c.nc = nc
	if err := c.setup(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) startEmbedded() error {
	dir := c.cfg.StoreDir
	if dir == "" {
		// Named with the pid: a run killed with -9 leaves it, and the next
		// run's tempdir.Make removes it.
		tmp, err := tempdir.Make("kagen-nats-")
		if err != nil {
			return fmt.Errorf("embedded NATS: %w", err)
		}
		c.tmp, dir = tmp, tmp
	}
	opts := &server.Options{
		ServerName: "kagen-embedded",
		Host:       "127.0.0.1",
		DontListen: true,
		JetStream:  true,
		StoreDir:   dir,
		NoLog:      true,
		NoSigs:     true,
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return fmt.Errorf("embedded NATS: %w", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(30 * time.Second) {
		srv.Shutdown()
		return errors.New("embedded NATS: not ready after 30 s")
	}
	c.srv = srv
	return nil
}

// Embedded reports whether the cluster is a server in this process.
func (c *Cluster) Embedded() bool { return c.srv != nil }

// Connect opens a new connection to the cluster (in-process for an
// embedded server). Each worker has its own, so that it can be cut off
// alone.
func (c *Cluster) Connect(name string) (*nats.Conn, error) {
	return c.connect(name)
}

func (c *Cluster) connect(name string, extra ...nats.Option) (*nats.Conn, error) {
	opts := append([]nats.Option{nats.Name(name), nats.MaxReconnects(-1), nats.ReconnectWait(reconnectWait),
		// The client library's own handler prints asynchronous errors to
		// stderr in its words ("io: read/write on closed pipe on
		// connection [22]" when the embedded server stops at Ctrl-C,
		// #19 item 24); they go to the run's log instead, and those of a
		// connection being closed, or of the in-process pipe closing
		// under it, are the shutdown, not news.
		nats.ErrorHandler(func(nc *nats.Conn, _ *nats.Subscription, err error) {
			if nc.IsClosed() || errors.Is(err, io.ErrClosedPipe) || errors.Is(err, nats.ErrConnectionClosed) {
				return
			}
			c.logf("NATS %s: %v", c.url(), err)
		})}, extra...)
	url := c.url()
	if c.srv != nil {
		opts = append(opts, nats.InProcessServer(c.srv))
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return nil, fmt.Errorf("connecting to NATS %s: %w", url, err)
	}
	return nc, nil
}

// setup creates or updates the streams and buckets.
func (c *Cluster) setup(ctx context.Context) error {
	js, err := jetstream.New(c.nc)
	if err != nil {
		return fmt.Errorf("JetStream: %w", err)
	}
	c.js = js
	// An embedded server without a store directory keeps everything in
	// memory: it lives only as long as this process.
	storage := jetstream.FileStorage
	if c.srv != nil && c.cfg.StoreDir == "" {
		storage = jetstream.MemoryStorage
	}
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        TrialStream,
		Description: "kagen trials: one message per queued trial, removed when a worker acknowledges it",
		Subjects:    []string{subjectPrefix + ">"},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     storage,
		Replicas:    c.cfg.Replicas,
		// One message per trial subject: queuing a trial that is queued
		// already is refused, whatever the duplicate window.
		MaxMsgsPerSubject:    1,
		Discard:              jetstream.DiscardNew,
		DiscardNewPerSubject: true,
		Duplicates:           2 * time.Minute,
	}); err != nil {
		return fmt.Errorf("creating stream %s: %w", TrialStream, err)
	}
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        ResultStream,
		Description: "kagen trial results: the first result of each trial ID",
		Subjects:    []string{resultPrefix + ">"},
		Retention:   jetstream.LimitsPolicy,
		Storage:     storage,
		Replicas:    c.cfg.Replicas,
		MaxAge:      c.cfg.ResultTTL,
		// One result per trial: a second one is refused.
		MaxMsgsPerSubject:    1,
		Discard:              jetstream.DiscardNew,
		DiscardNewPerSubject: true,
		Duplicates:           2 * time.Minute,
		AllowDirect:          true,
	}); err != nil {
		return fmt.Errorf("creating stream %s: %w", ResultStream, err)
	}
	if err := c.ensureConsumer(ctx, anyConsumer, anySubjects+">"); err != nil {
		return err
	}
	if c.blobs, err = js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket: BlobBucket, Description: "kagen models and data shards by SHA-256",
		Storage: storage, Replicas: c.cfg.Replicas, TTL: c.cfg.ResultTTL,
	}); err != nil {
		return fmt.Errorf("creating object store %s: %w", BlobBucket, err)
	}
	if c.kv, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: WorkerBucket, Description: "kagen workers alive",
		Storage: jetstream.MemoryStorage, Replicas: c.cfg.Replicas, TTL: workerTTL,
	}); err != nil {
		return fmt.Errorf("creating key-value bucket %s: %w", WorkerBucket, err)
	}
	return nil
}

// ensureConsumer creates or updates a durable pull consumer of trials.
func (c *Cluster) ensureConsumer(ctx context.Context, name, filter string) error {
	_, err := c.js.CreateOrUpdateConsumer(ctx, TrialStream, jetstream.ConsumerConfig{
		Durable:       name,
		Description:   "kagen workers pulling " + filter,
		FilterSubject: filter,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       c.cfg.AckWait,
		MaxDeliver:    -1,
		MaxAckPending: 10000,
	})
	if err != nil {
		return fmt.Errorf("creating consumer %s: %w", name, err)
	}
	return nil
}

// Close closes the connection and stops an embedded server.
func (c *Cluster) Close() {
	if c.nc != nil {
		c.nc.Close()
	}
	if c.srv != nil {
		c.srv.Shutdown()
		c.srv.WaitForShutdown()
	}
	if c.tmp != "" {
		os.RemoveAll(c.tmp)
	}
}

// url is the server's URL (the embedded server's client URL).
func (c *Cluster) url() string {
	if c.srv != nil {
		return c.srv.ClientURL()
	}
	return c.cfg.URL
}

func (c *Cluster) logf(format string, args ...any) {
	if c.cfg.Logf != nil {
		c.cfg.Logf(format, args...)
	}
}

// WorkerInfo is what a worker announces in the worker bucket.
type WorkerInfo struct {
	Name          string             `json:"name"`
	Host          string             `json:"host"`
	Device        device.Fingerprint `json:"device"`
	Class         string             `json:"class"`
	DeviceProfile string             `json:"device_profile,omitempty"`
	Concurrency   int                `json:"concurrency"`
	Started       time.Time          `json:"started"`
	Done          int64              `json:"trials_done"`
}

// workerTTL is how long an announcement lives without a heartbeat.
const workerTTL = 30 * time.Second

// Workers lists the workers alive (announced within the last 30 s).
func (c *Cluster) Workers(ctx context.Context) ([]WorkerInfo, error) {
	keys, err := c.kv.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing workers: %w", err)
	}
	defer keys.Stop()
	var out []WorkerInfo
	for k := range keys.Keys() {
		e, err := c.kv.Get(ctx, k)
		if err != nil {
			continue
		}
		var w WorkerInfo
		if json.Unmarshal(e.Value(), &w) == nil {
			out = append(out, w)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
