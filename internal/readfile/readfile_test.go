package readfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Issue #19 item 4: only regular files are read, and a file above the
// limit is refused from its size, before reading: a pipe, /dev/zero and a
// 2 GiB sparse file each fail at once.
func TestRegular(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	os.WriteFile(p, []byte("hello"), 0o644)
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	sparse := filepath.Join(dir, "sparse.onnx")
	os.WriteFile(sparse, nil, 0o644)
	if err := os.Truncate(sparse, 2<<30); err != nil {
		t.Skip("no sparse file:", err)
	}
	link := filepath.Join(dir, "link")
	os.Symlink(p, link)
	for _, tc := range []struct {
		path  string
		limit int64
		want  string // "" for success
		large bool
	}{
		{p, 5, "", false},
		{link, 5, "", false},
		{p, 4, "larger than the limit", true},
		{sparse, 1 << 30, "2147483648 bytes, larger than the limit", true},
		{fifo, 100, "is not a regular file (it is a named pipe)", false},
		{"/dev/zero", 1 << 30, "is not a regular file (it is a character device)", false},
		{dir, 100, "it is a folder", false},
		{filepath.Join(dir, "missing"), 100, "no such file", false},
	} {
		start := time.Now()
		b, err := Regular(tc.path, tc.limit)
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s took %v", tc.path, d)
		}
		if tc.want == "" {
			if err != nil || string(b) != "hello" {
				t.Errorf("%s: %q, %v", tc.path, b, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) || errors.Is(err, ErrTooLarge) != tc.large {
			t.Errorf("Regular(%s) = %v, want an error saying %q", tc.path, err, tc.want)
		}
	}
}
