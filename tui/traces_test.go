package tui

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kagen-ai/kagen/device"
	"github.com/kagen-ai/kagen/policy"
	"github.com/kagen-ai/kagen/tuning"
)

// TestManyTraces opens the workbench on 30 trace paths (#20 item 7): the
// Model screen summarises them in one line (paths, folder, files,
// windows, duration) and keeps every layer row on screen; l lists them,
// saying how many are out of view.
func TestManyTraces(t *testing.T) {
	paths := make([]string, 30)
	for i := range paths {
		paths[i] = "testdata/har/s18_02_sp.csv"
	}
	h := newHarness(t, FileSource("testdata/har.onnx", paths), 100, 30, Options{})
	v := h.settle()
	if row := lineWith(v, "traces "); !strings.Contains(row, "30 paths in testdata/har · 30 files, 570 windows (570 labelled), 6.4 min") {
		t.Errorf("traces line %q", row)
	}
	for _, n := range []string{"Conv_0", "GlobalAveragePool_2", "Flatten_3", "Gemm_4"} {
		if !strings.Contains(v, n) {
			t.Errorf("layer %s pushed off the screen:\n%s", n, v)
		}
	}
	v = h.press("l")
	if !strings.Contains(v, "Traces (30, replayed in this order)") || !strings.Contains(v, "below") || strings.Count(v, "s18_02_sp.csv") < 10 {
		t.Errorf("l does not list the traces:\n%s", v)
	}
	checkSize(t, v, 100, 30)
}

// TestParetoFromDisk opens the workbench with a pareto.json that holds
// the tuner's validated configurations: the Pareto screen plots them
// beside the levels, as after a tune in the workbench.
func TestParetoFromDisk(t *testing.T) {
	b := loadBench(fixture(), "")
	dev, _ := device.Lookup("phone-big")
	out, err := fakeTuner{}.Tune(context.Background(), b, tuning.Settings{MaxLossPP: 1, Objective: policy.ObjectiveTime, Device: dev}, func(tuning.Progress) {})
	if err != nil {
		t.Fatal(err)
	}
	if out.Pareto.Validated, err = json.Marshal(out.Validated); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "pareto.json")
	if err := policy.WritePareto(path, out.Pareto); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, fixture(), 100, 30, Options{Start: ParetoScreen, ParetoPath: path})
	v := h.settle()
	plot := v[:strings.Index(v, "└")]
	if n := strings.Count(plot, "·") - strings.Count(lineWith(v, "Pareto "), "·"); n < 2 {
		t.Errorf("%d validated points plotted, want the file's 2 off the front:\n%s", n, v)
	}
	if len(h.app.ctx.Bench.Validated) != len(out.Validated) {
		t.Errorf("%d validated configurations read, want %d", len(h.app.ctx.Bench.Validated), len(out.Validated))
	}
}
