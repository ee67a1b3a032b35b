// Package tempdir makes kagen's temporary folders so that none outlives
// its run for long: a folder's name holds the pid of the process that made
// it (PREFIXPID-NNN), and making one removes the folders of the same
// prefix whose process no longer runs (a kill -9 gave it no chance to
// clean up).
package tempdir

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/kagen-ai/kagen/internal/proc"
)

// Make creates a new folder in the system's temporary directory named
// prefix, this process's pid, '-' and random digits, after removing the
// stale ones of prefix (Sweep). The caller removes it when done.
func Make(prefix string) (string, error) {
	Sweep(os.TempDir(), prefix)
	return os.MkdirTemp("", prefix+strconv.Itoa(os.Getpid())+"-*")
}

// Sweep removes the folders in dir named prefix, a pid, '-' and more
// whose process no longer runs. Folders of live processes and names that
// do not parse stay; it is best effort.
func Sweep(dir, prefix string) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok || !e.IsDir() {
			continue
		}
		pidText, _, ok := strings.Cut(rest, "-")
		if !ok {
			continue
		}
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid <= 0 || pid == os.Getpid() || proc.Alive(pid) {
			continue
		}
		os.RemoveAll(filepath.Join(dir, e.Name()))
	}
}
