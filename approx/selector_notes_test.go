package approx

import (
	"os"
	"strings"
	"testing"
)

// TestSelectorNotes is the regression test of #19 item 18: an op-type
// selector matching several nodes (Conv=int8+perf-row:2:0) set the nodes
// the knob applies to and silently skipped the others. It still sets
// each node that supports the knob, and now says which it skipped.
func TestSelectorNotes(t *testing.T) {
	a, _ := loadModel(t, "../bench/testdata/conv1d.onnx")
	tests := []struct {
		config string
		text   string   // the configuration parsed
		notes  []string // substrings of the notes, in order; nil: none
	}{
		{"Conv=perf-row:2:0", "/features/features.4/Conv=perf-row:2:0,/features/features.8/Conv=perf-row:2:0",
			[]string{"Conv=perf-row:2:0 set 2 of ", "Conv nodes: /features/features.4/Conv, /features/features.8/Conv; skipped, as the knob does not apply to them: /features/features.0/Conv"}},
		{"*=red:0.5", "/fc/Gemm=red:0.5", []string{"*=red:0.5 set 1 of ", " nodes: /fc/Gemm; skipped"}},
		{"Conv=samp:3:1", "", nil}, // applies to every Conv: no note
		{"/features/features.4/Conv=samp:3:1", "/features/features.4/Conv=samp:3:1", nil},
		{"exact", "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.config, func(t *testing.T) {
			c, notes, err := a.ParseNoted(tc.config)
			if err != nil {
				t.Fatal(err)
			}
			if tc.text != "" && a.Text(c) != tc.text {
				t.Errorf("config %q, want %q", a.Text(c), tc.text)
			}
			if len(notes) != min(1, len(tc.notes)) {
				t.Fatalf("notes %q, want %q", notes, tc.notes)
			}
			for _, n := range tc.notes {
				if !strings.Contains(notes[0], n) {
					t.Errorf("note %q lacks %q", notes[0], n)
				}
			}
		})
	}
}

// TestConfigFileBOM: a configuration file starting with a UTF-8 byte
// order mark is read (#19 item 22).
func TestConfigFileBOM(t *testing.T) {
	a, _ := loadModel(t, "../bench/testdata/conv1d.onnx")
	p := t.TempDir() + "/c.json"
	if err := os.WriteFile(p, []byte("\ufeff{\"nodes\": {\"/fc/Gemm\": \"red:0.5\"}}"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := a.Parse(p)
	if err != nil || a.Text(c) != "/fc/Gemm=red:0.5" {
		t.Fatalf("%q, %v", a.Text(c), err)
	}
}
