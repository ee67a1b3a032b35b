package profile

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kagen-ai/kagen/device"
)

// TestReadProfileRefusesDamagedFields writes profiles with one field
// broken each and checks that reading them back names the field rather
// than letting the tuner index out of range later.
func TestReadProfileRefusesDamagedFields(t *testing.T) {
	good := func() *Profile {
		return &Profile{Version: SchemaVersion, ModelSHA256: "m", Device: device.This(), ExactUS: 100, Windows: 2, Classes: 2,
			Labels: []int{0, 1}, ExactOutputs: []float32{1, 0, 0, 1},
			Nodes: []NodeProfile{{Step: 0, Name: "conv", Op: "Conv", ExactUS: 50}},
			Pairs: []PairProfile{{Step: 0, Node: "conv", Knob: "int8", NodeUS: 30, ExactNodeUS: 50, NodeSpeedup: 1.6, Delta: []float32{0, 0, 0, 0}}}}
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		name   string
		change func(p *Profile)
		want   string
	}{
		{"valid", func(p *Profile) {}, ""},
		{"label out of range", func(p *Profile) { p.Labels[1] = 7 }, "labels[1] is 7"},
		{"negative step", func(p *Profile) { p.Pairs[0].Step = -1 }, "pairs[0].step -1"},
		{"unknown knob", func(p *Profile) { p.Pairs[0].Knob = "turbo" }, "pairs[0].knob"},
		{"short deltas", func(p *Profile) { p.Pairs[0].Delta = p.Pairs[0].Delta[:3] }, "3 output deltas, expected 4"},
		{"outputs and windows", func(p *Profile) { p.Windows = 3 }, "for 3 windows"},
		{"infinite time", func(p *Profile) { p.Pairs[0].NodeUS = math.Inf(1) }, "not finite"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := good()
			tc.change(p)
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".json")
			if err := p.Write(path); err != nil {
				if tc.want != "" && strings.Contains(err.Error(), "Inf") {
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
