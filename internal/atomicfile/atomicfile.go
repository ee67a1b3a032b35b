// Package atomicfile writes files so that a reader sees the old file or the
// new one, never a part: the data goes to a temporary file in the same
// directory, which is synced and renamed over the path, and the directory
// is synced after. It is the one place of kagen's rules for output files:
//
//   - A symbolic link is followed: its target is written (the link stays).
//   - Only regular files are replaced: a directory, a device node or a
//     pipe is refused, so a device is never renamed over.
//   - An existing file keeps its permission bits; a new file gets 0644.
//   - Temporary files are named .NAME.tmpPID-NNN; those of dead processes
//     (a kill -9 mid-write) are removed on the next write of NAME, and so
//     are the .NAME.tmpNNN of older kagens once an hour old.
//   - CheckOutput checks an output before long work: its directory is
//     writable and it is not one of the command's inputs.
//   - Lock keeps two runs from writing the same output at once.
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/kagen-ai/kagen/internal/proc"
)

// maxLinks bounds the symbolic links followed from one path (Linux's
// limit).
const maxLinks = 40

// Resolve follows the symbolic links at path (not those of its
// directories, which the operating system follows) and returns the path
// of the file they end at, which need not exist.
func Resolve(path string) (string, error) {
	p := path
	for range maxLinks {
		st, err := os.Lstat(p)
		if err != nil || st.Mode()&fs.ModeSymlink == 0 {
			return p, nil
		}
		t, err := os.Readlink(p)
		if err != nil {
			return "", fmt.Errorf("%s: %w", path, err)
		}
		if !filepath.IsAbs(t) {
			t = filepath.Join(filepath.Dir(p), t)
		}
		p = t
	}
	return "", fmt.Errorf("%s: more than %d symbolic links", path, maxLinks)
}

// Check reports whether path can be written by Write or Create: the file
// it names (through symbolic links) is absent or a regular file, and its
// directory exists. Commands call CheckOutput, which also tries the
// directory and compares with the inputs, before long work.
func Check(path string) error {
	_, err := check(path)
	return err
}

// check is Check returning the resolved path.
func check(path string) (string, error) {
	if path == "" {
		return "", errors.New("empty output path")
	}
	target, err := Resolve(path)
	if err != nil {
		return "", err
	}
	named := path
	if target != path {
		named = fmt.Sprintf("%s (a link to %s)", path, target)
	}
	dir := filepath.Dir(target)
	st, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%s: the output directory %s does not exist", named, dir)
	}
	if err != nil {
		return "", fmt.Errorf("%s: output directory: %w", named, err)
	}
	if !st.IsDir() {
		return "", fmt.Errorf("%s: %s is not a directory", named, dir)
	}
	// What the path names, as the system follows it (this also sees
	// through links such as /dev/stdout whose target is no path).
	st, err = os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return target, nil
	case err != nil:
		return "", fmt.Errorf("%s: %w", named, err)
	case st.IsDir():
		return "", fmt.Errorf("%s is a directory, expected a file path", named)
	case !st.Mode().IsRegular():
		return "", fmt.Errorf("%s is %s, not a regular file; kagen writes only regular files", named, kind(st.Mode()))
	}
	if tst, err := os.Lstat(target); err != nil || !os.SameFile(st, tst) {
		return "", fmt.Errorf("%s: cannot follow its links to a file path", path)
	}
	return target, nil
}

// kind names a file type for a message.
func kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "a special file"
}

// CheckOutput checks an output path before long work: Check, then that
// its directory takes a new file (one is created and removed), then that
// it is none of inputs (files or folders, compared as files: a symbolic
// or hard link to an input, or a relative path to it, is the input). The
// errors name the path and, for an input, both.
func CheckOutput(path string, inputs ...string) error {
	target, err := check(path)
	if err != nil {
		return err
	}
	probe, err := os.CreateTemp(filepath.Dir(target), "."+filepath.Base(target)+".tmp"+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		return fmt.Errorf("%s: cannot write there: %w", path, err)
	}
	probe.Close()
	os.Remove(probe.Name())
	out, err := os.Stat(target)
	if err != nil {
		return nil // a new file is no input
	}
	for _, in := range inputs {
		if in == "" || in == "-" {
			continue
		}
		st, err := os.Stat(in)
		if err != nil {
			continue // the command reports a missing input itself
		}
		if os.SameFile(out, st) {
			return fmt.Errorf("%s is the same file as the input %s; writing it would destroy the input, give another output path", path, in)
		}
		if st.IsDir() {
			if f := findSame(in, out); f != "" {
				return fmt.Errorf("%s is the same file as the input %s (in %s); writing it would destroy the input, give another output path", path, f, in)
			}
		}
	}
	return nil
}

// SameFile reports whether two paths name one existing file (through
// links or different spellings).
func SameFile(a, b string) bool {
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(fa, fb)
}

// findSame returns the file under dir that is out, or "". It looks at
// most 32 folders deep and at 200000 entries.
func findSame(dir string, out fs.FileInfo) string {
	found, seen := "", 0
	var walk func(d string, depth int)
	walk = func(d string, depth int) {
		ents, err := os.ReadDir(d)
		if err != nil || depth > 32 {
			return
		}
		for _, e := range ents {
			if found != "" || seen > 200000 {
				return
			}
			seen++
			p := filepath.Join(d, e.Name())
			if e.IsDir() {
				walk(p, depth+1)
				continue
			}
			if st, err := os.Stat(p); err == nil && os.SameFile(st, out) {
				found = p
			}
		}
	}
	walk(dir, 0)
	return found
}

// Write writes data to path atomically.
func Write(path string, data []byte) error {
	f, err := Create(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Abort()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Commit()
}

// File is a file being written atomically: write to it (it is an
// *os.File, so WriteAt works too), then Commit to put it in place, or
// Abort to drop it.
type File struct {
	*os.File
	path   string // as given
	target string // the path the file is renamed to
	done   bool
}

// Create starts writing path (through symbolic links, to their target).
// Nothing is visible at path before Commit. The temporary files that dead
// processes left for the same path are removed first.
func Create(path string) (*File, error) {
	target, err := check(path)
	if err != nil {
		return nil, err
	}
	dir, base := filepath.Split(target)
	if dir == "" {
		dir = "."
	}
	sweepTemps(dir, base, time.Now())
	f, err := os.CreateTemp(dir, tempPrefix(base, os.Getpid()))
	if err != nil {
		return nil, fmt.Errorf("writing %s: %w", path, err)
	}
	return &File{File: f, path: path, target: target}, nil
}

// tempPrefix is the start of the name of a temporary file for base
// written by process pid: .BASE.tmpPID- (os.CreateTemp adds digits).
func tempPrefix(base string, pid int) string {
	return "." + base + ".tmp" + strconv.Itoa(pid) + "-"
}

// legacyAge is the age after which a temporary file without a process id
// in its name (written by kagen before names held one) counts as stale.
const legacyAge = time.Hour

// sweepTemps removes dir's temporary files for base left by processes
// that no longer run, and those without a process id older than
// legacyAge. It is best effort: what cannot be removed stays.
func sweepTemps(dir, base string, now time.Time) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	prefix := "." + base + ".tmp"
	for _, e := range ents {
		name := e.Name()
		rest, ok := strings.CutPrefix(name, prefix)
		if !ok || rest == "" || !e.Type().IsRegular() {
			continue
		}
		if pidText, _, ok := strings.Cut(rest, "-"); ok {
			pid, err := strconv.Atoi(pidText)
			if err != nil || pid == os.Getpid() || proc.Alive(pid) {
				continue
			}
		} else {
			if _, err := strconv.ParseUint(rest, 10, 64); err != nil {
				continue // not a name kagen makes
			}
			if info, err := e.Info(); err != nil || now.Sub(info.ModTime()) < legacyAge {
				continue
			}
		}
		os.Remove(filepath.Join(dir, name))
	}
}

// Path returns the path the file is committed to, as given to Create.
func (f *File) Path() string { return f.path }

// Commit syncs the file and renames it over the path's target, keeping
// the permission bits of the file it replaces (0644 for a new one). After
// an error the temporary file is removed and the path is unchanged.
func (f *File) Commit() error {
	if f.done {
		return fmt.Errorf("writing %s: already committed or aborted", f.path)
	}
	f.done = true
	tmp := f.File.Name()
	mode := fs.FileMode(0o644)
	if st, err := os.Stat(f.target); err == nil && st.Mode().IsRegular() {
		mode = st.Mode().Perm()
	}
	err := f.File.Chmod(mode)
	if err == nil {
		err = f.File.Sync()
	}
	if cerr := f.File.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		// Check again: the path may have become a directory, a device
		// node or a link elsewhere while the file was written.
		var target string
		if target, err = check(f.path); err == nil && target != f.target {
			err = fmt.Errorf("%s now links to %s, not %s", f.path, target, f.target)
		}
	}
	if err == nil {
		err = os.Rename(tmp, f.target)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", f.path, err)
	}
	if d, err := os.Open(filepath.Dir(f.target)); err == nil {
		d.Sync() // file systems that cannot sync a directory refuse; the rename stands
		d.Close()
	}
	return nil
}

// Abort drops the file; the path is unchanged. It does nothing after
// Commit, so it can be deferred.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.File.Close()
	os.Remove(f.File.Name())
}
