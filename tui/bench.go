package tui

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/kagen-ai/kagen/approx"
	"github.com/kagen-ai/kagen/dataset"
	"github.com/kagen-ai/kagen/demo"
	"github.com/kagen-ai/kagen/device"
	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/policy"
	"github.com/kagen-ai/kagen/profile"
	"github.com/kagen-ai/kagen/replay"
	"github.com/kagen-ai/kagen/tuning"
)

// Source says where the workbench's model and traces come from.
type Source struct {
	// Name is the model's display name ("har.onnx").
	Name string
	// ModelPath is the model file; ModelBytes, if set, is the model itself
	// (the embedded demo) and ModelPath is then empty.
	ModelPath  string
	ModelBytes []byte
	// Demo names the demo task when the source is the built-in demo.
	Demo string
	// Traces are the recorded traces, replayed one after the other.
	Traces []replay.Trace
}

// DemoSource returns the built-in demo task of that name ("" for the
// first).
func DemoSource(name string) (Source, error) {
	tasks := demo.Tasks()
	if len(tasks) == 0 {
		return Source{}, errors.New("this build has no embedded demo")
	}
	var names []string
	for _, t := range tasks {
		names = append(names, t.Name)
		if name == "" || t.Name == name {
			return Source{Name: t.ModelName, ModelBytes: t.Model, Demo: t.Name,
				Traces: []replay.Trace{{Name: t.Trace, FS: t.Traces, Path: t.Trace}}}, nil
		}
	}
	return Source{}, fmt.Errorf("no demo %q (have %v)", name, names)
}

// FileSource returns the source of a model file and trace paths.
func FileSource(model string, traces []string) Source {
	return Source{Name: filepath.Base(model), ModelPath: model, Traces: replay.DiskTraces(traces)}
}

// Bench is the workbench state the screens share: the model, its
// front-end and traces, the current configuration, the tuned Pareto set
// and the policy being built. Its fields are read and changed only on the
// UI goroutine; a job reads a view taken when it starts (view), and only
// the methods marked safe for concurrent use.
type Bench struct {
	Source Source
	// Model, Approx and Spec are nil when the model could not be loaded
	// (LoadErr says why).
	Model   *engine.Model
	Approx  *approx.Approximator
	Spec    *replay.Spec
	Nodes   []engine.NodeInfo
	LoadErr error
	// Short[i] is the part of Nodes[i]'s name that tells it from the
	// others (shortNames), Ops[i] its operator with the fused ones
	// (opLabel): what the tables show.
	Short, Ops []string

	// Device is the energy profile used for every energy figure.
	Device *device.Profile

	// Config is the configuration the Knobs screen edits.
	Config approx.Config

	// Pareto is the tuned set (nil before a tune or a loaded pareto.json);
	// Validated every configuration the tune validated (the scatter).
	Pareto    *policy.Pareto
	Validated []profile.Candidate
	// Selected is the configuration text of the point chosen on the
	// Pareto screen ("" if none).
	Selected string

	// Controller is the controller of the policy being built.
	Controller policy.Params
	// PolicyPath is where the policy is saved; SavedPath the file last
	// written and SavedCommand the command that runs it.
	PolicyPath   string
	SavedPath    string
	SavedCommand string

	// ExactTime is exact inference's median time as last measured here
	// (the Knobs or Replay screen's timing, the Model screen's), 0
	// before: the starting point of a budget.
	ExactTime time.Duration

	// Dirty is set by any change not yet in a saved policy file.
	Dirty bool

	dataMu sync.Mutex
	data   *dataset.Dataset
}

// Ready reports whether a model is loaded.
func (b *Bench) Ready() bool { return b.Model != nil }

// loadBench loads the model of src. A model that fails to load gives a
// Bench with LoadErr set, so that the workbench still opens and shows it.
func loadBench(src Source, deviceName string) *Bench {
	b := &Bench{Source: src, PolicyPath: "policy.json"}
	b.Controller = policy.Params{Name: policy.State}
	if c, err := b.Controller.WithDefaults(); err == nil {
		b.Controller = c
	}
	if deviceName == "" {
		deviceName = "phone-big"
	}
	dev, err := device.Lookup(deviceName)
	if err != nil {
		b.LoadErr = err
		devs := device.Profiles()
		dev = &devs[0]
	}
	b.Device = dev
	if b.LoadErr != nil {
		return b
	}
	var m *engine.Model
	if src.ModelBytes != nil {
		m, err = engine.LoadBytes(src.ModelBytes, engine.Options{Name: src.Name})
	} else {
		m, err = engine.LoadFile(src.ModelPath, engine.Options{})
	}
	if err != nil {
		b.LoadErr = err
		return b
	}
	spec, err := replay.SpecFromModel(m)
	if err != nil {
		b.LoadErr = fmt.Errorf("%s: %w", src.Name, err)
		return b
	}
	if len(src.Traces) == 0 {
		b.LoadErr = fmt.Errorf("no traces given: kagen open %s TRACE...", src.Name)
	}
	b.Model, b.Spec, b.Nodes = m, spec, m.Nodes()
	names := make([]string, len(b.Nodes))
	for i, n := range b.Nodes {
		names[i] = n.Name
		b.Ops = append(b.Ops, opLabel(n))
	}
	b.Short = shortNames(names)
	b.Approx = approx.New(m)
	b.Config = b.Approx.NewConfig()
	return b
}

// benchView is what a job reads of the Bench: the parts that never change
// once loaded (model, approximator, traces) and a copy of the
// configuration, taken when the job starts. What else a job needs that
// the screens change (the device profile, the policy) it is given as a
// copy of its own (deviceCopy, streamSetup).
type benchView struct {
	name   string
	model  *engine.Model
	approx *approx.Approximator
	traces []replay.Trace
	config approx.Config // never changed in place (approx.Config.With copies)
}

// view takes the Bench's view for a job.
func (b *Bench) view() benchView {
	return benchView{name: b.Source.Name, model: b.Model, approx: b.Approx, traces: b.Source.Traces, config: b.Config}
}

// deviceCopy returns a copy of the Bench's device profile for a stream,
// or prev when it is a copy of the same profile: a stream sees a change
// of device as a new pointer.
func (b *Bench) deviceCopy(prev *device.Profile) *device.Profile {
	if prev != nil && prev.Name == b.Device.Name {
		return prev
	}
	dev := *b.Device
	return &dev
}

// selector prepares cfg's kernels; nil for the exact configuration (the
// engine's own kernels, as kagen bench runs exact). The approximator
// caches kernels and is safe for concurrent use.
func (v *benchView) selector(cfg approx.Config) (engine.Selector, error) {
	if cfg.IsExact() {
		return nil, nil
	}
	return v.approx.Prepare(cfg)
}

// Dataset returns every labelled window of the traces as `kagen tune`
// reads them (dataset.Load), loading them on first use. It is safe for
// concurrent use; call it from a job.
func (b *Bench) Dataset() (*dataset.Dataset, error) {
	b.dataMu.Lock()
	defer b.dataMu.Unlock()
	if b.data != nil {
		return b.data, nil
	}
	d, err := dataset.Load(b.Spec, b.Source.Traces, 0)
	if err != nil {
		return nil, err
	}
	b.data = d
	return d, nil
}

// Pipeline returns the tuning pipeline over the traces' labelled windows
// (Dataset): the windows `kagen tune` reads (tuning.Load), split the same
// way. It is safe for concurrent use; call it from a job.
func (b *Bench) Pipeline() (*tuning.Pipeline, error) {
	d, err := b.Dataset()
	if err != nil {
		return nil, err
	}
	return tuning.New(b.Approx, b.Spec, d), nil
}

// Hop returns the seconds between window starts: the real-time period of
// one inference.
func (b *Bench) Hop() float64 {
	if b.Spec == nil || b.Spec.SampleRate <= 0 {
		return 1
	}
	return float64(b.Spec.Hop) / float64(b.Spec.SampleRate)
}

// ConfigText is the current configuration's text form.
func (b *Bench) ConfigText() string {
	if b.Approx == nil {
		return "-"
	}
	return b.Approx.Text(b.Config)
}

// Levels returns the levels controllers move between: the tuned Pareto
// levels, or before a tune the exact level and the Knobs configuration
// (untuned: speedup 1 and no calibrated statistics).
func (b *Bench) Levels() (levels []policy.Level, tuned bool) {
	if b.Pareto != nil {
		return b.Pareto.Configs, true
	}
	levels = []policy.Level{{Level: 0, Config: "exact", Speedup: 1}}
	if b.Approx != nil && !b.Config.IsExact() {
		levels = append(levels, policy.Level{Level: 1, Config: b.Approx.Text(b.Config), Speedup: 1})
	}
	return levels, false
}
