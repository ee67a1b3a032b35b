package engine

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Issue #19 item 4: a model that is a pipe, a device or a file above
// MaxBytes is refused at once, from its type or size, without reading it
// (the heap does not grow by the file's size).
func TestLoadFileRefusesSpecialAndOversized(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.onnx")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	sparse := filepath.Join(dir, "sparse.onnx")
	os.WriteFile(sparse, nil, 0o644)
	if err := os.Truncate(sparse, 2<<30); err != nil {
		t.Skip("no sparse file:", err)
	}
	small := filepath.Join(dir, "small.onnx")
	os.WriteFile(small, make([]byte, 4096), 0o644)
	for _, tc := range []struct {
		path string
		max  int64
		want string
	}{
		{fifo, 0, "not a regular file (it is a named pipe)"},
		{"/dev/zero", 0, "not a regular file (it is a character device)"},
		{sparse, 0, "2147483648 bytes, larger than the limit of 1073741824 bytes"},
		{small, 1024, "4096 bytes, larger than the limit of 1024 bytes"},
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		_, err := LoadFile(tc.path, Options{MaxBytes: tc.max})
		runtime.ReadMemStats(&after)
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s took %v", tc.path, d)
		}
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
			t.Errorf("%s: allocated %d bytes before refusing", tc.path, grew)
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("LoadFile(%s) = %v, want an error saying %q", tc.path, err, tc.want)
		}
	}
}
