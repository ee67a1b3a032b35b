package tui

import (
	"github.com/kagen-ai/kagen/device"
	"github.com/kagen-ai/kagen/policy"
	"github.com/kagen-ai/kagen/profile"
)

// Store keeps the workbench's work between runs. SessionStore saves into
// the sessions package's store; with no store the work lives as long as
// the process.
type Store interface {
	// Save records the current state; it is called from a job after every
	// change (autosave), never concurrently with itself.
	Save(s Snapshot) error
}

// Snapshot is the state a session holds: the model and traces, the
// chosen configuration, the Pareto set, the controller and where the
// policy went.
type Snapshot struct {
	Model       string   `json:"model"` // model file, "" for the demo
	Demo        string   `json:"demo,omitempty"`
	ModelSHA256 string   `json:"model_sha256"`
	Traces      []string `json:"traces"`
	Device      string   `json:"device"`
	// Config is the Knobs configuration's text form.
	Config    string              `json:"config"`
	Pareto    *policy.Pareto      `json:"pareto,omitempty"`
	Validated []profile.Candidate `json:"validated,omitempty"`
	Selected  string              `json:"selected,omitempty"`
	// Controller is the policy's controller and its parameters.
	Controller policy.Params `json:"controller"`
	PolicyPath string        `json:"policy_path"`
	SavedPath  string        `json:"saved_path,omitempty"`
	Notes      string        `json:"notes,omitempty"`
}

// snapshot captures the Bench.
func (b *Bench) snapshot() Snapshot {
	s := Snapshot{Model: b.Source.ModelPath, Demo: b.Source.Demo, Config: b.ConfigText(),
		Pareto: b.Pareto, Validated: b.Validated, Selected: b.Selected, Controller: b.Controller,
		PolicyPath: b.PolicyPath, SavedPath: b.SavedPath}
	if b.Model != nil {
		s.ModelSHA256 = b.Model.SHA256()
	}
	if b.Device != nil {
		s.Device = b.Device.Name
	}
	for _, t := range b.Source.Traces {
		s.Traces = append(s.Traces, t.Path)
	}
	return s
}

// restore applies a session's state to a freshly loaded Bench. Parts that
// no longer fit the model (another model file, a configuration that does
// not parse) are skipped and reported.
func (b *Bench) restore(s Snapshot) error {
	if !b.Ready() {
		return nil
	}
	if s.ModelSHA256 != "" && s.ModelSHA256 != b.Model.SHA256() {
		return errSessionModel
	}
	var firstErr error
	if s.Config != "" && s.Config != "exact" {
		if cfg, err := b.Approx.Parse(s.Config); err == nil {
			b.Config = cfg
		} else {
			firstErr = err
		}
	}
	if s.Pareto != nil {
		if err := s.Pareto.Validate(); err == nil {
			b.Pareto, b.Validated, b.Selected = s.Pareto, s.Validated, s.Selected
		} else if firstErr == nil {
			firstErr = err
		}
	}
	if s.Controller.Name != "" {
		if c, err := s.Controller.WithDefaults(); err == nil {
			b.Controller = c
		}
	}
	if s.Device != "" {
		if d, err := device.Lookup(s.Device); err == nil {
			b.Device = d
		}
	}
	if s.PolicyPath != "" {
		b.PolicyPath = s.PolicyPath
	}
	b.SavedPath = s.SavedPath
	return firstErr
}

type sessionError string

func (e sessionError) Error() string { return string(e) }

const errSessionModel = sessionError("the session was made with another model file (its SHA-256 differs); its configuration and Pareto set were not loaded")
