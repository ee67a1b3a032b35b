package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kagen-ai/kagen/internal/synth"
	"github.com/kagen-ai/kagen/policy"
)

const tinyHAR = "replay/testdata/tiny_har.onnx"

// runCmd runs kagen in-process and returns the exit status and output.
func runCmd(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// tinyLevels are real configurations of tiny_har.onnx with made-up
// statistics: speedup, loss in pp.
var tinyLevels = []struct {
	config        string
	speedup, loss float64
}{
	{"exact", 1, 0},
	{"Conv_0=samp:3:0", 1.15, 0.4},
	{"Conv_0=samp:2:0", 1.3, 0.9},
	{"Conv_0=samp:2:0,Gemm_4=red:0.5", 1.35, 2},
}

// writeTinyPareto writes a Pareto file for tiny_har.onnx and returns its
// path. Level i's time is 100/speedup us and its energy 2 W x 1.5 x time.
func writeTinyPareto(t *testing.T, dir string) string {
	t.Helper()
	spec := synth.ParetoSpec{SHA256: "e4024b86d27dbf3c6067d23a9c2b48cde3ce712ed17c871ae5ed5a13ff5b6452",
		Classes: []string{"SEATED", "STANDING_UP", "WALKING", "TURNING", "SITTING_DOWN"}, ExactAccuracy: 0.5,
		Correct: 0.6, Wrong: 0.4, CorrectN: 50, WrongN: 50}
	for _, l := range tinyLevels {
		spec.Levels = append(spec.Levels, synth.Level{Config: l.config, Speedup: l.speedup, LossPP: l.loss})
	}
	p := synth.Pareto(spec)
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "pareto.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// newPolicy runs `kagen policy new` for tiny_har.onnx and returns the
// policy's path.
func newPolicy(t *testing.T, dir, name string, extra ...string) string {
	t.Helper()
	out := filepath.Join(dir, name+".json")
	args := append([]string{"policy", "new", "--model", tinyHAR, "--pareto", writeTinyPareto(t, dir), "-o", out}, extra...)
	if code, _, errs := runCmd(args...); code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, errs)
	}
	return out
}

func TestPolicyNewValidate(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name  string
		args  []string
		check func(p *policy.Policy) error
	}{
		{"static", []string{"--controller", "static", "--level", "2"}, func(p *policy.Policy) error {
			if p.Controller.Static.Level != 2 {
				return fmt.Errorf("level %d", p.Controller.Static.Level)
			}
			return nil
		}},
		{"naive", []string{"--controller", "naive", "--factor", "2"}, func(p *policy.Policy) error {
			if p.Controller.Naive.Factor != 2 || p.Controller.Floor != nil {
				return fmt.Errorf("%+v", p.Controller)
			}
			return nil
		}},
		{"state", []string{"--controller", "state", "--n", "4", "--floor", "1"}, func(p *policy.Policy) error {
			if p.Controller.State.N != 4 || p.Controller.State.Votes != 2 || p.Controller.Floor.LossPP != 1 || p.Controller.Floor.HardFrac != policy.DefaultHardFrac {
				return fmt.Errorf("%+v %+v", p.Controller.State, p.Controller.Floor)
			}
			return nil
		}},
		{"kalman", []string{"--controller", "kalman", "--kalman-q", "0.2"}, func(p *policy.Policy) error {
			if k := p.Controller.Kalman; k.Q != 0.2 || k.R != 1 || k.P0 != 100 || k.More != 0.95 {
				return fmt.Errorf("%+v", k)
			}
			return nil
		}},
		{"confidence", []string{"--controller", "confidence"}, func(p *policy.Policy) error {
			if c := p.Controller.Confidence; c.LessFrac != 0.5 || c.MoreFrac != 0.75 {
				return fmt.Errorf("%+v", c)
			}
			return nil
		}},
		{"budget", []string{"--controller", "budget", "--budget-frac", "0.8", "--seed", "3", "--floor", "1"}, func(p *policy.Policy) error {
			if b := p.Controller.Budget; math.Abs(b.EnergyJ-0.8*300e-6) > 1e-12 || b.Seed != 3 || b.Mix != policy.MixCost {
				return fmt.Errorf("%+v", b)
			}
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := newPolicy(t, dir, tt.name, tt.args...)
			p, err := policy.ReadPolicy(path, policy.ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if err := tt.check(p); err != nil {
				t.Fatal(err)
			}
			code, out, errs := runCmd("policy", "validate", path, "--model", tinyHAR)
			if code != 0 || !strings.Contains(out, "valid policy version 1") || !strings.Contains(out, "Conv_0=samp:2:0,Gemm_4=red:0.5") {
				t.Fatalf("validate: exit %d\n%s%s", code, out, errs)
			}
		})
	}
}

func TestPolicyCommandErrors(t *testing.T) {
	dir := t.TempDir()
	pareto := writeTinyPareto(t, dir)
	good := newPolicy(t, dir, "good", "--controller", "naive")
	data, _ := os.ReadFile(good)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o644)
		return p
	}
	truncated := write("truncated.json", data[:len(data)/3])
	edited := write("edited.json", bytes.Replace(data, []byte(`"speedup": 1.3`), []byte(`"speedup": 1.9`), 1))
	newer := write("newer.json", bytes.Replace(data, []byte(`"version": 1`), []byte(`"version": 7`), 1))
	badPareto := write("badpareto.json", bytes.Replace(mustRead(t, pareto), []byte(`"Conv_0=samp:3:0"`), []byte(`"Conv_0=samp:5:0"`), 1))
	otherModel := write("othermodel.json", bytes.Replace(mustRead(t, pareto), []byte(`e4024b86`), []byte(`f4024b86`), 1))
	out := filepath.Join(dir, "out.json")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no subcommand", []string{"policy"}, 2, "expected new or validate"},
		{"unknown subcommand", []string{"policy", "show"}, 2, `unknown policy command "show"`},
		{"new without flags", []string{"policy", "new"}, 2, "expected --model, --pareto, --controller and -o"},
		{"unknown controller", []string{"policy", "new", "--model", tinyHAR, "--pareto", pareto, "--controller", "pid", "-o", out}, 2, `--controller "pid"`},
		{"flag of another controller", []string{"policy", "new", "--model", tinyHAR, "--pareto", pareto, "--controller", "naive", "--votes", "3", "-o", out}, 2, "--votes applies to controller state, not naive"},
		{"budget without budget", []string{"policy", "new", "--model", tinyHAR, "--pareto", pareto, "--controller", "budget", "-o", out}, 2, "exactly one of --budget-j"},
		{"two budgets", []string{"policy", "new", "--model", tinyHAR, "--pareto", pareto, "--controller", "budget", "--budget-j", "1", "--budget-us", "50", "-o", out}, 2, "exactly one of --budget-j"},
		{"bad factor", []string{"policy", "new", "--model", tinyHAR, "--pareto", pareto, "--controller", "state", "--factor", "3", "-o", out}, 2, `invalid value "3" for flag --factor: got 3, expected 1..2`},
		{"static level", []string{"policy", "new", "--model", tinyHAR, "--pareto", pareto, "--controller", "static", "--level", "9", "-o", out}, 2, "--level got 9, expected 0..3"},
		{"config not of the model", []string{"policy", "new", "--model", tinyHAR, "--pareto", badPareto, "--controller", "naive", "-o", out}, 1, "levels[1].config"},
		{"pareto for another model", []string{"policy", "new", "--model", tinyHAR, "--pareto", otherModel, "--controller", "naive", "-o", out}, 1, "othermodel.json: model_sha256: the file is bound to model f4024b86"},
		{"validate truncated", []string{"policy", "validate", truncated}, 1, "truncated.json:"},
		{"validate edited", []string{"policy", "validate", edited}, 1, "edited.json: checksum: file says sha256:"},
		{"validate newer", []string{"policy", "validate", newer}, 1, "schema version 7 is newer than this kagen reads (1)"},
		{"validate missing", []string{"policy", "validate", filepath.Join(dir, "none.json")}, 1, "none.json"},
		{"validate two files", []string{"policy", "validate", good, good}, 2, "expected one policy file"},
		{"validate other model", []string{"policy", "validate", good, "--model", "bench/testdata/conv1d.onnx"}, 1, "the file is bound to model e4024b86d27dbf3c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errs := runCmd(tt.args...)
			if code != tt.code || !strings.Contains(errs, tt.want) {
				t.Fatalf("exit %d (want %d), stderr:\n%s\nwant it to contain %q", code, tt.code, errs, tt.want)
			}
		})
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatal("a failed policy new left a file")
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
