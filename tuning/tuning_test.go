package tuning

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
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
	save := p.savePartial(files.Partial, s, nil)
	for _, c := range res.Tune.Validated {
		save(c)
	}
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
	testResumeRefuses(t, p, s, files, res)
}

// testResumeRefuses checks that a resumed tune refuses a profile or a
// partial file of other data or settings, or with a damaged figure,
// naming what differs (#19 items 1 and 13), after the tune of
// TestRunWritesTheWholeParetoFile left files.Profile.
func testResumeRefuses(t *testing.T, p *Pipeline, s Settings, files Files, res *Result) {
	other, err := Load(p.Approx.Model(), replay.DiskTraces([]string{tinyTraces(t, p.Spec.Classes[1:])}))
	if err != nil {
		t.Fatal(err)
	}
	writeProfile := func(change func(*profile.Profile)) {
		q := *res.Profile
		q.Labels = append([]int(nil), q.Labels...)
		q.Pairs = append([]profile.PairProfile(nil), q.Pairs...)
		change(&q)
		if err := q.Write(files.Profile); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name    string
		p       *Pipeline
		change  func(s *Settings)
		profile func(*profile.Profile)
		partial string // the partial file's text ("": as saved)
		want    string
	}{
		{"other max-loss", p, func(s *Settings) { s.MaxLossPP = 2 }, nil, "", "--max-loss 100 (not 2)"},
		{"other predictor", p, func(s *Settings) { s.Predictor = profile.P2 }, nil, "", "--predictor p1 (not p2)"},
		{"other windows", p, func(s *Settings) { s.Profile.Windows = 7 }, nil, "", "--windows 600, not 7"},
		{"other data", other, nil, nil, "", "other data"},
		{"label out of range", p, nil, func(q *profile.Profile) { q.Labels[0] = 99 }, "", "labels[0] is 99"},
		{"negative timing", p, nil, func(q *profile.Profile) { q.ExactUS = -5 }, "", "exact_us -5"},
		{"unknown knob", p, nil, func(q *profile.Profile) { q.Pairs[0].Knob = "warp:9" }, "", "knob"},
		{"old partial file", p, nil, nil, `[{"config":"exact"}]`, "is not a partial file"},
		{"damaged partial file", p, nil, nil, `{"version":1,`, "is not a partial file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := s
			if tc.change != nil {
				tc.change(&s)
			}
			writeProfile(func(q *profile.Profile) {
				if tc.profile != nil {
					tc.profile(q)
				}
			})
			save := p.savePartial(files.Partial, Settings{MaxLossPP: 100, Objective: s.Objective, Device: s.Device, Seed: 1}, nil)
			save(res.Tune.Validated[0])
			if tc.partial != "" {
				os.WriteFile(files.Partial, []byte(tc.partial), 0o644)
			}
			_, err := tc.p.Run(context.Background(), s, files, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// TestSettingsValidate checks that every setting out of range is refused
// naming its flag, and that zero is refused for settings given explicitly
// (#19 items 17 and 19: --max-loss NaN, --candidates 0, --rounds 0,
// --budget -1s and the like were run or silently replaced).
func TestSettingsValidate(t *testing.T) {
	dev, _ := device.Lookup("phone-big")
	given := func() Settings {
		return Settings{MaxLossPP: 1, Budget: time.Second, Objective: policy.ObjectiveTime, Device: dev, Predictor: profile.P1,
			Candidates: 24, Rounds: 3, MinWindows: 10, MinClassWindows: 2, Profile: profile.Options{Windows: 600}}
	}
	for _, tc := range []struct {
		name     string
		change   func(s *Settings)
		explicit bool
		want     string // the flag named; "" valid
	}{
		{"valid", func(s *Settings) {}, true, ""},
		{"zero values take defaults", func(s *Settings) { *s = Settings{Objective: policy.ObjectiveTime, Device: dev} }, false, ""},
		{"NaN max-loss", func(s *Settings) { s.MaxLossPP = math.NaN() }, false, "--max-loss NaN"},
		{"infinite max-loss", func(s *Settings) { s.MaxLossPP = math.Inf(1) }, false, "--max-loss +Inf"},
		{"negative max-loss", func(s *Settings) { s.MaxLossPP = -1 }, false, "--max-loss -1"},
		{"negative budget", func(s *Settings) { s.Budget = -time.Second }, false, "--budget -1s"},
		{"zero budget given", func(s *Settings) { s.Budget = 0 }, true, "--budget 0s"},
		{"huge budget", func(s *Settings) { s.Budget = 1000 * time.Hour }, false, "--budget"},
		{"zero candidates given", func(s *Settings) { s.Candidates = 0 }, true, "--candidates 0"},
		{"negative candidates", func(s *Settings) { s.Candidates = -3 }, false, "--candidates -3"},
		{"zero rounds given", func(s *Settings) { s.Rounds = 0 }, true, "--rounds 0"},
		{"screen below -1", func(s *Settings) { s.ScreenPairs = -7 }, false, "--screen -7"},
		{"zero windows given", func(s *Settings) { s.Profile.Windows = 0 }, true, "--windows 0"},
		{"negative windows", func(s *Settings) { s.Profile.Windows = -1 }, false, "--windows -1"},
		{"negative workers", func(s *Settings) { s.Profile.Workers = -5 }, false, "--workers -5"},
		{"zero min-windows given", func(s *Settings) { s.MinWindows = 0 }, true, "--min-windows 0"},
		{"unknown objective", func(s *Settings) { s.Objective = "speed" }, false, "--objective"},
		{"unknown predictor", func(s *Settings) { s.Predictor = "p3" }, false, "--predictor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := given()
			tc.change(&s)
			var err error
			if tc.explicit {
				err = s.ValidateGiven()
			} else {
				err = s.Validate()
			}
			var fe *policy.FlagError
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want) || !errors.As(err, &fe)) {
				t.Fatalf("error %v, want a flag error starting %q", err, tc.want)
			}
		})
	}
}

// TestCheckSplits checks that a tune refuses splits too small to validate
// a level on, per split and per class, naming the flag that lowers the
// minimum (#19 item 16: two windows "validated" a 2.39x level).
func TestCheckSplits(t *testing.T) {
	m, err := engine.LoadFile("../replay/testdata/tiny_har.onnx", engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	spec, _ := replay.SpecFromModel(m)
	p, err := Load(m, replay.DiskTraces([]string{tinyTraces(t, spec.Classes)}))
	if err != nil {
		t.Fatal(err)
	}
	tiny := New(p.Approx, p.Spec, p.Data.Subset(2))
	// one window of one class in the tune split, the rest of another
	d := *p.Data
	d.Y = append([]int(nil), d.Y...)
	first := -1
	for i := range d.Y {
		if d.Files[i] == p.Tune.Files[0] {
			if d.Y[i] = 1; first < 0 {
				d.Y[i], first = 0, i
			}
		} else {
			d.Y[i] = 0
		}
	}
	lone := New(p.Approx, p.Spec, &d)
	for _, tc := range []struct {
		name       string
		p          *Pipeline
		s          Settings
		want, warn string
	}{
		{"enough", p, Settings{}, "", ""},
		{"two windows", tiny, Settings{}, "--min-windows not met: the tune split holds 1 windows", ""},
		{"two windows allowed", tiny, Settings{MinWindows: 1}, "", "warning: the tune split holds 1 windows of class"},
		{"few of a class", p, Settings{MinWindows: 1, MinClassWindows: p.Tune.Len()}, "--min-class-windows not met", ""},
		{"one of a class warns", lone, Settings{}, "", "warning: the tune split holds 1 windows of class " + p.Spec.Classes[0]},
		{"one of a class refused", lone, Settings{MinClassWindows: 2}, "--min-class-windows not met: the tune split holds 1 windows", ""},
		{"more than the split", p, Settings{MinWindows: p.Data.Len()}, "--min-windows " + strconv.Itoa(p.Tune.Len()), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			warn, err := tc.p.CheckSplits(tc.s)
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if tc.warn == "" && warn != "" || !strings.Contains(warn, tc.warn) {
				t.Fatalf("warning %q, want %q", warn, tc.warn)
			}
		})
	}
}

// TestSameProfileSameValidated tunes twice on one profile read back
// (Files.From) with a fixed count of evaluations: the validated
// configurations must be the same, although their timings are measured
// anew, and the profile is copied to Files.Profile.
func TestSameProfileSameValidated(t *testing.T) {
	m, err := engine.LoadFile("../replay/testdata/tiny_har.onnx", engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	spec, _ := replay.SpecFromModel(m)
	p, err := Load(m, replay.DiskTraces([]string{tinyTraces(t, spec.Classes)}))
	if err != nil {
		t.Fatal(err)
	}
	dev, _ := device.Lookup("phone-big")
	s := Settings{MaxLossPP: 100, Evaluations: 300, Objective: policy.ObjectiveTime, Device: dev, Seed: 3,
		Profile: profile.Options{Repeats: 3, MinSpeedup: 0.01}}
	out := t.TempDir()
	measured := filepath.Join(out, "measured.json")
	if _, err := p.Profile(context.Background(), s, Files{Profile: measured}, nil); err != nil {
		t.Fatal(err)
	}
	var runs [2][]string
	for i := range runs {
		files := Files{From: measured, Profile: filepath.Join(out, "copy"+strconv.Itoa(i)+".json")}
		res, err := p.Run(context.Background(), s, files, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Profile.Created.IsZero() || !sameBytes(t, measured, files.Profile) {
			t.Errorf("run %d: the profile read from %s is not the one copied to %s", i, measured, files.Profile)
		}
		for _, c := range res.Tune.Validated {
			runs[i] = append(runs[i], c.Config)
		}
		slices.Sort(runs[i])
	}
	if len(runs[0]) < 2 {
		t.Fatalf("only %d configurations validated: nothing to compare", len(runs[0]))
	}
	if !slices.Equal(runs[0], runs[1]) {
		t.Errorf("two tunes on one profile validated different configurations:\n%q\n%q", runs[0], runs[1])
	}
	// A profile of another model is refused, naming the file.
	other := filepath.Join(out, "other.json")
	b, _ := os.ReadFile(measured)
	os.WriteFile(other, []byte(strings.Replace(string(b), m.SHA256(), strings.Repeat("0", 64), 1)), 0o644)
	if _, err := p.Run(context.Background(), s, Files{From: other}, nil); err == nil || !strings.Contains(err.Error(), other) {
		t.Errorf("a profile of another model: %v", err)
	}
}

func sameBytes(t *testing.T, a, b string) bool {
	t.Helper()
	x, err1 := os.ReadFile(a)
	y, err2 := os.ReadFile(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}
