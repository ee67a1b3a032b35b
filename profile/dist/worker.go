package dist

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/kagen-ai/kagen/approx"
	"github.com/kagen-ai/kagen/dataset"
	"github.com/kagen-ai/kagen/device"
	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/profile"
)

// WorkerOptions configure a worker.
type WorkerOptions struct {
	// Name identifies the worker (default host-pid-N).
	Name string
	// Concurrency is the number of trials run at once (default 1). Latency
	// trials run one at a time per process whatever it is.
	Concurrency int
	// Parallel is the number of goroutines of one output trial (default
	// GOMAXPROCS / Concurrency, at least 1).
	Parallel int
	// DeviceProfile names the energy model (device.Lookup) of the
	// device, announced with its fingerprint.
	DeviceProfile string
	// Device overrides the announced fingerprint (default
	// device.This()); the worker takes the latency trials of its
	// class.
	Device *device.Fingerprint
	// Latency, if set, answers latency trials instead of timing them (a
	// seam for tests).
	Latency profile.LatencyFunc
	// OnTrial, if set, is called when a trial starts running (after the
	// checks that it is well formed and has no result yet).
	OnTrial func(t *profile.Trial)
	// Delay is slept at the start of every trial, inside it (to simulate
	// a slow device, and for tests that kill a worker mid-trial).
	Delay time.Duration
	// Verbose logs every trial's start and end.
	Verbose bool
	// Poll is the longest a fetch waits for a trial (default 250 ms);
	// Stop waits for a poll to end.
	Poll time.Duration
	// Logf, if set, receives diagnostics.
	Logf func(format string, args ...any)
}

// WorkerStats counts what a worker did.
type WorkerStats struct {
	Done      int64 // results published
	Failed    int64 // of which error results
	Skipped   int64 // trials whose result existed already
	Malformed int64 // messages that did not decode, terminated
	Retried   int64 // trials handed back for a transient error
}

// Worker takes trials from the cluster's work queue, runs them and
// publishes their results.
type Worker struct {
	c       *Cluster
	opts    WorkerOptions
	nc      *nats.Conn
	js      jetstream.JetStream
	anyCons jetstream.Consumer
	devCons jetstream.Consumer
	results jetstream.Stream
	blobs   jetstream.ObjectStore
	kv      jetstream.KeyValue
	info    WorkerInfo
	ackWait time.Duration

	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	killed   atomic.Bool
	stopOnce sync.Once

	mu         sync.Mutex
	models     map[string]*approx.Approximator
	shards     map[string]*dataset.Dataset
	shardOrder []string
	shardSize  map[string]int
	shardBytes int

	done, failed, skipped, malformed, retried atomic.Int64
	devIdle                                   atomic.Value // time.Time until which no device trial is expected
}

// devBackoff is how long a worker that found no latency trial of its class
// waits before it asks again (it takes other trials meanwhile).
const devBackoff = 50 * time.Millisecond

// blobTimeout bounds one fetch of a model or a shard. A fetch that
// outlives it fails its trial without being final, so the trial is
// redelivered and the blob fetched again: when the NATS server restarted
// in the middle of a fetch, the object store's request waited for the
// whole bound (seen under the race detector, where the 10-minute bound
// outlived the test). A minute moves hundreds of megabytes on a LAN.
const blobTimeout = time.Minute

// maxShardCache bounds the bytes of decoded shards a worker keeps.
const maxShardCache = 512 << 20

// finalError marks an error that running the trial again would repeat: it
// is published as the trial's result.
type finalError struct{ error }

func (e finalError) Unwrap() error { return e.error }

// StartWorker starts a worker on its own connection to the cluster.
func (c *Cluster) StartWorker(ctx context.Context, opts WorkerOptions) (*Worker, error) {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 1
	}
	if opts.Parallel <= 0 {
		opts.Parallel = max(1, runtime.GOMAXPROCS(0)/opts.Concurrency)
	}
	if opts.Poll <= 0 {
		opts.Poll = 250 * time.Millisecond
	}
	host, _ := os.Hostname()
	if opts.Name == "" {
		opts.Name = fmt.Sprintf("%s-%d-%d", host, os.Getpid(), c.workerSeq.Add(1))
	}
	if opts.Logf == nil {
		opts.Logf = c.cfg.Logf
	}
	dev := device.This()
	if opts.Device != nil {
		dev = *opts.Device
	}
	w := &Worker{c: c, opts: opts, models: map[string]*approx.Approximator{}, shards: map[string]*dataset.Dataset{}, shardSize: map[string]int{}}
	w.info = WorkerInfo{Name: opts.Name, Host: host, Device: dev, Class: device.Class(dev), DeviceProfile: opts.DeviceProfile, Concurrency: opts.Concurrency, Started: time.Now().UTC()}
	if err := c.ensureConsumer(ctx, deviceConsumer(w.info.Class), deviceSubjects+w.info.Class+".>"); err != nil {
		return nil, err
	}
	nc, err := c.Connect("kagen worker " + opts.Name)
	if err != nil {
		return nil, err
	}
	w.nc = nc
	if err := w.bind(ctx); err != nil {
		nc.Close()
		return nil, err
	}
	w.ctx, w.cancel = context.WithCancel(context.Background())
	w.devIdle.Store(time.Time{})
	if err := w.announce(ctx); err != nil {
		nc.Close()
		return nil, err
	}
	w.wg.Add(1)
	go w.heartbeat()
	for i := 0; i < opts.Concurrency; i++ {
		w.wg.Add(1)
		go w.loop()
	}
	w.logf("worker %s: device %s (class %s), %d at once", opts.Name, dev, w.info.Class, opts.Concurrency)
	return w, nil
}

func (w *Worker) bind(ctx context.Context) error {
	js, err := jetstream.New(w.nc)
	if err != nil {
		return fmt.Errorf("worker JetStream: %w", err)
	}
	w.js = js
	if w.anyCons, err = js.Consumer(ctx, TrialStream, anyConsumer); err != nil {
		return fmt.Errorf("worker consumer %s: %w", anyConsumer, err)
	}
	if w.devCons, err = js.Consumer(ctx, TrialStream, deviceConsumer(w.info.Class)); err != nil {
		return fmt.Errorf("worker consumer %s: %w", deviceConsumer(w.info.Class), err)
	}
	w.ackWait = w.anyCons.CachedInfo().Config.AckWait
	if w.results, err = js.Stream(ctx, ResultStream); err != nil {
		return fmt.Errorf("worker stream %s: %w", ResultStream, err)
	}
	if w.blobs, err = js.ObjectStore(ctx, BlobBucket); err != nil {
		return fmt.Errorf("worker object store: %w", err)
	}
	if w.kv, err = js.KeyValue(ctx, WorkerBucket); err != nil {
		return fmt.Errorf("worker bucket: %w", err)
	}
	return nil
}

// Info is what the worker announces.
func (w *Worker) Info() WorkerInfo { return w.info }

// Stats returns the worker's counters.
func (w *Worker) Stats() WorkerStats {
	return WorkerStats{Done: w.done.Load(), Failed: w.failed.Load(), Skipped: w.skipped.Load(), Malformed: w.malformed.Load(), Retried: w.retried.Load()}
}

// Stop lets the trials running finish, publishes their results, withdraws
// the announcement and closes the connection.
func (w *Worker) Stop() {
	w.stopOnce.Do(func() {
		w.cancel()
		w.wg.Wait()
		if w.killed.Load() {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		w.kv.Delete(ctx, w.info.Name)
		w.nc.Drain()
	})
}

// Kill cuts the worker off at once, as if its process died: the trials it
// runs are neither acknowledged nor answered, and are redelivered to
// another worker after the ack wait.
func (w *Worker) Kill() {
	w.killed.Store(true)
	w.nc.Close()
	w.cancel()
}

// Wait waits until the worker's goroutines have returned (after Stop, Kill
// or the end of its connection).
func (w *Worker) Wait() { w.wg.Wait() }

func (w *Worker) logf(format string, args ...any) {
	if w.opts.Logf != nil {
		w.opts.Logf(format, args...)
	}
}

func (w *Worker) announce(ctx context.Context) error {
	w.info.Done = w.done.Load()
	b, _ := json.Marshal(w.info)
	if _, err := w.kv.Put(ctx, w.info.Name, b); err != nil {
		return fmt.Errorf("announcing worker %s: %w", w.info.Name, err)
	}
	return nil
}

func (w *Worker) heartbeat() {
	defer w.wg.Done()
	t := time.NewTicker(workerTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-w.ctx.Done():
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(w.ctx, 5*time.Second)
			if err := w.announce(ctx); err != nil && w.ctx.Err() == nil {
				w.logf("worker %s: %v", w.info.Name, err)
			}
			cancel()
		}
	}
}

// loop takes and runs trials until the worker stops.
func (w *Worker) loop() {
	defer w.wg.Done()
	runners := map[string]*profile.TrialRunner{}
	defer func() {
		for _, r := range runners {
			r.Close()
		}
	}()
	for w.ctx.Err() == nil {
		msg, device := w.next()
		if msg == nil {
			continue
		}
		w.handle(msg, runners)
		if device {
			w.c.deviceSlot.Store(false)
		}
	}
}

// next fetches a trial: a latency trial of this device class first (when
// no other of this process runs one), else any other.
func (w *Worker) next() (jetstream.Msg, bool) {
	if time.Now().After(w.devIdle.Load().(time.Time)) && w.c.deviceSlot.CompareAndSwap(false, true) {
		if b, err := w.devCons.FetchNoWait(1); err == nil {
			for m := range b.Messages() {
				return m, true
			}
		}
		w.c.deviceSlot.Store(false)
		// None queued: look again in a while, not before every trial.
		w.devIdle.Store(time.Now().Add(devBackoff))
	}
	b, err := w.anyCons.Fetch(1, jetstream.FetchMaxWait(w.opts.Poll))
	if err != nil {
		if w.ctx.Err() == nil {
			if w.nc.IsClosed() {
				w.cancel()
				return nil, false
			}
			w.logf("worker %s: fetching trials: %v", w.info.Name, err)
			sleep(w.ctx, 200*time.Millisecond)
		}
		return nil, false
	}
	for m := range b.Messages() {
		return m, false
	}
	return nil, false
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// handle runs one trial message to its end: a published result and an
// ack, a nak for a transient error, or a term for a malformed message.
func (w *Worker) handle(msg jetstream.Msg, runners map[string]*profile.TrialRunner) {
	defer func() {
		if p := recover(); p != nil {
			w.malformed.Add(1)
			w.logf("worker %s: trial message on %s: panic %v\n%s", w.info.Name, msg.Subject(), p, debug.Stack())
			msg.TermWithReason("worker panic")
		}
	}()
	t, err := DecodeTrial(msg.Data(), msg.Subject())
	if err != nil {
		w.malformed.Add(1)
		w.logf("worker %s: dropping malformed trial on %s: %v", w.info.Name, msg.Subject(), err)
		msg.TermWithReason("malformed trial")
		return
	}
	id := t.ID()
	subject := resultSubject(t.Model, id)
	// The contexts of the NATS calls are not the worker's, so that a
	// trial taken before Stop is still answered; the trial itself has no
	// deadline (its worker signals progress while it runs).
	lookCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The trial may have a result already: its worker died between
	// publishing and acknowledging, or a coordinator that took over
	// queued it again just after it was answered. Then it is not run
	// again.
	if _, err := w.results.GetLastMsgForSubject(lookCtx, subject); err == nil {
		w.skipped.Add(1)
		msg.Ack()
		return
	}
	stop := w.keepAlive(msg)
	defer stop()
	if w.opts.Verbose {
		w.logf("worker %s: start %s %s", w.info.Name, id, t.Kind)
	}
	if w.opts.OnTrial != nil {
		w.opts.OnTrial(t)
	}
	if w.opts.Delay > 0 {
		time.Sleep(w.opts.Delay)
	}
	res, err := w.run(context.Background(), t, runners)
	stop()
	if w.killed.Load() {
		return
	}
	if err != nil {
		var fe finalError
		if !errors.As(err, &fe) {
			w.retried.Add(1)
			w.logf("worker %s: trial %s handed back: %v", w.info.Name, id, err)
			msg.NakWithDelay(time.Second)
			return
		}
		res = &profile.TrialResult{ID: id, Error: err.Error()}
		w.failed.Add(1)
		w.logf("worker %s: trial %s failed: %v", w.info.Name, id, err)
	}
	res.Worker = w.info.Name
	if t.Kind.NeedsDevice() && res.Error == "" {
		dev := w.info.Device
		res.Device = &dev
	}
	body, err := EncodeResult(res)
	if err != nil {
		body, _ = EncodeResult(&profile.TrialResult{ID: id, Worker: w.info.Name, Error: err.Error()})
	}
	pubCtx, cancelPub := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancelPub()
	if _, err := w.js.Publish(pubCtx, subject, body, jetstream.WithMsgID(id), jetstream.WithExpectStream(ResultStream)); err != nil && !isPerSubjectLimit(err) {
		if w.killed.Load() {
			return
		}
		w.retried.Add(1)
		w.logf("worker %s: publishing the result of %s: %v", w.info.Name, id, err)
		msg.NakWithDelay(time.Second)
		return
	}
	w.done.Add(1)
	msg.Ack()
	if w.opts.Verbose {
		w.logf("worker %s: done %s %s", w.info.Name, id, t.Kind)
	}
}

// isPerSubjectLimit reports the refusal of a second message on a subject
// that holds one already (a result published twice, a trial queued
// twice): the first stands.
func isPerSubjectLimit(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && strings.Contains(apiErr.Description, "maximum messages per subject")
}

// keepAlive tells the server the trial is in progress every third of the
// ack wait until stop is called.
func (w *Worker) keepAlive(msg jetstream.Msg) (stop func()) {
	every := w.ackWait / 3
	if every <= 0 {
		every = 10 * time.Second
	}
	done := make(chan struct{})
	var once sync.Once
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if w.killed.Load() {
					return
				}
				msg.InProgress()
			}
		}
	}()
	return func() { once.Do(func() { close(done) }) }
}

// run fetches what the trial needs and runs it.
func (w *Worker) run(ctx context.Context, t *profile.Trial, runners map[string]*profile.TrialRunner) (*profile.TrialResult, error) {
	if t.Kind == profile.TrialNoop {
		return &profile.TrialResult{ID: t.ID()}, nil
	}
	a, err := w.model(ctx, t.Model)
	if err != nil {
		return nil, err
	}
	shard, err := w.shard(ctx, t.Shard)
	if err != nil {
		return nil, err
	}
	r := runners[t.Model]
	if r == nil {
		r = profile.NewTrialRunner(a, w.opts.Parallel)
		r.Latency = w.opts.Latency
		runners[t.Model] = r
	}
	res, err := r.RunTrial(ctx, t, shard)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, finalError{err}
	}
	return res, nil
}

// blob fetches an object and checks it is what its name says.
func (w *Worker) blob(ctx context.Context, sha string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, blobTimeout)
	defer cancel()
	data, err := w.blobs.GetBytes(ctx, sha)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return nil, finalError{fmt.Errorf("blob %s is not in the object store", sha)}
	}
	if err != nil {
		return nil, fmt.Errorf("fetching blob %s: %w", sha, err)
	}
	h := sha256.Sum256(data)
	if hex.EncodeToString(h[:]) != sha {
		return nil, finalError{fmt.Errorf("blob %s has another SHA-256", sha)}
	}
	return data, nil
}

// model returns the approximator of a model, fetched once.
func (w *Worker) model(ctx context.Context, sha string) (*approx.Approximator, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if a := w.models[sha]; a != nil {
		return a, nil
	}
	data, err := w.blob(ctx, sha)
	if err != nil {
		return nil, err
	}
	m, err := engine.LoadBytes(data, engine.Options{Name: "model " + sha[:12]})
	if err != nil {
		return nil, finalError{err}
	}
	a := approx.New(m)
	w.models[sha] = a
	return a, nil
}

// shard returns a decoded data shard, fetched once while it stays in the
// cache.
func (w *Worker) shard(ctx context.Context, sha string) (*dataset.Dataset, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if d := w.shards[sha]; d != nil {
		return d, nil
	}
	data, err := w.blob(ctx, sha)
	if err != nil {
		return nil, err
	}
	d, err := profile.DecodeShard(data)
	if err != nil {
		return nil, finalError{fmt.Errorf("shard %s: %w", sha, err)}
	}
	for w.shardBytes+len(data) > maxShardCache && len(w.shardOrder) > 0 {
		old := w.shardOrder[0]
		w.shardOrder = w.shardOrder[1:]
		w.shardBytes -= w.shardSize[old]
		delete(w.shards, old)
		delete(w.shardSize, old)
	}
	w.shards[sha] = d
	w.shardOrder = append(w.shardOrder, sha)
	w.shardSize[sha] = len(data)
	w.shardBytes += len(data)
	return d, nil
}
