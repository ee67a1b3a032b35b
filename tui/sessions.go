package tui

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/kagen-ai/kagen/policy"
	"github.com/kagen-ai/kagen/profile"
	"github.com/kagen-ai/kagen/sessions"
)

// demoPrefix marks the model path of a session on the built-in demo.
const demoPrefix = "demo:"

// SessionStore autosaves the workbench into a saved session through the
// session's lease, so that no other workbench edits it meanwhile.
type SessionStore struct {
	lease *sessions.Lease
	notes string
}

// NewSessionStore saves through lease; notes are kept as they are (the
// workbench has no notes editor yet).
func NewSessionStore(lease *sessions.Lease, notes string) *SessionStore {
	return &SessionStore{lease: lease, notes: notes}
}

// Save implements Store.
func (s *SessionStore) Save(snap Snapshot) error {
	ss, err := toSession(s.lease.Name(), snap)
	if err != nil {
		return err
	}
	ss.Notes = s.notes
	return s.lease.Save(ss)
}

// workbenchBlob is what the workbench keeps in a session's policy blob:
// the controller being built and the choices around it. (The Pareto blob
// holds the Pareto set in the pareto.json format.)
type workbenchBlob struct {
	Controller policy.Params       `json:"controller"`
	Device     string              `json:"device"`
	PolicyPath string              `json:"policy_path"`
	SavedPath  string              `json:"saved_path,omitempty"`
	Selected   string              `json:"selected,omitempty"`
	Validated  []profile.Candidate `json:"validated,omitempty"`
}

// toSession converts a snapshot into a session; paths are made absolute
// so that the session resumes from any directory.
func toSession(name string, snap Snapshot) (*sessions.Session, error) {
	ss := &sessions.Session{Name: name, ModelSHA256: snap.ModelSHA256, Config: snap.Config, Notes: snap.Notes}
	if ss.Config == "exact" {
		ss.Config = ""
	}
	if snap.Demo != "" {
		ss.ModelPath = demoPrefix + snap.Demo
		ss.Traces = snap.Traces
	} else {
		ss.ModelPath = absPath(snap.Model)
		for _, t := range snap.Traces {
			ss.Traces = append(ss.Traces, absPath(t))
		}
	}
	var err error
	if snap.Pareto != nil {
		if ss.Pareto, err = json.Marshal(snap.Pareto); err != nil {
			return nil, err
		}
	}
	wb := workbenchBlob{Controller: snap.Controller, Device: snap.Device, PolicyPath: absPath(snap.PolicyPath),
		SavedPath: snap.SavedPath, Selected: snap.Selected, Validated: snap.Validated}
	if ss.Policy, err = json.Marshal(wb); err != nil {
		return nil, err
	}
	return ss, nil
}

func absPath(p string) string {
	if p == "" {
		return p
	}
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// SessionSource returns the source of a saved session and the state to
// resume (Options.Resume).
func SessionSource(ss *sessions.Session) (Source, *Snapshot, error) {
	snap := &Snapshot{ModelSHA256: ss.ModelSHA256, Traces: ss.Traces, Config: ss.Config, Notes: ss.Notes}
	var src Source
	if demo, ok := strings.CutPrefix(ss.ModelPath, demoPrefix); ok {
		var err error
		if src, err = DemoSource(demo); err != nil {
			return Source{}, nil, fmt.Errorf("session %s: %w", ss.Name, err)
		}
		snap.Demo = demo
	} else {
		src = FileSource(ss.ModelPath, ss.Traces)
		snap.Model = ss.ModelPath
	}
	if len(ss.Pareto) > 0 {
		var p policy.Pareto
		if err := json.Unmarshal(ss.Pareto, &p); err != nil {
			return Source{}, nil, fmt.Errorf("session %s: Pareto set: %w", ss.Name, err)
		}
		snap.Pareto = &p
	}
	if len(ss.Policy) > 0 {
		var wb workbenchBlob
		if err := json.Unmarshal(ss.Policy, &wb); err != nil {
			return Source{}, nil, fmt.Errorf("session %s: workbench state: %w", ss.Name, err)
		}
		snap.Controller, snap.Device, snap.PolicyPath = wb.Controller, wb.Device, wb.PolicyPath
		snap.SavedPath, snap.Selected, snap.Validated = wb.SavedPath, wb.Selected, wb.Validated
	}
	return src, snap, nil
}

// OpenSession opens the session store and the session called name: it
// takes the session's lease and autosaves through it, or opens it
// read-only when another workbench holds it. With resume the session must
// exist and gives the model and traces; without, a session of that name
// is created (or continued, when it is of the same model).
func OpenSession(name, dir string, resume bool, src *Source, opts *Options) (done func(), err error) {
	if err := sessions.ValidateName(name); err != nil {
		return nil, fmt.Errorf("--session: %w", err)
	}
	store, err := sessions.Open(dir)
	if err != nil {
		return nil, err
	}
	ss, err := store.Load(name)
	switch {
	case errors.Is(err, sessions.ErrNotFound) && resume:
		store.Close()
		return nil, fmt.Errorf("no session %q in %s; start one with kagen open MODEL TRACE... --session %s", name, store.File(), name)
	case err != nil && !errors.Is(err, sessions.ErrNotFound):
		store.Close()
		return nil, err
	}
	notes := ""
	if ss != nil {
		s, snap, err := SessionSource(ss)
		if err != nil {
			store.Close()
			return nil, err
		}
		if resume {
			*src = s
			opts.Resume = snap
		} else {
			// A model given with a saved session's name continues the
			// session only if it is the session's model; another model
			// would replace the saved work, so it is refused.
			if err := sameModel(ss, src.ModelPath); err != nil {
				store.Close()
				return nil, err
			}
			snap.Traces = nil // the traces given now replace the session's
			opts.Resume = snap
		}
		notes = ss.Notes
	}
	lease, err := store.Acquire(name)
	if errors.Is(err, sessions.ErrLocked) {
		opts.Warnings = append(opts.Warnings, fmt.Sprintf("read-only: %v; changes are not saved in the session", err))
		return func() { store.Close() }, nil
	}
	if err != nil {
		store.Close()
		return nil, err
	}
	opts.Store = NewSessionStore(lease, notes)
	return func() {
		lease.Release()
		store.Close()
	}, nil
}

// sameModel checks that the model at path is the one session ss was saved
// with (by checksum; by path for a session saved without one), and
// otherwise says so naming both and what to do.
func sameModel(ss *sessions.Session, path string) error {
	sha, err := sessions.FileSHA256(path)
	if err != nil {
		return err
	}
	if ss.ModelSHA256 != "" && sha == ss.ModelSHA256 {
		return nil
	}
	if ss.ModelSHA256 == "" && !strings.HasPrefix(ss.ModelPath, demoPrefix) {
		a, err1 := filepath.Abs(ss.ModelPath)
		b, err2 := filepath.Abs(path)
		if err1 == nil && err2 == nil && a == b {
			return nil
		}
	}
	saved := ss.ModelPath
	if demo, ok := strings.CutPrefix(saved, demoPrefix); ok {
		saved = "the built-in demo " + demo
	}
	if ss.ModelSHA256 != "" && !strings.HasPrefix(ss.ModelPath, demoPrefix) {
		saved += " (SHA-256 " + short(ss.ModelSHA256) + ")"
	}
	return fmt.Errorf("session %q was saved with model %s, not %s (SHA-256 %s); opening it on another model would replace its saved work. "+
		"Resume it with kagen open --session %s, remove it with kagen sessions rm %s, or give another --session name",
		ss.Name, saved, path, short(sha), ss.Name, ss.Name)
}

// short is the start of a checksum, enough to tell two apart.
func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}
