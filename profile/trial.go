package profile

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/kagen-ai/kagen/approx"
	"github.com/kagen-ai/kagen/dataset"
	"github.com/kagen-ai/kagen/device"
)

// TrialKind names what a trial measures. Profiling and tuning are cut into
// trials so that an Executor can run them anywhere: in this process
// (LocalExecutor) or on the workers of a NATS cluster (package
// profile/dist).
type TrialKind string

// The trial kinds. Latency kinds need the device being profiled; the
// others give the same answer on any device and may run anywhere.
const (
	// TrialExactLatency times the exact model and each of its nodes on
	// one input window (the profile's exact figures).
	TrialExactLatency TrialKind = "exact-latency"
	// TrialPairLatency times one node with one knob, interleaved with the
	// exact node, on one input window.
	TrialPairLatency TrialKind = "pair-latency"
	// TrialNodeLatency times one node with one knob alone, interleaved
	// with the exact node, after one exact run of the steps before it
	// (engine.Session.TimeStep): a pair costs a fraction of an inference
	// and the node's runs, not whole inferences (Options.NodeAlone).
	TrialNodeLatency TrialKind = "node-latency"
	// TrialOutputs runs the model with one configuration (or one pair)
	// over one data shard and returns its outputs.
	TrialOutputs TrialKind = "outputs"
	// TrialExactTime times the whole exact model on the timing windows.
	TrialExactTime TrialKind = "exact-time"
	// TrialConfigTime times the whole model with one configuration
	// against the exact model, alternately, on the timing windows.
	TrialConfigTime TrialKind = "config-time"
	// TrialNoop does nothing; it measures the overhead of an executor.
	TrialNoop TrialKind = "noop"
)

// NeedsDevice reports whether trials of this kind measure time and so
// must run on the device being profiled.
func (k TrialKind) NeedsDevice() bool {
	switch k {
	case TrialExactLatency, TrialPairLatency, TrialNodeLatency, TrialExactTime, TrialConfigTime:
		return true
	}
	return false
}

func (k TrialKind) known() bool {
	switch k {
	case TrialExactLatency, TrialPairLatency, TrialNodeLatency, TrialOutputs, TrialExactTime, TrialConfigTime, TrialNoop:
		return true
	}
	return false
}

// Limits on what a trial may ask for; a trial beyond them is malformed.
const (
	maxTrialRepeats   = 10000
	maxTrialStep      = 1 << 20
	maxTrialConfigLen = 1 << 16
	maxTrialTextLen   = 4096
)

// Trial is one unit of profiling or tuning work. Everything a worker needs
// is named by content: the model and the data shard by their SHA-256.
type Trial struct {
	Kind TrialKind `json:"kind"`
	// Model is the hex SHA-256 of the model file.
	Model string `json:"model"`
	// Shard is the hex SHA-256 of the encoded data shard (EncodeShard):
	// the input window of latency trials, the windows of output trials,
	// the timing windows of time trials.
	Shard string `json:"shard,omitempty"`
	// Step and Knob name one (node, knob) pair (pair trials, and output
	// trials of one pair); Node is the node's name, for messages.
	Step int    `json:"step,omitempty"`
	Node string `json:"node,omitempty"`
	Knob string `json:"knob,omitempty"`
	// Config is a configuration in text form ("exact" or NODE=KNOB,...)
	// for output and time trials without a Knob.
	Config string `json:"config,omitempty"`
	// Repeats is the number of timed runs of latency and time trials.
	Repeats int `json:"repeats,omitempty"`
	// Device is the device class (DeviceClass) a latency trial must run
	// on; empty for trials that run anywhere.
	Device string `json:"device,omitempty"`
}

// ID returns the trial's deterministic identity: a hash of everything that
// determines its result (model, kind, node, knob or configuration, shard,
// repeats and device class). Running a trial twice gives the same ID, so a
// redelivered trial is recognised.
func (t *Trial) ID() string {
	h := sha256.New()
	for _, s := range []string{"kagen-trial/1", string(t.Kind), t.Model, t.Shard, fmt.Sprint(t.Step), t.Knob, t.Config, fmt.Sprint(t.Repeats), t.Device} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:40]
}

// Validate checks a trial's fields without looking at the model: a known
// kind, well-formed hashes, a parseable knob, bounded sizes. A worker
// checks every trial it decodes before acting on it.
func (t *Trial) Validate() error {
	if !t.Kind.known() {
		return fmt.Errorf("unknown trial kind %q", t.Kind)
	}
	if t.Kind == TrialNoop {
		return nil
	}
	if !isSHA256(t.Model) {
		return fmt.Errorf("trial model %q is not a hex SHA-256", t.Model)
	}
	if !isSHA256(t.Shard) {
		return fmt.Errorf("trial shard %q is not a hex SHA-256", t.Shard)
	}
	if t.Step < 0 || t.Step > maxTrialStep {
		return fmt.Errorf("trial step %d out of range", t.Step)
	}
	if len(t.Node) > maxTrialTextLen || len(t.Knob) > maxTrialTextLen || len(t.Config) > maxTrialConfigLen || len(t.Device) > maxTrialTextLen {
		return errors.New("trial field too long")
	}
	if t.Knob != "" {
		k, err := approx.ParseKnob(t.Knob)
		if err != nil {
			return fmt.Errorf("trial knob: %w", err)
		}
		if k.IsExact() {
			return fmt.Errorf("trial knob %q is the exact knob", t.Knob)
		}
	}
	if t.Kind.NeedsDevice() {
		if t.Repeats <= 0 || t.Repeats > maxTrialRepeats {
			return fmt.Errorf("trial repeats %d out of range 1..%d", t.Repeats, maxTrialRepeats)
		}
	} else if t.Repeats != 0 {
		return fmt.Errorf("trial kind %s takes no repeats", t.Kind)
	}
	switch t.Kind {
	case TrialPairLatency, TrialNodeLatency:
		if t.Knob == "" || t.Config != "" {
			return fmt.Errorf("a %s trial names a knob and no configuration", t.Kind)
		}
	case TrialExactLatency, TrialExactTime:
		if t.Knob != "" || t.Config != "" {
			return fmt.Errorf("a %s trial names no knob and no configuration", t.Kind)
		}
	case TrialOutputs, TrialConfigTime:
		if (t.Knob == "") == (t.Config == "") {
			return fmt.Errorf("a %s trial names a knob or a configuration, not both", t.Kind)
		}
		if t.Config != "" && t.Config != "exact" && !strings.Contains(t.Config, "=") {
			// Approximator.Parse would read such a text as a file path.
			return fmt.Errorf("trial configuration %q is not NODE=KNOB pairs", t.Config)
		}
	}
	return nil
}

func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// TrialResult is what a trial measured. Only the fields of its kind are
// set.
type TrialResult struct {
	// ID is the trial's ID.
	ID string `json:"id"`
	// Error, if set, says why the trial could not run; it is final (the
	// same trial would fail again).
	Error string `json:"error,omitempty"`
	// Worker names who ran the trial; Device is that worker's device
	// (latency trials).
	Worker string              `json:"worker,omitempty"`
	Device *device.Fingerprint `json:"device,omitempty"`
	// Seconds is the trial's run time on the worker.
	Seconds float64 `json:"seconds,omitempty"`
	// Exact latency: the model's median time and each step's (views 0).
	ModelUS float64   `json:"model_us,omitempty"`
	StepUS  []float64 `json:"step_us,omitempty"`
	// Pair latency: the node's median time with the knob and exact.
	NodeUS      float64 `json:"node_us,omitempty"`
	ExactNodeUS float64 `json:"exact_node_us,omitempty"`
	// Outputs: the model's outputs over the shard ([windows x classes]),
	// and the number of classes.
	Outputs []float32 `json:"-"`
	Classes int       `json:"classes,omitempty"`
	// Time trials: the configuration's median time and exact's.
	TimeUS      float64 `json:"time_us,omitempty"`
	ExactTimeUS float64 `json:"exact_time_us,omitempty"`
}

// plainResult is TrialResult without its JSON methods.
type plainResult TrialResult

// MarshalJSON encodes a result as JSON with its outputs as little-endian
// float32 bits (base64), which JSON numbers cannot carry (NaN, Inf).
func (r TrialResult) MarshalJSON() ([]byte, error) {
	var raw []byte
	if len(r.Outputs) > 0 {
		raw = make([]byte, 4*len(r.Outputs))
		for i, v := range r.Outputs {
			binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
		}
	}
	return json.Marshal(struct {
		*plainResult
		Outputs []byte `json:"outputs,omitempty"`
	}{(*plainResult)(&r), raw})
}

// UnmarshalJSON is the inverse of MarshalJSON.
func (r *TrialResult) UnmarshalJSON(b []byte) error {
	var w struct {
		*plainResult
		Outputs []byte `json:"outputs,omitempty"`
	}
	w.plainResult = (*plainResult)(r)
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	if len(w.Outputs)%4 != 0 {
		return fmt.Errorf("trial result outputs: %d bytes is not a whole number of float32", len(w.Outputs))
	}
	r.Outputs = nil
	if len(w.Outputs) > 0 {
		r.Outputs = make([]float32, len(w.Outputs)/4)
		for i := range r.Outputs {
			r.Outputs[i] = math.Float32frombits(binary.LittleEndian.Uint32(w.Outputs[4*i:]))
		}
	}
	return nil
}

// shardMagic starts an encoded shard.
const shardMagic = "KGS1"

// Limits of a decoded shard.
const (
	maxShardDims    = 8
	maxShardWindows = 1 << 20
	maxShardFloats  = 1 << 28
)

// EncodeShard encodes a dataset as a blob: "KGS1", the number of input
// dimensions and the dimensions, the number of windows, every window's
// float32 features, then every window's class (all little-endian uint32
// or float32). Source file names are not kept.
func EncodeShard(d *dataset.Dataset) []byte {
	size := numel(d.Shape)
	b := make([]byte, 0, 4+4+4*len(d.Shape)+4+4*size*d.Len()+4*d.Len())
	b = append(b, shardMagic...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(d.Shape)))
	for _, s := range d.Shape {
		b = binary.LittleEndian.AppendUint32(b, uint32(s))
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(d.Len()))
	for _, x := range d.X {
		for _, v := range x {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
	}
	for _, y := range d.Y {
		b = binary.LittleEndian.AppendUint32(b, uint32(y))
	}
	return b
}

// ShardKey returns the hex SHA-256 of an encoded shard: its name.
func ShardKey(blob []byte) string {
	h := sha256.Sum256(blob)
	return hex.EncodeToString(h[:])
}

// DecodeShard decodes a blob written by EncodeShard.
func DecodeShard(b []byte) (*dataset.Dataset, error) {
	if len(b) < 8 || string(b[:4]) != shardMagic {
		return nil, errors.New("shard: bad magic")
	}
	u32 := func() (int, error) {
		if len(b) < 4 {
			return 0, errors.New("shard: truncated")
		}
		v := binary.LittleEndian.Uint32(b)
		b = b[4:]
		return int(v), nil
	}
	b = b[4:]
	dims, _ := u32()
	if dims < 1 || dims > maxShardDims {
		return nil, fmt.Errorf("shard: %d dimensions", dims)
	}
	d := &dataset.Dataset{}
	size := 1
	for i := 0; i < dims; i++ {
		s, err := u32()
		if err != nil {
			return nil, err
		}
		if s < 1 || s > maxShardFloats || size*s > maxShardFloats {
			return nil, fmt.Errorf("shard: dimension %d of size %d", i, s)
		}
		size *= s
		d.Shape = append(d.Shape, s)
	}
	n, err := u32()
	if err != nil {
		return nil, err
	}
	if n > maxShardWindows || int64(n)*int64(size+1)*4 != int64(len(b)) {
		return nil, fmt.Errorf("shard: %d windows of %d floats do not fill %d bytes", n, size, len(b))
	}
	flat := make([]float32, n*size)
	for i := range flat {
		flat[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	b = b[4*len(flat):]
	d.X = make([][]float32, n)
	d.Y = make([]int, n)
	d.Files = make([]string, n)
	for i := 0; i < n; i++ {
		d.X[i] = flat[i*size : (i+1)*size : (i+1)*size]
		d.Y[i] = int(int32(binary.LittleEndian.Uint32(b[4*i:])))
	}
	return d, nil
}
