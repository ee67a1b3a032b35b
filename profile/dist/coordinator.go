package dist

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/kagen-ai/kagen/approx"
	"github.com/kagen-ai/kagen/dataset"
	"github.com/kagen-ai/kagen/device"
	"github.com/kagen-ai/kagen/profile"
)

// CoordinatorOptions configure a coordinator.
type CoordinatorOptions struct {
	// ShardWindows is the number of windows of a data shard, the unit of
	// an output trial (default 64).
	ShardWindows int
	// DeviceClass is the device class whose workers run the latency trials
	// (default this machine's, device.Class(device.This())).
	DeviceClass string
	// Resubmit is how often trials without a result are offered again
	// (default 1 min). Offering a trial that is queued already is
	// refused by the stream, so this only requeues lost trials.
	Resubmit time.Duration
	// Logf, if set, receives diagnostics.
	Logf func(format string, args ...any)
}

// CoordinatorStats counts what a coordinator did.
type CoordinatorStats struct {
	Queued   int64 // trials put on the work queue
	Queuing  int64 // offers refused because the trial was queued already
	Reused   int64 // trials whose result was in the results stream already
	Received int64 // results received while waiting
	Ignored  int64 // results that were duplicates or not asked for
}

// Coordinator is a profile.Executor that runs trials on the cluster's
// workers: it publishes the model and the data shards to the object store,
// queues the trials that have no result yet and collects their results,
// keeping the first per trial ID.
type Coordinator struct {
	c       *Cluster
	opts    CoordinatorOptions
	sha     string
	results jetstream.Stream

	mu        sync.Mutex
	published map[string]bool
	sink      chan *profile.TrialResult // the running Execute's, or nil
	sinkDone  chan struct{}

	exec    sync.Mutex // one Execute at a time
	listen  jetstream.ConsumeContext
	listenE chan error

	queued, queuing, reused, received, ignored atomic.Int64
}

// NewCoordinator returns a coordinator for the model whose file bytes are
// model, and publishes it.
func (c *Cluster) NewCoordinator(ctx context.Context, model []byte, opts CoordinatorOptions) (*Coordinator, error) {
	if opts.ShardWindows <= 0 {
		opts.ShardWindows = 64
	}
	if opts.DeviceClass == "" {
		opts.DeviceClass = device.Class(device.This())
	}
	if !validToken(opts.DeviceClass) {
		return nil, fmt.Errorf("device class %q: expected letters, digits, - or _", opts.DeviceClass)
	}
	if opts.Resubmit <= 0 {
		opts.Resubmit = time.Minute
	}
	if opts.Logf == nil {
		opts.Logf = c.cfg.Logf
	}
	h := sha256.Sum256(model)
	co := &Coordinator{c: c, opts: opts, sha: hex.EncodeToString(h[:]), published: map[string]bool{}}
	var err error
	if co.results, err = c.js.Stream(ctx, ResultStream); err != nil {
		return nil, fmt.Errorf("coordinator: stream %s: %w", ResultStream, err)
	}
	if err := co.putBlob(ctx, co.sha, model); err != nil {
		return nil, err
	}
	if err := co.startListening(ctx); err != nil {
		return nil, err
	}
	return co, nil
}

// startListening subscribes to the results of the coordinator's model (and
// of no-op trials) as they are stored, for the life of the coordinator.
// Results stored before are found by looking them up.
func (co *Coordinator) startListening(ctx context.Context) error {
	cons, err := co.c.js.OrderedConsumer(ctx, ResultStream, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{resultPrefix + modelToken(co.sha) + ".>", resultPrefix + modelToken("") + ".>"},
		DeliverPolicy:  jetstream.DeliverNewPolicy,
	})
	if err != nil {
		return fmt.Errorf("listening for results: %w", err)
	}
	co.listenE = make(chan error, 1)
	cc, err := cons.Consume(func(m jetstream.Msg) {
		r, err := DecodeResult(m.Data(), m.Subject())
		if err != nil {
			co.logf("coordinator: ignoring a result on %s: %v", m.Subject(), err)
			return
		}
		co.mu.Lock()
		sink, done := co.sink, co.sinkDone
		co.mu.Unlock()
		if sink == nil {
			return // no Execute waits; a later one looks it up
		}
		select {
		case sink <- r:
		case <-done:
		}
	}, jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		select {
		case co.listenE <- err:
		default:
		}
	}))
	if err != nil {
		return fmt.Errorf("listening for results: %w", err)
	}
	co.listen = cc
	return nil
}

// Close stops listening for results.
func (co *Coordinator) Close() {
	if co.listen != nil {
		co.listen.Stop()
	}
}

// ShardWindows implements profile.ShardSizer.
func (co *Coordinator) ShardWindows() int { return co.opts.ShardWindows }

// DeviceClass implements profile.DeviceTargeter.
func (co *Coordinator) DeviceClass() string { return co.opts.DeviceClass }

// Stats returns the coordinator's counters.
func (co *Coordinator) Stats() CoordinatorStats {
	return CoordinatorStats{Queued: co.queued.Load(), Queuing: co.queuing.Load(), Reused: co.reused.Load(), Received: co.received.Load(), Ignored: co.ignored.Load()}
}

// Profile runs profile.MeasureWith on the cluster.
func (co *Coordinator) Profile(ctx context.Context, a *approx.Approximator, data *dataset.Dataset, opts profile.Options) (*profile.Profile, error) {
	if a.Model().SHA256() != co.sha {
		return nil, fmt.Errorf("coordinator of model %s asked to profile model %s", co.sha, a.Model().SHA256())
	}
	return profile.MeasureWith(ctx, a, data, opts, co)
}

// Tune runs profile.TuneWith on the cluster.
func (co *Coordinator) Tune(ctx context.Context, a *approx.Approximator, p *profile.Profile, tune, calib *dataset.Dataset, opts profile.TuneOptions) (*profile.TuneResult, error) {
	if a.Model().SHA256() != co.sha {
		return nil, fmt.Errorf("coordinator of model %s asked to tune model %s", co.sha, a.Model().SHA256())
	}
	return profile.TuneWith(ctx, a, p, tune, calib, opts, co)
}

func (co *Coordinator) logf(format string, args ...any) {
	if co.opts.Logf != nil {
		co.opts.Logf(format, args...)
	}
}

// putBlob stores data under its SHA-256 unless it is there already.
func (co *Coordinator) putBlob(ctx context.Context, sha string, data []byte) error {
	co.mu.Lock()
	done := co.published[sha]
	co.mu.Unlock()
	if done {
		return nil
	}
	info, err := co.c.blobs.GetInfo(ctx, sha)
	if err != nil || info.Size != uint64(len(data)) {
		if _, err := co.c.blobs.PutBytes(ctx, sha, data); err != nil {
			return fmt.Errorf("publishing blob %s: %w", sha, err)
		}
	}
	co.mu.Lock()
	co.published[sha] = true
	co.mu.Unlock()
	return nil
}

// Execute implements profile.Executor: it publishes the batch's shards,
// takes the results already in the results stream, queues the other
// trials and waits for their results. A trial that appears twice in the
// batch runs once.
func (co *Coordinator) Execute(ctx context.Context, b *profile.Batch, done func(int, *profile.TrialResult) error) error {
	byID := map[string][]int{}
	var ids []string
	bodies := map[string][]byte{}
	models := map[string]string{} // trial ID -> model
	for i := range b.Trials {
		t := &b.Trials[i]
		if t.Kind != profile.TrialNoop && t.Model != co.sha {
			return fmt.Errorf("trial %d is for model %s, the coordinator's is %s", i, t.Model, co.sha)
		}
		id := t.ID()
		if _, ok := byID[id]; !ok {
			ids = append(ids, id)
			body, err := EncodeTrial(t)
			if err != nil {
				return err
			}
			bodies[id] = body
			models[id] = t.Model
		}
		byID[id] = append(byID[id], i)
	}
	if len(ids) == 0 {
		return nil
	}
	for key, s := range b.Shards {
		if err := co.putBlob(ctx, key, s.Blob); err != nil {
			return err
		}
	}
	// Results are heard from now on; those stored before are looked up
	// next, so none falls between the two.
	co.exec.Lock()
	defer co.exec.Unlock()
	results := make(chan *profile.TrialResult, 64)
	finished := make(chan struct{})
	co.mu.Lock()
	co.sink, co.sinkDone = results, finished
	co.mu.Unlock()
	defer func() {
		co.mu.Lock()
		co.sink, co.sinkDone = nil, nil
		co.mu.Unlock()
		close(finished)
	}()
	pending := map[string]bool{}
	for _, id := range ids {
		pending[id] = true
	}
	take := func(r *profile.TrialResult) error {
		if !pending[r.ID] {
			co.ignored.Add(1)
			return nil
		}
		delete(pending, r.ID)
		for _, i := range byID[r.ID] {
			if err := done(i, r); err != nil {
				return err
			}
		}
		return nil
	}
	// catchUp takes the results stored for pending trials and queues the
	// others (again: a trial queued already stays as it is). An error of
	// done comes back as a stopError; any other is NATS not answering.
	catchUp := func() error {
		var todo []string
		for _, id := range ids {
			if pending[id] {
				todo = append(todo, id)
			}
		}
		old, err := co.lookup(ctx, models, todo)
		if err != nil {
			return err
		}
		for _, r := range old {
			if pending[r.ID] {
				co.reused.Add(1)
			}
			if err := take(r); err != nil {
				return stopError{err}
			}
		}
		todo = todo[:0]
		for _, id := range ids {
			if pending[id] {
				todo = append(todo, id)
			}
		}
		return co.offer(ctx, b, byID, bodies, todo)
	}
	// trouble is when NATS stopped answering (the connection was lost,
	// or a look-up failed); zero while it answers. attempt runs catchUp
	// and notes trouble instead of failing, until ReconnectFor has passed.
	var trouble time.Time
	var lastErr error
	attempt := func() error {
		if down, _ := co.c.link.get(); !down.IsZero() {
			if trouble.IsZero() {
				trouble = down // no use asking before the connection is back
			}
			return nil
		}
		err := catchUp()
		var stop stopError
		switch {
		case err == nil:
			trouble, lastErr = time.Time{}, nil
			return nil
		case errors.As(err, &stop):
			return stop.err
		case ctx.Err() != nil:
			return ctx.Err()
		}
		if trouble.IsZero() {
			trouble = time.Now()
			co.logf("coordinator: NATS %s does not answer (%v); retrying for up to %v", co.c.url(), err, co.c.cfg.ReconnectFor)
		}
		lastErr = err
		return nil
	}
	if err := attempt(); err != nil {
		return err
	}
	tick := time.NewTicker(co.opts.Resubmit)
	defer tick.Stop()
	retry := time.NewTicker(2 * reconnectWait)
	defer retry.Stop()
	for len(pending) > 0 {
		down, changed := co.c.link.get()
		since := trouble
		if !down.IsZero() && (since.IsZero() || down.Before(since)) {
			since = down
		}
		var retrying, giveUp <-chan time.Time
		var timer *time.Timer
		if !since.IsZero() {
			left := time.Until(since.Add(co.c.cfg.ReconnectFor))
			if left <= 0 {
				why := "the connection was lost"
				if lastErr != nil {
					why = lastErr.Error()
				}
				return fmt.Errorf("NATS %s has not answered for %.0f s (%s); gave up after waiting %v for it to come back (--nats-retry)",
					co.c.url(), time.Since(since).Seconds(), why, co.c.cfg.ReconnectFor)
			}
			retrying = retry.C
			timer = time.NewTimer(left)
			giveUp = timer.C
		}
		err := func() error {
			if timer != nil {
				defer timer.Stop()
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-giveUp:
				// checked at the top of the loop
			case <-changed:
				if d, _ := co.c.link.get(); d.IsZero() && !down.IsZero() {
					// Back: take the results stored while away, requeue the
					// rest; until that works the wait goes on counting.
					if trouble.IsZero() || down.Before(trouble) {
						trouble = down
					}
					if err := attempt(); err != nil {
						return err
					}
				}
			case <-retrying:
				if d, _ := co.c.link.get(); d.IsZero() {
					if err := attempt(); err != nil {
						return err
					}
				}
			case err := <-co.listenE:
				// The ordered consumer recreates itself; say so and go on.
				co.logf("coordinator: receiving results: %v", err)
			case r := <-results:
				if pending[r.ID] {
					co.received.Add(1)
				}
				if err := take(r); err != nil {
					return err
				}
			case <-tick.C:
				if !since.IsZero() {
					return nil // retrying already
				}
				co.report(ctx, len(pending))
				if err := attempt(); err != nil {
					return err
				}
			}
			return nil
		}()
		if err != nil {
			return err
		}
	}
	return nil
}

// stopError is an error of Execute's done: the batch stops, whatever
// NATS does.
type stopError struct{ err error }

func (e stopError) Error() string { return e.err.Error() }

// lookup fetches the results stored already for some trial IDs: it lists
// the result subjects stored for their models, then fetches those.
func (co *Coordinator) lookup(ctx context.Context, models map[string]string, ids []string) ([]*profile.TrialResult, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	// Few trials: ask for each. Many: list what is stored first (one
	// request per model, however many results it holds).
	stored := map[string]bool{}
	listed := map[string]bool{}
	if len(ids) <= 32 {
		for _, id := range ids {
			stored[resultSubject(models[id], id)] = true
		}
		listed[""] = true
	}
	for _, id := range ids {
		if listed[""] {
			break
		}
		tok := modelToken(models[id])
		if listed[tok] {
			continue
		}
		listed[tok] = true
		info, err := co.results.Info(ctx, jetstream.WithSubjectFilter(resultPrefix+tok+".>"))
		if err != nil {
			return nil, fmt.Errorf("listing stored results: %w", err)
		}
		for subj := range info.State.Subjects {
			stored[subj] = true
		}
	}
	var (
		mu    sync.Mutex
		found []*profile.TrialResult
		first error
		wg    sync.WaitGroup
	)
	next := make(chan string)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for subject := range next {
				m, err := co.results.GetLastMsgForSubject(ctx, subject)
				mu.Lock()
				if err != nil {
					if first == nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
						first = fmt.Errorf("fetching result %s: %w", subject, err)
					}
				} else if r, err := DecodeResult(m.Data, subject); err == nil {
					found = append(found, r)
				} else {
					co.logf("coordinator: ignoring stored result %s: %v", subject, err)
				}
				mu.Unlock()
			}
		}()
	}
	for _, id := range ids {
		if subject := resultSubject(models[id], id); stored[subject] {
			next <- subject
		}
	}
	close(next)
	wg.Wait()
	return found, first
}

// offer queues trials; one queued already is left as it is.
func (co *Coordinator) offer(ctx context.Context, b *profile.Batch, byID map[string][]int, bodies map[string][]byte, ids []string) error {
	type sent struct {
		id string
		f  jetstream.PubAckFuture
	}
	var futures []sent
	for _, id := range ids {
		t := &b.Trials[byID[id][0]]
		m := &nats.Msg{Subject: trialSubject(t, id), Data: bodies[id]}
		f, err := co.c.js.PublishMsgAsync(m, jetstream.WithExpectStream(TrialStream))
		if err != nil {
			return fmt.Errorf("queuing trial %s: %w", id, err)
		}
		futures = append(futures, sent{id, f})
	}
	for _, s := range futures {
		select {
		case <-s.f.Ok():
			co.queued.Add(1)
		case err := <-s.f.Err():
			if !isPerSubjectLimit(err) {
				return fmt.Errorf("queuing trial %s: %w", s.id, err)
			}
			co.queuing.Add(1)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// report logs how many trials are pending and who could run them.
func (co *Coordinator) report(ctx context.Context, pending int) {
	ws, err := co.c.Workers(ctx)
	if err != nil {
		co.logf("coordinator: %d trials pending; %v", pending, err)
		return
	}
	class := 0
	for _, w := range ws {
		if w.Class == co.opts.DeviceClass {
			class++
		}
	}
	co.logf("coordinator: %d trials pending; %d workers alive, %d of device class %s", pending, len(ws), class, co.opts.DeviceClass)
}
