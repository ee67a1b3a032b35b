package tuning

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kagen-ai/kagen/device"
	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/internal/synth"
	"github.com/kagen-ai/kagen/policy"
	"github.com/kagen-ai/kagen/profile"
	"github.com/kagen-ai/kagen/replay"
)

// tinyTraces writes two synthetic IMU files for tiny_har.onnx.
func tinyTraces(t *testing.T, classes []string) string {
	dir := t.TempDir()
	for f := 0; f < 2; f++ {
		os.WriteFile(filepath.Join(dir, "t"+strconv.Itoa(f)+".csv"), []byte(synth.SineIMU(3000, f, 600, classes)), 0o644)
	}
	return dir
}

// TestRunWritesTheWholeParetoFile tunes the tiny model and checks every
// field of the Pareto file, that it validates and reads back, and that a
// resumed run reuses the profile and the validated configurations.
func TestRunWritesTheWholeParetoFile(t *testing.T) {
	m, err := engine.LoadFile("../replay/testdata/tiny_har.onnx", engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	spec, _ := replay.SpecFromModel(m)
	dir := tinyTraces(t, spec.Classes)
	p, err := Load(m, replay.DiskTraces([]string{dir}))
	if err != nil {
		t.Fatal(err)
	}
	if p.Tune.Len()+p.Calib.Len() != p.Data.Len() || p.Tune.Len() == 0 || p.Calib.Len() == 0 {
		t.Fatalf("split %d + %d of %d windows", p.Tune.Len(), p.Calib.Len(), p.Data.Len())
	}
	dev, _ := device.Lookup("phone-big")
	s := Settings{MaxLossPP: 100, Budget: 100 * time.Millisecond, Objective: policy.ObjectiveEnergy, Device: dev, Seed: 1,
		Profile: profile.Options{Repeats: 3, MinSpeedup: 0.01}}
	out := t.TempDir()
	files := Files{Profile: filepath.Join(out, "p.json"), Partial: filepath.Join(out, "partial.json")}
	res, err := p.Run(context.Background(), s, files, nil)
	if err != nil {
		t.Fatal(err)
	}
	par := res.Pareto
	var validated []profile.Candidate
	if err := json.Unmarshal(par.Validated, &validated); err != nil || len(validated) != len(res.Tune.Validated) {
		t.Errorf("validated field: %d entries, %v", len(validated), err)
	}
	switch {
	case par.ModelSHA256 != m.SHA256(), par.Version != policy.ParetoVersion:
		t.Errorf("header %s v%d", par.ModelSHA256, par.Version)
	case !par.Device.Equal(res.Profile.Device):
		t.Errorf("device %v, want the profile's %v", par.Device, res.Profile.Device)
	case !strings.HasPrefix(par.Meter, "phone-big (modelled"), par.Objective != policy.ObjectiveEnergy:
		t.Errorf("meter %q objective %q", par.Meter, par.Objective)
	case par.TuneSeconds <= 0, par.MaxLossPP != 100, len(par.Classes) != len(spec.Classes):
		t.Errorf("tune seconds %v, max loss %v, classes %v", par.TuneSeconds, par.MaxLossPP, par.Classes)
	case len(par.Configs) != len(res.Tune.Levels) || par.Configs[0].Config != "exact":
		t.Errorf("%d levels for %d", len(par.Configs), len(res.Tune.Levels))
	}
	path := filepath.Join(out, "pareto.json")
	if err := policy.WritePareto(path, par); err != nil {
		t.Fatal(err)
	}
	if _, err := policy.ReadPareto(path, policy.ReadOptions{ModelSHA256: m.SHA256()}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(files.Partial); !os.IsNotExist(err) {
		t.Errorf("the partial file is left after a complete run: %v", err)
	}
	// Resume: the profile is read back, and configurations saved in the
	// partial file are not validated again.
	saved, _ := json.Marshal(res.Tune.Validated)
	os.WriteFile(files.Partial, saved, 0o644)
	files.Resume = true
	s.Budget = 50 * time.Millisecond
	again, err := p.Run(context.Background(), s, files, nil)
	if err != nil {
		t.Fatal(err)
	}
	if again.Profile.Created != res.Profile.Created {
		t.Error("resume profiled again")
	}
	if bad := (Settings{MaxLossPP: 1, Objective: "speed", Device: dev}); bad.Validate() == nil {
		t.Error("an unknown objective was accepted")
	}
}
