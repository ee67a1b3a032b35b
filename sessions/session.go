package sessions

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits on what a session may hold. Save refuses a session that exceeds one
// before it writes anything.
const (
	// MaxNameBytes is the longest session name, in bytes of UTF-8.
	MaxNameBytes = 128
	// MaxPathBytes is the longest model or trace path.
	MaxPathBytes = 4096
	// MaxTraces is the most trace paths a session may list.
	MaxTraces = 4096
	// MaxConfigBytes is the longest configuration text.
	MaxConfigBytes = 64 << 10
	// MaxNotesBytes is the longest notes text.
	MaxNotesBytes = 1 << 20
	// MaxBlobBytes is the largest JSON blob (profile, Pareto set or policy).
	MaxBlobBytes = 16 << 20
)

// Errors reported by the store; test for them with errors.Is.
var (
	// ErrNotFound reports that no session has the given name.
	ErrNotFound = errors.New("no such session")
	// ErrInvalid reports a session or name that fails validation.
	ErrInvalid = errors.New("invalid session")
	// ErrLocked reports that another live process (or another Lease in this
	// one) holds the session's lease. The error is a *LockedError that names
	// the holder.
	ErrLocked = errors.New("session is open elsewhere")
	// ErrLeaseLost reports that a lease was released or taken over by
	// another process (after its heartbeat went stale), so saving through it
	// is refused.
	ErrLeaseLost = errors.New("session lease lost")
	// ErrSchemaTooNew reports a store written by a newer kagen whose schema
	// version this code does not know.
	ErrSchemaTooNew = errors.New("session store schema is newer than this kagen")
)

// Session is one saved workbench session: a model with its traces, the
// measurements and choices made on it, and notes.
type Session struct {
	// Name identifies the session in its store; see ValidateName.
	Name string
	// ModelPath is the ONNX model's path as the user gave it.
	ModelPath string
	// ModelSHA256 is the lowercase hex SHA-256 of the model file when it was
	// loaded (see FileSHA256), or empty if unknown; it lets a resumed session
	// notice that the model changed on disk.
	ModelSHA256 string
	// Traces are the recorded trace paths, in the order the user gave them.
	Traces []string
	// Profile is the measured profile (JSON), or nil if not measured yet.
	Profile json.RawMessage
	// Pareto is the tuned Pareto set (JSON), or nil if not tuned yet.
	Pareto json.RawMessage
	// Config is the chosen configuration in text form, such as
	// "conv1=perf-row:2:0,fc=int8"; empty for the exact model.
	Config string
	// Policy is the run-time policy (JSON), or nil if none was chosen.
	Policy json.RawMessage
	// Notes are the user's free-form notes.
	Notes string

	// Created is when the session was first saved; set by the store.
	Created time.Time
	// Updated is when the session was last saved; set by the store.
	Updated time.Time
	// Revision counts the saves of this session, from 1; set by the store.
	Revision int64
}

// Summary is what List reports of one session; the fields are those of
// Session.
type Summary struct {
	Name        string
	ModelPath   string
	ModelSHA256 string
	// Traces is the number of trace paths.
	Traces   int
	Config   string
	Created  time.Time
	Updated  time.Time
	Revision int64
	// Holder is the live process holding the session's lease, or nil.
	Holder *Holder
}

// ValidateName reports whether name can name a session: not empty, at most
// MaxNameBytes of valid UTF-8, printable characters only, no leading or
// trailing space, and not starting with '-' (so it never reads as a flag).
func ValidateName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty name", ErrInvalid)
	case len(name) > MaxNameBytes:
		return fmt.Errorf("%w: name of %d bytes exceeds the limit of %d", ErrInvalid, len(name), MaxNameBytes)
	case !utf8.ValidString(name):
		return fmt.Errorf("%w: name %q is not valid UTF-8", ErrInvalid, name)
	case strings.TrimSpace(name) != name:
		return fmt.Errorf("%w: name %q has leading or trailing space", ErrInvalid, name)
	case strings.HasPrefix(name, "-"):
		return fmt.Errorf("%w: name %q starts with '-'", ErrInvalid, name)
	}
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("%w: name %q has the unprintable character %U", ErrInvalid, name, r)
		}
	}
	return nil
}

// Validate checks s against the limits and formats Save enforces: a valid
// name, bounded paths and texts, a well-formed digest, and JSON blobs that
// parse and fit MaxBlobBytes.
func (s *Session) Validate() error {
	if s == nil {
		return fmt.Errorf("%w: nil session", ErrInvalid)
	}
	if err := ValidateName(s.Name); err != nil {
		return err
	}
	fail := func(format string, a ...any) error {
		return fmt.Errorf("session %q: %w: %s", s.Name, ErrInvalid, fmt.Sprintf(format, a...))
	}
	if err := checkText("model path", s.ModelPath, MaxPathBytes, false); err != nil {
		return fail("%v", err)
	}
	if s.ModelSHA256 != "" && !isHexDigest(s.ModelSHA256) {
		return fail("model SHA-256 %q is not 64 lowercase hex digits", s.ModelSHA256)
	}
	if len(s.Traces) > MaxTraces {
		return fail("%d traces exceed the limit of %d", len(s.Traces), MaxTraces)
	}
	for i, t := range s.Traces {
		if t == "" {
			return fail("trace %d is an empty path", i+1)
		}
		if err := checkText(fmt.Sprintf("trace %d", i+1), t, MaxPathBytes, false); err != nil {
			return fail("%v", err)
		}
	}
	if err := checkText("configuration", s.Config, MaxConfigBytes, false); err != nil {
		return fail("%v", err)
	}
	if err := checkText("notes", s.Notes, MaxNotesBytes, true); err != nil {
		return fail("%v", err)
	}
	for _, b := range []struct {
		what string
		data json.RawMessage
	}{{"profile", s.Profile}, {"Pareto set", s.Pareto}, {"policy", s.Policy}} {
		if len(b.data) == 0 {
			continue
		}
		if len(b.data) > MaxBlobBytes {
			return fail("%s of %d bytes exceeds the limit of %d", b.what, len(b.data), MaxBlobBytes)
		}
		if !json.Valid(b.data) {
			return fail("%s is not valid JSON", b.what)
		}
	}
	return nil
}

// checkText bounds a text field and keeps it valid UTF-8 without control
// characters (newlines and tabs are allowed where multiline is set).
func checkText(what, s string, limit int, multiline bool) error {
	if len(s) > limit {
		return fmt.Errorf("%s of %d bytes exceeds the limit of %d", what, len(s), limit)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s is not valid UTF-8", what)
	}
	for _, r := range s {
		if r == 0 || (unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\t' || r == '\r'))) {
			return fmt.Errorf("%s has the control character %U", what, r)
		}
	}
	return nil
}

func isHexDigest(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
