// Package atomicfile writes files so that a reader sees the old file or the
// new one, never a part: the data goes to a temporary file in the same
// directory, which is synced, given mode 0644 and renamed over the path,
// and the directory is synced after. A path that names something other
// than a regular file (a directory, a device node, a pipe) is refused; a
// symbolic link is replaced by the new file, so its target is never
// written.
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Check reports whether path can be written by Write or Create: its
// directory exists and is a directory, and the path is absent, a regular
// file or a symbolic link. Commands call it before long work so that a bad
// output path fails at once.
func Check(path string) error {
	if path == "" {
		return errors.New("empty output path")
	}
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("%s: output directory: %w", path, err)
	}
	if !st.IsDir() {
		return fmt.Errorf("%s: %s is not a directory", path, dir)
	}
	lst, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("%s: %w", path, err)
	case lst.Mode()&fs.ModeSymlink != 0 || lst.Mode().IsRegular():
		return nil
	case lst.IsDir():
		return fmt.Errorf("%s is a directory, expected a file path", path)
	}
	return fmt.Errorf("%s is not a regular file (%v); kagen only replaces regular files", path, lst.Mode().Type())
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
	path string
	done bool
}

// Create starts writing path. Nothing is visible at path before Commit.
func Create(path string) (*File, error) {
	if err := Check(path); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return nil, fmt.Errorf("writing %s: %w", path, err)
	}
	return &File{File: f, path: path}, nil
}

// Path returns the path the file is committed to.
func (f *File) Path() string { return f.path }

// Commit syncs the file and renames it over the path. After an error the
// temporary file is removed and the path is unchanged.
func (f *File) Commit() error {
	if f.done {
		return fmt.Errorf("writing %s: already committed or aborted", f.path)
	}
	f.done = true
	tmp := f.File.Name()
	err := f.File.Chmod(0o644)
	if err == nil {
		err = f.File.Sync()
	}
	if cerr := f.File.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		// Check again: the path may have become a directory or a device
		// node while the file was written.
		err = Check(f.path)
	}
	if err == nil {
		err = os.Rename(tmp, f.path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", f.path, err)
	}
	if d, err := os.Open(filepath.Dir(f.path)); err == nil {
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
