//go:build unix

package atomicfile

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// Locked is a held lock; Unlock releases it.
type Locked struct {
	f    *os.File
	path string
}

// lock takes the flock of the file at path, creating it; on ErrLocked it
// returns the holder's pid when the file names one.
func lock(path string) (*Locked, int, error) {
	for range 10 {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, 0, err
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			b := make([]byte, 32)
			n, _ := f.ReadAt(b, 0)
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				pid, _ := strconv.Atoi(strings.TrimSpace(string(b[:n])))
				return nil, pid, ErrLocked
			}
			return nil, 0, err
		}
		// The holder before us may have removed the file as it released
		// it: then the lock is on a file no one else can find; try again.
		st, err1 := f.Stat()
		cur, err2 := os.Stat(path)
		if err1 != nil || err2 != nil || !os.SameFile(st, cur) {
			f.Close()
			continue
		}
		f.Truncate(0)
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
		return &Locked{f: f, path: path}, 0, nil
	}
	return nil, 0, errors.New("the lock file keeps being replaced")
}

// Unlock releases the lock and removes its file. It can be called more
// than once, and on nil.
func (l *Locked) Unlock() {
	if l == nil || l.f == nil {
		return
	}
	os.Remove(l.path) // while held, so no one holds the removed file
	l.f.Close()
	l.f = nil
}
