package atomicfile

import (
	"errors"
	"fmt"
	"path/filepath"
)

// ErrLocked is wrapped by Lock's error when another process holds the
// lock.
var ErrLocked = errors.New("another kagen is writing it")

// lockPath is the lock file of an output: .NAME.lock beside its target.
func lockPath(target string) string {
	return filepath.Join(filepath.Dir(target), "."+filepath.Base(target)+".lock")
}

// Lock takes the lock of the output path (through symbolic links, of
// their target): a lock file .NAME.lock beside it, held until Unlock.
// When another process holds it, the error says so (with its pid) and
// wraps ErrLocked. A lock left by a process that died (kill -9) is taken
// over: the operating system drops the lock with its holder.
func Lock(path string) (*Locked, error) {
	target, err := check(path)
	if err != nil {
		return nil, err
	}
	l, pid, err := lock(lockPath(target))
	if errors.Is(err, ErrLocked) {
		who := "another kagen"
		if pid > 0 {
			who = fmt.Sprintf("another kagen (pid %d)", pid)
		}
		return nil, lockedError{fmt.Sprintf("%s: %s is writing it; wait for it to finish", path, who)}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: taking the lock %s: %w", path, lockPath(target), err)
	}
	return l, nil
}

// lockedError is Lock's error when another process holds the lock.
type lockedError struct{ msg string }

func (e lockedError) Error() string { return e.msg }
func (e lockedError) Unwrap() error { return ErrLocked }
