package atomicfile

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestWriteReplacesAndLeavesNoTemporary(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.json")
	for _, data := range []string{"first", "second, longer"} {
		if err := Write(p, []byte(data)); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(p)
		if err != nil || string(got) != data {
			t.Fatalf("read %q, %v; want %q", got, err, data)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the file", len(entries))
	}
}

// Issue #19 item 6: -o through a symbolic link writes its target (the
// link stays a link); device nodes, pipes and folders are refused and left
// as they were.
func TestOutputKinds(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal("mkfifo:", err)
	}
	target := filepath.Join(dir, "target.json")
	os.WriteFile(target, []byte("old"), 0o644)
	link := filepath.Join(dir, "link.json")
	os.Symlink("target.json", link) // relative, as ln -s makes them
	dangling := filepath.Join(dir, "dangling.json")
	os.Symlink(filepath.Join(dir, "new.json"), dangling)
	toFifo := filepath.Join(dir, "tofifo")
	os.Symlink(fifo, toFifo)
	loop := filepath.Join(dir, "loop")
	os.Symlink(loop, loop)
	for _, tc := range []struct {
		name, path, want string // want: "" for success, else a part of the error
		written          string // the file that then holds the data
	}{
		{"symlink to a file", link, "", target},
		{"dangling symlink", dangling, "", filepath.Join(dir, "new.json")},
		{"folder", dir, "is a directory", ""},
		{"pipe", fifo, "a named pipe, not a regular file", ""},
		{"symlink to a pipe", toFifo, "a link to", ""},
		{"missing folder", filepath.Join(dir, "missing", "out"), "output directory", ""},
		{"empty", "", "empty output path", ""},
		{"device", "/dev/null", "a character device, not a regular file", ""},
		{"stdout", "/dev/stdout", "not a regular file", ""},
		{"symlink loop", loop, "symbolic links", ""},
	} {
		err := Write(tc.path, []byte("new"))
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
				continue
			}
			if got, _ := os.ReadFile(tc.written); string(got) != "new" {
				t.Errorf("%s: %s holds %q", tc.name, tc.written, got)
			}
			if st, err := os.Lstat(tc.path); err != nil || st.Mode()&os.ModeSymlink == 0 {
				t.Errorf("%s: the link was replaced", tc.name)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Write(%q) = %v, want an error saying %q", tc.name, tc.path, err, tc.want)
		}
	}
	if st, err := os.Lstat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the pipe was replaced: %v %v", st, err)
	}
	if st, err := os.Lstat("/dev/null"); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		t.Errorf("/dev/null was replaced: %v %v", st, err)
	}
}

// Issue #19 item 7: an output that is an input, by any name, is refused
// naming both; outputs beside the inputs are fine.
func TestCheckOutputRefusesInputs(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	model := filepath.Join(dir, "m.onnx")
	os.WriteFile(model, []byte("model"), 0o644)
	data := filepath.Join(dir, "D")
	os.MkdirAll(filepath.Join(data, "sub"), 0o755)
	trace := filepath.Join(data, "sub", "s17.csv")
	os.WriteFile(trace, []byte("t"), 0o644)
	os.Symlink(model, filepath.Join(dir, "link.onnx"))
	os.Link(model, filepath.Join(dir, "hard.onnx"))
	os.Link(trace, filepath.Join(dir, "hardtrace.csv"))
	inputs := []string{model, data}
	for _, tc := range []struct {
		out, want string
	}{
		{model, "is the same file as the input " + model},
		{"m.onnx", "is the same file as the input " + model},
		{"./D/../m.onnx", "is the same file as the input"},
		{"link.onnx", "is the same file as the input"},
		{"hard.onnx", "is the same file as the input"},
		{"hardtrace.csv", "is the same file as the input " + trace + " (in " + data + ")"},
		{"D/sub/s17.csv", "is the same file as the input"},
		{"pareto.json", ""},
		{"D/pareto.json", ""},
	} {
		err := CheckOutput(tc.out, inputs...)
		if tc.want == "" {
			if err != nil {
				t.Errorf("CheckOutput(%q): %v", tc.out, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.out) {
			t.Errorf("CheckOutput(%q) = %v, want an error naming it and saying %q", tc.out, err, tc.want)
		}
	}
	if got, _ := os.ReadFile(model); string(got) != "model" {
		t.Errorf("the model changed: %q", got)
	}
}

// Issue #19 item 9: bad output paths are found by CheckOutput, before long
// work, and leave nothing behind.
func TestCheckOutputPaths(t *testing.T) {
	dir := t.TempDir()
	ro := filepath.Join(dir, "ro")
	os.Mkdir(ro, 0o555)
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o644)
	cases := []struct{ path, want string }{
		{"", "empty output path"},
		{dir, "is a directory"},
		{filepath.Join(dir, "missing", "x.json"), "the output directory"},
		{filepath.Join(file, "x.json"), "not a directory"},
		{"/dev/full", "not a regular file"},
	}
	if os.Geteuid() != 0 { // root writes anywhere
		cases = append(cases, struct{ path, want string }{filepath.Join(ro, "x.json"), "cannot write there"})
	}
	for _, tc := range cases {
		if err := CheckOutput(tc.path); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("CheckOutput(%q) = %v, want an error saying %q", tc.path, err, tc.want)
		}
	}
	if err := CheckOutput(filepath.Join(dir, "ok.json")); err != nil {
		t.Error(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("the checks left files behind: %v", entries)
	}
}

// Issue #19 item 12: an existing file keeps its mode, a new one is 0644,
// whatever the umask.
func TestModes(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	dir := t.TempDir()
	for _, tc := range []struct {
		name     string
		existing os.FileMode // 0: none
		want     os.FileMode
	}{
		{"new", 0, 0o644},
		{"0644 kept", 0o644, 0o644},
		{"0600 kept", 0o600, 0o600},
		{"0640 kept", 0o640, 0o640},
		{"0755 kept", 0o755, 0o755},
	} {
		p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_"))
		if tc.existing != 0 {
			os.WriteFile(p, []byte("old"), 0o600)
			os.Chmod(p, tc.existing)
		}
		if err := Write(p, []byte("new")); err != nil {
			t.Fatal(err)
		}
		if st, _ := os.Stat(p); st.Mode().Perm() != tc.want {
			t.Errorf("%s: mode %v, want %v", tc.name, st.Mode().Perm(), tc.want)
		}
	}
}

// Issue #19 item 11: the temporary files of dead writers are removed on
// the next write; those of live ones, and files that only look alike,
// stay.
func TestStaleTemporariesAreSwept(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("no true:", err)
	}
	dead := cmd.Process.Pid // reaped: no longer runs
	old := time.Now().Add(-2 * time.Hour)
	for _, tc := range []struct {
		name  string
		age   time.Time
		swept bool
	}{
		{".out.json.tmp" + strconv.Itoa(dead) + "-123", time.Now(), true},
		{".out.json.tmp" + strconv.Itoa(os.Getppid()) + "-123", time.Now(), false}, // a live writer
		{".out.json.tmp987654", old, true},                                         // before names held a pid
		{".out.json.tmp987655", time.Now(), false},                                 // maybe still written
		{".out.json.tmpnotes", old, false},                                         // not kagen's
		{".other.json.tmp" + strconv.Itoa(dead) + "-1", time.Now(), false},         // another file's
	} {
		p := filepath.Join(dir, tc.name)
		os.WriteFile(p, []byte("partial"), 0o600)
		os.Chtimes(p, tc.age, tc.age)
		t.Cleanup(func() {
			if _, err := os.Stat(p); (err == nil) == tc.swept {
				t.Errorf("%s: swept %v, want %v", tc.name, err != nil, tc.swept)
			}
		})
	}
	if err := Write(filepath.Join(dir, "out.json"), []byte("x")); err != nil {
		t.Fatal(err)
	}
}

// Issue #19 item 10: a second writer of one output is told that the first
// is writing; once the first unlocks, or dies, the lock is taken.
func TestLock(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "pareto.json")
	link := filepath.Join(dir, "link.json")
	os.Symlink(out, link)
	first, err := Lock(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{out, link} {
		_, err := Lock(p)
		if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "pid "+strconv.Itoa(os.Getpid())) {
			t.Errorf("a second Lock(%s) = %v, want ErrLocked naming the holder", p, err)
		}
	}
	first.Unlock()
	first.Unlock()
	if _, err := os.Stat(filepath.Join(dir, ".pareto.json.lock")); err == nil {
		t.Error("Unlock left the lock file")
	}
	// A lock file left by a killed process (no flock held) is taken over.
	os.WriteFile(filepath.Join(dir, ".pareto.json.lock"), []byte("999999\n"), 0o644)
	again, err := Lock(out)
	if err != nil {
		t.Fatalf("a stale lock file: %v", err)
	}
	again.Unlock()
}

// Issue #19 items 6 and 12 for logs that grow: Append follows links,
// refuses pipes and devices without blocking, creates 0644 and keeps an
// existing file's mode and bytes.
func TestAppend(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	syscall.Mkfifo(fifo, 0o644)
	kept := filepath.Join(dir, "kept.jsonl")
	os.WriteFile(kept, []byte("a\n"), 0o600)
	link := filepath.Join(dir, "link.jsonl")
	os.Symlink("kept.jsonl", link)
	for _, tc := range []struct {
		path, want string // want: the file's content after appending "b\n", or an error's part
		mode       os.FileMode
		fails      bool
	}{
		{filepath.Join(dir, "new.jsonl"), "b\n", 0o644, false},
		{link, "a\nb\n", 0o600, false},
		{fifo, "a named pipe, not a regular file", 0, true},
		{"/dev/null", "a character device, not a regular file", 0, true},
		{dir, "is a directory", 0, true},
	} {
		f, err := Append(tc.path)
		if tc.fails {
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Append(%s) = %v, want an error saying %q", tc.path, err, tc.want)
			}
			if f != nil {
				f.Close()
			}
			continue
		}
		if err != nil {
			t.Fatalf("Append(%s): %v", tc.path, err)
		}
		f.WriteString("b\n")
		f.Close()
		got, _ := os.ReadFile(tc.path)
		st, _ := os.Stat(tc.path)
		if string(got) != tc.want || st.Mode().Perm() != tc.mode {
			t.Errorf("%s holds %q with mode %v, want %q and %v", tc.path, got, st.Mode().Perm(), tc.want, tc.mode)
		}
	}
}
