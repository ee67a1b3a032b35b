package deploy

import (
	"context"
	"testing"
	"time"

	"github.com/kagen-ai/kagen/approx"
	"github.com/kagen-ai/kagen/device"
	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/policy"
	"github.com/kagen-ai/kagen/replay"
)

// testDeployment binds levels of configurations of the workbench's test
// model with a static controller at level.
func testDeployment(t *testing.T, m *engine.Model, level int, configs ...string) *Deployment {
	t.Helper()
	spec, err := replay.SpecFromModel(m)
	if err != nil {
		t.Fatal(err)
	}
	par := &policy.Pareto{Version: policy.ParetoVersion, ModelSHA256: m.SHA256(), Meter: "test", Objective: policy.ObjectiveTime, Classes: spec.Classes}
	for i, c := range configs {
		par.Configs = append(par.Configs, policy.Level{Level: i, Config: c, Speedup: 1, TimeUS: float64(10 * (i + 1))})
	}
	pol, err := policy.FromPareto(par, policy.Params{Name: policy.Static, Static: &policy.StaticParams{Level: level}})
	if err != nil {
		t.Fatal(err)
	}
	d, err := New("test", m, approx.New(m), pol)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestRebindKeepsTheStream rebinds a replayer to other levels mid-stream:
// the windows go on where they were, the tallies restart, and what it
// plays is what a replayer of the new levels plays on those windows.
func TestRebindKeepsTheStream(t *testing.T) {
	m, err := engine.LoadFile("../tui/testdata/har.onnx", engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	traces := replay.DiskTraces([]string{"../tui/testdata/har/s18_02_sp.csv"})
	d1 := testDeployment(t, m, 1, "exact", "Conv_0=samp:2:1")
	d2 := testDeployment(t, m, 2, "exact", "Conv_0=samp:2:1", "Conv_0=samp:2:1,Gemm_4=red:0.5")
	opts := Options{Traces: traces, Exact: true}
	r, err := d1.NewReplayer([]policy.Params{d1.Policy.Controller}, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	if _, err := r.Step(ctx, 10, nil); err != nil {
		t.Fatal(err)
	}
	if err := r.Rebind(d2, []policy.Params{d2.Policy.Controller}); err != nil {
		t.Fatal(err)
	}
	var after []Event
	keep := func(ev *Event) error { after = append(after, *ev); return nil }
	if _, err := r.Step(ctx, 5, keep); err != nil {
		t.Fatal(err)
	}
	rep := r.Report(0, "")
	if rep.Windows != 5 || len(rep.Levels) != 3 || rep.Levels[2].Windows != 5 || rep.Cost != CostMeasured {
		t.Fatalf("report after the rebind: %d windows, levels %+v, cost %s", rep.Windows, rep.Levels, rep.Cost)
	}
	fresh, err := d2.NewReplayer([]policy.Params{d2.Policy.Controller}, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	var all []Event
	if _, err := fresh.Step(ctx, 15, func(ev *Event) error { all = append(all, *ev); return nil }); err != nil {
		t.Fatal(err)
	}
	for i, ev := range after {
		want := all[10+i]
		if ev.Window.Index != want.Window.Index || ev.Time != want.Time || ev.Runs[0].Pred != want.Runs[0].Pred {
			t.Fatalf("window %d after the rebind: index %d time %v pred %+v, want %d %v %+v", i, ev.Window.Index, ev.Time, ev.Runs[0].Pred,
				want.Window.Index, want.Time, want.Runs[0].Pred)
		}
	}
	if err := r.Rebind(testDeployment(t, mustLoad(t, "../replay/testdata/tiny_har.onnx"), 0, "exact"), nil); err == nil {
		t.Fatal("rebound to another model")
	}
}

// TestSetDevice checks that the energies follow the device set.
func TestSetDevice(t *testing.T) {
	m := mustLoad(t, "../tui/testdata/har.onnx")
	d := testDeployment(t, m, 1, "exact", "Conv_0=samp:2:1")
	cost, err := PolicyCost(d.Policy)
	if err != nil {
		t.Fatal(err)
	}
	r, err := d.NewReplayer([]policy.Params{d.Policy.Controller}, Options{Traces: replay.DiskTraces([]string{"../tui/testdata/har/s18_02_sp.csv"}), Exact: true, Cost: cost})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	little, err := device.Lookup("phone-little")
	if err != nil {
		t.Fatal(err)
	}
	r.SetDevice(little)
	if err := r.SetControllers([]policy.Params{d.Policy.Controller}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Step(context.Background(), 4, nil); err != nil {
		t.Fatal(err)
	}
	rep := r.Report(0, "")
	if want := little.InferenceEnergy(4 * 20 * time.Microsecond); rep.DeviceProfile != little.Name || rep.InferenceEnergyJ != want {
		t.Fatalf("device %s, energy %v; want %s, %v", rep.DeviceProfile, rep.InferenceEnergyJ, little.Name, want)
	}
}

func mustLoad(t *testing.T, path string) *engine.Model {
	t.Helper()
	m, err := engine.LoadFile(path, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}
