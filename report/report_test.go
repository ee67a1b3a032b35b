package report

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kagen-ai/kagen/deploy"
	"github.com/kagen-ai/kagen/internal/synth"
)

// TestGenerateTiny checks that the report code writes the document and its
// figures from a tiny model and trace.
func TestGenerateTiny(t *testing.T) {
	dir := t.TempDir()
	labels := []string{"SEATED", "STANDING_UP", "WALKING", "TURNING", "SITTING_DOWN"}
	trace := filepath.Join(dir, "t.csv")
	os.WriteFile(trace, []byte(synth.SineIMU(2400, 0, 480, labels)), 0o644)
	peers := filepath.Join(dir, "peers.jsonl")
	os.WriteFile(peers, []byte(`{"model":"tiny_har.onnx","kagen_median_us":10,"ort_median_us":8,"ratio":1.25}
{"sgemm":"256x256x256","m":256,"n":256,"k":256,"kagen_gflops":70,"ort_gflops":68}
`), 0o644)
	zoo := filepath.Join(dir, "zoo.jsonl")
	os.WriteFile(zoo, []byte(zooJSON), 0o644)
	out := filepath.Join(dir, "docs")
	if d := os.Getenv("REPORT_OUT"); d != "" {
		out = d
	}
	err := Generate(context.Background(), Options{Out: out, Quick: true, Budget: 50 * time.Millisecond, MaxLossPP: 100, PeersJSON: peers, ZooJSON: zoo,
		Models:  []Model{{Name: "tiny HAR", Path: "../replay/testdata/tiny_har.onnx", Data: []string{trace}, Held: "synthetic"}},
		RunTime: true, Floor: 1, Cost: deploy.CostPareto})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(out, "EVALUATION.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Setup", "## Engine", "| tiny HAR |", "1.25", "256x256x256", ZooBegin, "| a | pass | 2.00 | 2.50 |", "## Knobs", "## Tuning", "## Run time",
		"Replayed as fast as possible", "| static level=", "| confidence less_frac=0.5 more_frac=0.75 factor=1 + floor 1pp", "| budget ", "tiny_HAR_trace.png", "## Limits", "figures/pareto_speedup.png"} {
		if !strings.Contains(string(doc), want) {
			t.Errorf("the document lacks %q", want)
		}
	}
	for _, f := range []string{"pareto_speedup.png", "pareto_energy.png", "predicted_vs_measured.png"} {
		st, err := os.Stat(filepath.Join(out, "figures", f))
		if err != nil || st.Size() < 1000 {
			t.Errorf("figure %s: %v", f, err)
		}
	}
}
