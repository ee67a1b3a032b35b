package tempdir

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Issue #19 item 11: the temporary folders of killed runs (kagen-nats-,
// kagen-har-) are removed when the next run makes one; those of live
// runs, and other names, stay.
func TestMakeSweepsDeadRuns(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("no true:", err)
	}
	dead := strconv.Itoa(cmd.Process.Pid)
	live := strconv.Itoa(os.Getppid())
	for _, tc := range []struct {
		name  string
		swept bool
	}{
		{"kagen-nats-" + dead + "-123", true},
		{"kagen-nats-" + live + "-123", false},
		{"kagen-nats-485281411", false}, // no pid: maybe another version's, live
		{"kagen-har-" + dead + "-1", false},
		{"kagen-nats-x-1", false},
	} {
		p := filepath.Join(tmp, tc.name)
		os.MkdirAll(filepath.Join(p, "jetstream"), 0o700)
		t.Cleanup(func() {
			if _, err := os.Stat(p); (err != nil) != tc.swept {
				t.Errorf("%s: swept %v, want %v", tc.name, err != nil, tc.swept)
			}
		})
	}
	dir, err := Make("kagen-nats-")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(filepath.Base(dir), "kagen-nats-"+strconv.Itoa(os.Getpid())+"-") || filepath.Dir(dir) != tmp {
		t.Errorf("made %s", dir)
	}
}
