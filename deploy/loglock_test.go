package deploy

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/kagen-ai/kagen/internal/atomicfile"
	"github.com/kagen-ai/kagen/policy"
	"github.com/kagen-ai/kagen/replay"
)

// Issue #19 item 10 for replay --log: a log another replay is writing is
// refused, and left as it was; once free it is written, and no lock file
// stays.
func TestReplayLogIsLocked(t *testing.T) {
	dir := t.TempDir()
	tr := imuTrace(t, dir, "a.csv", 300)
	d := tinyDeployment(t, policy.Confidence, "floor", "1")
	logPath := filepath.Join(dir, "log.jsonl")
	os.WriteFile(logPath, []byte("old\n"), 0o644)
	held, err := atomicfile.Lock(logPath)
	if err != nil {
		t.Fatal(err)
	}
	settings := ReplaySettings{LogPath: logPath, Options: Options{Traces: []replay.Trace{tr}, Device: phoneBig(t)}}
	if _, err := d.Replay(context.Background(), settings); !errors.Is(err, atomicfile.ErrLocked) {
		t.Errorf("a locked log: %v", err)
	}
	if b, _ := os.ReadFile(logPath); string(b) != "old\n" {
		t.Errorf("the locked log changed: %q", b)
	}
	held.Unlock()
	if _, err := d.Replay(context.Background(), settings); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".log.jsonl.lock")); err == nil {
		t.Error("the lock file stayed")
	}
}
