package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kagen-ai/kagen/approx"
	"github.com/kagen-ai/kagen/device"
	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/internal/synth"
	"github.com/kagen-ai/kagen/policy"
	"github.com/kagen-ai/kagen/replay"
)

const tinyHAR = "../replay/testdata/tiny_har.onnx"

var classes = []string{"SEATED", "STANDING_UP", "WALKING", "TURNING", "SITTING_DOWN"}

// tinyPareto returns a Pareto file of real configurations of
// tiny_har.onnx with made-up statistics: level i takes 100/speedup us.
func tinyPareto(m *engine.Model) *policy.Pareto {
	return synth.Pareto(synth.ParetoSpec{SHA256: m.SHA256(), Classes: classes, ExactAccuracy: 0.5,
		Correct: 0.6, Wrong: 0.4, CorrectN: 50, WrongN: 50, Levels: []synth.Level{
			synth.L("exact", 1, 0), synth.L("Conv_0=samp:3:0", 1.15, 0.4), synth.L("Conv_0=samp:2:0", 1.3, 0.9), synth.L("Conv_0=samp:2:0,Gemm_4=red:0.5", 1.35, 2)}})
}

// tinyDeployment binds a policy with controller name to tiny_har.onnx.
func tinyDeployment(t *testing.T, name string, settings ...string) *Deployment {
	t.Helper()
	m, err := engine.LoadFile(tinyHAR, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var b policy.Builder
	for i := 0; i+1 < len(settings); i += 2 {
		if err := b.Set(settings[i], settings[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	pol, err := policy.New(tinyPareto(m), &b, name, "pareto")
	if err != nil {
		t.Fatal(err)
	}
	d, err := New("policy", m, approx.New(m), pol)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// imuTrace writes synth.WalkIMU(rows) as name.
func imuTrace(t *testing.T, dir, name string, rows int) replay.Trace {
	t.Helper()
	b := synth.WalkIMU(rows)
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(b), 0o644); err != nil {
		t.Fatal(err)
	}
	return replay.Trace{Name: name, Path: p}
}

func phoneBig(t *testing.T) *device.Profile {
	d, err := device.Lookup("phone-big")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestStepEqualsRun plays the same traces whole (Run) and in steps of
// uneven sizes under the policy's fixed cost, and checks the reports and
// every decision agree: the workbench's Step is kagen replay's loop.
func TestStepEqualsRun(t *testing.T) {
	dir := t.TempDir()
	traces := []replay.Trace{imuTrace(t, dir, "a.csv", 1500), imuTrace(t, dir, "b.csv", 900)}
	d := tinyDeployment(t, policy.State, "floor", "1")
	params := []policy.Params{d.Policy.Controller, {Name: policy.Naive}}
	play := func(step int) (*Report, []string) {
		cost, err := PolicyCost(d.Policy)
		if err != nil {
			t.Fatal(err)
		}
		r, err := d.NewReplayer(params, Options{Traces: traces, Exact: true, Device: phoneBig(t), Cost: cost})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		var log []string
		each := func(ev *Event) error {
			log = append(log, fmt.Sprintf("%d %.3f %d->%d %s", ev.Seq, ev.Time, ev.Runs[0].Decision.From, ev.Runs[0].Decision.To, ev.Runs[0].Decision.Rule))
			return nil
		}
		if step == 0 {
			if err := r.Run(context.Background(), each); err != nil {
				t.Fatal(err)
			}
		} else {
			for {
				n, err := r.Step(context.Background(), step, each)
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil || n != step {
					t.Fatalf("Step(%d) = %d, %v", step, n, err)
				}
			}
		}
		return r.Report(0, "tiny"), log
	}
	whole, wlog := play(0)
	for _, step := range []int{1, 7} {
		rep, log := play(step)
		if fmt.Sprint(rep) != fmt.Sprint(whole) {
			t.Errorf("steps of %d: report\n%+v\nwant\n%+v", step, rep, whole)
		}
		if strings.Join(log, "\n") != strings.Join(wlog, "\n") {
			t.Errorf("steps of %d: other decisions", step)
		}
	}
	if whole.Windows < 20 || whole.Labelled != whole.Windows {
		t.Fatalf("%d windows, %d labelled", whole.Windows, whole.Labelled)
	}
	// the second trace starts where the first ended
	var last float64
	for _, l := range wlog {
		var seq int
		var tm float64
		fmt.Sscanf(l, "%d %f", &seq, &tm)
		if tm < last {
			t.Fatalf("stream time went back: %s after %.3f", l, last)
		}
		last = tm
	}
	// under a fixed cost the energies follow from the levels
	var j float64
	for _, l := range whole.Levels {
		j += float64(l.Windows) * phoneBig(t).InferenceEnergy(time.Duration(d.Policy.Levels[l.Level].TimeUS*1e3))
	}
	if math.Abs(j-whole.InferenceEnergyJ) > 1e-5*j { // nanosecond truncation of each window against the sum
		t.Errorf("inference energy %v, the levels' times give %v", whole.InferenceEnergyJ, j)
	}
}

func TestLoopAndCancel(t *testing.T) {
	dir := t.TempDir()
	tr := imuTrace(t, dir, "a.csv", 600)
	d := tinyDeployment(t, policy.Naive)
	r, err := d.NewReplayer([]policy.Params{d.Policy.Controller}, Options{Traces: []replay.Trace{tr}, Loop: true, Device: phoneBig(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	n, err := r.Step(context.Background(), 200, nil)
	if n != 200 || err != nil {
		t.Fatalf("looping Step(200) = %d, %v", n, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if n, err := r.Step(ctx, 5, nil); n != 0 || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Step = %d, %v", n, err)
	}
	if err := r.SetControllers([]policy.Params{{Name: policy.Static, Static: &policy.StaticParams{Level: 2}}}); err != nil {
		t.Fatal(err)
	}
	r.Step(context.Background(), 10, nil)
	rep := r.Report(0, "")
	if rep.Windows != 10 || rep.Levels[2].Windows != 10 {
		t.Fatalf("after SetControllers: %d windows, %v", rep.Windows, rep.Levels)
	}
}

func TestMeasuredCostReplacesOutliers(t *testing.T) {
	c := NewMeasuredCost(2)
	for i := 0; i < filterMin; i++ {
		if got := c.Busy(1, 100*time.Microsecond); got != 100*time.Microsecond {
			t.Fatalf("warm-up time %v changed", got)
		}
	}
	if got := c.Busy(1, 50*time.Millisecond); got != 100*time.Microsecond || c.Replaced() != 1 {
		t.Fatalf("outlier charged %v (replaced %d)", got, c.Replaced())
	}
	if got := c.Busy(1, 900*time.Microsecond); got != 900*time.Microsecond {
		t.Fatalf("a slower but plausible time was replaced: %v", got)
	}
	if got := c.Busy(0, time.Second); got != time.Second {
		t.Fatal("level 0 has no history yet: nothing to compare with")
	}
}

func TestBindingErrors(t *testing.T) {
	m, err := engine.LoadFile(tinyHAR, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := approx.New(m)
	for _, tc := range []struct {
		name   string
		change func(p *policy.Pareto)
		want   string
	}{
		{"file name as config", func(p *policy.Pareto) { p.Configs[1].Config = "levels.json" }, `levels[1].config "levels.json": expected "exact" or SELECTOR=KNOB pairs`},
		{"level 0 approximate", func(p *policy.Pareto) { p.Configs[0].Config = "Conv_0=samp:2:0" }, `expected "exact" for level 0`},
		{"unknown node", func(p *policy.Pareto) { p.Configs[2].Config = "conv9=int8" }, "levels[2].config"},
		{"classes", func(p *policy.Pareto) { p.Classes = []string{"A", "B", "C", "D", "E"} }, "classes: the policy has [A B C D E]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			par := tinyPareto(m)
			tc.change(par)
			pol, err := policy.New(par, nil, policy.Naive, "pareto")
			if err == nil {
				_, err = New("p.json", m, a, pol)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
	for _, text := range []string{"exact", "fp32", " exact ", `{"nodes": {}}`} {
		if cfg, err := ParseLevel(a, 0, text); err != nil || !cfg.IsExact() {
			t.Errorf("level 0 %q: %v", text, err)
		}
	}
	if _, err := ParseLevel(a, 1, "Conv=int8"); err != nil {
		t.Errorf("an op-type selector: %v", err)
	}
}

func TestReplaySettings(t *testing.T) {
	dir := t.TempDir()
	tr := imuTrace(t, dir, "a.csv", 900)
	d := tinyDeployment(t, policy.Confidence, "floor", "1")
	var b policy.Builder
	b.Set(policy.FracFlag, "0.7")
	reps, err := d.Replay(context.Background(), ReplaySettings{Controller: "all", Settings: &b, CostName: CostPareto,
		Options: Options{Traces: []replay.Trace{tr}, Device: phoneBig(t)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(reps) != 6 {
		t.Fatalf("%d reports, want every controller", len(reps))
	}
	for _, r := range reps {
		if r.Controller == policy.Budget && !(math.Abs(r.BudgetJ-0.7*phoneBig(t).InferenceEnergy(100*time.Microsecond)) < 1e-15) {
			t.Errorf("budget %v J, want 70%% of level 0's 100 us", r.BudgetJ)
		}
		if r.ExactAccuracy != reps[0].ExactAccuracy || r.Cost != CostPareto {
			t.Errorf("%s: exact accuracy %v (first %v), cost %s", r.Controller, r.ExactAccuracy, reps[0].ExactAccuracy, r.Cost)
		}
	}
	logPath := filepath.Join(dir, "log.jsonl")
	if _, err := d.Replay(context.Background(), ReplaySettings{Controller: "all", LogPath: logPath, Options: Options{Traces: []replay.Trace{tr}, Device: phoneBig(t)}}); err == nil {
		t.Error("a decision log with all controllers was accepted")
	}
	reps, err = d.Replay(context.Background(), ReplaySettings{LogPath: logPath, Options: Options{Traces: []replay.Trace{tr}, Device: phoneBig(t)}})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(logPath)
	if err != nil || strings.Count(string(data), "\n") != reps[0].Windows {
		t.Fatalf("log of %d lines for %d windows (%v)", strings.Count(string(data), "\n"), reps[0].Windows, err)
	}
	if _, err := d.Replay(context.Background(), ReplaySettings{LogPath: dir, Options: Options{Traces: []replay.Trace{tr}, Device: phoneBig(t)}}); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("log path a directory: %v", err)
	}
}
