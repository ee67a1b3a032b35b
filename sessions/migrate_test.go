package sessions

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// v2 is a migration a later kagen might add: a tags column, backfilled.
// The tests put it after the real migration 1.
var v2 = migration{2, "session tags", []string{
	`ALTER TABLE sessions ADD COLUMN tags TEXT NOT NULL DEFAULT ''`,
	`UPDATE sessions SET tags = 'migrated'`,
}}

func TestMigrations(t *testing.T) {
	c := newClock()
	for _, tc := range []struct {
		name        string
		create      []migration // schema the store is created with; nil: an empty file
		open        []migration // schema of the code that reopens it
		wantVersion int
		wantErr     error
	}{
		{"fresh store", nil, migrations(), len(migrations()), nil},
		{"current store", migrations(), migrations(), len(migrations()), nil},
		{"version 1 to 2", migrations()[:1], append(migrations()[:1:1], v2), 2, nil},
		{"version 2 opened by version-1 code", append(migrations()[:1:1], v2), migrations()[:1], 0, ErrSchemaTooNew},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.create != nil {
				o := testOptions(1, c)
				o.migrations = tc.create
				s := openTest(t, dir, o)
				for _, n := range []string{"a", "b"} {
					if err := s.Save(fullSession(n)); err != nil {
						t.Fatal(err)
					}
				}
				s.Close()
			}
			o := testOptions(1, c)
			o.migrations = tc.open
			s, err := openWith(dir, o)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("open: %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if v, err := s.SchemaVersion(); err != nil || v != tc.wantVersion {
				t.Fatalf("version %d %v, want %d", v, err, tc.wantVersion)
			}
			if tc.create != nil {
				for _, n := range []string{"a", "b"} {
					got, err := s.Load(n)
					if err != nil {
						t.Fatal(err)
					}
					if got.Config != fullSession(n).Config || len(got.Traces) != 3 {
						t.Errorf("session %s after migration: %+v", n, got)
					}
				}
			}
			if tc.wantVersion >= 2 {
				var tags string
				if err := s.db.QueryRow(`SELECT tags FROM sessions WHERE name = 'a'`).Scan(&tags); err != nil || tags != "migrated" {
					t.Errorf("migration 2 did not run: %q %v", tags, err)
				}
				// Saving still works on the migrated schema (the new column takes its default).
				if err := s.Save(&Session{Name: "c"}); err != nil {
					t.Error(err)
				}
			}
			var rows int
			if err := s.db.QueryRow(`SELECT COUNT(*) FROM schema_version`).Scan(&rows); err != nil || rows != tc.wantVersion {
				t.Errorf("schema_version has %d rows (%v), want one per migration", rows, err)
			}
		})
	}
}

func TestSchemaTooNewIsRefused(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, testOptions(1, newClock()))
	if err := s.Save(fullSession("keep")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec(`INSERT INTO schema_version(version, name, applied_ns) VALUES(99, 'from the future', 0)`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err := Open(dir)
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("Open of a version-99 store: %v, want ErrSchemaTooNew", err)
	}
	for _, want := range []string{s.File(), "version 99", fmt.Sprintf("knows up to %d", len(migrations()))} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	// The refused store is untouched.
	db, err := sql.Open("sqlite", s.File())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n, v int
	if err := db.QueryRow(`SELECT COUNT(*), (SELECT MAX(version) FROM schema_version) FROM sessions`).Scan(&n, &v); err != nil || n != 1 || v != 99 {
		t.Errorf("refused store changed: %d sessions, version %d, %v", n, v, err)
	}
}

func TestFailedMigrationLeavesStoreAtOldVersion(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	s := openTest(t, dir, testOptions(1, c))
	if err := s.Save(fullSession("keep")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	bad := migration{2, "broken", []string{
		`ALTER TABLE sessions ADD COLUMN tags TEXT NOT NULL DEFAULT ''`,
		`THIS IS NOT SQL`,
	}}
	o := testOptions(1, c)
	o.migrations = append(migrations(), bad)
	if _, err := openWith(dir, o); err == nil || !strings.Contains(err.Error(), "version 2 (broken)") {
		t.Fatalf("broken migration: %v", err)
	}
	s = openTest(t, dir, testOptions(1, c))
	if v, err := s.SchemaVersion(); err != nil || v != 1 {
		t.Fatalf("version %d %v after a failed migration, want 1", v, err)
	}
	if _, err := s.db.Exec(`SELECT tags FROM sessions`); err == nil {
		t.Error("the failed migration's first statement was kept")
	}
	if _, err := s.Load("keep"); err != nil {
		t.Error(err)
	}
}

func TestMigrationsOutOfOrder(t *testing.T) {
	o := testOptions(1, newClock())
	o.migrations = []migration{{2, "skips 1", nil}}
	if _, err := openWith(t.TempDir(), o); err == nil || !strings.Contains(err.Error(), "out of order") {
		t.Fatalf("out-of-order migrations: %v", err)
	}
}
