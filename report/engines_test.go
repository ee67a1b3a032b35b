package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKeepEnginesSection(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "EVALUATION.md")
	section := EnginesBegin + "\n## Why kagen has its own ONNX engine\n\n| a | b |\n" + EnginesEnd
	cases := []struct {
		prev, want string
	}{
		{"", "# new\n"},                                              // no previous file
		{"# old\n\ntext\n", "# new\n"},                               // no section
		{"# old\n\n" + EnginesBegin + "\nhalf\n", "# new\n"},         // no end marker
		{"# old\n\n" + section + "\n", "# new\n\n" + section + "\n"}, // kept, at the end
	}
	for i, tc := range cases {
		os.Remove(path)
		if tc.prev != "" {
			if err := os.WriteFile(path, []byte(tc.prev), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if got := keepEnginesSection("# new\n", path); got != tc.want {
			t.Errorf("case %d: %q, want %q", i, got, tc.want)
		}
	}
}

// bench/cmd/engines-table writes the section between the same markers (it
// is another module, which does not import this package).
func TestEnginesMarkersMatchBench(t *testing.T) {
	b, err := os.ReadFile("../bench/cmd/engines-table/main.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{EnginesBegin, EnginesEnd} {
		if !strings.Contains(string(b), `"`+m+`"`) {
			t.Errorf("bench/cmd/engines-table/main.go lacks the marker %q", m)
		}
	}
}
