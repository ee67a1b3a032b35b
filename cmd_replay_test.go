package main

import (
	"bufio"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/internal/synth"
	"github.com/kagen-ai/kagen/policy"
	"github.com/kagen-ai/kagen/report"
)

// writeIMUTrace writes an IMU CSV trace of rows samples at 50 Hz: seated,
// then walking, then turning, with noise, and returns its path.
func writeIMUTrace(t *testing.T, dir, name string, rows int) string {
	t.Helper()
	b := synth.WalkIMU(rows)
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(b), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// replayJSON runs kagen replay --json and decodes its report.
func replayJSON(t *testing.T, args ...string) map[string]any {
	t.Helper()
	code, out, errs := runCmd(append([]string{"replay", "--json"}, args...)...)
	if code != 0 {
		t.Fatalf("replay %v: exit %d: %s", args, code, errs)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return m
}

func TestReplay(t *testing.T) {
	dir := t.TempDir()
	trace := writeIMUTrace(t, dir, "s99_01_sp.csv", 1500)
	trace2 := writeIMUTrace(t, dir, "s99_02_sp.csv", 700)
	tests := []struct {
		name   string
		policy []string
		args   []string
		check  func(t *testing.T, m map[string]any)
	}{
		{"static exact equals the exact run", []string{"--controller", "static", "--level", "0"}, []string{"--cost", "pareto"}, func(t *testing.T, m map[string]any) {
			if m["accuracy"] != m["exact_accuracy"] || m["accuracy_loss_pp"] != 0.0 || m["inference_energy_saving"] != 0.0 || m["switches"] != 0.0 {
				t.Fatalf("%v", m)
			}
		}},
		{"static level 2 saves its speedup", []string{"--controller", "static", "--level", "2"}, []string{"--cost", "pareto"}, func(t *testing.T, m map[string]any) {
			want := 1 - 1/1.3
			if s := m["inference_energy_saving"].(float64); math.Abs(s-want) > 1e-5 {
				t.Fatalf("inference saving %v, want %v", s, want)
			}
			// System-wide: the same joules saved out of inference plus
			// 0.35 W of baseline over one hop (0.64 s) per window.
			n := m["windows"].(float64)
			exactInf := n * 2 * 1.5 * 100e-6
			wantSys := exactInf * want / (exactInf + 0.35*0.64*n)
			if s := m["system_energy_saving"].(float64); math.Abs(s-wantSys) > 1e-6 {
				t.Fatalf("system saving %v, want %v", s, wantSys)
			}
			if m["meter"] != "phone-big (modelled)" {
				t.Fatalf("meter %v", m["meter"])
			}
			lv := m["levels"].([]any)[2].(map[string]any)
			if lv["windows"] != n || lv["fraction"] != 1.0 {
				t.Fatalf("levels %v", m["levels"])
			}
		}},
		{"budget holds the mean energy", []string{"--controller", "budget", "--budget-frac", "0.85"}, []string{"--cost", "pareto", "--hop", "4"}, func(t *testing.T, m map[string]any) {
			b, spent := m["budget_j"].(float64), m["mean_inference_energy_j"].(float64)
			if math.Abs(spent-b)/b > 0.05 {
				t.Fatalf("budget %v J, spent %v J per inference", b, spent)
			}
			if s := m["inference_energy_saving"].(float64); math.Abs(s-0.15) > 0.05 {
				t.Fatalf("saving %v, want about 0.15", s)
			}
		}},
		{"floor keeps to allowed levels", []string{"--controller", "naive", "--factor", "2", "--floor", "0.5"}, []string{"--device-profile", "phone-little"}, func(t *testing.T, m map[string]any) {
			for _, l := range m["levels"].([]any) {
				l := l.(map[string]any)
				if l["level"].(float64) > 1 && l["windows"].(float64) > 0 {
					t.Fatalf("level %v ran above the floor: %v", l["level"], m["levels"])
				}
			}
			if m["meter"] != "phone-little (modelled)" || m["cost"] != "measured" {
				t.Fatalf("meter %v cost %v", m["meter"], m["cost"])
			}
		}},
		{"controller override", []string{"--controller", "naive"}, []string{"--controller", "kalman"}, func(t *testing.T, m map[string]any) {
			if m["controller"] != "kalman" {
				t.Fatalf("controller %v", m["controller"])
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pol := newPolicy(t, t.TempDir(), "p", tt.policy...)
			m := replayJSON(t, append([]string{"--model", tinyHAR, "--policy", pol, "--trace", trace, trace2}, tt.args...)...)
			for _, k := range []string{"accuracy", "exact_accuracy", "accuracy_loss_pp", "inference_energy_saving", "system_energy_saving", "switches", "meter", "levels", "profiles"} {
				if _, ok := m[k]; !ok {
					t.Fatalf("no %q in %v", k, m)
				}
			}
			if m["windows"].(float64) < 10 || m["labelled"] != m["windows"] {
				t.Fatalf("windows %v labelled %v", m["windows"], m["labelled"])
			}
			tt.check(t, m)
		})
	}
}

func TestReplayAllAndLog(t *testing.T) {
	dir := t.TempDir()
	trace := writeIMUTrace(t, dir, "s99_01_sp.csv", 1200)
	pol := newPolicy(t, dir, "p", "--controller", "state", "--floor", "1")
	code, out, errs := runCmd("replay", "--model", tinyHAR, "--policy", pol, "--trace", trace, "--controller", "all", "--budget-frac", "0.9")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, name := range []string{"static level=2", "naive", "state n=3", "kalman", "confidence", "budget", "floor 1pp", "system saving phone-little", "inference share"} {
		if !strings.Contains(out, name) {
			t.Errorf("table lacks %q:\n%s", name, out)
		}
	}
	code, out, errs = runCmd("replay", "--json", "--model", tinyHAR, "--policy", pol, "--trace", trace, "--controller", "all")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var all struct{ Results []map[string]any }
	if err := json.Unmarshal([]byte(out), &all); err != nil || len(all.Results) != 5 {
		t.Fatalf("%v: %d results (no budget without a budget)", err, len(all.Results))
	}

	logPath := filepath.Join(dir, "decisions.jsonl")
	m := replayJSON(t, "--model", tinyHAR, "--policy", pol, "--trace", trace, "--log", logPath)
	f, err := os.Open(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		var d map[string]any
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatalf("line %d: %v", n+1, err)
		}
		if d["index"] != float64(n) || d["rule"] == "" || d["votes"] == nil || d["hard"] == nil {
			t.Fatalf("line %d: %v", n+1, d)
		}
		n++
	}
	if float64(n) != m["windows"] {
		t.Fatalf("%d log lines, %v windows", n, m["windows"])
	}
}

func TestReplayRealtime(t *testing.T) {
	dir := t.TempDir()
	trace := writeIMUTrace(t, dir, "s99_01_sp.csv", 100) // 64-sample windows every 8 samples: 5 windows
	pol := newPolicy(t, dir, "p", "--controller", "naive")
	t0 := time.Now()
	m := replayJSON(t, "--model", tinyHAR, "--policy", pol, "--trace", trace, "--hop", "8", "--realtime")
	n := m["windows"].(float64)
	if el, want := time.Since(t0).Seconds(), (n-1)*8/50; n != 5 || el < want {
		t.Fatalf("%v windows in %.3f s, want 5 in at least %.3f s", n, el, want)
	}
}

func TestReplayErrors(t *testing.T) {
	dir := t.TempDir()
	trace := writeIMUTrace(t, dir, "s99_01_sp.csv", 300)
	pol := newPolicy(t, dir, "p", "--controller", "naive")
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("x_acc,y_acc,z_acc,x_gyro,y_gyro,z_gyro,timestamp\n1,2,3,4,5,6,100\n1,2,x,4,5,6,120\n"), 0o644)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no trace", []string{"--model", tinyHAR, "--policy", pol}, 2, "at least one --trace"},
		{"unknown controller", []string{"--model", tinyHAR, "--policy", pol, "--trace", trace, "--controller", "pid"}, 2, `--controller "pid"`},
		{"log with all", []string{"--model", tinyHAR, "--policy", pol, "--trace", trace, "--controller", "all", "--log", filepath.Join(dir, "l")}, 2, "--log needs one controller"},
		{"device", []string{"--model", tinyHAR, "--policy", pol, "--trace", trace, "--device-profile", "toaster"}, 2, `unknown device profile "toaster"`},
		{"cost", []string{"--model", tinyHAR, "--policy", pol, "--trace", trace, "--cost", "guess"}, 2, `--cost "guess"`},
		{"other model", []string{"--model", "bench/testdata/conv1d.onnx", "--policy", pol, "--trace", trace}, 1, "bound to model"},
		{"bad trace", []string{"--model", tinyHAR, "--policy", pol, "--trace", bad}, 1, "bad.csv:3"},
		{"missing trace", []string{"--model", tinyHAR, "--policy", pol, "--trace", filepath.Join(dir, "none.csv")}, 1, "none.csv"},
		{"budget flag on naive", []string{"--model", tinyHAR, "--policy", pol, "--trace", trace, "--controller", "naive", "--budget-j", "1"}, 2, "--budget-j applies to controller budget"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errs := runCmd(append([]string{"replay"}, tt.args...)...)
			if code != tt.code || !strings.Contains(errs, tt.want) {
				t.Fatalf("exit %d (want %d): %s\nwant %q", code, tt.code, errs, tt.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "l")); !os.IsNotExist(err) {
		t.Fatal("log written")
	}
}

// TestReportReplay runs the report's run-time section on the tiny model:
// one row per controller (the budget one included), the exact accuracy
// shared, time fractions summing to one, and the confidence controller's
// trace with one point per window.
func TestReportReplay(t *testing.T) {
	dir := t.TempDir()
	trace := writeIMUTrace(t, dir, "s99_01_sp.csv", 1200)
	paretoPath := writeTinyPareto(t, dir)
	m, err := engine.LoadFile(tinyHAR, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	par, err := policy.ReadPareto(paretoPath, policy.ReadOptions{ModelSHA256: m.SHA256()})
	if err != nil {
		t.Fatal(err)
	}
	rows, tr, err := report.Replay(context.Background(), report.Options{Floor: 1}, report.Model{Name: "tiny", Path: tinyHAR, Data: []string{trace}}, m, paretoPath, par)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 6 {
		t.Fatalf("%d rows, expected the six controllers", len(rows))
	}
	for _, r := range rows {
		sum := 0.0
		for _, f := range r.TimeAtLevel {
			sum += f
		}
		if math.Abs(sum-1) > 1e-9 || r.ExactAcc != rows[0].ExactAcc || !strings.Contains(r.Controller, "floor 1pp") || r.SystemSaving["phone-little"] == 0 && r.InferenceSaving != 0 {
			t.Errorf("row %+v", r)
		}
	}
	if tr == nil || len(tr.Level) == 0 || len(tr.Level) != len(tr.Confidence) || len(tr.Level) != len(tr.EnergyMJ) || !strings.Contains(tr.Controller, "confidence") {
		t.Fatalf("trace %+v", tr)
	}
}
