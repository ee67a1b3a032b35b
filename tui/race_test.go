package tui

import (
	"testing"
)

// TestDeviceChangeDuringReplay changes the device profile on the Policy
// screen while a long batch of the Replay screen may still run. A job
// reads the view taken when it started, never the Bench: before jobs took
// one, the batch read Bench.Device as the Policy screen wrote it, and go
// test -race failed here. Back on the Replay screen, the replay models
// its energy with the new profile.
func TestDeviceChangeDuringReplay(t *testing.T) {
	h := newHarness(t, fixture(), 100, 30, Options{Start: ReplayScreen, Batch: 2000})
	h.settle()
	// max speed, play: one batch of 2000 windows (the fake clock never
	// ends it early); then, without waiting for it, the Policy screen's
	// device field (the one above the file), changed three times
	for _, k := range []string{"s", "space", "5"} {
		h.tm.Send(keyMsg(k))
	}
	for i := 0; i < 20; i++ {
		h.tm.Send(keyMsg("down"))
	}
	for _, k := range []string{"up", "right", "right", "left"} {
		h.tm.Send(keyMsg(k))
	}
	v := h.settle()
	b := h.app.ctx.Bench
	if b.Device.Name == "phone-big" {
		t.Fatalf("the device did not change:\n%s", v)
	}
	h.press("3", "space")
	h.press("space")
	if r := h.app.ReplayReport(); r == nil || r.DeviceProfile != b.Device.Name || r.Windows == 0 {
		t.Fatalf("replay report %+v after the device changed to %s", r, b.Device.Name)
	}
}
