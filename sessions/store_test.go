package sessions

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

const digest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

func fullSession(name string) *Session {
	return &Session{
		Name:        name,
		ModelPath:   "/models/har.onnx",
		ModelSHA256: digest,
		Traces:      []string{"walk.csv", "run.csv", "stairs.wav"},
		Profile:     json.RawMessage(`{"nodes":[{"name":"conv1","knobs":{"int8":{"speedup":1.8}}}]}`),
		Pareto:      json.RawMessage(`[{"config":"conv1=int8","loss":0.01,"speedup":1.8}]`),
		Config:      "conv1=perf-row:2:0,fc=int8",
		Policy:      json.RawMessage(`{"controller":"floor","floor":0.9}`),
		Notes:       "tried int8 on fc first\n\tthen rows",
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	s := openTest(t, t.TempDir(), testOptions(1, newClock()))
	for _, tc := range []struct {
		name string
		ss   *Session
	}{
		{"minimal", &Session{Name: "m"}},
		{"full", fullSession("full")},
		{"unicode name and notes", &Session{Name: "Gang-Erkennung ✓ 歩行", Notes: "Übung macht den Meister"}},
		{"many traces", &Session{Name: "traces", Traces: func() []string {
			var ts []string
			for i := 0; i < 300; i++ {
				ts = append(ts, filepath.Join("/data", strings.Repeat("x", i%7), "t.csv"))
			}
			return ts
		}()}},
		{"blob that is a JSON scalar", &Session{Name: "scalar", Policy: json.RawMessage(`null`), Profile: json.RawMessage(` 3 `)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.Save(tc.ss); err != nil {
				t.Fatal(err)
			}
			if tc.ss.Revision != 1 || tc.ss.Created.IsZero() || !tc.ss.Created.Equal(tc.ss.Updated) {
				t.Errorf("after Save: revision %d, created %v, updated %v", tc.ss.Revision, tc.ss.Created, tc.ss.Updated)
			}
			got, err := s.Load(tc.ss.Name)
			if err != nil {
				t.Fatal(err)
			}
			if !sameSession(got, tc.ss) {
				t.Errorf("Load = %+v\nwant %+v", got, tc.ss)
			}
		})
	}
}

// sameSession compares sessions, times by instant.
func sameSession(a, b *Session) bool {
	x, y := *a, *b
	if !x.Created.Equal(y.Created) || !x.Updated.Equal(y.Updated) {
		return false
	}
	x.Created, x.Updated, y.Created, y.Updated = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if len(x.Traces) == 0 && len(y.Traces) == 0 {
		x.Traces, y.Traces = nil, nil
	}
	return reflect.DeepEqual(x, y)
}

func TestCRUD(t *testing.T) {
	c := newClock()
	s := openTest(t, t.TempDir(), testOptions(1, c))
	type step struct {
		op      string // save, load, delete
		ss      *Session
		name    string
		wantErr error
		check   func(t *testing.T, got *Session)
	}
	var firstCreated time.Time
	steps := []step{
		{op: "load", name: "a", wantErr: ErrNotFound},
		{op: "delete", name: "a", wantErr: ErrNotFound},
		{op: "save", ss: fullSession("a")},
		{op: "load", name: "a", check: func(t *testing.T, got *Session) {
			firstCreated = got.Created
			if got.Revision != 1 || len(got.Traces) != 3 {
				t.Errorf("revision %d traces %v", got.Revision, got.Traces)
			}
		}},
		{op: "save", ss: &Session{Name: "b", Config: "fc=int8"}},
		{op: "save", ss: &Session{Name: "a", ModelPath: "/models/other.onnx", Traces: []string{"only.csv"}, Config: "*=int8"}},
		{op: "load", name: "a", check: func(t *testing.T, got *Session) {
			if got.Revision != 2 || !got.Created.Equal(firstCreated) || !got.Updated.After(got.Created) {
				t.Errorf("after update: revision %d created %v (first %v) updated %v", got.Revision, got.Created, firstCreated, got.Updated)
			}
			if !reflect.DeepEqual(got.Traces, []string{"only.csv"}) || got.Profile != nil || got.Policy != nil || got.Notes != "" {
				t.Errorf("update did not replace the fields: %+v", got)
			}
		}},
		{op: "delete", name: "a"},
		{op: "load", name: "a", wantErr: ErrNotFound},
		{op: "delete", name: "a", wantErr: ErrNotFound},
		{op: "load", name: "", wantErr: ErrInvalid},
		{op: "delete", name: "-x", wantErr: ErrInvalid},
		{op: "load", name: "b", check: func(t *testing.T, got *Session) {
			if got.Config != "fc=int8" {
				t.Errorf("b config %q", got.Config)
			}
		}},
	}
	for i, st := range steps {
		var err error
		var got *Session
		switch st.op {
		case "save":
			err = s.Save(st.ss)
		case "load":
			got, err = s.Load(st.name)
		case "delete":
			err = s.Delete(st.name)
		}
		if st.wantErr != nil {
			if !errors.Is(err, st.wantErr) {
				t.Fatalf("step %d %s %q: err %v, want %v", i, st.op, st.name, err, st.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("step %d %s: %v", i, st.op, err)
		}
		if st.check != nil {
			st.check(t, got)
		}
	}
	// The traces of a deleted session are gone too.
	var n int
	if err := s.db.QueryRow(`SELECT COUNT(*) FROM session_traces WHERE session = 'a'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("traces of deleted session: %d (%v)", n, err)
	}
	if err := s.Check(); err != nil {
		t.Error(err)
	}
}

func TestList(t *testing.T) {
	c := newClock()
	s := openTest(t, t.TempDir(), testOptions(1, c))
	if l, err := s.List(); err != nil || len(l) != 0 {
		t.Fatalf("empty store: %v %v", l, err)
	}
	for _, n := range []string{"one", "two", "three"} {
		if err := s.Save(fullSession(n)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Save(&Session{Name: "one", ModelPath: "m.onnx"}); err != nil { // now the newest
		t.Fatal(err)
	}
	l, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, x := range l {
		names = append(names, x.Name)
	}
	if want := []string{"one", "three", "two"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("List order %v, want %v", names, want)
	}
	if l[0].ModelPath != "m.onnx" || l[0].Traces != 0 || l[0].Revision != 2 || l[1].Traces != 3 ||
		l[1].Config != "conv1=perf-row:2:0,fc=int8" || l[1].ModelSHA256 != digest || l[1].Holder != nil {
		t.Errorf("List = %+v", l)
	}
}

func TestValidation(t *testing.T) {
	s := openTest(t, t.TempDir(), testOptions(1, newClock()))
	big := make([]byte, MaxBlobBytes+1)
	big[0], big[len(big)-1] = '"', '"'
	for i := 1; i < len(big)-1; i++ {
		big[i] = 'a'
	}
	mod := func(f func(*Session)) *Session { ss := fullSession("v"); f(ss); return ss }
	for _, tc := range []struct {
		name string
		ss   *Session
	}{
		{"nil", nil},
		{"empty name", mod(func(s *Session) { s.Name = "" })},
		{"long name", mod(func(s *Session) { s.Name = strings.Repeat("n", MaxNameBytes+1) })},
		{"name with newline", mod(func(s *Session) { s.Name = "a\nb" })},
		{"name with spaces around", mod(func(s *Session) { s.Name = " a" })},
		{"name not UTF-8", mod(func(s *Session) { s.Name = "a\xffb" })},
		{"profile not JSON", mod(func(s *Session) { s.Profile = json.RawMessage(`{"a":`) })},
		{"Pareto not JSON", mod(func(s *Session) { s.Pareto = json.RawMessage(`[1,]`) })},
		{"policy not JSON", mod(func(s *Session) { s.Policy = json.RawMessage(`controller: floor`) })},
		{"profile too big", mod(func(s *Session) { s.Profile = big })},
		{"bad digest", mod(func(s *Session) { s.ModelSHA256 = "ABC" })},
		{"upper-case digest", mod(func(s *Session) { s.ModelSHA256 = strings.ToUpper(digest) })},
		{"empty trace", mod(func(s *Session) { s.Traces = []string{"a", ""} })},
		{"too many traces", mod(func(s *Session) { s.Traces = make([]string, MaxTraces+1) })},
		{"config with newline", mod(func(s *Session) { s.Config = "fc=int8\nconv=int8" })},
		{"long model path", mod(func(s *Session) { s.ModelPath = strings.Repeat("p", MaxPathBytes+1) })},
		{"notes too long", mod(func(s *Session) { s.Notes = strings.Repeat("n", MaxNotesBytes+1) })},
		{"notes with NUL", mod(func(s *Session) { s.Notes = "a\x00b" })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Save(tc.ss)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Save: %v, want ErrInvalid", err)
			}
			if tc.ss != nil && tc.ss.Name == "v" && !strings.Contains(err.Error(), `"v"`) {
				t.Errorf("error does not name the session: %v", err)
			}
		})
	}
	if l, err := s.List(); err != nil || len(l) != 0 {
		t.Fatalf("invalid sessions were written: %v %v", l, err)
	}
}

func TestOpenDirs(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_DATA_HOME", dir)
	if d, err := DefaultDir(); err != nil || d != filepath.Join(dir, "kagen") {
		t.Fatalf("DefaultDir = %q, %v", d, err)
	}
	t.Setenv("XDG_DATA_HOME", "relative/ignored")
	t.Setenv("HOME", dir)
	if d, err := DefaultDir(); err != nil || d != filepath.Join(dir, ".local", "share", "kagen") {
		t.Fatalf("DefaultDir with a relative XDG_DATA_HOME = %q, %v", d, err)
	}
	// Open("") uses the default, creating missing directories.
	s, err := Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if want := filepath.Join(dir, ".local", "share", "kagen", FileName); s.File() != want {
		t.Errorf("File = %q, want %q", s.File(), want)
	}
	var mode, sync string
	if err := s.db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode %q %v", mode, err)
	}
	if err := s.db.QueryRow(`PRAGMA synchronous`).Scan(&sync); err != nil || sync != "2" {
		t.Errorf("synchronous %q %v, want 2 (FULL)", sync, err)
	}

	// A directory with URI metacharacters in its name.
	odd := filepath.Join(t.TempDir(), "a b?c#d%e")
	s2, err := Open(odd)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if err := s2.Save(&Session{Name: "x"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(odd, FileName)); err != nil {
		t.Errorf("database not where expected: %v", err)
	}
}

func TestOpenNotADatabase(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	if err := os.WriteFile(path, []byte(strings.Repeat("this is not SQLite\n", 200)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(dir)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("Open of a non-database: %v (want an error naming %s)", err, path)
	}
}

func TestFileSHA256(t *testing.T) {
	p := filepath.Join(t.TempDir(), "m")
	if err := os.WriteFile(p, []byte("test"), 0o600); err != nil {
		t.Fatal(err)
	}
	if h, err := FileSHA256(p); err != nil || h != digest {
		t.Fatalf("FileSHA256 = %q, %v", h, err)
	}
	if _, err := FileSHA256(p + "x"); err == nil || !strings.Contains(err.Error(), p+"x") {
		t.Fatalf("missing file: %v", err)
	}
}
