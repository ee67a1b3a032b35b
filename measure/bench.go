package measure

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/kagen-ai/kagen/approx"
	"github.com/kagen-ai/kagen/engine"
)

// RandomInputs returns seeded inputs of the model's shapes: floats
// uniform in [-1, 1), integers zero.
func RandomInputs(m *engine.Model, seed uint64) []*engine.Tensor {
	rng := rand.New(rand.NewPCG(seed, 0))
	var ins []*engine.Tensor
	for _, vi := range m.Inputs() {
		ins = append(ins, RandomTensor(vi, rng))
	}
	return ins
}

// RandomTensor returns a tensor of vi's type and shape: floats uniform in
// [-1, 1) drawn from rng, integers zero.
func RandomTensor(vi engine.ValueInfo, rng *rand.Rand) *engine.Tensor {
	t := &engine.Tensor{DType: vi.DType, Shape: vi.Shape}
	n := t.Len()
	if vi.DType.IsInt() {
		t.I = make([]int64, n)
		return t
	}
	t.F = make([]float32, n)
	for i := range t.F {
		t.F[i] = rng.Float32()*2 - 1
	}
	return t
}

// Bench times whole inferences of s on inputs, runs timed runs after
// kagen bench's warm-up: the exact kernels alone (sel nil; approx is nil),
// or exact and sel interleaved, so that the speedup is measured under the
// same noise.
func Bench(s *engine.Session, inputs []*engine.Tensor, runs int, sel engine.Selector) (exact, approx Sample, err error) {
	o := Options{Warmup: 5, WarmupTime: 200 * time.Millisecond, Runs: runs}
	run := func(sel engine.Selector) func() error {
		return func() error { _, err := s.RunWith(inputs, sel); return err }
	}
	if sel == nil {
		exact, err = Repeat(o, run(nil))
		return exact, nil, err
	}
	samples, err := Interleaved(o, run(nil), run(sel))
	if err != nil {
		return nil, nil, err
	}
	return samples[0], samples[1], nil
}

// KnobTiming is one (node, knob) pair timed alone against exact.
type KnobTiming struct {
	Node         string  `json:"node"`
	Op           string  `json:"op"`
	Knob         string  `json:"knob"`
	NodeUS       float64 `json:"node_us"`
	ExactNodeUS  float64 `json:"exact_node_us"`
	NodeSpeedup  float64 `json:"node_speedup"`
	ModelSpeedup float64 `json:"model_speedup"`
	IdealSpeedup float64 `json:"ideal_speedup"`
	ModelUS      float64 `json:"model_us"`
	ExactModelUS float64 `json:"exact_model_us"`
	Runs         int     `json:"runs"`
	ShareOfModel float64 `json:"exact_share_of_model"`
}

// PerKnob times every applicable (node, knob) pair of a's model alone,
// interleaved with exact runs after three warm-up runs of each, and calls
// each with its node and model medians (only the node named only, unless
// it is ""; an error when no node has that name).
func PerKnob(a *approx.Approximator, s *engine.Session, inputs []*engine.Tensor, runs int, only string, each func(KnobTiming) error) error {
	inf := &Inference{Session: s, Inputs: [][]*engine.Tensor{inputs}}
	found := false
	for _, n := range a.Nodes() {
		if n.View || only != "" && n.Name != only {
			continue
		}
		found = true
		for _, k := range a.Applicable(n.Step) {
			if k.IsExact() {
				continue
			}
			sel, err := a.Prepare(a.NewConfig().With(n.Step, k))
			if err != nil {
				return err
			}
			res, err := inf.Compare(Options{Warmup: 3, Runs: runs}, nil, sel)
			if err != nil {
				return err
			}
			e, x := res[0], res[1]
			r := KnobTiming{Node: n.Name, Op: n.Op, Knob: k.String(), Runs: runs, IdealSpeedup: k.IdealSpeedup(),
				ExactNodeUS: e.StepMedianUS(n.Step), NodeUS: x.StepMedianUS(n.Step), ExactModelUS: e.Total.MedianUS(), ModelUS: x.Total.MedianUS()}
			r.NodeSpeedup = r.ExactNodeUS / r.NodeUS
			r.ModelSpeedup = r.ExactModelUS / r.ModelUS
			r.ShareOfModel = r.ExactNodeUS / r.ExactModelUS
			if err := each(r); err != nil {
				return err
			}
		}
	}
	if !found {
		return fmt.Errorf("no node %q", only)
	}
	return nil
}

// NodeOffer is what a node is offered after measuring: the knobs whose
// node speedup reached the threshold, and those dropped because they
// measured slower (or not faster enough) than exact on this machine.
type NodeOffer struct {
	Step    int          `json:"step"`
	Node    string       `json:"node"`
	Op      string       `json:"op"`
	Offered []KnobTiming `json:"offered"`
	Dropped []KnobTiming `json:"dropped,omitempty"`
}

// Offered times every applicable (node, knob) pair of a's model alone
// against exact (PerKnob, runs timed runs each) and keeps, per node with
// any knob, the pairs whose node speedup is at least minSpeedup: the
// measured filter of kagen knobs, with the threshold the profiler prunes
// pairs at (profile.Options.MinSpeedup), so that nothing measuring slower
// than exact here is offered.
func Offered(a *approx.Approximator, s *engine.Session, inputs []*engine.Tensor, runs int, minSpeedup float64) ([]NodeOffer, error) {
	var out []NodeOffer
	byName := map[string]int{}
	for _, n := range a.Nodes() {
		byName[n.Name] = n.Step
	}
	err := PerKnob(a, s, inputs, runs, "", func(r KnobTiming) error {
		if len(out) == 0 || out[len(out)-1].Node != r.Node {
			out = append(out, NodeOffer{Step: byName[r.Node], Node: r.Node, Op: r.Op})
		}
		o := &out[len(out)-1]
		if r.NodeSpeedup >= minSpeedup {
			o.Offered = append(o.Offered, r)
		} else {
			o.Dropped = append(o.Dropped, r)
		}
		return nil
	})
	return out, err
}
