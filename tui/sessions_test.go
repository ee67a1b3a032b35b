package tui

import (
	"testing"

	"github.com/kagen-ai/kagen/policy"
	"github.com/kagen-ai/kagen/sessions"
)

// TestSessionAutosave changes the configuration, the Pareto set and the
// controller with a session store attached, then resumes the session in a
// second workbench and finds the same state.
func TestSessionAutosave(t *testing.T) {
	store, err := sessions.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	lease, err := store.Acquire("bench")
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, fixture(), 100, 30, Options{Start: ParetoScreen, Store: NewSessionStore(lease, "my notes")})
	h.settle()
	h.press("t", "left", "enter") // tune, pick level 1, load it into Knobs
	h.press("5", "right")         // controller state -> kalman
	b := h.app.ctx.Bench
	ss, err := store.Load("bench")
	if err != nil {
		t.Fatal(err)
	}
	if ss.Config != b.ConfigText() || ss.ModelSHA256 != b.Model.SHA256() || ss.Notes != "my notes" || len(ss.Traces) != 1 {
		t.Fatalf("saved session %+v", ss)
	}
	if err := lease.Release(); err != nil {
		t.Fatal(err)
	}

	src, snap, err := SessionSource(ss)
	if err != nil {
		t.Fatal(err)
	}
	h2 := newHarness(t, src, 100, 30, Options{Resume: snap})
	h2.settle()
	b2 := h2.app.ctx.Bench
	if b2.LoadErr != nil {
		t.Fatal(b2.LoadErr)
	}
	if b2.ConfigText() != b.ConfigText() || b2.Controller.Name != policy.Kalman || b2.Pareto == nil ||
		len(b2.Pareto.Configs) != len(b.Pareto.Configs) || len(b2.Validated) != len(b.Validated) || b2.Selected != b.Selected {
		t.Fatalf("resumed config %q controller %s pareto %v selected %q; want %q kalman %d levels %q",
			b2.ConfigText(), b2.Controller, b2.Pareto != nil, b2.Selected, b.ConfigText(), len(b.Pareto.Configs), b.Selected)
	}
}

// TestDemoSession round-trips a session on the built-in demo.
func TestDemoSession(t *testing.T) {
	src, err := DemoSource("")
	if err != nil {
		t.Fatal(err)
	}
	b := loadBench(src, "")
	ss, err := toSession("demo", b.snapshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := ss.Validate(); err != nil {
		t.Fatal(err)
	}
	src2, snap, err := SessionSource(ss)
	if err != nil {
		t.Fatal(err)
	}
	if src2.Demo != src.Demo || src2.ModelBytes == nil || snap.Demo != src.Demo {
		t.Fatalf("demo session resumed as %+v", src2)
	}
}
