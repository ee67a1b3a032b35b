package main

import (
	"encoding/json"
	"testing"
)

// TestEvalDemo evaluates the embedded demos: every task has a result with
// windows, and the activity model is as accurate on its held-out
// executions as models/README.md says it is on the kept-out subjects
// (within a few points: the demo holds three of their executions).
func TestEvalDemo(t *testing.T) {
	code, out, errs := runCmd("eval", "--demo", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rs map[string]struct {
		Accuracy float64 `json:"accuracy"`
		N        int     `json:"n"`
	}
	if err := json.Unmarshal([]byte(out), &rs); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	har, ok := rs["har"]
	if !ok || har.N == 0 {
		t.Fatalf("no har result: %s", out)
	}
	if har.Accuracy < 0.8 {
		t.Fatalf("har demo accuracy %.3f", har.Accuracy)
	}
	for name, r := range rs {
		if r.N == 0 {
			t.Errorf("demo %s evaluated no window", name)
		}
	}
	if code, _, _ := runCmd("eval", "--demo", "models/har.onnx"); code != 2 {
		t.Fatalf("--demo with a model: exit %d, expected a usage error", code)
	}
}
