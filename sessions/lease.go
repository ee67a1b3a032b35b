package sessions

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Holder describes the process holding a session's lease.
type Holder struct {
	PID       int
	Host      string
	Acquired  time.Time
	Heartbeat time.Time
}

// LockedError is the error Acquire, Save and Delete return for a session
// whose lease a live process holds. It matches ErrLocked with errors.Is.
type LockedError struct {
	Session string
	File    string
	Holder  Holder
	// Age is how old the holder's heartbeat was when the lease was refused.
	Age time.Duration
}

// Error names the session, the store file and the holder.
func (e *LockedError) Error() string {
	return fmt.Sprintf("session %q in %s is open in another kagen (pid %d on %s, heartbeat %s ago)",
		e.Session, e.File, e.Holder.PID, e.Holder.Host, e.Age.Round(time.Second))
}

// Is makes errors.Is(err, ErrLocked) true for a *LockedError.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// Lease is a process's claim to edit one session. While it is held, other
// processes' Acquire, Store.Save and Store.Delete of the session fail with
// ErrLocked. A background goroutine refreshes its heartbeat until Release.
type Lease struct {
	store *Store
	name  string
	token string

	mu       sync.Mutex
	err      error // ErrLeaseLost once lost or released
	stop     chan struct{}
	stopped  chan struct{}
	released bool
}

// Acquire takes the lease of the session called name, which need not exist
// yet. If a live process holds it, Acquire fails with a *LockedError
// (errors.Is(err, ErrLocked)); the caller may then Load the session for a
// read-only view. A lease is taken over when its holder is gone: the holder
// ran on this host and its pid no longer exists, or its heartbeat is older
// than StaleAfter.
func (s *Store) Acquire(name string) (*Lease, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	var tok [16]byte
	if _, err := rand.Read(tok[:]); err != nil {
		return nil, fmt.Errorf("leasing session %q in %s: %w", name, s.path, err)
	}
	l := &Lease{store: s, name: name, token: hex.EncodeToString(tok[:])}
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return nil, fmt.Errorf("leasing session %q in %s: store is closed", name, s.path)
	}

	ctx := context.Background()
	now := s.opt.now()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("leasing session %q in %s: %w", name, s.path, err)
	}
	defer tx.Rollback()
	if err := s.checkUnleased(ctx, tx, name, now); err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO leases(session, token, pid, host, acquired_ns, heartbeat_ns) VALUES(?, ?, ?, ?, ?, ?)
		ON CONFLICT(session) DO UPDATE SET token = excluded.token, pid = excluded.pid, host = excluded.host,
			acquired_ns = excluded.acquired_ns, heartbeat_ns = excluded.heartbeat_ns`,
		name, l.token, s.opt.pid, s.opt.host, now.UnixNano(), now.UnixNano()); err != nil {
		return nil, fmt.Errorf("leasing session %q in %s: %w", name, s.path, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("leasing session %q in %s: %w", name, s.path, err)
	}

	s.mu.Lock()
	if s.closed { // Close ran meanwhile and will not release this lease
		s.mu.Unlock()
		s.db.Exec(`DELETE FROM leases WHERE session = ? AND token = ?`, name, l.token)
		return nil, fmt.Errorf("leasing session %q in %s: store is closed", name, s.path)
	}
	s.leases[l] = struct{}{}
	s.mu.Unlock()
	if s.opt.heartbeat > 0 {
		l.stop, l.stopped = make(chan struct{}), make(chan struct{})
		go l.beat(s.opt.heartbeat)
	}
	return l, nil
}

// checkUnleased fails with a *LockedError if a live holder has name's lease.
func (s *Store) checkUnleased(ctx context.Context, tx *sql.Tx, name string, now time.Time) error {
	var (
		h       Holder
		acq, hb int64
	)
	err := tx.QueryRowContext(ctx, `SELECT pid, host, acquired_ns, heartbeat_ns FROM leases WHERE session = ?`, name).
		Scan(&h.PID, &h.Host, &acq, &hb)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading the lease of session %q in %s: %w", name, s.path, err)
	}
	h.Acquired, h.Heartbeat = fromNanos(acq), fromNanos(hb)
	if s.stale(h, now) {
		return nil
	}
	return &LockedError{Session: name, File: s.path, Holder: h, Age: now.Sub(h.Heartbeat)}
}

// stale reports whether a lease's holder is gone: its heartbeat is older
// than the stale limit, or it ran on this host and its pid no longer runs.
// A holder on another host is only judged by its heartbeat.
func (s *Store) stale(h Holder, now time.Time) bool {
	if now.Sub(h.Heartbeat) > s.opt.staleAfter {
		return true
	}
	return h.Host == s.opt.host && !s.opt.alive(h.PID)
}

// Name returns the name of the leased session.
func (l *Lease) Name() string { return l.name }

// Err returns nil while the lease is held, and an error wrapping
// ErrLeaseLost once it has been released or taken over.
func (l *Lease) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// Save saves ss, which must be the leased session, in one transaction that
// also checks the lease is still held and refreshes its heartbeat. It fails
// with ErrLeaseLost, writing nothing, if another process took the lease over.
func (l *Lease) Save(ss *Session) error {
	if ss != nil && ss.Name != l.name {
		return fmt.Errorf("saving session %q through the lease of %q: %w: names differ", ss.Name, l.name, ErrInvalid)
	}
	if err := l.Err(); err != nil {
		return err
	}
	return l.store.save(ss, l)
}

// Heartbeat refreshes the lease's heartbeat now; the background goroutine
// calls it every HeartbeatInterval. It fails with ErrLeaseLost if the lease
// was taken over.
func (l *Lease) Heartbeat() error {
	if err := l.Err(); err != nil {
		return err
	}
	s := l.store
	ctx := context.Background()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("refreshing the lease of session %q in %s: %w", l.name, s.path, err)
	}
	defer tx.Rollback()
	if err := l.refresh(ctx, tx, s.opt.now()); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("refreshing the lease of session %q in %s: %w", l.name, s.path, err)
	}
	return nil
}

// refresh updates the heartbeat inside tx if the lease is still this one,
// and marks the lease lost otherwise.
func (l *Lease) refresh(ctx context.Context, tx *sql.Tx, now time.Time) error {
	res, err := tx.ExecContext(ctx, `UPDATE leases SET heartbeat_ns = ? WHERE session = ? AND token = ?`,
		now.UnixNano(), l.name, l.token)
	if err != nil {
		return fmt.Errorf("refreshing the lease of session %q in %s: %w", l.name, l.store.path, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("refreshing the lease of session %q in %s: %w", l.name, l.store.path, err)
	}
	if n == 0 {
		return l.lose(fmt.Errorf("session %q in %s: %w: another process took it over", l.name, l.store.path, ErrLeaseLost))
	}
	return nil
}

func (l *Lease) lose(err error) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err == nil {
		l.err = err
	}
	return l.err
}

// beat refreshes the heartbeat every interval until the lease is released
// or lost. Transient errors (a busy database) are retried next tick.
func (l *Lease) beat(interval time.Duration) {
	defer close(l.stopped)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			if err := l.Heartbeat(); errors.Is(err, ErrLeaseLost) {
				return
			}
		}
	}
}

// Release gives the lease up so others may acquire the session. It returns
// an error wrapping ErrLeaseLost if the lease had been taken over already
// (the new holder's row is left alone). Releasing twice is harmless.
func (l *Lease) Release() error {
	l.mu.Lock()
	if l.released {
		l.mu.Unlock()
		return nil
	}
	l.released = true
	lost := l.err
	l.mu.Unlock()
	if l.stop != nil {
		close(l.stop)
		<-l.stopped
	}
	s := l.store
	s.mu.Lock()
	delete(s.leases, l)
	s.mu.Unlock()
	defer l.lose(fmt.Errorf("session %q in %s: %w: released", l.name, s.path, ErrLeaseLost))
	if lost != nil {
		return lost
	}
	res, err := s.db.Exec(`DELETE FROM leases WHERE session = ? AND token = ?`, l.name, l.token)
	if err != nil {
		return fmt.Errorf("releasing the lease of session %q in %s: %w", l.name, s.path, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("releasing session %q in %s: %w: another process took it over", l.name, s.path, ErrLeaseLost)
	}
	return nil
}
