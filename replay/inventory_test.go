package replay

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestInventory: files are grouped by format and name pattern as a reader
// opens them, windows counted per kind, and a mix of kinds is warned of
// only when two patterns each hold two files or more.
func TestInventory(t *testing.T) {
	for _, c := range []struct{ name, want string }{
		{"s17_01_sp.csv", "s*_*_sp.csv"},
		{"walk.csv", "walk.csv"},
		{"a[1]*.csv", `a\[*]\*.csv`},
	} {
		if got := namePattern(c.name); got != c.want {
			t.Errorf("namePattern(%q) = %q, want %q", c.name, got, c.want)
		}
	}
	dir := t.TempDir()
	for _, n := range []string{"s17_01_sp.csv", "s17_02_sp.csv", "s17_01_sw.csv", "s17_02_sw.csv", "walk.csv", "notes.txt", "x.labels.csv"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	spec := DefaultHARSpec()
	inv := Survey(spec, []Trace{{Name: dir, Path: dir}}, Options{})
	if inv.Files != 5 || inv.Folders != 1 || len(inv.Kinds) != 3 {
		t.Fatalf("survey: %+v, want 5 files of 3 kinds in 1 folder", inv)
	}
	inv.Count(filepath.Join(dir, "s17_01_sp.csv"))
	inv.Count(filepath.Join(dir, "s17_02_sw.csv"))
	inv.Count(filepath.Join(dir, "walk.csv"))
	want := "read 5 files from 1 folder: 3 windows from 2 files IMU CSV s*_*_sp.csv (1 window), 2 files IMU CSV s*_*_sw.csv (1 window), 1 file IMU CSV walk.csv (1 window)"
	if got := inv.String(); got != want {
		t.Errorf("String:\n%s\nwant\n%s", got, want)
	}
	if m := inv.Mixed(); !strings.Contains(m, "2 IMU CSV s*_*_sp.csv, 2 IMU CSV s*_*_sw.csv") || strings.Contains(m, "walk") {
		t.Errorf("Mixed: %q", m)
	}
	// the pattern a trace carries picks one kind: no mix
	inv = Survey(spec, WithMatch([]Trace{{Name: dir, Path: dir}}, "*_sp.csv"), Options{})
	if inv.Files != 2 || inv.Mixed() != "" || inv.String() != "read 2 files (IMU CSV s*_*_sp.csv) from 1 folder: 0 windows" {
		t.Errorf("with --match: %s (%q)", inv, inv.Mixed())
	}
	// distinct names are not a mix; a file given by name is counted as given
	inv = Survey(spec, []Trace{{Name: "a", Path: filepath.Join(dir, "walk.csv")}, {Name: "b", Path: filepath.Join(dir, "s17_01_sp.csv")}}, Options{})
	if inv.Given != 2 || inv.Folders != 0 || inv.Mixed() != "" || inv.String() != "read 2 files: 0 windows from 1 file IMU CSV walk.csv, 1 file IMU CSV s*_*_sp.csv" {
		t.Errorf("two files: %+v %q %q", inv, inv, inv.Mixed())
	}
	// a path that cannot be read is left to Open
	if inv := Survey(spec, []Trace{{Name: "x", Path: filepath.Join(dir, "missing")}}, Options{}); inv.Files != 0 {
		t.Errorf("missing path: %+v", inv)
	}
}
