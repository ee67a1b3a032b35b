package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/kagen-ai/kagen/deploy"
	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/internal/synth"
	"github.com/kagen-ai/kagen/policy"
	"github.com/kagen-ai/kagen/replay"
	"github.com/kagen-ai/kagen/report"
	"github.com/kagen-ai/kagen/tui"
)

// TestFrontEndsAgree feeds one trace and one policy (the confidence
// controller with a 1 pp floor) to kagen replay, to the workbench's Replay
// screen and to the report's run-time section, every inference charged
// the policy's time for its level (--cost pareto, tui.ParetoCost), and
// checks that the three show the same accuracy, time at each level,
// switches and energy: they run one replayer (package deploy).
func TestFrontEndsAgree(t *testing.T) {
	// The demo's activity model and its held-out traces (subjects 17-19).
	const model, trace = "demo/data/har.onnx", "demo/data/har"
	dir := t.TempDir()
	m, err := engine.LoadFile(model, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pareto := writeParetoFor(t, dir, m)
	pol := newPolicyFrom(t, dir, model, pareto, "--controller", "confidence", "--floor", "1")

	// kagen replay: every controller side by side, as the report runs them.
	code, out, errs := runCmd("replay", "--model", model, "--policy", pol, "--trace", trace, "--controller", "all",
		"--floor", "1", "--budget-frac", "0.7", "--cost", "pareto", "--json")
	if code != 0 {
		t.Fatalf("kagen replay: exit %d: %s", code, errs)
	}
	var cli struct{ Results []*deploy.Report }
	if err := json.Unmarshal([]byte(out), &cli); err != nil {
		t.Fatal(err)
	}

	// the report's run-time section
	par, err := policy.ReadPareto(pareto, policy.ReadOptions{ModelSHA256: m.SHA256()})
	if err != nil {
		t.Fatal(err)
	}
	rows, _, err := report.Replay(context.Background(), report.Options{Floor: 1, Cost: deploy.CostPareto},
		report.Model{Name: "har", Path: model, Data: []string{trace}}, m, pareto, par)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(cli.Results) || len(rows) != 6 {
		t.Fatalf("%d report rows, %d kagen replay results", len(rows), len(cli.Results))
	}
	for i, r := range cli.Results {
		want := report.Row(r)
		if got := rows[i]; got.Controller != want.Controller || got.Accuracy != want.Accuracy || got.ExactAcc != want.ExactAcc ||
			got.Switches != want.Switches || got.EnergyJ != want.EnergyJ || !equalFloats(got.TimeAtLevel, want.TimeAtLevel) {
			t.Errorf("controller %s:\nreport       %+v\nkagen replay %+v", r.Params, got, want)
		}
	}

	// the workbench's Replay screen, under teatest, with the policy file
	p, err := policy.ReadPolicy(pol, policy.ReadOptions{ModelSHA256: m.SHA256()})
	if err != nil {
		t.Fatal(err)
	}
	app := tui.New(tui.FileSource(model, []string{trace}), tui.Options{Start: tui.ReplayScreen, Policy: p, Cost: tui.ParetoCost, ReplayOnce: true})
	tm := teatest.NewTestModel(t, app, teatest.WithInitialTermSize(100, 30))
	defer func() {
		app.Close()
		tm.Quit()
		tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))
	}()
	tm.Send(tea.KeyPressMsg{Code: 's', Text: "s"})          // speed max
	tm.Send(tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}) // play
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return strings.Contains(string(b), "end of traces") },
		teatest.WithDuration(60*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
	got := app.ReplayReport()
	var want *deploy.Report
	for _, r := range cli.Results {
		if r.Params == p.Controller.String() {
			want = r
		}
	}
	if got == nil || want == nil {
		t.Fatalf("Replay screen report %v, kagen replay's row for %s %v", got, p.Controller, want)
	}
	if got.Windows != want.Windows || got.Accuracy != want.Accuracy || got.ExactAccuracy != want.ExactAccuracy || got.Switches != want.Switches ||
		got.InferenceEnergyJ != want.InferenceEnergyJ || got.ExactInferenceEnergyJ != want.ExactInferenceEnergyJ {
		t.Fatalf("Replay screen:\n%+v\nkagen replay:\n%+v", got, want)
	}
	for i, l := range got.Levels {
		if l != want.Levels[i] {
			t.Fatalf("level %d: Replay screen %+v, kagen replay %+v", i, l, want.Levels[i])
		}
	}
	t.Logf("%s: %d windows, accuracy %.4f (exact %.4f), %d switches, inference energy %.4g J (saving %.1f%%)",
		got.Params, got.Windows, got.Accuracy, got.ExactAccuracy, got.Switches, got.InferenceEnergyJ, 100*got.InferenceEnergySaving)
}

func equalFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// writeParetoFor writes a Pareto file of m with made-up statistics (level
// i taking 100/speedup us) over configurations of its convolutions.
func writeParetoFor(t *testing.T, dir string, m *engine.Model) string {
	t.Helper()
	spec, err := replay.SpecFromModel(m)
	if err != nil {
		t.Fatal(err)
	}
	p := synth.Pareto(synth.ParetoSpec{SHA256: m.SHA256(), Classes: spec.Classes, ExactAccuracy: 0.9,
		Correct: 0.8, Wrong: 0.5, CorrectN: 50, WrongN: 10, Levels: []synth.Level{
			synth.L("exact", 1, 0), synth.L("Conv=int8", 1.4, 0.3), synth.L("Conv=samp:2:0+int8", 1.9, 0.8), synth.L("Conv=samp:3:0+int8", 2.2, 2)}})
	path := filepath.Join(dir, "pareto.json")
	if err := policy.WritePareto(path, p); err != nil {
		t.Fatal(err)
	}
	return path
}

// newPolicyFrom runs kagen policy new for a model on a Pareto file.
func newPolicyFrom(t *testing.T, dir, model, pareto string, extra ...string) string {
	t.Helper()
	out := filepath.Join(dir, "policy.json")
	args := append([]string{"policy", "new", "--model", model, "--pareto", pareto, "-o", out}, extra...)
	if code, _, errs := runCmd(args...); code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, errs)
	}
	return out
}
