// Package profile measures a model on this device (per-node latency and the
// effect of each knob on the output and the accuracy) and tunes: it finds
// the Pareto-optimal approximation configurations.
package profile

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/kagen-ai/kagen/approx"
	"github.com/kagen-ai/kagen/dataset"
	"github.com/kagen-ai/kagen/device"
	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/internal/atomicfile"
)

// SchemaVersion is the version of profile.json.
const SchemaVersion = 1

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
	Version       int                `json:"version"`
	ModelSHA256   string             `json:"model_sha256"`
	Device        device.Fingerprint `json:"device"`
	Created       time.Time          `json:"created"`
	ExactUS       float64            `json:"exact_us"`
	ExactAccuracy float64            `json:"exact_accuracy"`
	Windows       int                `json:"windows"`
	Classes       int                `json:"classes"`
	Labels        []int              `json:"labels"`
	ExactOutputs  []float32          `json:"exact_outputs"`
	Nodes         []NodeProfile      `json:"nodes"`
	Pairs         []PairProfile      `json:"pairs"`
	ProfileTime   float64            `json:"profile_seconds"`
}

// Options control profiling.
type Options struct {
	// Windows bounds the windows used for the QoS predictors (default 600;
	// the tuner validates on the whole tune split, so the predictors see as
	// much of it as is affordable).
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
		o.Windows = 600
	}
	if o.Repeats <= 0 {
		o.Repeats = 9
	}
	if o.MinSpeedup == 0 {
		o.MinSpeedup = 1.03
	}
}

// Measure profiles every applicable (node, knob) pair of a model: node
// latency on this device (median of repeated single-thread runs
// interleaved with exact runs, after warm-up), the change of the model
// output on the profile windows (P1) and the accuracy with only that pair
// approximated (P2).
func Measure(ctx context.Context, a *approx.Approximator, data *dataset.Dataset, opts Options) (*Profile, error) {
	ex := NewLocalExecutor(a, opts.Workers)
	defer ex.Close()
	return MeasureWith(ctx, a, data, opts, ex)
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
	return atomicfile.Write(path, data)
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
	if dev := device.This(); !p.Device.Equal(dev) {
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

func numel(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}
