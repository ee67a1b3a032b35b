package profile

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/cpu"

	"github.com/kagen-ai/kagen/approx"
	"github.com/kagen-ai/kagen/engine"
)

// Version is the kagen version recorded in profiles and Pareto files.
const Version = "0.1.0-dev"

// SchemaVersion is the version of profile.json.
const SchemaVersion = 1

// Fingerprint identifies the device a profile was measured on.
type Fingerprint struct {
	GOOS     string   `json:"goos"`
	GOARCH   string   `json:"goarch"`
	CPU      string   `json:"cpu"`
	Features []string `json:"features"`
	Kagen    string   `json:"kagen"`
}

// String is a compact one-line form.
func (f Fingerprint) String() string {
	return fmt.Sprintf("%s/%s %q [%s] kagen %s", f.GOOS, f.GOARCH, f.CPU, strings.Join(f.Features, ","), f.Kagen)
}

// Equal reports whether two fingerprints name the same device and build.
func (f Fingerprint) Equal(g Fingerprint) bool {
	return f.GOOS == g.GOOS && f.GOARCH == g.GOARCH && f.CPU == g.CPU && slices.Equal(f.Features, g.Features) && f.Kagen == g.Kagen
}

// ThisDevice returns the fingerprint of this machine.
func ThisDevice() Fingerprint {
	f := Fingerprint{GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, CPU: cpuModel(), Kagen: Version}
	switch runtime.GOARCH {
	case "amd64":
		for _, x := range []struct {
			on   bool
			name string
		}{{cpu.X86.HasAVX2, "avx2"}, {cpu.X86.HasFMA, "fma"}, {cpu.X86.HasF16C, "f16c"}, {cpu.X86.HasAVX512F, "avx512f"}, {cpu.X86.HasAVXVNNI, "avxvnni"}} {
			if x.on {
				f.Features = append(f.Features, x.name)
			}
		}
	case "arm64":
		for _, x := range []struct {
			on   bool
			name string
		}{{cpu.ARM64.HasASIMD, "asimd"}, {cpu.ARM64.HasASIMDDP, "asimddp"}, {cpu.ARM64.HasFPHP, "fphp"}, {cpu.ARM64.HasASIMDHP, "asimdhp"}} {
			if x.on {
				f.Features = append(f.Features, x.name)
			}
		}
	}
	return f
}

func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && (strings.TrimSpace(k) == "model name" || strings.TrimSpace(k) == "Hardware" || strings.TrimSpace(k) == "CPU part") {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// NodeProfile is the exact cost of one node.
type NodeProfile struct {
	Step    int     `json:"step"`
	Name    string  `json:"name"`
	Op      string  `json:"op"`
	MACs    int64   `json:"macs"`
	ExactUS float64 `json:"exact_us"`
}

// PairProfile is what one (node, knob) pair does on this device.
type PairProfile struct {
	Step int    `json:"step"`
	Node string `json:"node"`
	Knob string `json:"knob"`
	// NodeUS is the node's median time with the knob (single thread);
	// ExactNodeUS the node's exact time measured interleaved with it.
	NodeUS      float64 `json:"node_us"`
	ExactNodeUS float64 `json:"exact_node_us"`
	NodeSpeedup float64 `json:"node_speedup"`
	// Pruned is set when the knob saves no time on this device; such a
	// pair has no QoS figures and the tuner ignores it.
	Pruned bool `json:"pruned,omitempty"`
	// Accuracy of the model with only this pair approximated, on the
	// profile windows (the P2 predictor's input), and its loss in points.
	Accuracy float64 `json:"accuracy"`
	LossPP   float64 `json:"loss_pp"`
	// Delta is the change of the model's outputs on the profile windows
	// ([windows x classes]), the P1 predictor's input.
	Delta []float32 `json:"delta,omitempty"`
}

// Profile is the measured behaviour of a model's knobs on one device.
type Profile struct {
	Version       int           `json:"version"`
	ModelSHA256   string        `json:"model_sha256"`
	Device        Fingerprint   `json:"device"`
	Created       time.Time     `json:"created"`
	ExactUS       float64       `json:"exact_us"`
	ExactAccuracy float64       `json:"exact_accuracy"`
	Windows       int           `json:"windows"`
	Classes       int           `json:"classes"`
	Labels        []int         `json:"labels"`
	ExactOutputs  []float32     `json:"exact_outputs"`
	Nodes         []NodeProfile `json:"nodes"`
	Pairs         []PairProfile `json:"pairs"`
	ProfileTime   float64       `json:"profile_seconds"`
}

// Options control profiling.
type Options struct {
	// Windows bounds the windows used for the QoS predictors (default 160).
	Windows int
	// Repeats is the number of timed runs per pair (default 9).
	Repeats int
	// Workers is the number of goroutines for QoS runs (0: every core).
	Workers int
	// MinSpeedup prunes pairs whose node speedup is below it (default 1.03).
	MinSpeedup float64
	// Progress, if set, is called after each step of work.
	Progress func(done, total int, what string)
}

func (o *Options) defaults() {
	if o.Windows <= 0 {
		o.Windows = 160
	}
	if o.Repeats <= 0 {
		o.Repeats = 9
	}
	if o.MinSpeedup == 0 {
		o.MinSpeedup = 1.03
	}
}

// Run profiles every applicable (node, knob) pair of a model: node latency
// on this device (median of repeated single-thread runs interleaved with
// exact runs, after warm-up), the change of the model output on the profile
// windows (P1) and the accuracy with only that pair approximated (P2).
func Run(ctx context.Context, a *approx.Approximator, data *Dataset, opts Options) (*Profile, error) {
	opts.defaults()
	start := time.Now()
	m := a.Model()
	sub := data.Subset(opts.Windows)
	p := &Profile{Version: SchemaVersion, ModelSHA256: m.SHA256(), Device: ThisDevice(), Created: time.Now().UTC(), Windows: sub.Len(), Labels: sub.Y}
	type pair struct {
		step int
		knob approx.Knob
	}
	var pairs []pair
	for _, n := range a.Nodes() {
		if n.View {
			continue
		}
		p.Nodes = append(p.Nodes, NodeProfile{Step: n.Step, Name: n.Name, Op: n.Op, MACs: n.MACs})
		for _, k := range a.Applicable(n.Step) {
			if !k.IsExact() {
				pairs = append(pairs, pair{n.Step, k})
			}
		}
	}
	total := len(pairs)*2 + 2
	done := 0
	progress := func(what string) {
		done++
		if opts.Progress != nil {
			opts.Progress(done, total, what)
		}
	}
	// Latency: one session, one input, exact and knob runs interleaved.
	s := m.NewSession()
	defer s.Close()
	in := []*engine.Tensor{{DType: engine.Float32, Shape: sub.Shape, F: sub.X[0]}}
	steps := m.Steps()
	tE, tK := make([]int64, steps), make([]int64, steps)
	exactNode := make([][]float64, steps)
	var exactModel []float64
	for i := 0; i < 5; i++ {
		s.RunTimed(in, nil, tE)
	}
	for i := 0; i < 3*opts.Repeats; i++ {
		t0 := time.Now()
		s.RunTimed(in, nil, tE)
		exactModel = append(exactModel, float64(time.Since(t0).Nanoseconds())/1e3)
		for j := range tE {
			exactNode[j] = append(exactNode[j], float64(tE[j])/1e3)
		}
	}
	p.ExactUS = median(exactModel)
	for i := range p.Nodes {
		p.Nodes[i].ExactUS = median(exactNode[p.Nodes[i].Step])
	}
	progress("exact latency")
	for _, pr := range pairs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		kr, err := a.Kernel(pr.step, pr.knob)
		if err != nil {
			return nil, err
		}
		sel := single{pr.step, kr}
		var en, kn []float64
		for i := 0; i < 2; i++ {
			s.RunTimed(in, sel, tK)
		}
		for i := 0; i < opts.Repeats; i++ {
			s.RunTimed(in, nil, tE)
			s.RunTimed(in, sel, tK)
			en = append(en, float64(tE[pr.step])/1e3)
			kn = append(kn, float64(tK[pr.step])/1e3)
		}
		pp := PairProfile{Step: pr.step, Node: a.Nodes()[pr.step].Name, Knob: pr.knob.String(), NodeUS: median(kn), ExactNodeUS: median(en)}
		pp.NodeSpeedup = pp.ExactNodeUS / pp.NodeUS
		pp.Pruned = pp.NodeSpeedup < opts.MinSpeedup
		p.Pairs = append(p.Pairs, pp)
		progress("latency " + pp.Node + " " + pp.Knob)
	}
	// QoS: exact outputs, then each kept pair alone.
	r := NewRunner(m, opts.Workers)
	defer r.Close()
	p.Classes = r.Classes()
	p.ExactOutputs = make([]float32, sub.Len()*p.Classes)
	if err := r.Outputs(sub, nil, p.ExactOutputs); err != nil {
		return nil, err
	}
	p.ExactAccuracy = Accuracy(p.ExactOutputs, sub.Y, p.Classes)
	progress("exact outputs")
	out := make([]float32, len(p.ExactOutputs))
	for i := range p.Pairs {
		pp := &p.Pairs[i]
		if pp.Pruned {
			progress("skip " + pp.Node + " " + pp.Knob)
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		k, _ := approx.ParseKnob(pp.Knob)
		kr, _ := a.Kernel(pp.Step, k)
		if err := r.Outputs(sub, single{pp.Step, kr}, out); err != nil {
			return nil, err
		}
		pp.Delta = make([]float32, len(out))
		for j := range out {
			pp.Delta[j] = out[j] - p.ExactOutputs[j]
		}
		pp.Accuracy = Accuracy(out, sub.Y, p.Classes)
		pp.LossPP = 100 * (p.ExactAccuracy - pp.Accuracy)
		progress("qos " + pp.Node + " " + pp.Knob)
	}
	p.ProfileTime = time.Since(start).Seconds()
	return p, nil
}

// single is a selector that approximates one step.
type single struct {
	step int
	k    engine.Kernel
}

func (s single) Kernel(step int) engine.Kernel {
	if step == s.step {
		return s.k
	}
	return nil
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// ModelHash returns the hex SHA-256 of a file.
func ModelHash(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:]), nil
}

// Write stores the profile atomically.
func (p *Profile) Write(path string) error {
	data, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, data)
}

// ReadProfile reads a profile and checks it belongs to the model and this
// device (unless force), naming both identities when it does not.
func ReadProfile(path, modelSHA string, force bool) (*Profile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var p Profile
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("profile %s: %w", path, err)
	}
	if p.Version != SchemaVersion {
		return nil, fmt.Errorf("profile %s: schema version %d, this kagen reads %d", path, p.Version, SchemaVersion)
	}
	if force {
		return &p, nil
	}
	if p.ModelSHA256 != modelSHA {
		return nil, fmt.Errorf("profile %s was measured for model %s, not %s (use --force to use it anyway)", path, p.ModelSHA256, modelSHA)
	}
	if dev := ThisDevice(); !p.Device.Equal(dev) {
		return nil, fmt.Errorf("profile %s was measured on %s, this device is %s (use --force to use it anyway)", path, p.Device, dev)
	}
	if len(p.ExactOutputs) != p.Windows*p.Classes || len(p.Labels) != p.Windows {
		return nil, fmt.Errorf("profile %s: %d exact outputs and %d labels for %d windows of %d classes", path, len(p.ExactOutputs), len(p.Labels), p.Windows, p.Classes)
	}
	for _, pp := range p.Pairs {
		if !pp.Pruned && len(pp.Delta) != len(p.ExactOutputs) {
			return nil, fmt.Errorf("profile %s: pair %s %s has %d output deltas, expected %d", path, pp.Node, pp.Knob, len(pp.Delta), len(p.ExactOutputs))
		}
	}
	return &p, nil
}
