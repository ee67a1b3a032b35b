package profile

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kagen-ai/kagen/approx"
	"github.com/kagen-ai/kagen/dataset"
	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/internal/synth"
	"github.com/kagen-ai/kagen/replay"
)

func TestThinning(t *testing.T) {
	cs := []Candidate{
		{Config: "exact", Speedup: 1, LossPP: 0},
		{Config: "a", Speedup: 1.2, LossPP: 0.05},  // faster at < 0.1 pp: the first level
		{Config: "b", Speedup: 1.25, LossPP: 0.08}, // not 0.1 pp lossier than a but faster: replaces a
		{Config: "c", Speedup: 1.255, LossPP: 0.5}, // not 0.01 faster than b: dropped
		{Config: "d", Speedup: 1.6, LossPP: 0.6},
	}
	got := thin(cs, 0)
	var names []string
	for _, c := range got {
		names = append(names, c.Config)
	}
	if strings.Join(names, ",") != "exact,b,d" {
		t.Fatalf("levels %v, want exact,b,d", names)
	}
}

func TestParetoSet(t *testing.T) {
	cs := []Candidate{{Config: "a", Speedup: 1.5, LossPP: 0.5}, {Config: "b", Speedup: 1.4, LossPP: 0.6}, {Config: "c", Speedup: 2, LossPP: 0.9}}
	got := paretoSet(cs, 0)
	if len(got) != 2 || got[0].Config != "a" || got[1].Config != "c" {
		t.Fatalf("pareto set %+v", got)
	}
}

// tinyHAR loads the tiny HAR model and cuts a synthetic IMU trace of two
// files into its tune and calibration splits.
func tinyHAR(t testing.TB) (m *engine.Model, a *approx.Approximator, tune, calib *dataset.Dataset, dir string) {
	t.Helper()
	m, err := engine.LoadFile("../replay/testdata/tiny_har.onnx", engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	spec, err := replay.SpecFromModel(m)
	if err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	for f := 0; f < 2; f++ {
		os.WriteFile(filepath.Join(dir, "t"+strconv.Itoa(f)+".csv"), []byte(synth.SineIMU(3000, f, 600, spec.Classes)), 0o644)
	}
	d, err := dataset.Load(spec, replay.DiskTraces([]string{dir}), 0)
	if err != nil {
		t.Fatal(err)
	}
	tune, calib = d.Split()
	return m, approx.New(m), tune, calib, dir
}

// TestProfileAndTuneEndToEnd runs the profiler and the tuner on a small
// model and a synthetic IMU trace.
func TestProfileAndTuneEndToEnd(t *testing.T) {
	m, a, tune, calib, dir := tinyHAR(t)
	// Every pair is kept whatever it measures: on this tiny model whether
	// a knob saves 3% is noise (under the race detector most measure
	// slower than exact), and the search must have knobs to combine.
	p, err := Measure(context.Background(), a, tune, Options{Repeats: 3, MinSpeedup: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Pairs) == 0 || p.ExactUS <= 0 || len(p.ExactOutputs) != p.Windows*p.Classes {
		t.Fatalf("profile: %d pairs, exact %v us, %d outputs", len(p.Pairs), p.ExactUS, len(p.ExactOutputs))
	}
	path := filepath.Join(dir, "profile.json")
	if err := p.Write(path); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadProfile(path, m.SHA256(), false); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadProfile(path, "0000", false); err == nil || !strings.Contains(err.Error(), "0000") {
		t.Fatalf("a profile of another model was accepted: %v", err)
	}
	res, err := Tune(context.Background(), a, p, tune, calib, TuneOptions{MaxLossPP: 100, Budget: 100 * time.Millisecond, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Levels[0].Config != "exact" || res.Levels[0].Speedup != 1 {
		t.Fatalf("level 0 is %+v", res.Levels[0])
	}
	for i := 1; i < len(res.Levels); i++ {
		if res.Levels[i].Speedup < res.Levels[i-1].Speedup+0.01 {
			t.Fatalf("levels not thinned: %+v", res.Levels)
		}
	}
	// Validation in rounds never validates a configuration twice, nor more
	// than Candidates.
	seen := map[string]bool{}
	for _, c := range res.Validated {
		if seen[c.Config] {
			t.Fatalf("%s validated twice", c.Config)
		}
		seen[c.Config] = true
	}
	if len(res.Validated) == 0 || len(res.Validated) > 24 {
		t.Fatalf("%d configurations validated, want 1..24", len(res.Validated))
	}
	// Knob pairs are screened before the first round when the front
	// combines knobs on two nodes.
	// Knob pairs are screened before the first round when the front
	// combines knobs on two nodes: two-knob configurations, at most 12,
	// none of them validated again as a candidate.
	if len(res.Screened) > 12 {
		t.Fatalf("%d knob pairs screened, want at most 12", len(res.Screened))
	}
	for _, c := range res.Screened {
		if strings.Count(c.Config, ",") != 1 {
			t.Fatalf("screened %q: not two knobs", c.Config)
		}
		if seen[c.Config] {
			t.Fatalf("screened %q was validated again", c.Config)
		}
	}
	if _, err := Tune(context.Background(), a, p, tune, &dataset.Dataset{}, TuneOptions{}); err == nil {
		t.Fatal("an empty calibration split was accepted")
	}
}
