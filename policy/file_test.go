package policy

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestPolicyRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			c := Params{Name: name, Floor: &FloorParams{LossPP: 1, HardFrac: 0.5}}
			if name == Budget {
				c.Budget = &BudgetParams{EnergyJ: 0.0008, Seed: 7}
			}
			p := testPolicy(5, 3, c)
			path := filepath.Join(dir, name+".json")
			if err := WritePolicy(path, p); err != nil {
				t.Fatal(err)
			}
			q, err := ReadPolicy(path, ReadOptions{ModelSHA256: strings.ToUpper(testSHA)})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(p, q) {
				t.Fatalf("read back differs:\n%+v\n%+v", p, q)
			}
			if _, err := NewController(q); err != nil {
				t.Fatal(err)
			}
		})
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

func TestWritePolicyErrors(t *testing.T) {
	p := testPolicy(3, 2, Params{Name: Naive})
	if err := WritePolicy(filepath.Join(t.TempDir(), "missing", "p.json"), p); err == nil {
		t.Fatal("writing into a missing directory succeeded")
	}
	bad := testPolicy(3, 2, Params{Name: Naive})
	bad.Levels[1].Speedup = -1
	path := filepath.Join(t.TempDir(), "p.json")
	if err := WritePolicy(path, bad); err == nil || !strings.Contains(err.Error(), "levels[1].speedup") {
		t.Fatalf("invalid policy written, err %v", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatal("an invalid policy left a file")
	}
}

// sealed returns a valid policy file's bytes after edit changed the
// decoded JSON object (the checksum is recomputed, so only the validation
// can refuse it).
func sealed(t *testing.T, edit func(m map[string]any)) []byte {
	t.Helper()
	p := testPolicy(4, 2, Params{Name: State, Floor: &FloorParams{LossPP: 0.5, HardFrac: 0.5}})
	data, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	delete(m, "checksum")
	raw, _ := json.Marshal(m)
	var q Policy
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	if err := dec.Decode(&q); err != nil {
		// Not decodable into a Policy: return the raw edit unsealed.
		return raw
	}
	sum, err := q.checksum()
	if err != nil {
		t.Fatal(err)
	}
	m["checksum"] = sum
	out, _ := json.Marshal(m)
	return out
}

func TestPolicyRefused(t *testing.T) {
	good, err := testPolicy(4, 2, Params{Name: State, Floor: &FloorParams{LossPP: 0.5, HardFrac: 0.5}}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	level := func(i int, m map[string]any) map[string]any {
		return m["levels"].([]any)[i].(map[string]any)
	}
	tests := []struct {
		name string
		data []byte
		opts ReadOptions
		want string
		is   error
	}{
		{"empty", nil, ReadOptions{}, "empty file", nil},
		{"truncated", good[:len(good)/2], ReadOptions{}, "truncated", nil},
		{"not json", []byte("policy: yes\n"), ReadOptions{}, "p.json:1: invalid character", nil},
		{"trailing", append(append([]byte{}, good...), []byte(`{"x":1}`)...), ReadOptions{}, "unexpected data after", nil},
		{"newer", []byte(`{"version": 2, "something": "new"}`), ReadOptions{}, "schema version 2 is newer", ErrNewerVersion},
		{"no version", []byte(`{"levels": []}`), ReadOptions{}, "version: missing", nil},
		{"string version", []byte(`{"version": "1"}`), ReadOptions{}, "version: got \"1\"", nil},
		{"other model", good, ReadOptions{ModelSHA256: strings.Repeat("0", 64)}, "bound to model e4024b86d27dbf3c", ErrModelMismatch},
		{"edited", []byte(strings.Replace(string(good), `"speedup": 1.25`, `"speedup": 1.35`, 1)), ReadOptions{}, "checksum: file says sha256:", ErrChecksum},
		{"unknown field", sealed(t, func(m map[string]any) { m["extra"] = 1 }), ReadOptions{}, `unknown field "extra"`, nil},
		{"type", sealed(t, func(m map[string]any) { level(1, m)["speedup"] = "fast" }), ReadOptions{}, "levels.speedup: got a JSON string, expected a number", nil},
		{"level order", sealed(t, func(m map[string]any) { level(2, m)["level"] = 3 }), ReadOptions{}, "levels[2].level: got 3, expected 2", nil},
		{"level 0 not exact", sealed(t, func(m map[string]any) { level(0, m)["config"] = "Conv=samp:2:0" }), ReadOptions{}, "levels[0].config", nil},
		{"speedup", sealed(t, func(m map[string]any) { level(1, m)["speedup"] = 0 }), ReadOptions{}, "levels[1].speedup: got 0, expected 0 < speedup", nil},
		{"accuracy", sealed(t, func(m map[string]any) { level(3, m)["accuracy"] = 91 }), ReadOptions{}, "levels[3].accuracy: got 91, expected a fraction", nil},
		{"confidence", sealed(t, func(m map[string]any) {
			level(1, m)["confidence"].(map[string]any)["wrong_mean"] = []any{0.5, 1.5}
		}), ReadOptions{}, "levels[1].confidence.wrong_mean[1]: got 1.5", nil},
		{"confidence len", sealed(t, func(m map[string]any) {
			level(1, m)["confidence"].(map[string]any)["correct_n"] = []any{3}
		}), ReadOptions{}, "levels[1].confidence.correct_n: got 1 entries, expected one per class (2)", nil},
		{"dup class", sealed(t, func(m map[string]any) { m["classes"] = []any{"a", "a"} }), ReadOptions{}, `classes[1]: got "a"`, nil},
		{"sha", sealed(t, func(m map[string]any) { m["model_sha256"] = "abc" }), ReadOptions{}, "model_sha256: got \"abc\"", nil},
		{"objective", sealed(t, func(m map[string]any) { m["objective"] = "speed" }), ReadOptions{}, "objective: got \"speed\"", nil},
		{"controller", sealed(t, func(m map[string]any) { m["controller"].(map[string]any)["name"] = "pid" }), ReadOptions{}, "controller.name: got \"pid\"", nil},
		{"controller params", sealed(t, func(m map[string]any) {
			m["controller"].(map[string]any)["name"] = "kalman"
			delete(m["controller"].(map[string]any), "state")
		}), ReadOptions{}, "controller.kalman: missing", nil},
		{"state n", sealed(t, func(m map[string]any) {
			m["controller"].(map[string]any)["state"].(map[string]any)["n"] = 1
		}), ReadOptions{}, "controller.state.n: got 1, expected 2..64", nil},
		{"factor", sealed(t, func(m map[string]any) {
			m["controller"].(map[string]any)["state"].(map[string]any)["factor"] = 3
		}), ReadOptions{}, "controller.state.factor: got 3, expected 1..2", nil},
		{"floor", sealed(t, func(m map[string]any) {
			m["controller"].(map[string]any)["floor"].(map[string]any)["loss_pp"] = -1
		}), ReadOptions{}, "controller.floor.loss_pp: got -1", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePolicy(tt.data, "p.json", tt.opts)
			if err == nil {
				t.Fatalf("accepted: %+v", p)
			}
			if p != nil {
				t.Error("a refused file returned a policy")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to contain %q", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "p.json") {
				t.Errorf("error %q does not name the file", err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
		})
	}
}

func TestPolicyMissingChecksum(t *testing.T) {
	p := testPolicy(2, 2, Params{Name: Naive})
	p.Version = PolicyVersion
	data, _ := json.Marshal(p)
	_, err := ParsePolicy(data, "p.json", ReadOptions{})
	if err == nil || !strings.Contains(err.Error(), "checksum: missing") {
		t.Fatalf("err %v", err)
	}
}

// TestPolicyEveryTruncation checks that no prefix of a policy file is
// accepted.
func TestPolicyEveryTruncation(t *testing.T) {
	data, err := testPolicy(3, 2, Params{Name: Confidence}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(data)-1; n++ {
		if p, err := ParsePolicy(data[:n], "p.json", ReadOptions{}); err == nil {
			t.Fatalf("prefix of %d bytes accepted: %+v", n, p)
		}
	}
}

// TestPolicyEveryByteFlip checks that changing any one byte either makes
// the file refused or leaves its content unchanged (a change of white
// space).
func TestPolicyEveryByteFlip(t *testing.T) {
	orig := testPolicy(3, 2, Params{Name: Kalman, Floor: &FloorParams{LossPP: 1, HardFrac: 0.5}})
	data, err := orig.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for i := range data {
		for _, x := range []byte{0x01, 0x20, 0x80} {
			mod := append([]byte(nil), data...)
			mod[i] ^= x
			p, err := ParsePolicy(mod, "p.json", ReadOptions{})
			if err == nil && !reflect.DeepEqual(p, orig) {
				t.Fatalf("byte %d ^ %#x accepted with different content", i, x)
			}
		}
	}
}

func TestParetoRead(t *testing.T) {
	p := testPareto(4, 3)
	data, _ := json.MarshalIndent(p, "", "  ")
	path := filepath.Join(t.TempDir(), "pareto.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	q, err := ReadPareto(path, ReadOptions{ModelSHA256: testSHA})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p, q) {
		t.Fatalf("read back differs")
	}
	tests := []struct {
		name string
		edit func(p *Pareto)
		opts ReadOptions
		want string
	}{
		{"other model", func(p *Pareto) {}, ReadOptions{ModelSHA256: strings.Repeat("a", 64)}, "bound to model"},
		{"no configs", func(p *Pareto) { p.Configs = nil }, ReadOptions{}, "configs: got 0 levels"},
		{"level 0 speedup", func(p *Pareto) { p.Configs[0].Speedup = 1.1 }, ReadOptions{}, "configs[0].speedup: got 1.1, expected 1"},
		{"level 0 loss", func(p *Pareto) { p.Configs[0].QoSLossPP = 0.2 }, ReadOptions{}, "configs[0].qos_loss_pp"},
		{"energy", func(p *Pareto) { p.Configs[2].EnergyJ = -1 }, ReadOptions{}, "configs[2].energy_j: got -1"},
		{"calib negative", func(p *Pareto) { p.Configs[1].Calib = &PairedCounts{Both: 3, Lost: -1} }, ReadOptions{}, "configs[1].calib.lost: got -1"},
		{"calib empty", func(p *Pareto) { p.Configs[1].Calib = &PairedCounts{} }, ReadOptions{}, "configs[1].calib: counts no windows"},
		{"calib exact lost", func(p *Pareto) { p.Configs[0].Calib = &PairedCounts{Both: 3, Lost: 1} }, ReadOptions{}, "configs[0].calib: level 0 lost 1"},
		{"loss", func(p *Pareto) { p.Configs[2].QoSLossPP = 200 }, ReadOptions{}, "configs[2].qos_loss_pp: got 200"},
		{"mae", func(p *Pareto) { p.PredictorMAEPP = -2 }, ReadOptions{}, "predictor_mae_pp"},
		{"classes", func(p *Pareto) { p.Classes = nil }, ReadOptions{}, "classes: got 0 classes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := testPareto(4, 3)
			tt.edit(q)
			data, _ := json.Marshal(q)
			_, err := ParsePareto(data, "pareto.json", tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "pareto.json: ") {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
	for n := 0; n < len(data)-1; n += 7 {
		if _, err := ParsePareto(data[:n], "pareto.json", ReadOptions{}); err == nil {
			t.Fatalf("prefix of %d bytes accepted", n)
		}
	}
	if _, err := ReadPareto(filepath.Join(t.TempDir(), "none.json"), ReadOptions{}); err == nil || !strings.Contains(err.Error(), "none.json") {
		t.Fatalf("missing file: %v", err)
	}
}

func TestFromParetoCopies(t *testing.T) {
	par := testPareto(3, 2)
	p, err := FromPareto(par, Params{Name: Static, Static: &StaticParams{Level: 2}})
	if err != nil {
		t.Fatal(err)
	}
	par.Configs[1].Confidence.CorrectMean[0] = 0.1
	par.Classes[0] = "changed"
	if p.Levels[1].Confidence.CorrectMean[0] == 0.1 || p.Classes[0] == "changed" {
		t.Fatal("the policy shares slices with the Pareto file")
	}
	if _, err := FromPareto(par, Params{Name: Static, Static: &StaticParams{Level: 3}}); err == nil || !strings.Contains(err.Error(), "controller.static.level: got 3, expected 0..2") {
		t.Fatalf("static level out of range: %v", err)
	}
	if _, err := FromPareto(par, Params{Name: Budget}); err == nil || !strings.Contains(err.Error(), "exactly one of energy_j and latency_us") {
		t.Fatalf("budget without a budget: %v", err)
	}
}
