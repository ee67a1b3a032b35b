package dist

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/kagen-ai/kagen/approx"
	"github.com/kagen-ai/kagen/dataset"
	"github.com/kagen-ai/kagen/device"
	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/internal/synth"
	"github.com/kagen-ai/kagen/profile"
	"github.com/kagen-ai/kagen/replay"
)

// fixture is the tiny HAR model with a synthetic IMU trace.
type fixture struct {
	model        []byte
	a            *approx.Approximator
	data         *dataset.Dataset
	tune, calib  *dataset.Dataset
	popts        profile.Options
	topts        profile.TuneOptions
	latency      profile.LatencyFunc
	wantProfile  *profile.Profile
	wantTune     *profile.TuneResult
	referenceErr error
}

var (
	fixOnce sync.Once
	fix     *fixture
)

// tinyFixture loads the model and data, and computes the local reference
// profile and tune (the path profile.Measure and profile.Tune take, with the
// same injected latencies as the workers get).
func tinyFixture(t testing.TB) *fixture {
	t.Helper()
	fixOnce.Do(func() {
		f := &fixture{}
		fix = f
		var err error
		if f.model, err = os.ReadFile("../../replay/testdata/tiny_har.onnx"); err != nil {
			f.referenceErr = err
			return
		}
		m, err := engine.LoadBytes(f.model, engine.Options{})
		if err != nil {
			f.referenceErr = err
			return
		}
		spec, err := replay.SpecFromModel(m)
		if err != nil {
			f.referenceErr = err
			return
		}
		dir, err := os.MkdirTemp("", "kagen-dist-test")
		if err != nil {
			f.referenceErr = err
			return
		}
		defer os.RemoveAll(dir)
		for i := 0; i < 2; i++ {
			if err := os.WriteFile(filepath.Join(dir, "t"+strconv.Itoa(i)+".csv"), []byte(syntheticIMU(spec.Classes, i)), 0o644); err != nil {
				f.referenceErr = err
				return
			}
		}
		if f.data, err = dataset.Load(spec, replay.DiskTraces([]string{dir}), 0); err != nil {
			f.referenceErr = err
			return
		}
		f.a = approx.New(m)
		f.tune, f.calib = f.data.Split()
		f.latency = fakeLatency(f.a)
		f.popts = profile.Options{Repeats: 3, Windows: 100}
		// The space of this model is small: the search sees all of it
		// within its iteration cap, whatever the machine's speed.
		f.topts = profile.TuneOptions{MaxLossPP: 100, Budget: time.Minute, Seed: 3}
		ex := profile.NewLocalExecutor(f.a, 0)
		ex.Runner.Latency = f.latency
		defer ex.Close()
		ctx := context.Background()
		if f.wantProfile, err = profile.MeasureWith(ctx, f.a, f.tune, f.popts, ex); err != nil {
			f.referenceErr = err
			return
		}
		f.wantTune, f.referenceErr = profile.TuneWith(ctx, f.a, f.wantProfile, f.tune, f.calib, f.topts, ex)
	})
	if fix.referenceErr != nil {
		t.Fatal(fix.referenceErr)
	}
	return fix
}

// syntheticIMU is an IMU trace like profile's tuner test uses.
func syntheticIMU(labels []string, f int) string { return synth.SineIMU(3000, f, 600, labels) }

// fakeLatency answers latency trials from the knobs' ideal speedups, so
// that every run measures the same figures: each node takes 100 us exact,
// 100/ideal with a knob; the model is 1000 us less the savings.
func fakeLatency(a *approx.Approximator) profile.LatencyFunc {
	save := func(k approx.Knob) float64 { return 100 - 100/k.IdealSpeedup() }
	return func(t *profile.Trial) (*profile.TrialResult, error) {
		switch t.Kind {
		case profile.TrialExactLatency:
			steps := make([]float64, a.Model().Steps())
			for i := range steps {
				steps[i] = 100
			}
			return &profile.TrialResult{ModelUS: 1000, StepUS: steps}, nil
		case profile.TrialPairLatency:
			k, err := approx.ParseKnob(t.Knob)
			if err != nil {
				return nil, err
			}
			return &profile.TrialResult{ExactNodeUS: 100, NodeUS: 100 - save(k)}, nil
		case profile.TrialExactTime:
			return &profile.TrialResult{TimeUS: 1000}, nil
		case profile.TrialConfigTime:
			us := 1000.0
			if t.Knob != "" {
				k, _ := approx.ParseKnob(t.Knob)
				us -= save(k)
			} else {
				cfg, err := a.Parse(t.Config)
				if err != nil {
					return nil, err
				}
				for i := 0; i < cfg.Len(); i++ {
					if k := cfg.Knob(i); !k.IsExact() {
						us -= save(k)
					}
				}
			}
			return &profile.TrialResult{TimeUS: us, ExactTimeUS: 1000}, nil
		}
		return nil, errors.New("not a latency trial")
	}
}

// comparable strips what differs from run to run.
func comparableProfile(p *profile.Profile) profile.Profile {
	q := *p
	q.Created, q.ProfileTime = time.Time{}, 0
	return q
}

func comparableTune(r *profile.TuneResult) profile.TuneResult {
	q := *r
	q.SearchTime = 0
	return q
}

func checkSame(t *testing.T, f *fixture, p *profile.Profile, r *profile.TuneResult) {
	t.Helper()
	if got, want := comparableProfile(p), comparableProfile(f.wantProfile); !reflect.DeepEqual(got, want) {
		t.Errorf("distributed profile differs from the local one:\n%s", diffProfiles(&got, &want))
	}
	if r == nil {
		return
	}
	if got, want := comparableTune(r), comparableTune(f.wantTune); !reflect.DeepEqual(got, want) {
		t.Errorf("distributed tune differs from the local one:\ngot  %s\nwant %s", r, f.wantTune)
	}
}

func diffProfiles(a, b *profile.Profile) string {
	var s []string
	if a.ExactUS != b.ExactUS || a.ExactAccuracy != b.ExactAccuracy || !reflect.DeepEqual(a.ExactOutputs, b.ExactOutputs) {
		s = append(s, "exact figures differ")
	}
	if len(a.Pairs) != len(b.Pairs) {
		s = append(s, "pair counts differ: "+strconv.Itoa(len(a.Pairs))+" vs "+strconv.Itoa(len(b.Pairs)))
	} else {
		for i := range a.Pairs {
			if !reflect.DeepEqual(a.Pairs[i], b.Pairs[i]) {
				s = append(s, "pair "+a.Pairs[i].Node+" "+a.Pairs[i].Knob+" differs")
			}
		}
	}
	if !reflect.DeepEqual(a.Device, b.Device) || !reflect.DeepEqual(a.Nodes, b.Nodes) {
		s = append(s, "device or nodes differ")
	}
	return strings.Join(s, "\n")
}

// newPool starts an embedded cluster with n workers answering latency
// from the fixture.
func newPool(t testing.TB, f *fixture, n int, cfg Config, wopts WorkerOptions) *Pool {
	t.Helper()
	if wopts.Latency == nil {
		wopts.Latency = f.latency
	}
	wopts.Poll = 100 * time.Millisecond
	cfg.Logf = t.Logf
	p, err := NewPool(context.Background(), cfg, f.model, n, wopts, CoordinatorOptions{ShardWindows: 16})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// resultCount returns the number of messages in the results stream.
func resultCount(t *testing.T, c *Cluster) uint64 {
	t.Helper()
	s, err := c.js.Stream(context.Background(), ResultStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

func TestDistributedTuneMatchesLocal(t *testing.T) {
	f := tinyFixture(t)
	p := newPool(t, f, 3, Config{}, WorkerOptions{})
	ctx := context.Background()
	prof, err := p.Profile(ctx, f.a, f.tune, f.popts)
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Tune(ctx, f.a, prof, f.tune, f.calib, f.topts)
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, f, prof, res)
	if len(res.Levels) < 2 {
		t.Errorf("only %d levels: the test does not exercise the Pareto set", len(res.Levels))
	}
	st := p.Stats()
	var done int64
	for _, w := range p.Workers {
		w.Stop() // its counters are final once it has stopped
	}
	for _, w := range p.Workers {
		done += w.Stats().Done
		if w.Stats().Done == 0 {
			t.Logf("worker %s ran no trial", w.Info().Name)
		}
	}
	if n := resultCount(t, p.Cluster); int64(n) != st.Queued || done != st.Queued {
		t.Errorf("%d trials queued, %d run, %d results stored", st.Queued, done, n)
	}
	t.Logf("%d trials, %d levels: %s", st.Queued, len(res.Levels), res)
}

// TestKilledWorkerLosesNoTrial kills a worker while it holds a trial: the
// trial is redelivered after the ack wait, the run completes with the
// local results, and every trial has exactly one result.
func TestKilledWorkerLosesNoTrial(t *testing.T) {
	f := tinyFixture(t)
	holding := make(chan *profile.Trial, 1)
	release := make(chan struct{})
	var once sync.Once
	victim := WorkerOptions{Name: "victim", Latency: f.latency, OnTrial: func(tr *profile.Trial) {
		if tr.Kind != profile.TrialOutputs {
			return
		}
		once.Do(func() {
			holding <- tr
			<-release
		})
	}}
	p := newPool(t, f, 1, Config{AckWait: time.Second}, WorkerOptions{Name: "steady"})
	w, err := p.Cluster.StartWorker(context.Background(), victim)
	if err != nil {
		t.Fatal(err)
	}
	var redone sync.Map
	go func() {
		tr := <-holding
		redone.Store(tr.ID(), true)
		w.Kill()
		close(release)
	}()
	ctx := context.Background()
	prof, err := p.Profile(ctx, f.a, f.tune, f.popts)
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Tune(ctx, f.a, prof, f.tune, f.calib, f.topts)
	if err != nil {
		t.Fatal(err)
	}
	w.Wait()
	checkSame(t, f, prof, res)
	n := 0
	redone.Range(func(any, any) bool { n++; return true })
	if n != 1 {
		t.Fatal("the victim never held a trial")
	}
	if w.Stats().Done != 0 {
		t.Errorf("the killed worker published %d results", w.Stats().Done)
	}
	st := p.Stats()
	if got := resultCount(t, p.Cluster); int64(got) != st.Queued || st.Received != st.Queued {
		t.Errorf("%d trials queued, %d results received, %d stored: want one result per trial", st.Queued, st.Received, got)
	}
}

// TestCoordinatorRestartResumes stops a coordinator part-way through a
// profile; a new one finishes it from the streams without running any
// trial twice.
func TestCoordinatorRestartResumes(t *testing.T) {
	f := tinyFixture(t)
	var mu sync.Mutex
	runs := map[string]int{}
	gate := make(chan struct{})
	count := func(tr *profile.Trial) {
		<-gate // the test lets trials through
		mu.Lock()
		runs[tr.ID()]++
		mu.Unlock()
	}
	p := newPool(t, f, 2, Config{}, WorkerOptions{OnTrial: count})
	// Trials pass one by one until the first coordinator is stopped; the
	// rest wait until the second one runs.
	feedCtx, stopFeed := context.WithCancel(context.Background())
	var feeder sync.WaitGroup
	feeder.Add(1)
	go func() {
		defer feeder.Done()
		for {
			select {
			case gate <- struct{}{}:
			case <-feedCtx.Done():
				return
			}
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	progressed := 0
	opts := f.popts
	opts.Progress = func(done, total int, what string) {
		if progressed++; progressed == 3 {
			stopFeed()
			cancel()
		}
	}
	_, err := p.Profile(ctx, f.a, f.tune, opts)
	stopFeed()
	feeder.Wait()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("the first coordinator returned %v, want it cancelled", err)
	}
	// The first coordinator is gone; its trials stay queued. A new one
	// takes over.
	co, err := p.Cluster.NewCoordinator(context.Background(), f.model, CoordinatorOptions{ShardWindows: 16})
	if err != nil {
		t.Fatal(err)
	}
	defer co.Close()
	close(gate) // every trial may run now
	prof, err := co.Profile(context.Background(), f.a, f.tune, f.popts)
	if err != nil {
		t.Fatal(err)
	}
	res, err := co.Tune(context.Background(), f.a, prof, f.tune, f.calib, f.topts)
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, f, prof, res)
	st := co.Stats()
	if st.Reused == 0 {
		t.Errorf("the new coordinator reused no result: %+v", st)
	}
	mu.Lock()
	defer mu.Unlock()
	for id, n := range runs {
		if n != 1 {
			t.Errorf("trial %s ran %d times", id, n)
		}
	}
	if got := resultCount(t, p.Cluster); int(got) != len(runs) {
		t.Errorf("%d trials ran, %d results stored", len(runs), got)
	}
	t.Logf("second coordinator: %+v; %d trials ran", st, len(runs))
}

// TestMalformedMessages sends a worker garbage: it drops it and goes on.
func TestMalformedMessages(t *testing.T) {
	f := tinyFixture(t)
	p := newPool(t, f, 1, Config{}, WorkerOptions{})
	nc, err := p.Cluster.Connect("test")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	good := profile.Trial{Kind: profile.TrialOutputs, Model: strings.Repeat("a", 64), Shard: strings.Repeat("b", 64), Config: "exact"}
	body, _ := EncodeTrial(&good)
	bad := []*nats.Msg{
		{Subject: anySubjects + "x1", Data: []byte("not json")},
		{Subject: anySubjects + "x2", Data: []byte(`{"kind":"outputs","model":"zz"}`)},
		{Subject: anySubjects + "x3", Data: body}, // a valid trial on the wrong subject
		{Subject: anySubjects + good.ID(), Data: body},
	}
	for _, m := range bad {
		if _, err := p.Cluster.js.PublishMsg(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	// The last one is well formed but names a model and shard nobody
	// published: its result is an error, not a crash.
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		st := p.Workers[0].Stats()
		if st.Malformed == 3 && st.Failed == 1 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if st := p.Workers[0].Stats(); st.Malformed != 3 || st.Failed != 1 {
		t.Fatalf("worker stats %+v, want 3 malformed and 1 failed", st)
	}
	// The worker still works.
	prof, err := p.Profile(context.Background(), f.a, f.tune, f.popts)
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, f, prof, nil)
}

// TestDeviceClasses sends latency trials only to workers of the class.
func TestDeviceClasses(t *testing.T) {
	f := tinyFixture(t)
	other := device.Fingerprint{GOOS: "android", GOARCH: "arm64", CPU: "phone", Kagen: device.KagenVersion}
	p := newPool(t, f, 1, Config{}, WorkerOptions{Device: &other})
	co, err := p.Cluster.NewCoordinator(context.Background(), f.model, CoordinatorOptions{ShardWindows: 16, DeviceClass: device.Class(other)})
	if err != nil {
		t.Fatal(err)
	}
	defer co.Close()
	// A worker of this machine's class joins: it takes QoS trials, never
	// the phone's latency trials.
	var wrong sync.Map
	host, err := p.Cluster.StartWorker(context.Background(), WorkerOptions{Latency: f.latency, Poll: 100 * time.Millisecond, OnTrial: func(tr *profile.Trial) {
		if tr.Kind.NeedsDevice() {
			wrong.Store(tr.ID(), tr.Kind)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer host.Stop()
	prof, err := co.Profile(context.Background(), f.a, f.tune, f.popts)
	if err != nil {
		t.Fatal(err)
	}
	wrong.Range(func(k, v any) bool {
		t.Errorf("a worker of another class ran latency trial %v (%v)", k, v)
		return true
	})
	if prof.Device.CPU != other.CPU {
		t.Errorf("profile device %s, want the phone's", prof.Device)
	}
	ws, err := p.Cluster.Workers(context.Background())
	if err != nil || len(ws) != 2 {
		t.Fatalf("workers announced: %v, %v", ws, err)
	}
}

// TestNoopTrials runs no-op trials end to end.
func TestNoopTrials(t *testing.T) {
	f := tinyFixture(t)
	p := newPool(t, f, 2, Config{}, WorkerOptions{})
	b := noopBatch(0, 50)
	n := 0
	if err := p.Execute(context.Background(), b, func(int, *profile.TrialResult) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != 50 {
		t.Fatalf("%d results for 50 trials", n)
	}
	// The same trials again: every result is in the stream already.
	before := p.Stats().Queued
	if err := p.Execute(context.Background(), b, func(int, *profile.TrialResult) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if p.Stats().Queued != before {
		t.Fatalf("trials with results were queued again")
	}
}

// noopBatch returns n distinct no-op trials.
func noopBatch(from, n int) *profile.Batch {
	b := &profile.Batch{}
	for i := from; i < from+n; i++ {
		b.Trials = append(b.Trials, profile.Trial{Kind: profile.TrialNoop, Config: "noop-" + strconv.Itoa(i)})
	}
	return b
}
