// Package readfile reads the files kagen is given (models, policies,
// profiles, specs, configurations) the one careful way: only regular files
// (a pipe or a device node could block or never end), and never more than
// a limit, refused before reading when the file says it is larger.
package readfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// ErrTooLarge is wrapped by the error for a file above the limit.
var ErrTooLarge = errors.New("larger than the limit")

// Open opens the regular file at path for reading, refusing anything else
// (a named pipe, a device node, a folder) without blocking on it.
func Open(path string) (*os.File, error) {
	// Stat before opening: opening a named pipe blocks until a writer
	// comes. The opened file is checked again below.
	if st, err := os.Stat(path); err != nil {
		return nil, err
	} else if !st.Mode().IsRegular() {
		return nil, NotRegular(path, st.Mode())
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, NotRegular(path, st.Mode())
	}
	return f, nil
}

// NotRegular is the error for a path that is not a regular file, naming
// what it is.
func NotRegular(path string, m fs.FileMode) error {
	what := "a special file"
	switch {
	case m.IsDir():
		what = "a folder"
	case m&fs.ModeNamedPipe != 0:
		what = "a named pipe"
	case m&fs.ModeCharDevice != 0:
		what = "a character device"
	case m&fs.ModeDevice != 0:
		what = "a block device"
	case m&fs.ModeSocket != 0:
		what = "a socket"
	}
	return fmt.Errorf("%s is not a regular file (it is %s); kagen reads only regular files", path, what)
}

// Regular reads the regular file at path, of at most limit bytes: a
// larger file is refused from its size, before reading.
func Regular(path string, limit int64) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s: %d bytes, %w of %d bytes", path, st.Size(), ErrTooLarge, limit)
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: %w of %d bytes", path, ErrTooLarge, limit)
	}
	return data, nil
}
