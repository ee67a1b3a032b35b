// Package sessions saves workbench sessions: a model, its traces, the
// profile, Pareto set, chosen configuration and policy, and notes. Sessions
// live in one SQLite database, sessions.db, under the user's data directory
// ($XDG_DATA_HOME/kagen, by default ~/.local/share/kagen) or a directory the
// caller gives (kagen's --data-dir). SQLite comes from modernc.org/sqlite,
// pure Go, so kagen still builds with CGO_ENABLED=0 for linux and android
// on arm64.
//
// # Durability
//
// Every Save is one transaction: the session row, its trace list and its
// revision change together or not at all. The database runs in WAL mode
// with synchronous=FULL, so each commit is on stable storage before Save
// returns. Killing the process at any moment therefore loses at most the
// change whose Save had not returned, and never leaves a half-written
// session; with synchronous=FULL that holds across a power cut or kernel
// crash too. (synchronous=NORMAL in WAL mode would survive a killed process
// just as well, since committed frames are already in the OS, but a power
// cut could then lose every commit since the last checkpoint, not just the
// last one. Autosaves come at the pace of a person moving knobs, so the
// fsync per commit costs nothing that matters.)
//
// # Schema
//
// The table schema_version records each applied migration. Open applies the
// missing ones in one transaction and refuses, with ErrSchemaTooNew, a store
// written by a newer kagen.
//
// # Concurrency
//
// Any number of processes may read and write the store; SQLite serialises
// writers (each waits up to a busy timeout). To keep two workbenches from
// editing one session, a workbench takes the session's lease with Acquire
// and saves through it (Lease.Save). The lease is a row naming the holder's
// pid and host with a heartbeat time; a second Acquire gets ErrLocked and
// may fall back to a read-only view with Load. A lease whose holder died
// (its pid is gone on this host) or whose heartbeat is older than a minute
// is taken over.
package sessions

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/kagen-ai/kagen/internal/readfile"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// FileName is the database's file name inside the data directory.
const FileName = "sessions.db"

// Lease timing defaults.
const (
	// HeartbeatInterval is how often a held lease refreshes its heartbeat.
	HeartbeatInterval = 10 * time.Second
	// StaleAfter is how old a heartbeat must be for another process to take
	// the lease over even though its holder may still be running.
	StaleAfter = time.Minute
	// BusyTimeout is how long an operation waits for another process's
	// write transaction before failing.
	BusyTimeout = 10 * time.Second
)

// Store is an open session store. Its methods are safe for concurrent use.
type Store struct {
	db   *sql.DB
	path string
	opt  options

	mu     sync.Mutex
	leases map[*Lease]struct{}
	closed bool
}

// options are the seams tests use; Open fills them from the real process.
type options struct {
	pid        int
	host       string
	now        func() time.Time
	alive      func(pid int) bool // reports whether a pid on this host runs
	heartbeat  time.Duration      // 0: no background heartbeat
	staleAfter time.Duration
	busy       time.Duration
	migrations []migration
}

func defaultOptions() options {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	return options{
		pid:        os.Getpid(),
		host:       host,
		now:        time.Now,
		alive:      processAlive,
		heartbeat:  HeartbeatInterval,
		staleAfter: StaleAfter,
		busy:       BusyTimeout,
		migrations: migrations(),
	}
}

// DefaultDir returns kagen's data directory: $XDG_DATA_HOME/kagen when
// XDG_DATA_HOME is an absolute path, else ~/.local/share/kagen.
func DefaultDir() (string, error) {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "kagen"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("finding the data directory: %w (set XDG_DATA_HOME or pass --data-dir)", err)
	}
	return filepath.Join(home, ".local", "share", "kagen"), nil
}

// Path returns the database file that Open(dir) uses; dir "" means
// DefaultDir.
func Path(dir string) (string, error) {
	if dir == "" {
		d, err := DefaultDir()
		if err != nil {
			return "", err
		}
		dir = d
	}
	abs, err := filepath.Abs(filepath.Join(dir, FileName))
	if err != nil {
		return "", fmt.Errorf("resolving %s: %w", dir, err)
	}
	return abs, nil
}

// Open opens the session store in dir, or in DefaultDir when dir is "",
// creating the directory (mode 0700) and the database as needed and
// migrating an older schema. It fails with ErrSchemaTooNew on a store from
// a newer kagen. Close the store when done.
func Open(dir string) (*Store, error) {
	return openWith(dir, defaultOptions())
}

func openWith(dir string, opt options) (*Store, error) {
	path, err := Path(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("opening session store: %w", err)
	}
	// Every pooled connection gets the same settings. busy_timeout comes
	// first so the others wait for a busy database instead of failing;
	// _txlock=immediate makes writing transactions take the write lock at
	// BEGIN, so they queue on the busy timeout instead of failing to
	// upgrade a read lock.
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", opt.busy.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "journal_size_limit(67108864)") // trim the WAL to 64 MiB after checkpoints
	q.Set("_txlock", "immediate")
	dsn := (&url.URL{Scheme: "file", Path: filepath.ToSlash(path), RawQuery: q.Encode()}).String()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	db.SetMaxIdleConns(2)
	s := &Store{db: db, path: path, opt: opt, leases: map[*Lease]struct{}{}}
	if err := s.init(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) init() error {
	ctx := context.Background()
	var mode string
	if err := s.db.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
		return fmt.Errorf("opening %s: %w", s.path, err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("opening %s: journal mode is %q, not WAL (is the file system a network one?)", s.path, mode)
	}
	if _, err := migrate(ctx, s.db, s.path, s.opt.migrations, s.opt.now()); err != nil {
		return err
	}
	return nil
}

// File returns the path of the store's database file.
func (s *Store) File() string { return s.path }

// Close releases the store's leases still held and closes the database.
// Closing twice is harmless.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	leases := make([]*Lease, 0, len(s.leases))
	for l := range s.leases {
		leases = append(leases, l)
	}
	s.mu.Unlock()
	var errs []error
	for _, l := range leases {
		if err := l.Release(); err != nil && !errors.Is(err, ErrLeaseLost) {
			errs = append(errs, err)
		}
	}
	if err := s.db.Close(); err != nil {
		errs = append(errs, fmt.Errorf("closing %s: %w", s.path, err))
	}
	return errors.Join(errs...)
}

// SchemaVersion returns the store's schema version.
func (s *Store) SchemaVersion() (int, error) {
	var v int
	if err := s.db.QueryRow(`SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&v); err != nil {
		return 0, fmt.Errorf("reading the schema version of %s: %w", s.path, err)
	}
	return v, nil
}

// Check runs SQLite's integrity and foreign-key checks over the whole store
// and reports any problem they find.
func (s *Store) Check() error {
	rows, err := s.db.Query(`PRAGMA integrity_check`)
	if err != nil {
		return fmt.Errorf("checking %s: %w", s.path, err)
	}
	var msgs []string
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			rows.Close()
			return fmt.Errorf("checking %s: %w", s.path, err)
		}
		msgs = append(msgs, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("checking %s: %w", s.path, err)
	}
	if len(msgs) != 1 || msgs[0] != "ok" {
		return fmt.Errorf("checking %s: integrity check failed: %s", s.path, strings.Join(msgs, "; "))
	}
	rows, err = s.db.Query(`PRAGMA foreign_key_check`)
	if err != nil {
		return fmt.Errorf("checking %s: %w", s.path, err)
	}
	defer rows.Close()
	if rows.Next() {
		return fmt.Errorf("checking %s: foreign key check failed", s.path)
	}
	return rows.Err()
}

// List returns a summary of every session, most recently updated first.
func (s *Store) List() ([]Summary, error) {
	ctx := context.Background()
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("listing sessions in %s: %w", s.path, err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `
		SELECT s.name, s.model_path, s.model_sha256, s.config, s.created_ns, s.updated_ns, s.revision,
		       (SELECT COUNT(*) FROM session_traces t WHERE t.session = s.name),
		       l.pid, l.host, l.acquired_ns, l.heartbeat_ns
		FROM sessions s LEFT JOIN leases l ON l.session = s.name
		ORDER BY s.updated_ns DESC, s.name`)
	if err != nil {
		return nil, fmt.Errorf("listing sessions in %s: %w", s.path, err)
	}
	defer rows.Close()
	now := s.opt.now()
	var out []Summary
	for rows.Next() {
		var (
			sum              Summary
			created, updated int64
			pid, acq, hb     sql.NullInt64
			host             sql.NullString
		)
		if err := rows.Scan(&sum.Name, &sum.ModelPath, &sum.ModelSHA256, &sum.Config, &created, &updated, &sum.Revision,
			&sum.Traces, &pid, &host, &acq, &hb); err != nil {
			return nil, fmt.Errorf("listing sessions in %s: %w", s.path, err)
		}
		sum.Created, sum.Updated = fromNanos(created), fromNanos(updated)
		if pid.Valid {
			h := Holder{PID: int(pid.Int64), Host: host.String, Acquired: fromNanos(acq.Int64), Heartbeat: fromNanos(hb.Int64)}
			if !s.stale(h, now) {
				sum.Holder = &h
			}
		}
		out = append(out, sum)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing sessions in %s: %w", s.path, err)
	}
	return out, nil
}

// Load returns the session called name, or an error wrapping ErrNotFound.
// Loading needs no lease: a session that another process holds can still be
// loaded for a read-only view.
func (s *Store) Load(name string) (*Session, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	ctx := context.Background()
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("loading session %q from %s: %w", name, s.path, err)
	}
	defer tx.Rollback()
	var (
		ss                      = &Session{Name: name}
		profile, pareto, policy sql.NullString
		created, updated        int64
	)
	err = tx.QueryRowContext(ctx, `
		SELECT model_path, model_sha256, config, profile, pareto, policy, notes, created_ns, updated_ns, revision
		FROM sessions WHERE name = ?`, name).Scan(
		&ss.ModelPath, &ss.ModelSHA256, &ss.Config, &profile, &pareto, &policy, &ss.Notes, &created, &updated, &ss.Revision)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("loading session %q from %s: %w", name, s.path, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("loading session %q from %s: %w", name, s.path, err)
	}
	ss.Created, ss.Updated = fromNanos(created), fromNanos(updated)
	ss.Profile, ss.Pareto, ss.Policy = blob(profile), blob(pareto), blob(policy)
	rows, err := tx.QueryContext(ctx, `SELECT path FROM session_traces WHERE session = ? ORDER BY pos`, name)
	if err != nil {
		return nil, fmt.Errorf("loading the traces of session %q from %s: %w", name, s.path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, fmt.Errorf("loading the traces of session %q from %s: %w", name, s.path, err)
		}
		ss.Traces = append(ss.Traces, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("loading the traces of session %q from %s: %w", name, s.path, err)
	}
	return ss, nil
}

// Save writes ss in one transaction, creating or replacing the session of
// its name, and sets ss.Created, ss.Updated and ss.Revision to what was
// stored. It validates ss first and writes nothing if that fails. It fails
// with ErrLocked while a live process holds the session's lease; a holder
// saves through Lease.Save instead.
func (s *Store) Save(ss *Session) error {
	return s.save(ss, nil)
}

// save writes ss; with a lease it first checks, in the same transaction,
// that the lease is still held and refreshes its heartbeat.
func (s *Store) save(ss *Session, l *Lease) error {
	if err := ss.Validate(); err != nil {
		return err
	}
	ctx := context.Background()
	now := s.opt.now()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("saving session %q in %s: %w", ss.Name, s.path, err)
	}
	defer tx.Rollback()
	if l != nil {
		if err := l.refresh(ctx, tx, now); err != nil {
			return err
		}
	} else if err := s.checkUnleased(ctx, tx, ss.Name, now); err != nil {
		return err
	}
	var created, rev int64
	err = tx.QueryRowContext(ctx, `
		INSERT INTO sessions(name, model_path, model_sha256, config, profile, pareto, policy, notes, created_ns, updated_ns, revision)
		VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
		ON CONFLICT(name) DO UPDATE SET
			model_path = excluded.model_path, model_sha256 = excluded.model_sha256, config = excluded.config,
			profile = excluded.profile, pareto = excluded.pareto, policy = excluded.policy, notes = excluded.notes,
			updated_ns = excluded.updated_ns, revision = sessions.revision + 1
		RETURNING created_ns, revision`,
		ss.Name, ss.ModelPath, ss.ModelSHA256, ss.Config, text(ss.Profile), text(ss.Pareto), text(ss.Policy), ss.Notes,
		now.UnixNano(), now.UnixNano()).Scan(&created, &rev)
	if err != nil {
		return fmt.Errorf("saving session %q in %s: %w", ss.Name, s.path, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM session_traces WHERE session = ?`, ss.Name); err != nil {
		return fmt.Errorf("saving the traces of session %q in %s: %w", ss.Name, s.path, err)
	}
	for i, p := range ss.Traces {
		if _, err := tx.ExecContext(ctx, `INSERT INTO session_traces(session, pos, path) VALUES(?, ?, ?)`, ss.Name, i, p); err != nil {
			return fmt.Errorf("saving the traces of session %q in %s: %w", ss.Name, s.path, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("saving session %q in %s: %w", ss.Name, s.path, err)
	}
	ss.Created, ss.Updated, ss.Revision = fromNanos(created), fromNanos(now.UnixNano()), rev
	return nil
}

// Delete removes the session called name, with its traces and any stale
// lease. It fails with an error wrapping ErrNotFound if there is no such
// session, and with ErrLocked while a live process holds its lease.
func (s *Store) Delete(name string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	ctx := context.Background()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("deleting session %q from %s: %w", name, s.path, err)
	}
	defer tx.Rollback()
	if err := s.checkUnleased(ctx, tx, name, s.opt.now()); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM session_traces WHERE session = ?`, name); err != nil {
		return fmt.Errorf("deleting session %q from %s: %w", name, s.path, err)
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE name = ?`, name)
	if err != nil {
		return fmt.Errorf("deleting session %q from %s: %w", name, s.path, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("deleting session %q from %s: %w", name, s.path, err)
	} else if n == 0 {
		return fmt.Errorf("deleting session %q from %s: %w", name, s.path, ErrNotFound)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM leases WHERE session = ?`, name); err != nil {
		return fmt.Errorf("deleting session %q from %s: %w", name, s.path, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("deleting session %q from %s: %w", name, s.path, err)
	}
	return nil
}

// FileSHA256 returns the lowercase hex SHA-256 of the file at path, the form
// Session.ModelSHA256 takes.
func FileSHA256(path string) (string, error) {
	f, err := readfile.Open(path)
	if err != nil {
		return "", fmt.Errorf("hashing %s: %w", path, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hashing %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func fromNanos(ns int64) time.Time { return time.Unix(0, ns) }

// text turns a JSON blob into a column value: NULL when absent.
func text(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}

func blob(s sql.NullString) []byte {
	if !s.Valid {
		return nil
	}
	return []byte(s.String)
}
