package replay

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Issue #19 item 4: a named pipe named like a trace, alone or inside a
// --data folder (or reached through a link), is refused at once instead of
// blocking the run; so is a device node. A pipe that does not match the
// folder's pattern is not looked at.
func TestSpecialFilesAreRefused(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "D/s01_01_sp.csv", labelledCSV(rep("A", 10)...))
	for _, p := range []string{"D/x.csv", "E/notes.txt", "lone.csv"} {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755)
		if err := syscall.Mkfifo(filepath.Join(dir, p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, dir, "E/s02_01_sp.csv", labelledCSV(rep("B", 10)...))
	os.Symlink(filepath.Join(dir, "lone.csv"), filepath.Join(dir, "link.csv"))
	os.Symlink("/dev/zero", filepath.Join(dir, "zero.csv"))
	spec := rawSpec(4, 4, "A", "B")
	for _, tc := range []struct {
		path, want string // want "" for success
	}{
		{"D", "D/x.csv is not a regular file (it is a named pipe)"},
		{"lone.csv", "lone.csv is not a regular file (it is a named pipe)"},
		{"link.csv", "link.csv is not a regular file (it is a named pipe)"},
		{"zero.csv", "is not a regular file (it is a character device)"},
		{"E", ""},
	} {
		start := time.Now()
		err := func() error {
			src, err := Open(filepath.Join(dir, tc.path), spec, Options{})
			if err != nil {
				return err
			}
			defer src.Close()
			dst := make([]float32, spec.InputSize())
			for {
				if _, err := src.Next(dst); err != nil {
					if err.Error() == "EOF" {
						return nil
					}
					return err
				}
			}
		}()
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s took %v", tc.path, d)
		}
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.path, err)
			}
		} else if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %q", tc.path, err, tc.want)
		}
	}
}

// Issue #19 item 7 for features -o: a feature file that is one of the
// traces (a hard link into the --data folder) is refused before any
// trace is read, and the trace is left as it was.
func TestWriteFeaturesRefusesInputs(t *testing.T) {
	dir := t.TempDir()
	trace := writeFile(t, dir, "D/s01_01_sp.csv", labelledCSV(rep("A", 10)...))
	out := filepath.Join(dir, "out")
	os.Mkdir(out, 0o755)
	if err := os.Link(trace, filepath.Join(out, FeaturesXFile)); err != nil {
		t.Skip("no hard links:", err)
	}
	spec := rawSpec(4, 4, "A", "B")
	for _, tc := range []struct {
		out, want string
	}{
		{out, "X.npy is the same file as the input " + trace},
		{filepath.Join(dir, "D"), ""}, // the features beside the traces: allowed
	} {
		_, err := WriteFeatures(spec, []string{filepath.Join(dir, "D")}, tc.out, Options{})
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.out, err)
			}
		} else if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %q", tc.out, err, tc.want)
		}
	}
	if b, _ := os.ReadFile(trace); string(b) != string(labelledCSV(rep("A", 10)...)) {
		t.Errorf("the trace changed")
	}
}
