package ondevice

import (
	"testing"
)

// BenchmarkPushWindow is the Go side of the C library's per-window
// overhead: one ready window through the policy (inference, decision,
// tallies). libkagen's C timing loop (examples/c/kagen_test.c, "timing")
// runs the same window through kagen_push_window.
func BenchmarkPushWindow(b *testing.B) {
	h := openHAR(b, Options{})
	x := make([]float32, h.WindowSize())
	for i := range x {
		x[i] = float32(i%7) / 7
	}
	for b.Loop() {
		if _, err := h.PushWindow(x); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPushIMU pushes the demo trace a hop of rows at a time through
// the front-end (CSV text, resampling, features) and the policy.
func BenchmarkPushIMU(b *testing.B) {
	h := openHAR(b, Options{})
	f := demoRows(b, h.Columns())[0]
	nc := len(h.Columns())
	hop := h.Deployment().Spec.Hop
	i := 0
	b.ResetTimer()
	for b.Loop() {
		if i+hop > len(f.timestamps) {
			b.StopTimer()
			h.Flush()
			i = 0
			b.StartTimer()
		}
		if _, err := h.PushIMU(f.timestamps[i:i+hop], f.values[i*nc:(i+hop)*nc]); err != nil {
			b.Fatal(err)
		}
		i += hop
	}
	b.ReportMetric(float64(h.Stats().Windows)/float64(b.N), "windows/op")
}
