// Package ondevice is the API an application on the device calls: open a
// model and its policy once (checked as `kagen policy validate` checks
// them), push raw samples (IMU rows, PCM) or ready feature windows, and
// receive for every window the class, the scores, the level it ran at,
// the rule that chose the next level, the measured latency and the
// modelled energy; read or reset the statistics, change the controller's
// goal (accuracy floor, energy or latency budget) while it runs, close.
//
// A Handle is built on the application layer's deployment (package
// deploy): windows go through deploy's Replayer with the policy's own
// controller, and raw samples through the very front-ends `kagen replay`
// and `kagen run` read traces with (package replay), so that the three
// agree window for window. `kagen run` is a thin shell over a Handle, and
// so is the C library (libkagen).
//
// The package imports only engine, approx, replay, policy, device and
// deploy, so that a program built on it stays small (no workbench, plots
// or network code).
//
// A Handle is used by one goroutine at a time. Raw samples are cut into
// windows by a goroutine of the handle's own, which holds the front-end's
// state between pushes; each push hands it the samples and waits until it
// has made every window they complete. Energy is modelled from busy time
// by a device profile (docs/energy.md): no meter is read.
package ondevice

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/kagen-ai/kagen/approx"
	"github.com/kagen-ai/kagen/deploy"
	"github.com/kagen-ai/kagen/device"
	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/policy"
	"github.com/kagen-ai/kagen/replay"
)

// Options configure a Handle. The zero value models energy with the
// phone-big profile and reads raw samples in the model's default format
// at the model's rate.
type Options struct {
	// Device models energy from busy time (default phone-big).
	Device *device.Profile
	// Log, if set, receives every decision (policy.LogWriter); the
	// caller flushes it.
	Log *policy.LogWriter
	// Format of PushStream's bytes: replay.FormatCSV (IMU CSV lines with a
	// header; the default for IMU models), replay.FormatS16LE (the
	// default for audio models) or replay.FormatF32LE. PushIMU and
	// PushPCM16/PushPCM32 choose their own.
	Format string
	// Rate is the sample rate of raw PCM in Hz (default the model's).
	Rate int
	// Channels is the number of interleaved PCM channels, averaged to
	// mono (default 1).
	Channels int
	// MaxGap is the longest gap in seconds between two IMU samples that
	// is interpolated across (0: one window; see replay.Options).
	MaxGap float64
	// Strict stops the stream at the first malformed CSV line instead of
	// skipping and counting it.
	Strict bool
	// Name names the stream in errors (default "stream").
	Name string
}

// Result is what the device did with one window.
type Result struct {
	// Seq counts the windows of the handle before this one.
	Seq int64
	// Index counts the windows of the stream segment (since Open or the
	// last Flush); Start and End are the window's span in seconds from
	// the segment's first sample.
	Index      int
	Start, End float64
	// Label is the window's label when the CSV stream has a label column.
	Label string
	// Class is the predicted class (-1 when NonFinite), Prediction its
	// name, Confidence its softmax probability.
	Class      int
	Prediction string
	Confidence float32
	// Scores is the model's output vector (held by the handle: valid
	// until the next call on it; copy to keep).
	Scores []float32
	// Level is the level this window ran at; Next the level of the next
	// window, chosen by the rule Rule.
	Level, Next int
	Rule        string
	// LatencyUS is the busy time measured for this inference.
	LatencyUS float64
	// EnergyJ is the inference energy modelled by the device profile.
	EnergyJ float64
	// NonFinite is set when the model's outputs held a NaN or an
	// infinity.
	NonFinite bool
}

// Record returns the result as `kagen run` prints it.
func (r *Result) Record() deploy.WindowRecord {
	return deploy.WindowRecord{Index: r.Index, Start: r.Start, End: r.End, Label: r.Label, Prediction: r.Prediction,
		Class: r.Class, Confidence: r.Confidence, Level: r.Level, LatencyUS: r.LatencyUS, Next: r.Next, Rule: r.Rule,
		NonFinite: r.NonFinite}
}

// Stats are a handle's figures since Open or the last ResetStats.
type Stats struct {
	Windows int64
	// LevelWindows counts the windows run at each level.
	LevelWindows []int64
	// Switches counts the windows after which the level changed.
	Switches int64
	// NonFinite counts the windows whose outputs held a NaN or an
	// infinity.
	NonFinite int64
	// BusyUS is the summed measured busy time of the inferences;
	// EnergyJ their modelled energy.
	BusyUS, EnergyJ float64
	// Meter says where the energy comes from ("phone-big (modelled)").
	Meter string
	// BadLines and Gaps count the malformed CSV lines skipped and the
	// gaps the IMU stream was split at (since Open: ResetStats leaves
	// them).
	BadLines, Gaps int
}

// MeanLatencyUS returns the mean busy time per window.
func (s *Stats) MeanLatencyUS() float64 {
	if s.Windows == 0 {
		return 0
	}
	return s.BusyUS / float64(s.Windows)
}

// Handle runs a policy on a stream: see the package documentation.
type Handle struct {
	d      *deploy.Deployment
	o      Options
	dev    *device.Profile
	params policy.Params
	r      *deploy.Replayer
	ctx    context.Context
	mode   int
	feed   *feeder   // modeStream
	win    *winInput // modeWindow

	results []Result
	scores  []float32
	stats   Stats
	closed  bool
	text    []byte // PushIMU's CSV text
	pcm     []byte // PushPCM's bytes
	imuCols int
	lastTS  float64
	rows    int64
	segRows int64
}

const (
	modeNone = iota
	modeStream
	modeWindow
)

// Limits on what is read before it is checked.
const (
	// MaxModelBytes bounds a model given in memory or read from a file.
	MaxModelBytes = 1 << 30
	// MaxPush bounds the samples, values or bytes of one push.
	MaxPush = 1 << 26
)

// Open opens a model file and a policy file bound to it, checked as
// `kagen policy validate` checks them. The model must carry its
// front-end spec.
func Open(modelPath, policyPath string, o Options) (*Handle, error) {
	d, err := deploy.Load(modelPath, policyPath)
	if err != nil {
		return nil, err
	}
	return newHandle(d, o)
}

// OpenBytes is Open for a model and a policy held in memory (an app's
// assets); modelName and policyName name them in errors.
func OpenBytes(model []byte, modelName string, pol []byte, policyName string, o Options) (*Handle, error) {
	if modelName == "" {
		modelName = "model"
	}
	if policyName == "" {
		policyName = "policy"
	}
	if len(model) > MaxModelBytes {
		return nil, fmt.Errorf("%s: %d bytes, more than the limit of %d", modelName, len(model), MaxModelBytes)
	}
	if len(pol) > policy.MaxFileBytes {
		return nil, fmt.Errorf("%s: %d bytes, more than the limit of %d", policyName, len(pol), policy.MaxFileBytes)
	}
	m, err := engine.LoadBytes(model, engine.Options{Name: modelName})
	if err != nil {
		return nil, err
	}
	p, err := policy.ParsePolicy(pol, policyName, policy.ReadOptions{ModelSHA256: m.SHA256()})
	if err != nil {
		return nil, err
	}
	d, err := deploy.New(policyName, m, approx.New(m), p)
	if err != nil {
		return nil, err
	}
	if d.Spec == nil {
		_, err := replay.SpecFromModel(m)
		return nil, fmt.Errorf("%s: %w", modelName, err)
	}
	return newHandle(d, o)
}

// New returns a handle over a deployment loaded by the caller (its Spec
// must be set).
func New(d *deploy.Deployment, o Options) (*Handle, error) {
	if d.Spec == nil {
		return nil, fmt.Errorf("%s: the model has no front-end spec to read samples with", d.Name)
	}
	return newHandle(d, o)
}

func newHandle(d *deploy.Deployment, o Options) (*Handle, error) {
	h := &Handle{d: d, o: o, dev: o.Device, ctx: context.Background(), lastTS: math.Inf(-1)}
	if h.dev == nil {
		p, err := device.Lookup("phone-big")
		if err != nil {
			return nil, err
		}
		h.dev = p
	}
	if h.o.Rate == 0 {
		h.o.Rate = d.Spec.SampleRate
	}
	if h.o.Channels == 0 {
		h.o.Channels = 1
	}
	if h.o.Name == "" {
		h.o.Name = "stream"
	}
	if err := replay.CheckStream(d.Spec, h.o.Format, h.o.Rate, h.o.Channels); err != nil {
		return nil, err
	}
	p, err := d.Policy.Controller.WithDefaults()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", d.Name, err)
	}
	h.params = p
	h.stats.LevelWindows = make([]int64, len(d.Levels))
	h.stats.Meter = h.dev.Name + " (modelled)"
	h.scores = make([]float32, 0, 64)
	if fe, err := replay.NewIMUFrontEnd(d.Spec); err == nil {
		h.imuCols = len(fe.Columns())
	}
	return h, nil
}

// Stopped returns the error that stopped the handle's stream (a strict
// stream's malformed line, a stream whose header is wrong), nil while it
// runs: every push after it returns that error.
func (h *Handle) Stopped() error {
	if h.feed != nil && h.feed.ended {
		return h.feed.failure()
	}
	return nil
}

// Deployment returns the deployment the handle runs.
func (h *Handle) Deployment() *deploy.Deployment { return h.d }

// Classes returns the names of the model's classes, indexed by class.
func (h *Handle) Classes() []string { return h.d.Spec.Classes }

// WindowSize returns the number of values of a feature window
// (PushWindow).
func (h *Handle) WindowSize() int { return h.d.Spec.InputSize() }

// Columns returns the values of an IMU row PushIMU takes, in order (nil
// for an audio model).
func (h *Handle) Columns() []string {
	fe, err := replay.NewIMUFrontEnd(h.d.Spec)
	if err != nil {
		return nil
	}
	return fe.Columns()
}

// SampleRate returns the rate in Hz the front-end resamples to.
func (h *Handle) SampleRate() int { return h.d.Spec.SampleRate }

var errClosed = errors.New("the handle is closed")

// check says why the handle cannot take a push of mode m.
func (h *Handle) check(m int) error {
	if h.closed {
		return errClosed
	}
	if h.feed != nil && h.feed.ended {
		return h.feed.failure()
	}
	if h.mode != modeNone && h.mode != m {
		if h.mode == modeStream {
			return errors.New("this handle takes raw samples (its first push was of samples): open another handle for feature windows")
		}
		return errors.New("this handle takes feature windows (its first push was a window): open another handle for raw samples")
	}
	return nil
}

// start creates the replayer of mode m on the first push.
func (h *Handle) start(m int) error {
	if h.mode != modeNone {
		return nil
	}
	var src replay.Source
	if m == modeStream {
		f, err := newFeeder(h)
		if err != nil {
			return err
		}
		h.feed, src = f, f
	} else {
		h.win = &winInput{hop: float64(h.d.Spec.Hop) / float64(h.d.Spec.SampleRate),
			length: float64(h.d.Spec.Window) / float64(h.d.Spec.SampleRate)}
		src = h.win
	}
	r, err := h.d.NewReplayer([]policy.Params{h.params}, deploy.Options{Source: src, Device: h.dev, Log: h.o.Log})
	if err != nil {
		return err
	}
	h.r, h.mode = r, m
	if m == modeStream {
		h.feed.run(r)
	}
	return nil
}

// collect turns a replayer event into a result (in the goroutine that
// plays the window).
func (h *Handle) collect(ev *deploy.Event) error {
	e := &ev.Runs[0]
	n := len(h.scores)
	h.scores = append(h.scores, e.Scores...)
	res := Result{Seq: ev.Seq, Index: ev.Window.Index, Start: ev.Window.Start, End: ev.Window.End, Label: ev.Window.Label,
		Class: e.Pred.Class, Confidence: e.Pred.Confidence, Level: e.Level, Next: e.Decision.To, Rule: e.Decision.Rule,
		LatencyUS: float64(e.Measured) / 1e3, EnergyJ: e.EnergyJ, NonFinite: e.NonFinite}
	res.Scores = h.scores[n:len(h.scores):len(h.scores)]
	if c := res.Class; c >= 0 && c < len(h.d.Spec.Classes) {
		res.Prediction = h.d.Spec.Classes[c]
	}
	h.results = append(h.results, res)
	s := &h.stats
	s.Windows++
	s.LevelWindows[e.Level]++
	if e.Decision.To != e.Level {
		s.Switches++
	}
	if e.NonFinite {
		s.NonFinite++
	}
	s.BusyUS += float64(e.Busy) / 1e3
	s.EnergyJ += e.EnergyJ
	return nil
}

// reset empties the results of the last call. The scores buffer is
// reallocated only when it grew (the results of the last call referenced
// it).
func (h *Handle) reset() {
	h.results = h.results[:0]
	h.scores = h.scores[:0]
}

// fixScores points every result's scores into the final scores buffer
// (appending may have moved it while the results were collected).
func (h *Handle) fixScores() {
	k := 0
	for i := range h.results {
		n := len(h.results[i].Scores)
		h.results[i].Scores = h.scores[k : k+n : k+n]
		k += n
	}
}

// PushWindow runs the policy on one ready feature window (WindowSize
// values, the model's input tensor) and returns its result, valid until
// the next call on the handle.
func (h *Handle) PushWindow(x []float32) (*Result, error) {
	if err := h.check(modeWindow); err != nil {
		return nil, err
	}
	if len(x) != h.d.Spec.InputSize() {
		return nil, fmt.Errorf("window of %d values, expected %d (the model's input %v)", len(x), h.d.Spec.InputSize(), h.d.Spec.InputShape())
	}
	for i, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("window value %d is %v, expected a finite number", i, v)
		}
	}
	if err := h.start(modeWindow); err != nil {
		return nil, err
	}
	h.reset()
	h.win.x = x
	_, err := h.r.Step(h.ctx, 1, h.collect)
	h.win.x = nil
	if err != nil {
		return nil, err
	}
	return &h.results[0], nil
}

// PushStream pushes bytes of the stream format (Options.Format: IMU CSV
// text with its header first, or raw PCM) and returns the results of the
// windows they complete, valid until the next call on the handle. Bytes
// may be cut anywhere (mid-line, mid-sample).
func (h *Handle) PushStream(p []byte) ([]Result, error) {
	if err := h.check(modeStream); err != nil {
		return nil, err
	}
	if len(p) > MaxPush {
		return nil, fmt.Errorf("push of %d bytes, more than the limit of %d", len(p), MaxPush)
	}
	if err := h.start(modeStream); err != nil {
		return nil, err
	}
	h.reset()
	if p == nil {
		p = []byte{}
	}
	err := h.feed.push(p)
	h.fixScores()
	return h.results, err
}

// PushIMU pushes rows of IMU samples: timestamps in Unix milliseconds
// (non-decreasing; rows sharing one are averaged), and for each row the
// values of Columns() in order, row-major in values. It returns the
// results of the windows they complete, valid until the next call. A
// push holding a non-finite value or a timestamp going backwards is
// refused whole, naming the row (rows are numbered from the handle's
// first, 0).
func (h *Handle) PushIMU(timestamps, values []float64) ([]Result, error) {
	if h.imuCols == 0 {
		return nil, fmt.Errorf("PushIMU: the model's task is %s, not IMU (har): push PCM", h.d.Spec.Task)
	}
	if err := h.check(modeStream); err != nil {
		return nil, err
	}
	nc := h.imuCols
	if len(timestamps) > MaxPush/nc {
		return nil, fmt.Errorf("push of %d rows, more than the limit of %d", len(timestamps), MaxPush/nc)
	}
	if len(values) != len(timestamps)*nc {
		return nil, fmt.Errorf("%d values for %d rows, expected %d (%d per row: %v)", len(values), len(timestamps), len(timestamps)*nc, nc, h.Columns())
	}
	if h.mode == modeNone && h.o.Format != "" && h.o.Format != replay.FormatCSV {
		return nil, fmt.Errorf("PushIMU: the handle's stream format is %s", h.o.Format)
	}
	last := h.lastTS
	for i, t := range timestamps {
		if math.IsNaN(t) || math.Abs(t) > replay.MaxTimestamp {
			return nil, fmt.Errorf("row %d: timestamp %v, expected a finite number of magnitude at most %g (Unix ms)", h.rows+int64(i), t, float64(replay.MaxTimestamp))
		}
		if t < last {
			return nil, fmt.Errorf("row %d: timestamp %v goes backwards (the row before has %v); expected non-decreasing Unix ms (Flush starts a new stream)", h.rows+int64(i), t, last)
		}
		last = t
		for j, v := range values[i*nc : (i+1)*nc] {
			if math.IsNaN(v) || math.Abs(v) > replay.MaxValue {
				return nil, fmt.Errorf("row %d value %d: %v, expected a finite number of magnitude at most %g", h.rows+int64(i), j, v, float64(replay.MaxValue))
			}
		}
	}
	h.o.Format = replay.FormatCSV
	b := h.text[:0]
	if h.segRows == 0 {
		b = append(b, "timestamp"...)
		for _, c := range h.Columns() {
			b = append(b, ',')
			b = append(b, c...)
		}
		b = append(b, '\n')
	}
	for i, t := range timestamps {
		b = strconv.AppendFloat(b, t, 'g', -1, 64)
		for _, v := range values[i*nc : (i+1)*nc] {
			b = append(b, ',')
			b = strconv.AppendFloat(b, v, 'g', -1, 64)
		}
		b = append(b, '\n')
	}
	h.text = b
	res, err := h.PushStream(b)
	if err == nil {
		h.lastTS = last
		h.rows += int64(len(timestamps))
		h.segRows += int64(len(timestamps))
	}
	return res, err
}

// PushPCM16 pushes signed 16-bit PCM samples (interleaved when
// Options.Channels > 1) at Options.Rate and returns the results of the
// windows they complete, valid until the next call.
func (h *Handle) PushPCM16(samples []int16) ([]Result, error) {
	if err := h.pcmFormat(replay.FormatS16LE, len(samples)); err != nil {
		return nil, err
	}
	b := h.pcm[:0]
	for _, s := range samples {
		b = append(b, byte(s), byte(uint16(s)>>8))
	}
	h.pcm = b
	return h.PushStream(b)
}

// PushPCM32 pushes 32-bit float PCM samples (full scale ±1, interleaved
// when Options.Channels > 1) at Options.Rate and returns the results of
// the windows they complete, valid until the next call.
func (h *Handle) PushPCM32(samples []float32) ([]Result, error) {
	if err := h.pcmFormat(replay.FormatF32LE, len(samples)); err != nil {
		return nil, err
	}
	b := h.pcm[:0]
	for _, s := range samples {
		u := math.Float32bits(s)
		b = append(b, byte(u), byte(u>>8), byte(u>>16), byte(u>>24))
	}
	h.pcm = b
	return h.PushStream(b)
}

// pcmFormat checks that a PCM push of n samples in format fits the
// handle, and fixes the stream's format on the first push.
func (h *Handle) pcmFormat(format string, n int) error {
	if h.d.Spec.Task != replay.TaskKWS {
		return fmt.Errorf("the model's task is %s, not audio (kws): push IMU rows", h.d.Spec.Task)
	}
	if n > MaxPush/4 {
		return fmt.Errorf("push of %d samples, more than the limit of %d", n, MaxPush/4)
	}
	if h.mode == modeStream && h.o.Format != format {
		return fmt.Errorf("the handle's stream is %s; this push is %s", h.o.Format, format)
	}
	if h.mode == modeNone {
		h.o.Format = format
	}
	return nil
}

// Flush ends the stream segment: the samples held back (an IMU stream's
// last timestamp waits for the next to know it is complete) make their
// windows, whose results it returns; the next push starts a new stream
// (a new CSV header, timestamps from anywhere), the controller going on
// where it is. Flush of a handle that took no samples returns nothing.
func (h *Handle) Flush() ([]Result, error) {
	if h.closed {
		return nil, errClosed
	}
	if h.mode != modeStream {
		return nil, nil
	}
	if h.feed.ended {
		return nil, h.feed.failure()
	}
	h.reset()
	err := h.feed.push(nil)
	h.fixScores()
	h.segRows, h.lastTS = 0, math.Inf(-1)
	return h.results, err
}

// Stream pushes what r yields (PushStream) until its end, calling each
// with every window's result, then flushes: what `kagen run` does with
// its standard input. A stream that yields nothing is read as an empty
// one (for CSV, an error: no header).
func (h *Handle) Stream(r io.Reader, each func(*Result) error) error {
	buf := make([]byte, 32<<10)
	pushed := false
	for {
		n, err := r.Read(buf)
		if n > 0 || (err == io.EOF && !pushed) {
			pushed = true
			rs, perr := h.PushStream(buf[:n])
			if e := h.deliver(rs, each); perr == nil {
				perr = e
			}
			if perr != nil {
				return perr
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("reading %s: %w", h.o.Name, err)
		}
	}
	rs, err := h.Flush()
	if e := h.deliver(rs, each); err == nil {
		err = e
	}
	return err
}

// StreamJSON is Stream writing each result to w as one JSON line
// (Result.Record), flushed per window, as `kagen run` and the device
// runner print them.
func (h *Handle) StreamJSON(r io.Reader, w io.Writer) error {
	out := bufio.NewWriter(w)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	return h.Stream(r, func(res *Result) error {
		if err := enc.Encode(res.Record()); err != nil {
			return fmt.Errorf("writing: %w", err)
		}
		return out.Flush()
	})
}

func (h *Handle) deliver(rs []Result, each func(*Result) error) error {
	for i := range rs {
		if err := each(&rs[i]); err != nil {
			return err
		}
	}
	return nil
}

// Stats returns the figures since Open or the last ResetStats.
func (h *Handle) Stats() Stats {
	s := h.stats
	s.LevelWindows = append([]int64(nil), h.stats.LevelWindows...)
	if h.feed != nil {
		st := h.feed.streamStats()
		s.BadLines, s.Gaps = st.BadLines, st.Gaps
	}
	return s
}

// StreamStats returns what the front-end read and stepped over since
// Open (replay.Stats).
func (h *Handle) StreamStats() replay.Stats {
	if h.feed == nil {
		return replay.Stats{}
	}
	return h.feed.streamStats()
}

// ResetStats restarts the figures of Stats (not the controller).
func (h *Handle) ResetStats() {
	lw := h.stats.LevelWindows
	clear(lw)
	h.stats = Stats{LevelWindows: lw, Meter: h.stats.Meter}
}

// Report returns the replayer's report of the windows since the last
// change of goal (deploy.Report: levels, rules, switches, energies),
// with model naming the model; nil before the first window.
func (h *Handle) Report(model string) *deploy.Report {
	if h.r == nil {
		return nil
	}
	return h.r.Report(0, model)
}

// Params returns the controller's parameters in force.
func (h *Handle) Params() policy.Params { return h.params }

// SetFloor sets the accuracy floor: the controller never runs a level
// whose calibrated accuracy loss exceeds lossPP percentage points (the
// floor guard is added with its default hard-input rule if the policy
// had none). A negative lossPP removes the guard. The controller
// restarts from its first level with the new goal.
func (h *Handle) SetFloor(lossPP float64) error {
	p := clone(h.params)
	switch {
	case math.IsNaN(lossPP) || math.IsInf(lossPP, 0):
		return fmt.Errorf("floor %v pp, expected a finite number", lossPP)
	case lossPP < 0:
		p.Floor = nil
	case p.Floor == nil:
		p.Floor = &policy.FloorParams{LossPP: lossPP, HardFrac: policy.DefaultHardFrac}
	default:
		p.Floor.LossPP = lossPP
	}
	return h.setParams(p)
}

// SetBudget sets the budget controller's goal: a mean energy per
// inference in joules (energyJ > 0) or a mean busy time in microseconds
// (latencyUS > 0), exactly one of them. The policy's controller must be
// budget. The controller restarts from its first level with the new goal.
func (h *Handle) SetBudget(energyJ, latencyUS float64) error {
	if h.params.Budget == nil {
		return fmt.Errorf("the policy's controller is %s, not budget: a budget needs the budget controller", h.params.Name)
	}
	if (energyJ > 0) == (latencyUS > 0) {
		return fmt.Errorf("budget: energy %v J and latency %v us, expected exactly one of them > 0", energyJ, latencyUS)
	}
	p := clone(h.params)
	p.Budget.EnergyJ, p.Budget.LatencyUS = 0, 0
	if energyJ > 0 {
		p.Budget.EnergyJ = energyJ
	} else {
		p.Budget.LatencyUS = latencyUS
	}
	return h.setParams(p)
}

func (h *Handle) setParams(p policy.Params) error {
	if h.closed {
		return errClosed
	}
	if err := p.Validate(len(h.d.Levels)); err != nil {
		return err
	}
	if h.r != nil {
		if h.feed != nil && h.feed.ended {
			return h.feed.failure()
		}
		// The stream's goroutine waits for samples between pushes: the
		// replayer is the caller's until the next push.
		if err := h.r.SetControllers([]policy.Params{p}); err != nil {
			return err
		}
	} else if _, err := h.d.Controllers([]policy.Params{p}); err != nil {
		return err
	}
	h.params = p
	return nil
}

// clone copies p and the parameter blocks SetFloor and SetBudget change.
func clone(p policy.Params) policy.Params {
	if p.Floor != nil {
		f := *p.Floor
		p.Floor = &f
	}
	if p.Budget != nil {
		b := *p.Budget
		p.Budget = &b
	}
	return p
}

// Close stops the handle's goroutine and releases the model's session. A
// handle that took raw samples holds its goroutine until Close.
// The results and errors after it say the handle is closed.
func (h *Handle) Close() error {
	if h.closed {
		return nil
	}
	h.closed = true
	if h.feed != nil {
		h.feed.close()
	}
	if h.r != nil {
		h.r.Close()
	}
	return nil
}
