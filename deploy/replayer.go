package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/kagen-ai/kagen/device"
	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/policy"
	"github.com/kagen-ai/kagen/replay"
)

// Options configure a Replayer.
type Options struct {
	// Traces are played one after the other through the front-end.
	Traces []replay.Trace
	// Read are the options the traces are read with (hop, gaps, noise).
	Read replay.Options
	// Source, if set, is played instead of Traces: a live stream.
	Source replay.Source
	// Loop starts the traces again after the last (the workbench);
	// otherwise Step returns io.EOF at their end.
	Loop bool
	// Exact runs the exact level beside the controllers, for the
	// figures they are compared with.
	Exact bool
	// Device models energy from busy time (default phone-big).
	Device *device.Profile
	// Cost charges each inference its busy time (default a MeasuredCost).
	Cost Cost
	// Realtime paces the stream at one window per hop, as on the device.
	Realtime bool
	// Log, if set, receives every decision of the first controller.
	Log *policy.LogWriter
	// QoS is replay.QoSAccuracy ("": against the windows' labels) or
	// replay.QoSAgreement: each window's class is the exact run's
	// prediction (Exact is implied; the exact run goes first), so that
	// accuracies are top-1 agreements with the exact model and unlabelled
	// traces can be replayed.
	QoS string
}

// Inference is one inference of a window at a level.
type Inference struct {
	Level int
	// Pred is the prediction; when the model's outputs held a NaN or an
	// infinity it is class -1 with confidence 0 (NonFinite is set), so
	// that no controller, score or JSON record takes garbage for a class.
	Pred replay.Prediction
	// NonFinite is set when the outputs held a NaN or an infinity.
	NonFinite bool
	// Measured is the busy time measured here; Busy the time charged
	// (Options.Cost), from which EnergyJ is modelled.
	Measured, Busy time.Duration
	EnergyJ        float64
	// Scores is the model's output vector: the session's buffer, valid
	// until the replayer's next inference (with Options.Exact, another
	// run of the same window may come first); copy to keep.
	Scores []float32
}

// RunEvent is what one controller did with a window.
type RunEvent struct {
	// Controller is the controller's name (policy.Params.Name).
	Controller string
	Inference
	Obs      policy.Observation
	Decision policy.Decision
}

// Event is one window as the replayer played it. The Event passed to
// Step's callback is reused: copy what you keep.
type Event struct {
	Window replay.Window
	// Seq counts the windows played before this one.
	Seq int64
	// Time is the stream time of the window's end, in seconds; a file
	// of a folder, or a trace after another, starts where the last ended.
	Time float64
	// Label is the window's class index, -1 when unlabelled.
	Label int
	// Runs holds one entry per controller, in order.
	Runs []RunEvent
	// Exact is the exact run's inference (Options.Exact).
	Exact Inference
}

// tally is one controller's run over the stream.
type tally struct {
	params   policy.Params
	ctrl     policy.Controller
	level    int
	correct  int
	busy     time.Duration
	windows  []int // per level
	switches int
	rules    map[string]int
	energyJ  float64
	// diffSum and diffSq sum the busy time of each window less the
	// exact run's, and its square (ns), each difference clipped to twice
	// exact's mean busy time: the saving's noise, without the
	// preemptions of a loaded machine (a difference that large is the
	// machine's, not the configuration's).
	diffSum, diffSq float64
}

// Replayer streams windows through the engine, each controller choosing
// the level of its next inference, beside an exact run, and tallies the
// figures of a Report. One goroutine uses it at a time.
type Replayer struct {
	d      *Deployment
	o      Options
	dev    *device.Profile
	cost   Cost
	hopS   float64
	sess   *engine.Session
	in     []*engine.Tensor
	x      []float32
	runs   []*tally
	ev     Event
	order  []int // run indices, len(runs) for the exact run
	rng    *rand.Rand
	start  time.Time
	src    replay.Source
	trace  int // index of the open trace, -1 before the first
	offset float64
	last   float64
	file   string

	windows  int64
	labelled int
	// nonFinite counts the inferences (of every run) whose outputs held
	// a NaN or an infinity; firstNonFinite says where the first came from.
	nonFinite      int
	firstNonFinite string
	exactRight     int
	exactBusy      time.Duration
}

// NewReplayer returns a replayer of the deployment's levels with one
// controller per params (see policy.Builder.ForPolicy).
func (d *Deployment) NewReplayer(params []policy.Params, o Options) (*Replayer, error) {
	if d.Spec == nil {
		return nil, fmt.Errorf("%s: the model has no front-end spec to read traces with", d.Name)
	}
	if o.Source == nil && len(o.Traces) == 0 {
		return nil, errors.New("no traces to replay")
	}
	if err := replay.CheckQoS(o.QoS); err != nil {
		return nil, err
	}
	if o.QoS == replay.QoSAgreement {
		o.Exact = true
	}
	r := &Replayer{d: d, o: o, dev: o.Device, cost: o.Cost, trace: -1}
	if r.dev == nil {
		p, err := device.Lookup("phone-big")
		if err != nil {
			return nil, err
		}
		r.dev = p
	}
	if r.cost == nil {
		r.cost = NewMeasuredCost(len(d.Levels))
	}
	r.hopS = d.hop(o.Read).Seconds()
	if err := r.SetControllers(params); err != nil {
		return nil, err
	}
	r.sess = d.Model.NewSession()
	r.x = make([]float32, d.Spec.InputSize())
	r.in = []*engine.Tensor{engine.NewFloat(r.x, d.Spec.InputShape()...)}
	r.src = o.Source
	r.rng = rand.New(rand.NewPCG(1, 2))
	return r, nil
}

// SetControllers replaces the controllers (and resets every tally); the
// stream goes on where it is.
func (r *Replayer) SetControllers(params []policy.Params) error {
	if len(params) == 0 {
		return errors.New("no controller to replay")
	}
	ctrls, err := r.d.Controllers(params)
	if err != nil {
		return err
	}
	r.runs = r.runs[:0]
	for i, c := range ctrls {
		p, _ := params[i].WithDefaults()
		r.runs = append(r.runs, &tally{params: p, ctrl: c, level: c.Start(), windows: make([]int, len(r.d.Levels)), rules: map[string]int{}})
	}
	r.ev.Runs = make([]RunEvent, len(r.runs))
	for i, t := range r.runs {
		r.ev.Runs[i].Controller = t.params.Name
	}
	r.order = make([]int, len(r.runs)+1)
	for i := range r.order {
		r.order[i] = i
	}
	r.windows, r.labelled, r.exactRight, r.exactBusy = 0, 0, 0, 0
	r.start = time.Now()
	return nil
}

// SetCost changes the cost charged from the next window on.
func (r *Replayer) SetCost(c Cost) { r.cost = c }

// SetDevice changes the device profile energies are modelled with from
// the next window on (the workbench's device field); SetControllers then
// restarts the tallies, so that no report mixes two profiles.
func (r *Replayer) SetDevice(p *device.Profile) { r.dev = p }

// Rebind moves the replayer to another deployment of the same model (other
// levels: the workbench after a knob change or a new tune) with controllers
// of params, as SetControllers does: the stream goes on where it is and
// every tally restarts. A cost that does not fit the new levels (a
// MeasuredCost, or a LevelCost of another length) is replaced by a
// MeasuredCost of them until the next SetCost.
func (r *Replayer) Rebind(d *Deployment, params []policy.Params) error {
	if d.Model != r.d.Model {
		return fmt.Errorf("%s: another model than the replayer's", d.Name)
	}
	old := r.d
	r.d = d
	if err := r.SetControllers(params); err != nil {
		r.d = old
		return err
	}
	switch c := r.cost.(type) {
	case *MeasuredCost:
		r.cost = NewMeasuredCost(len(d.Levels))
	case *LevelCost:
		if len(c.Times) != len(d.Levels) {
			r.cost = NewMeasuredCost(len(d.Levels))
		}
	}
	return nil
}

// Close releases the session and the open trace.
func (r *Replayer) Close() {
	if r.src != nil && r.o.Source == nil {
		r.src.Close()
	}
	r.src = nil
	r.sess.Close()
}

// errNoWindow says a replay ended before its first window.
var errNoWindow = errors.New("no windows in the traces (each shorter than one window?)")

// Run plays the stream to its end (or ctx's), calling each (if not nil)
// with every window's event.
func (r *Replayer) Run(ctx context.Context, each func(*Event) error) error {
	for {
		_, err := r.Step(ctx, 1<<30, each)
		if errors.Is(err, io.EOF) {
			if r.windows == 0 {
				return errNoWindow
			}
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// Step plays at most n windows, calling each (if not nil) with every
// window's event, and returns how many it played: io.EOF at the end of
// the stream (never with Loop), ctx's error when it is done.
func (r *Replayer) Step(ctx context.Context, n int, each func(*Event) error) (int, error) {
	for i := 0; i < n; i++ {
		if err := ctx.Err(); err != nil {
			return i, err
		}
		w, err := r.next()
		if err != nil {
			return i, err
		}
		if r.o.Realtime {
			due := r.start.Add(time.Duration(float64(r.windows) * r.hopS * float64(time.Second)))
			if err := sleepUntil(ctx, due); err != nil {
				return i, err
			}
		}
		if err := r.play(w); err != nil {
			return i, err
		}
		if each != nil {
			if err := each(&r.ev); err != nil {
				return i + 1, err
			}
		}
	}
	return n, nil
}

// next reads the next window, opening the next trace at the end of one.
func (r *Replayer) next() (replay.Window, error) {
	for tries := 0; tries <= len(r.o.Traces)+1; tries++ {
		if r.src == nil {
			if r.o.Source != nil {
				return replay.Window{}, io.EOF
			}
			r.trace++
			if r.trace >= len(r.o.Traces) {
				if !r.o.Loop {
					return replay.Window{}, io.EOF
				}
				r.trace = 0
			}
			t := r.o.Traces[r.trace]
			src, err := t.Open(r.d.Spec, r.o.Read)
			if err != nil {
				return replay.Window{}, err
			}
			r.src, r.file = src, ""
		}
		w, err := r.src.Next(r.x)
		if errors.Is(err, io.EOF) {
			if r.o.Source == nil {
				r.src.Close()
			}
			r.src = nil
			continue
		}
		if err != nil {
			return w, err
		}
		if w.File != r.file || r.file == "" {
			// a new file (of a folder, or the next trace) starts where
			// the last one ended
			r.file, r.offset = w.File, r.last
		}
		return w, nil
	}
	return replay.Window{}, errors.New("the traces hold no window")
}

// play runs one window at every controller's level and exactly.
func (r *Replayer) play(w replay.Window) error {
	ev := &r.ev
	ev.Window, ev.Seq, ev.Label = w, r.windows, -1
	ev.Time = r.offset + w.End
	r.last = max(r.last, ev.Time)
	agree := r.o.QoS == replay.QoSAgreement
	if w.Label != "" && !agree {
		ev.Label = r.d.Spec.ClassIndex(w.Label)
	}
	if agree {
		// The reference is the exact run's prediction: it runs first
		// (a non-finite exact output, class -1, leaves the window
		// without a reference).
		if err := r.exact(w); err != nil {
			return err
		}
		ev.Label = ev.Exact.Pred.Class
	}
	if ev.Label >= 0 {
		r.labelled++
		if agree {
			r.exactRight++
		}
	}
	// Shuffle the order of the runs (the exact one included) from window
	// to window, so that none always finds the caches cold after the
	// front-end, or always follows the same other run.
	r.rng.Shuffle(len(r.order), func(i, j int) { r.order[i], r.order[j] = r.order[j], r.order[i] })
	for _, i := range r.order {
		if i == len(r.runs) {
			if !r.o.Exact || agree {
				continue
			}
			if err := r.exact(w); err != nil {
				return err
			}
			if ev.Exact.Pred.Class == ev.Label {
				r.exactRight++
			}
			continue
		}
		if err := r.controlled(i, w); err != nil {
			return err
		}
	}
	if r.o.Exact {
		bound := 2 * float64(r.exactBusy) / float64(r.windows+1)
		for i, t := range r.runs {
			d := min(max(float64(r.ev.Runs[i].Inference.Busy-r.ev.Exact.Busy), -bound), bound)
			t.diffSum += d
			t.diffSq += d * d
		}
	}
	r.windows++
	return nil
}

// exact runs the window at level 0 as the exact run.
func (r *Replayer) exact(w replay.Window) error {
	inf, err := r.infer(0)
	if err != nil {
		return fmt.Errorf("%s window %d exact: %w", w.File, w.Index, err)
	}
	r.ev.Exact = inf
	r.exactBusy += inf.Busy
	return nil
}

func (r *Replayer) controlled(i int, w replay.Window) error {
	t, ev := r.runs[i], &r.ev.Runs[i]
	inf, err := r.infer(t.level)
	if err != nil {
		return fmt.Errorf("%s window %d at level %d: %w", w.File, w.Index, t.level, err)
	}
	if inf.Pred.Class == r.ev.Label {
		t.correct++
	}
	t.busy += inf.Busy
	t.windows[t.level]++
	t.energyJ += inf.EnergyJ
	obs := policy.Observation{Index: r.ev.Seq, Time: r.ev.Time, Level: t.level, Class: inf.Pred.Class,
		Confidence: inf.Pred.Confidence, TimeUS: float64(inf.Busy) / 1e3, EnergyJ: inf.EnergyJ}
	d := t.ctrl.Decide(obs)
	t.rules[d.Rule]++
	if i == 0 && r.o.Log != nil {
		if err := r.o.Log.Write(d); err != nil {
			return err
		}
	}
	if d.To != t.level {
		t.switches++
	}
	ev.Inference, ev.Obs, ev.Decision = inf, obs, d
	t.level = d.To
	return nil
}

// infer runs the current window at level.
func (r *Replayer) infer(level int) (Inference, error) {
	t0 := time.Now()
	outs, err := r.sess.RunWith(r.in, r.d.Levels[level])
	measured := time.Since(t0)
	if err != nil {
		return Inference{}, err
	}
	busy := r.cost.Busy(level, measured)
	inf := Inference{Level: level, Measured: measured, Busy: busy, EnergyJ: r.dev.InferenceEnergy(busy), Scores: outs[0].F}
	if finite(outs[0].F) {
		inf.Pred = replay.Predict(outs[0].F)
		return inf, nil
	}
	inf.Pred, inf.NonFinite = replay.Prediction{Class: -1}, true
	r.nonFinite++
	if r.firstNonFinite == "" {
		r.firstNonFinite = r.locate(level)
	}
	return inf, nil
}

// finite reports whether v holds no NaN or infinity.
func finite(v []float32) bool {
	for _, x := range v {
		if !engine.IsFinite(x) {
			return false
		}
	}
	return true
}

// locate says where the current window's run at level first produced a
// non-finite value (engine.Session.FirstNonFinite), with the window.
func (r *Replayer) locate(level int) string {
	where := fmt.Sprintf("%s window %d at level %d", r.ev.Window.File, r.ev.Window.Index, level)
	nf, err := r.sess.FirstNonFinite(r.in, r.d.Levels[level])
	switch {
	case err != nil:
		return where + ": " + err.Error()
	case nf == nil:
		return where + " (not reproduced when run again)"
	}
	return where + ": " + nf.String()
}

// NonFinite returns the number of inferences (of every run) whose outputs
// held a NaN or an infinity, and where the first one came from.
func (r *Replayer) NonFinite() (int, string) { return r.nonFinite, r.firstNonFinite }

func sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
