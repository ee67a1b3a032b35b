package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kagen-ai/kagen/internal/synth"
	"github.com/kagen-ai/kagen/policy"
)

// writeUnlabelledIMU writes synth.WalkIMU's trace without its label
// column: recordings nobody labelled.
func writeUnlabelledIMU(t *testing.T, dir, name string, rows int) string {
	t.Helper()
	var b strings.Builder
	for _, line := range strings.SplitAfter(synth.WalkIMU(rows), "\n") {
		if line == "" {
			continue
		}
		i := strings.LastIndexByte(line, ',')
		b.WriteString(line[:i] + "\n")
	}
	if strings.Contains(b.String(), "label") || strings.Contains(b.String(), "WALKING") {
		t.Fatal("the trace still holds labels")
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestAgreementTunesAndReplaysUnlabelledTraces is the agreement QoS end to
// end: kagen tune, eval and replay --qos agreement on traces without a
// label column, each saying the reference is the exact model's
// predictions, where the labelled QoS finds nothing to score.
func TestAgreementTunesAndReplaysUnlabelledTraces(t *testing.T) {
	dir := t.TempDir()
	var traces []string
	for i, rows := range []int{1500, 1400, 1300, 1200} {
		traces = append(traces, writeUnlabelledIMU(t, dir, "u"+string(rune('a'+i))+".csv", rows))
	}

	// Without --qos agreement the traces cannot be tuned on: no labels.
	tuneArgs := []string{"tune", tinyHAR, "--budget", "1s", "--candidates", "4", "--rounds", "1", "--windows", "40", "--max-loss", "5"}
	code, _, errs := runCmd(append(append(tuneArgs, "-o", filepath.Join(dir, "labels.json")), traces...)...)
	if code == 0 || !strings.Contains(errs, "no label") {
		t.Fatalf("tune with labels on unlabelled traces: exit %d: %s", code, errs)
	}

	par := filepath.Join(dir, "pareto.json")
	code, out, errs := runCmd(append(append(tuneArgs, "--qos", "agreement", "--json", "-o", par), traces...)...)
	if code != 0 {
		t.Fatalf("tune --qos agreement: exit %d: %s", code, errs)
	}
	if !strings.Contains(errs, "agreement with the exact model") {
		t.Errorf("tune does not say what the QoS is: %s", errs)
	}
	var last map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		last = nil
		json.Unmarshal([]byte(line), &last)
	}
	if last["qos"] != "agreement" {
		t.Fatalf("tune --json result: %v", last)
	}
	data, err := os.ReadFile(par)
	if err != nil {
		t.Fatal(err)
	}
	var p policy.Pareto
	if err := json.Unmarshal(data, &p); err != nil {
		t.Fatal(err)
	}
	if p.QoS != "agreement" || p.ExactAccuracy != 1 || len(p.Configs) == 0 || p.Configs[0].Accuracy != 1 {
		t.Fatalf("pareto file: qos %q, exact accuracy %v (want 1: the exact model agrees with itself), %d levels", p.QoS, p.ExactAccuracy, len(p.Configs))
	}
	for _, l := range p.Configs {
		if l.QoSLossPP > 5 {
			t.Errorf("level %d: disagreement %.2f pp above --max-loss 5", l.Level, l.QoSLossPP)
		}
	}

	// eval: the exact model agrees with itself; an approximate
	// configuration is scored against it.
	code, out, errs = runCmd("eval", tinyHAR, "--qos", "agreement", "--json", "--data", dir)
	if code != 0 {
		t.Fatalf("eval --qos agreement: exit %d: %s", code, errs)
	}
	var ev map[string]any
	if err := json.Unmarshal([]byte(out), &ev); err != nil {
		t.Fatal(err)
	}
	if ev["qos"] != "agreement" || ev["accuracy"] != 1.0 || ev["n"].(float64) < 40 {
		t.Fatalf("eval of exact against itself: %v", ev)
	}
	code, out, errs = runCmd("eval", tinyHAR, "--qos", "agreement", "--config", "Conv_0=samp:2:0,Gemm_4=red:0.5", "--data", dir)
	if code != 0 || !strings.Contains(out, "agreement with the exact model") || !strings.Contains(out, "exact \\ predicted") {
		t.Fatalf("eval --qos agreement --config: exit %d: %s%s", code, out, errs)
	}
	if code, _, errs = runCmd("eval", tinyHAR, "--data", dir); code == 0 || !strings.Contains(errs, "no label") {
		t.Fatalf("eval with labels on unlabelled traces: exit %d: %s", code, errs)
	}
	if code, _, errs = runCmd("eval", tinyHAR, "--qos", "labels", "--data", dir); code != 2 || !strings.Contains(errs, "--qos") {
		t.Fatalf("eval --qos labels: exit %d: %s", code, errs)
	}

	// replay of the tuned levels on the same unlabelled traces.
	pol := filepath.Join(dir, "policy.json")
	if code, _, errs := runCmd("policy", "new", "--model", tinyHAR, "--pareto", par, "--controller", "static", "--level", "0", "-o", pol); code != 0 {
		t.Fatalf("policy new: exit %d: %s", code, errs)
	}
	m := replayJSON(t, append([]string{"--model", tinyHAR, "--policy", pol, "--qos", "agreement"}, traces...)...)
	if m["qos"] != "agreement" || m["windows"].(float64) < 40 || m["labelled"] != m["windows"] ||
		m["exact_accuracy"] != 1.0 || m["accuracy"] != 1.0 || m["accuracy_loss_pp"] != 0.0 {
		t.Fatalf("replay --qos agreement of the exact level: %v", m)
	}
	if len(p.Configs) > 1 { // under the race detector the timing noise may leave only exact
		m = replayJSON(t, append([]string{"--model", tinyHAR, "--policy", pol, "--qos", "agreement", "--controller", "static", "--level", "1", "--hop", "16"}, traces...)...)
		if acc := m["accuracy"].(float64); acc <= 0 || acc > 1 || m["exact_accuracy"] != 1.0 || m["labelled"] != m["windows"] {
			t.Fatalf("replay --qos agreement of level 1: %v", m)
		}
	}
	// Without it the same traces replay with nothing to score.
	m = replayJSON(t, append([]string{"--model", tinyHAR, "--policy", pol}, traces...)...)
	if m["qos"] != "accuracy" || m["labelled"] != 0.0 {
		t.Fatalf("replay with labels of unlabelled traces: %v", m)
	}
	code, out, errs = runCmd(append([]string{"replay", "--model", tinyHAR, "--policy", pol, "--qos", "agreement", "--controller", "all"}, traces...)...)
	if code != 0 || !strings.Contains(out, "agreement with the exact run") || !strings.Contains(out, "disagreement pp") {
		t.Fatalf("replay --controller all --qos agreement: exit %d: %s%s", code, out, errs)
	}
}
