package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// Append opens path for appending, the one kind of output kagen does not
// replace (a log that grows over runs): through symbolic links to their
// target, refusing anything but a regular file (opening a pipe to write
// would block), and creating a missing file with mode 0644.
func Append(path string) (*os.File, error) {
	target, err := check(path)
	if err != nil {
		return nil, err
	}
	_, statErr := os.Stat(target)
	f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_APPEND|syscall.O_NONBLOCK, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = fmt.Errorf("%s is %s, not a regular file; kagen writes only regular files", path, kind(st.Mode()))
	}
	if err == nil && errors.Is(statErr, fs.ErrNotExist) {
		err = f.Chmod(0o644) // whatever the umask, as Commit does
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
