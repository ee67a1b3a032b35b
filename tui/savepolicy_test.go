package tui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Issue #19 item 7 in the workbench: a policy path typed onto the model
// or a trace (by any name) is refused before anything is written.
func TestSavePolicyRefusesInputs(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "m.onnx")
	os.WriteFile(model, []byte("model"), 0o644)
	os.Mkdir(filepath.Join(dir, "D"), 0o755)
	trace := filepath.Join(dir, "D", "s17.csv")
	os.WriteFile(trace, []byte("trace"), 0o644)
	os.Symlink(model, filepath.Join(dir, "link.json"))
	inputs := []string{model, filepath.Join(dir, "D")}
	for _, path := range []string{model, filepath.Join(dir, "link.json"), trace, filepath.Join(dir, "D")} {
		if _, _, err := savePolicy(nil, nil, path, inputs); err == nil ||
			!(strings.Contains(err.Error(), "is the same file as the input") || strings.Contains(err.Error(), "is a directory")) {
			t.Errorf("savePolicy(%s) = %v", path, err)
		}
	}
	if b, _ := os.ReadFile(model); string(b) != "model" {
		t.Errorf("the model changed: %q", b)
	}
	if b, _ := os.ReadFile(trace); string(b) != "trace" {
		t.Errorf("the trace changed: %q", b)
	}
}
