package profile

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kagen-ai/kagen/dataset"
	"github.com/kagen-ai/kagen/device"
)

// TestReadProfileRefusesDamagedFields writes profiles with one field
// broken each and checks that reading them back names the field rather
// than letting the tuner index out of range later (#19 items 1 and 13:
// every field of a resumed profile is input).
func TestReadProfileRefusesDamagedFields(t *testing.T) {
	good := func() *Profile {
		return &Profile{Version: SchemaVersion, ModelSHA256: "m", Device: device.This(), ExactUS: 100, ExactAccuracy: 1, Windows: 2, Classes: 2,
			DataSHA256: strings.Repeat("ab", 32), MaxWindows: 600, Repeats: 9, MinSpeedup: 1.03,
			Labels: []int{0, 1}, ExactOutputs: []float32{1, 0, 0, 1},
			Nodes: []NodeProfile{{Step: 0, Name: "conv", Op: "Conv", ExactUS: 50}},
			Pairs: []PairProfile{{Step: 0, Node: "conv", Knob: "int8", NodeUS: 40, ExactNodeUS: 50, NodeSpeedup: 1.25, Accuracy: 0.5, LossPP: 50, Delta: []float32{0, 0, 0, 0}}}}
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		name   string
		change func(p *Profile)
		want   string
	}{
		{"valid", func(p *Profile) {}, ""},
		{"label out of range", func(p *Profile) { p.Labels[1] = 99 }, "labels[1] is 99"},
		{"negative label", func(p *Profile) { p.Labels[0] = -1 }, "labels[0] is -1"},
		{"negative step", func(p *Profile) { p.Pairs[0].Step = -1 }, "step -1"},
		{"unknown knob", func(p *Profile) { p.Pairs[0].Knob = "turbo" }, "knob"},
		{"short deltas", func(p *Profile) { p.Pairs[0].Delta = p.Pairs[0].Delta[:3] }, "3 output deltas, expected 4"},
		{"outputs and windows", func(p *Profile) { p.Windows = 3 }, "for 3 windows"},
		{"no windows", func(p *Profile) { p.Windows, p.Labels, p.ExactOutputs = 0, nil, nil }, "for 0 windows"},
		{"infinite time", func(p *Profile) { p.Pairs[0].NodeUS = math.Inf(1) }, "Inf"},
		{"negative pair time", func(p *Profile) { p.Pairs[0].NodeUS = -40 }, "node_us -40"},
		{"zero pair time", func(p *Profile) { p.Pairs[0].NodeUS = 0 }, "node_us 0"},
		{"zero exact time", func(p *Profile) { p.ExactUS = 0 }, "exact_us 0"},
		{"negative node time", func(p *Profile) { p.Nodes[0].ExactUS = -1 }, "nodes[0].exact_us -1"},
		{"speedup not the ratio", func(p *Profile) { p.Pairs[0].NodeSpeedup = 3 }, "node_speedup 3"},
		{"accuracy above 1", func(p *Profile) { p.Pairs[0].Accuracy, p.Pairs[0].LossPP = 2, -100 }, "accuracy 2"},
		{"exact accuracy above 1", func(p *Profile) { p.ExactAccuracy = 1.5 }, "exact_accuracy 1.5"},
		{"loss disagrees", func(p *Profile) { p.Pairs[0].LossPP = -20 }, "loss_pp -20"},
		{"unknown node", func(p *Profile) { p.Pairs[0].Node = "ghost" }, `node "ghost"`},
		{"pair twice", func(p *Profile) { p.Pairs = append(p.Pairs, p.Pairs[0]) }, "appears twice"},
		{"node twice", func(p *Profile) { p.Nodes = append(p.Nodes, p.Nodes[0]) }, "step 0 appears twice"},
		{"NaN output", func(p *Profile) { p.ExactOutputs[2] = float32(math.NaN()) }, "exact_outputs[2]"},
		{"no repeats", func(p *Profile) { p.Repeats = 0 }, "repeats 0"},
		{"no data digest", func(p *Profile) { p.DataSHA256 = "" }, "data_sha256"},
		{"max windows below windows", func(p *Profile) { p.MaxWindows = 1 }, "max_windows 1"},
		{"old schema", func(p *Profile) { p.Version = 1 }, "schema version 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := good()
			tc.change(p)
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".json")
			if err := p.Write(path); err != nil {
				if tc.want != "" && (strings.Contains(err.Error(), "NaN") || strings.Contains(err.Error(), "Inf")) {
					if err := p.Validate(-1); err == nil || !strings.Contains(err.Error(), tc.want) {
						t.Fatalf("Validate: %v, want %q", err, tc.want)
					}
					return // JSON cannot even hold it
				}
				t.Fatal(err)
			}
			_, err := ReadProfile(path, "m", false)
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
	if err := good().Validate(0); err == nil || !strings.Contains(err.Error(), "step 0, expected 0..-1") {
		t.Errorf("a step beyond the model's: %v", err)
	}
}

// TestProfileMatchesItsDataAndOptions profiles the tiny model and checks
// that Matches accepts the profile for the same windows and options and
// refuses it, naming the difference, for other data, other options or a
// node or knob the model does not have (#19 item 13).
func TestProfileMatchesItsDataAndOptions(t *testing.T) {
	_, a, tune, calib, _ := tinyHAR(t)
	opts := Options{Repeats: 2, MinSpeedup: 0.01, Windows: 40}
	p, err := Measure(context.Background(), a, tune, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Matches(a, tune, opts); err != nil {
		t.Fatalf("the profile does not match its own data: %v", err)
	}
	for _, tc := range []struct {
		name   string
		data   *dataset.Dataset
		opts   Options
		change func(p *Profile)
		want   string
	}{
		{"other data", calib, opts, nil, "other data"},
		{"other windows", tune, Options{Repeats: 2, MinSpeedup: 0.01, Windows: 30}, nil, "--windows 40, not 30"},
		{"other repeats", tune, Options{Repeats: 5, MinSpeedup: 0.01, Windows: 40}, nil, "2 repeats, not 5"},
		{"other labels", tune, opts, func(p *Profile) { p.Labels[0] = (p.Labels[0] + 1) % p.Classes }, "other labels"},
		{"other classes", tune, opts, func(p *Profile) {
			p.Classes++
			p.ExactOutputs = make([]float32, p.Windows*p.Classes)
			for i := range p.Pairs {
				if !p.Pairs[i].Pruned {
					p.Pairs[i].Delta = make([]float32, len(p.ExactOutputs))
				}
			}
		}, "the model has"},
		{"renamed node", tune, opts, func(p *Profile) {
			p.Nodes[0].Name += "x"
			for i := range p.Pairs {
				if p.Pairs[i].Step == p.Nodes[0].Step {
					p.Pairs[i].Node += "x"
				}
			}
		}, "is not a node of the model"},
		{"knob of another node", tune, opts, func(p *Profile) { p.Pairs[0].Knob = "red:0.5" }, "does not apply"},
		{"other model", tune, opts, func(p *Profile) { p.ModelSHA256 = "other" }, "model other"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := *p
			q.Labels = append([]int(nil), p.Labels...)
			q.Nodes = append([]NodeProfile(nil), p.Nodes...)
			q.Pairs = append([]PairProfile(nil), p.Pairs...)
			if tc.change != nil {
				tc.change(&q)
			}
			err := q.Matches(a, tc.data, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// TestCandidateValidate checks that a validated configuration read back
// from a partial file is refused, naming the field, when a figure is
// damaged (#19 item 13).
func TestCandidateValidate(t *testing.T) {
	good := func() Candidate {
		return Candidate{Config: "conv=int8", Accuracy: 0.9, LossPP: 1, TuneLossPP: 1, TimeUS: 50, ExactTimeUS: 100, Speedup: 2,
			CorrectMean: []float64{0.9, 0.8}, WrongMean: []float64{0.5, 0.4}, CorrectN: []int{3, 4}, WrongN: []int{1, 0}}
	}
	for _, tc := range []struct {
		name   string
		change func(c *Candidate)
		want   string
	}{
		{"valid", func(c *Candidate) {}, ""},
		{"NaN loss", func(c *Candidate) { c.LossPP = math.NaN() }, "qos_loss_pp NaN"},
		{"zero time", func(c *Candidate) { c.TimeUS = 0 }, "time_us 0"},
		{"negative time", func(c *Candidate) { c.ExactTimeUS = -100 }, "exact_time_us -100"},
		{"speedup not the ratio", func(c *Candidate) { c.Speedup = 5 }, "speedup 5"},
		{"accuracy above 1", func(c *Candidate) { c.Accuracy = 7 }, "accuracy 7"},
		{"short statistics", func(c *Candidate) { c.WrongN = c.WrongN[:1] }, "per-class statistics"},
		{"negative count", func(c *Candidate) { c.CorrectN[1] = -4 }, "class 1"},
		{"empty config", func(c *Candidate) { c.Config = "" }, "config is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := good()
			tc.change(&c)
			err := c.Validate(2)
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// nanExecutor runs trials with ex and turns the outputs of those that
// break into NaN.
type nanExecutor struct {
	ex     Executor
	break_ func(t *Trial) bool
}

func (n nanExecutor) Execute(ctx context.Context, b *Batch, done func(int, *TrialResult) error) error {
	return n.ex.Execute(ctx, b, func(i int, r *TrialResult) error {
		if t := &b.Trials[i]; t.Kind == TrialOutputs && n.break_(t) {
			for j := range r.Outputs {
				r.Outputs[j] = float32(math.NaN())
			}
		}
		return done(i, r)
	})
}

// TestProfileNonFiniteOutputs checks that a knob whose outputs are NaN is
// pruned with its count, so that the tuner never picks it and the profile
// still writes, and that NaN exact outputs are refused naming the window
// (#19 item 19).
func TestProfileNonFiniteOutputs(t *testing.T) {
	_, a, tune, _, _ := tinyHAR(t)
	opts := Options{Repeats: 2, MinSpeedup: 0.01, Windows: 40}
	local := NewLocalExecutor(a, 0)
	defer local.Close()
	var broken string
	for _, tc := range []struct {
		name   string
		break_ func(t *Trial) bool
		want   string // error; "" a profile
	}{
		{"a knob breaks", func(t *Trial) bool {
			if broken == "" && t.Knob != "" {
				broken = t.Node + " " + t.Knob
			}
			return t.Node+" "+t.Knob == broken
		}, ""},
		{"exact breaks", func(t *Trial) bool { return t.Config == "exact" }, "the exact model gives NaN or infinite outputs on 40 of 40 windows"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := MeasureWith(context.Background(), a, tune, opts, nanExecutor{local, tc.break_})
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "window 0") {
					t.Fatalf("error %v, want %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, pp := range p.Pairs {
				if pp.Node+" "+pp.Knob == broken {
					found = pp.Pruned && pp.NonFinite == p.Windows && pp.Delta == nil
				}
			}
			if !found {
				t.Errorf("the broken pair %s is not pruned with its count", broken)
			}
			if err := p.Write(filepath.Join(t.TempDir(), "p.json")); err != nil {
				t.Fatal(err)
			}
			if err := p.Validate(a.Model().Steps()); err != nil {
				t.Fatal(err)
			}
		})
	}
}
