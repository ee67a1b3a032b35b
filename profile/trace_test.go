package profile

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"hash/fnv"
	"math"
	"os"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kagen-ai/kagen/approx"
	"github.com/kagen-ai/kagen/dataset"
	"github.com/kagen-ai/kagen/device"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// traceGolden holds what TestTuneTraceUnchanged recorded.
const traceGolden = "testdata/tune_trace.json"

// fakeExecutor answers every trial without running the model, from the
// trial alone, so that a profile and a tune give the same figures on any
// machine: latencies from the knobs' nominal speedups, outputs from a hash
// of each window and of the knobs approximated (with an interaction
// between knobs on two nodes, for the calibration to learn). It records
// every batch it is given.
type fakeExecutor struct {
	a *approx.Approximator
	// reverse answers each batch's trials last first (the exact figures
	// of a round then come in after its candidates').
	reverse bool
	// cancel, if set, is called once cancelAfter trials are answered in
	// all.
	cancel      func()
	cancelAfter int
	answered    int
	batches     []batchRecord
}

// batchRecord is one batch as the executor saw it: the trials in order
// (digested) and, to read, their kinds and configurations.
type batchRecord struct {
	Trials int      `json:"trials"`
	Digest string   `json:"digest"` // SHA-256 of the trials' JSON
	Runs   []string `json:"runs"`   // "KIND CONFIG xN" for runs of alike trials
}

// ShardWindows cuts the splits into shards of 16 windows, as the
// distributed executor does.
func (e *fakeExecutor) ShardWindows() int { return 16 }

// DeviceClass names a device class of no machine.
func (e *fakeExecutor) DeviceClass() string { return "test-device" }

// Execute answers b's trials in order (or last first), recording b.
func (e *fakeExecutor) Execute(ctx context.Context, b *Batch, done func(int, *TrialResult) error) error {
	e.batches = append(e.batches, recordBatch(b))
	order := make([]int, len(b.Trials))
	for i := range order {
		order[i] = i
	}
	if e.reverse {
		slices.Reverse(order)
	}
	for _, i := range order {
		if err := ctx.Err(); err != nil {
			return err
		}
		t := &b.Trials[i]
		r, err := e.answer(t, b.Shards[t.Shard].Data)
		if err != nil {
			return err
		}
		r.ID = t.ID()
		if err := done(i, r); err != nil {
			return err
		}
		if e.answered++; e.cancel != nil && e.answered == e.cancelAfter {
			e.cancel()
		}
	}
	return nil
}

func recordBatch(b *Batch) batchRecord {
	raw, err := json.Marshal(b.Trials)
	if err != nil {
		panic(err)
	}
	sum := sha256.Sum256(raw)
	rec := batchRecord{Trials: len(b.Trials), Digest: hex.EncodeToString(sum[:])}
	last, n := "", 0
	flush := func() {
		if n > 0 {
			rec.Runs = append(rec.Runs, fmt.Sprintf("%s x%d", last, n))
		}
	}
	for _, t := range b.Trials {
		what := string(t.Kind) + " " + t.Config
		if t.Knob != "" {
			what = fmt.Sprintf("%s %s=%s", t.Kind, t.Node, t.Knob)
		}
		if what != last {
			flush()
			last, n = what, 0
		}
		n++
	}
	flush()
	return rec
}

// fakeSpeedup is a knob's speedup of its node: its nominal one, with
// fp16 worth 1.2x and int8 1.5x.
func fakeSpeedup(k approx.Knob) float64 {
	s := k.IdealSpeedup()
	switch k.Prec {
	case approx.FP16:
		s *= 1.2
	case approx.INT8:
		s *= 1.5
	}
	return s
}

// fakeSave is the time a knob saves on its node (every node takes 100 us).
func fakeSave(k approx.Knob) float64 { return 100 - 100/fakeSpeedup(k) }

// knobs returns the knobs a trial approximates, by step.
func (e *fakeExecutor) knobs(t *Trial) (map[int]approx.Knob, error) {
	ks := map[int]approx.Knob{}
	if t.Knob != "" {
		k, err := approx.ParseKnob(t.Knob)
		ks[t.Step] = k
		return ks, err
	}
	cfg, err := e.a.Parse(t.Config)
	if err != nil {
		return nil, err
	}
	for i := 0; i < cfg.Len(); i++ {
		if k := cfg.Knob(i); !k.IsExact() {
			ks[i] = k
		}
	}
	return ks, nil
}

func (e *fakeExecutor) answer(t *Trial, d *dataset.Dataset) (*TrialResult, error) {
	switch t.Kind {
	case TrialExactLatency:
		steps := make([]float64, e.a.Model().Steps())
		for i := range steps {
			steps[i] = 100
		}
		return &TrialResult{ModelUS: 1000, StepUS: steps}, nil
	case TrialExactTime:
		return &TrialResult{TimeUS: 1000}, nil
	}
	ks, err := e.knobs(t)
	if err != nil {
		return nil, err
	}
	switch t.Kind {
	case TrialPairLatency:
		k := ks[t.Step]
		return &TrialResult{ExactNodeUS: 100, NodeUS: 100 - fakeSave(k)}, nil
	case TrialConfigTime:
		us := 1000.0
		for _, step := range sortedSteps(ks) {
			us -= fakeSave(ks[step])
		}
		return &TrialResult{TimeUS: us, ExactTimeUS: 1000}, nil
	case TrialOutputs:
		classes := numel(e.a.Model().Outputs()[0].Shape)
		return &TrialResult{Outputs: fakeOutputs(d, ks, classes), Classes: classes}, nil
	}
	return nil, fmt.Errorf("fake executor: trial kind %s", t.Kind)
}

func sortedSteps(ks map[int]approx.Knob) []int {
	var steps []int
	for s := range ks {
		steps = append(steps, s)
	}
	slices.Sort(steps)
	return steps
}

// fakeOutputs gives each window scores from a hash of its features, its
// label a head start, and each knob a perturbation that grows with the
// knob's speedup; two knobs together hurt the label's score more than
// either alone.
func fakeOutputs(d *dataset.Dataset, ks map[int]approx.Knob, classes int) []float32 {
	steps := sortedSteps(ks)
	out := make([]float32, 0, d.Len()*classes)
	for w, x := range d.X {
		win := windowHash(x)
		z := make([]float64, classes)
		for c := range z {
			z[c] = 2 * unit(win, "exact", c)
			if c == d.Y[w] {
				z[c]++
			}
		}
		for i, s := range steps {
			k := ks[s]
			st := 1 - 1/fakeSpeedup(k)
			for c := range z {
				z[c] += 0.5 * st * (2*unit(win, fmt.Sprint(s, k), c) - 1)
			}
			z[d.Y[w]] -= 0.4 * st
			for _, s2 := range steps[i+1:] {
				st2 := 1 - 1/fakeSpeedup(ks[s2])
				z[d.Y[w]] -= 1.5 * st * st2 * unit(win, fmt.Sprint(s, s2), 0)
			}
		}
		for _, v := range z {
			out = append(out, float32(v))
		}
	}
	return out
}

func windowHash(x []float32) uint64 {
	h := fnv.New64a()
	var b [4]byte
	for _, v := range x {
		binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
		h.Write(b[:])
	}
	return h.Sum64()
}

// unit is a number in [0, 1) hashed from a window, a name and a class.
func unit(win uint64, name string, c int) float64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%s/%d", win, name, c)
	// FNV's high bits hardly change with the last byte: mix them
	// (splitmix64's finaliser).
	z := h.Sum64()
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	z ^= z >> 31
	return float64(z>>11) / (1 << 53)
}

// traceRecord is what one profile or tune did, as TestTuneTraceUnchanged
// compares it.
type traceRecord struct {
	Name      string          `json:"name"`
	Batches   []batchRecord   `json:"batches"`
	Progress  []string        `json:"progress,omitempty"`
	Validated []string        `json:"validated,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Err       string          `json:"error,omitempty"`
}

// traceProfile profiles the tiny model with the fake executor.
func traceProfile(t *testing.T, a *approx.Approximator, tune *dataset.Dataset) (*Profile, traceRecord) {
	ex := &fakeExecutor{a: a}
	var progress []string
	opts := Options{Repeats: 3, Windows: 100, Progress: func(done, total int, what string) {
		progress = append(progress, fmt.Sprintf("%d/%d %s", done, total, what))
	}}
	p, err := MeasureWith(context.Background(), a, tune, opts, ex)
	if err != nil {
		t.Fatal(err)
	}
	q := *p
	q.Created, q.ProfileTime, q.Device = time.Time{}, 0, device.Fingerprint{}
	raw, err := json.Marshal(q)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	rec := traceRecord{Name: "profile", Batches: ex.batches, Progress: progress}
	rec.Result, _ = json.Marshal(map[string]any{"digest": hex.EncodeToString(sum[:]), "exact_accuracy": p.ExactAccuracy, "pairs": len(p.Pairs)})
	return p, rec
}

// traceTune tunes with the fake executor and records what it did.
func traceTune(t *testing.T, name string, a *approx.Approximator, p *Profile, tune, calib *dataset.Dataset, opts TuneOptions, ex *fakeExecutor) traceRecord {
	rec := traceRecord{Name: name}
	opts.Progress = func(phase string, done, total int) {
		rec.Progress = append(rec.Progress, fmt.Sprintf("%s %d/%d", phase, done, total))
	}
	opts.Validated = func(c Candidate) { rec.Validated = append(rec.Validated, c.Config) }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if ex.cancelAfter > 0 {
		ex.cancel = cancel
	}
	res, err := TuneWith(ctx, a, p, tune, calib, opts, ex)
	rec.Batches = ex.batches
	if err != nil {
		rec.Err = err.Error()
		return rec
	}
	res.SearchTime = 0
	if rec.Result, err = json.MarshalIndent(res, "", " "); err != nil {
		t.Fatal(err)
	}
	return rec
}

// TestTuneTraceUnchanged pins down what a profile and a tune do: it runs
// them on the tiny model with an executor that answers every trial from
// the trial alone (fakeExecutor) and a search bounded by evaluations, not
// time, and compares every batch's trials in order, the progress and
// validation calls, and the result (SearchTime aside) with those recorded
// in testdata/tune_trace.json. The tunes cover the default rounds with
// screening, the trials answered last first, resuming with known
// configurations, one round with P2 and no screening, and cancellation
// after and before the exact figures are in. go test -run
// TestTuneTraceUnchanged -update records them again, for a change that
// is meant to change what the tuner does.
func TestTuneTraceUnchanged(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		// Other architectures may fuse multiply-adds in the predictor's
		// arithmetic, which changes its last bits and so the search.
		t.Skip("the trace was recorded on amd64")
	}
	_, a, tune, calib, _ := tinyHAR(t)
	p, profRec := traceProfile(t, a, tune)
	recs := []traceRecord{profRec}
	base := TuneOptions{MaxLossPP: 10, MaxEvaluations: 300, Seed: 5}
	run := func(name string, opts TuneOptions, ex *fakeExecutor) traceRecord {
		ex.a = a
		rec := traceTune(t, name, a, p, tune, calib, opts, ex)
		recs = append(recs, rec)
		return rec
	}
	first := run("rounds", base, &fakeExecutor{})
	run("reverse", base, &fakeExecutor{reverse: true})
	known := base
	var res TuneResult
	if err := json.Unmarshal(first.Result, &res); err != nil || len(res.Validated) < 6 {
		t.Fatalf("the first tune validated %d configurations (%v)", len(res.Validated), err)
	}
	known.Known = res.Validated[1:6]
	known.Rounds = 2
	run("known", known, &fakeExecutor{})
	p2 := base
	p2.Predictor, p2.Rounds, p2.ScreenPairs, p2.Candidates = P2, 1, -1, 10
	run("p2-one-round", p2, &fakeExecutor{})
	// Cancelled halfway through the third round's batch (the first is the
	// screening), and during the first round's exact trials.
	b := first.Batches
	if len(b) != 4 {
		t.Fatalf("the first tune ran %d batches, want the screening and 3 rounds", len(b))
	}
	run("cancel-late", base, &fakeExecutor{cancelAfter: b[0].Trials + b[1].Trials + b[2].Trials + b[3].Trials/2})
	run("cancel-early", base, &fakeExecutor{cancelAfter: b[0].Trials + 3})

	got, err := json.MarshalIndent(recs, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(traceGolden, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	raw, err := os.ReadFile(traceGolden)
	if err != nil {
		t.Fatal(err)
	}
	var want []traceRecord
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(got, &recs); err != nil {
		t.Fatal(err)
	}
	for i := range max(len(want), len(recs)) {
		if i >= len(want) || i >= len(recs) {
			t.Errorf("%d records, want %d", len(recs), len(want))
			break
		}
		diffRecord(t, recs[i], want[i])
	}
}

// diffRecord reports how a record differs from the one recorded.
func diffRecord(t *testing.T, got, want traceRecord) {
	t.Helper()
	if !reflect.DeepEqual(got.Batches, want.Batches) {
		t.Errorf("%s: batches differ:\ngot  %v\nwant %v", want.Name, got.Batches, want.Batches)
	}
	if !reflect.DeepEqual(got.Progress, want.Progress) {
		t.Errorf("%s: progress differs:\ngot  %s\nwant %s", want.Name, strings.Join(got.Progress, "; "), strings.Join(want.Progress, "; "))
	}
	if !reflect.DeepEqual(got.Validated, want.Validated) {
		t.Errorf("%s: validated differs:\ngot  %v\nwant %v", want.Name, got.Validated, want.Validated)
	}
	if string(got.Result) != string(want.Result) || got.Err != want.Err {
		t.Errorf("%s: result differs:\ngot  %s %s\nwant %s %s", want.Name, got.Err, got.Result, want.Err, want.Result)
	}
}
