package deploy

import (
	"testing"
	"time"
)

// TestSavingWithinNoise: a saving inside its measurement's noise is shown
// as "~0%", one outside with its margin; the margin is 1.96 standard
// errors of the per-window differences over the exact mean.
func TestSavingWithinNoise(t *testing.T) {
	for _, c := range []struct {
		saving, margin float64
		want           string
	}{
		{0.016, 0.03, "~0% (+1.6% ±3.0, within the timing noise)"},
		{-0.02, 0.03, "~0% (-2.0% ±3.0, within the timing noise)"},
		{0, 0, "~0% (+0.0% ±0.0, within the timing noise)"}, // exact against exact with a modelled cost
		{0.355, 0.012, "35.5% ±1.2"},
		{0.355, 0, "35.5%"},
	} {
		if got := FormatSaving(c.saving, c.margin); got != c.want {
			t.Errorf("FormatSaving(%v, %v) = %q, want %q", c.saving, c.margin, got, c.want)
		}
	}
	// 4 windows of 100 us exact, differences -10, +10, -10, +10 us: mean
	// 0, sample sd 11.547 us, standard error 5.77 us: 1.96*5.77/100
	if got, want := savingMargin(0, 4*1e8, 4, 4*100*time.Microsecond), 0.11316; got < want-1e-4 || got > want+1e-4 {
		t.Errorf("savingMargin = %.5f, want %.5f", got, want)
	}
	if got := savingMargin(0, 0, 1, time.Millisecond); got != 0 {
		t.Errorf("one window: margin %v, want 0 (unknown)", got)
	}
}
