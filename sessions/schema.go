package sessions

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// migration is one forward step of the schema. Version n turns a store at
// version n-1 into one at version n; it runs inside the transaction that
// records it, so a migration is applied whole or not at all.
type migration struct {
	version int
	name    string
	stmts   []string
}

// migrations returns the schema's history, oldest first. To change the
// schema, append a migration with the next version; never edit a released
// one, since stores in the field have already applied it.
func migrations() []migration {
	return []migration{
		{1, "sessions, their traces, and leases", []string{
			// One row per session. Times are Unix nanoseconds (UTC). The
			// JSON blobs are TEXT so the sqlite3 shell's json functions
			// can read them; NULL means absent.
			`CREATE TABLE sessions (
				name         TEXT PRIMARY KEY NOT NULL,
				model_path   TEXT NOT NULL DEFAULT '',
				model_sha256 TEXT NOT NULL DEFAULT '',
				config       TEXT NOT NULL DEFAULT '',
				profile      TEXT,
				pareto       TEXT,
				policy       TEXT,
				notes        TEXT NOT NULL DEFAULT '',
				created_ns   INTEGER NOT NULL,
				updated_ns   INTEGER NOT NULL,
				revision     INTEGER NOT NULL DEFAULT 1
			) STRICT`,
			`CREATE INDEX sessions_updated ON sessions(updated_ns)`,
			// The trace paths of a session, in order.
			`CREATE TABLE session_traces (
				session TEXT NOT NULL REFERENCES sessions(name) ON DELETE CASCADE,
				pos     INTEGER NOT NULL,
				path    TEXT NOT NULL,
				PRIMARY KEY (session, pos)
			) STRICT, WITHOUT ROWID`,
			// Who has a session open for writing. A lease may name a
			// session that has not been saved yet, so it has no foreign
			// key. token tells the holder's leases apart.
			`CREATE TABLE leases (
				session      TEXT PRIMARY KEY NOT NULL,
				token        TEXT NOT NULL,
				pid          INTEGER NOT NULL,
				host         TEXT NOT NULL,
				acquired_ns  INTEGER NOT NULL,
				heartbeat_ns INTEGER NOT NULL
			) STRICT`,
		}},
	}
}

// migrate brings the store at path to the last version of ms, or refuses a
// store whose version is newer than ms knows. It holds the write lock from
// reading the version to committing, so two processes opening an old store
// at once migrate it once.
func migrate(ctx context.Context, db *sql.DB, path string, ms []migration, now time.Time) (version int, err error) {
	for i, m := range ms {
		if m.version != i+1 {
			return 0, fmt.Errorf("sessions: migration %d (%s) is out of order, want version %d", m.version, m.name, i+1)
		}
	}
	tx, err := db.BeginTx(ctx, nil) // BEGIN IMMEDIATE (see dsn)
	if err != nil {
		return 0, fmt.Errorf("migrating %s: %w", path, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version    INTEGER PRIMARY KEY NOT NULL,
		name       TEXT NOT NULL,
		applied_ns INTEGER NOT NULL
	) STRICT`); err != nil {
		return 0, fmt.Errorf("migrating %s: %w", path, err)
	}
	var cur int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&cur); err != nil {
		return 0, fmt.Errorf("migrating %s: reading the schema version: %w", path, err)
	}
	if cur > len(ms) {
		return cur, fmt.Errorf("%s: %w: it is at schema version %d, this kagen knows up to %d; use a newer kagen (or another --data-dir)",
			path, ErrSchemaTooNew, cur, len(ms))
	}
	if cur == len(ms) {
		return cur, nil // nothing to write; the deferred rollback ends the transaction
	}
	for _, m := range ms[cur:] {
		for _, q := range m.stmts {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return cur, fmt.Errorf("migrating %s to version %d (%s): %w", path, m.version, m.name, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version(version, name, applied_ns) VALUES(?, ?, ?)`,
			m.version, m.name, now.UnixNano()); err != nil {
			return cur, fmt.Errorf("migrating %s to version %d: %w", path, m.version, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return cur, fmt.Errorf("migrating %s to version %d: %w", path, len(ms), err)
	}
	return len(ms), nil
}
