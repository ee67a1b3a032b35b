package policy

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestFileKind is the regression test of #19 item 22: a Pareto or profile
// file given as a policy said "unknown field"; Go type names leaked
// (struct { Version *json.RawMessage … }, []policy.Level); a UTF-8 byte
// order mark was refused as "invalid character 'ï'".
func TestFileKind(t *testing.T) {
	pol, err := testPolicy(4, 2, Params{Name: State}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	par, err := json.Marshal(testPareto(4, 2))
	if err != nil {
		t.Fatal(err)
	}
	profile := []byte(`{"version": 3, "model_sha256": "ab", "exact_outputs": [], "labels": [], "nodes": [], "pairs": []}`)
	session := []byte(`{"model": "m.onnx", "model_sha256": "ab", "traces": ["a.csv"], "device": "phone-big", "config": "exact", "controller": {}, "policy_path": "p.json"}`)
	config := []byte(`{"nodes": {"Conv_0": "int8"}}`)
	bom := func(b []byte) []byte { return append([]byte("\xef\xbb\xbf"), b...) }
	tests := []struct {
		name   string
		data   []byte
		pareto bool   // parse as a Pareto file, else as a policy
		kind   string // FileKind
		want   string // error, "" none
	}{
		{"policy", pol, false, KindPolicy, ""},
		{"pareto", par, true, KindPareto, ""},
		{"pareto as policy", par, false, KindPareto, "p.json: this is a pareto file (a Pareto file, made by kagen tune), expected a policy file (made by kagen policy new)"},
		{"profile as policy", profile, false, KindProfile, "this is a profile file (made by kagen profile), expected a policy file"},
		{"session as policy", session, false, KindSession, "this is a session file (saved by the workbench, kagen open), expected a policy file"},
		{"config as policy", config, false, KindConfig, "this is a config file (an approximation configuration, for --config), expected a policy file"},
		{"policy as pareto", pol, true, KindPolicy, "this is a policy file (made by kagen policy new), expected a pareto file (a Pareto file, made by kagen tune)"},
		{"BOM policy accepted", bom(pol), false, KindPolicy, ""},
		{"BOM pareto accepted", bom(par), true, KindPareto, ""},
		{"a list", []byte(`[1, 2]`), false, "", "p.json:1: got a JSON array, expected a JSON object"},
		{"levels a number", []byte(strings.Replace(string(pol), `"levels": [`, `"levels": 5, "x": [`, 1)), false, KindPolicy, "levels: got a JSON number, expected a list"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if k := FileKind(tc.data); k != tc.kind {
				t.Errorf("FileKind %q, want %q", k, tc.kind)
			}
			if tc.pareto {
				_, err = ParsePareto(tc.data, "p.json", ReadOptions{})
			} else {
				_, err = ParsePolicy(tc.data, "p.json", ReadOptions{})
			}
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			for _, leak := range []string{"struct {", "policy.", "Go ", "RawMessage", "float64", "[]"} {
				if strings.Contains(err.Error(), leak) {
					t.Errorf("error shows Go's %q: %v", leak, err)
				}
			}
		})
	}
}
