package tui

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/kagen-ai/kagen/deploy"
	"github.com/kagen-ai/kagen/policy"
	"github.com/kagen-ai/kagen/replay"
)

// TestResponsiveDuringReplay measures, with the wall clock and no sleeps,
// how long a key press waits to be handled while the Replay screen runs
// inference as fast as it can: the press is sent to the running program
// and the time until the router has handled it is taken from the
// program's own message hook. Every press must be handled within 100 ms.
func TestResponsiveDuringReplay(t *testing.T) {
	const presses = 100
	handled := make(chan time.Time, presses)
	running := make(chan struct{})
	var batches atomic.Int64
	var once sync.Once
	opts := Options{Clock: realClock{}, Start: ReplayScreen, Batch: 256, observe: func(m tea.Msg) {
		switch m := m.(type) {
		case addressed:
			if _, ok := m.msg.(streamBatch); ok && batches.Add(1) == 10 {
				once.Do(func() { close(running) })
			}
		case tea.KeyPressMsg:
			if m.String() == "a" {
				handled <- time.Now()
			}
		}
	}}
	h := newHarness(t, fixture(), 100, 30, opts)
	h.tm.Send(keyMsg("s")) // 10x -> max
	h.tm.Send(keyMsg("space"))
	select {
	case <-running:
	case <-time.After(30 * time.Second):
		t.Fatal("the replay did not start")
	}
	if s := h.app.screens[ReplayScreen].(*replayScreen); s.speed != speedMax {
		t.Fatalf("speed %s, want max", speedNames[s.speed])
	}
	var lat []time.Duration
	b0 := batches.Load()
	for i := 0; i < presses; i++ {
		sent := time.Now()
		h.tm.Send(keyMsg("a"))
		select {
		case at := <-handled:
			lat = append(lat, at.Sub(sent))
		case <-time.After(10 * time.Second):
			t.Fatal("a key press was not handled")
		}
	}
	b1 := batches.Load()
	if b1-b0 < 2 {
		t.Fatalf("only %d batches ran while the keys were pressed: the replay was not running", b1-b0)
	}
	slices.Sort(lat)
	t.Logf("key press handled in median %v, max %v over %d presses, while %d batches ran", lat[len(lat)/2], lat[len(lat)-1], len(lat), b1-b0)
	if raceDetector {
		t.Log("race detector on: the 100 ms bound is not checked")
		return
	}
	if worst := lat[len(lat)-1]; worst > 100*time.Millisecond {
		t.Fatalf("a key press waited %v (more than 100 ms) during the replay", worst)
	}
}

// BenchmarkReplayFrame is the work the UI goroutine does per batch of a
// fastest replay: handle a batch of 32 windows and render the screen.
// It bounds how long a key press can wait.
func BenchmarkReplayFrame(b *testing.B) {
	app := New(fixture(), Options{Clock: newFakeClock()})
	app.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	app.Update(switchMsg{ReplayScreen})
	events := make([]deploy.Event, 32)
	for i := range events {
		d := policy.Decision{Index: int64(i), From: i % 2, To: (i + 1) % 2, Rule: "state: last 3 predictions equal, votes +2 -> more"}
		events[i] = deploy.Event{Seq: int64(i), Time: float64(i), Label: i % 5,
			Runs: []deploy.RunEvent{{Inference: deploy.Inference{Level: i % 2, Pred: replay.Prediction{Class: i % 3, Confidence: 0.8}, Measured: 5000, Busy: 5000, EnergyJ: 1.5e-5}, Decision: d}}}
	}
	for i := 0; i < 20; i++ {
		app.Update(addressed{to: ReplayScreen, msg: streamBatch{events: events}})
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		app.Update(addressed{to: ReplayScreen, msg: streamBatch{events: events}})
		_ = app.View()
	}
}
