package tuning

import (
	"strings"
	"testing"

	"github.com/kagen-ai/kagen/measure"
	"github.com/kagen-ai/kagen/profile"
)

// TestText: every level's loss is printed with its interval and windows,
// energies with the energy objective, and a calibration split too small
// to decide at the threshold is warned of.
func TestText(t *testing.T) {
	res := &profile.TuneResult{ExactAccuracy: 0.9, Levels: []profile.Candidate{
		{Config: "exact", Speedup: 1, EnergyJ: 400e-6},
		{Config: "conv=int8", Speedup: 1.5, LossPP: -5.26, PredictedLossPP: -5.9, EnergyJ: 267e-6, Calib: measure.Paired{Both: 17, Gained: 1, Neither: 1}},
	}}
	got := Text(res, "energy")
	for _, want := range []string{
		"level 0: speedup 1.00x energy 400.0 µJ loss 0.00 pp (predicted 0.00) exact\n",
		"level 1: speedup 1.50x energy 267.0 µJ loss -5.26 pp [-25.2, +13.3] on 19 (predicted -5.90) conv=int8\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("Text:\n%s\nwant a line %q", got, want)
		}
	}
	if strings.Contains(Text(res, "time"), "energy") {
		t.Errorf("the time objective printed energies:\n%s", Text(res, "time"))
	}
	for _, c := range []struct {
		calib int
		max   float64
		want  []string
	}{
		{19, 1, []string{"one calibration window weighs 5.26 pp, more than --max-loss 1"}},
		{19, 10, []string{"level 1 (up to 13.3 pp) reaches above --max-loss 10"}},
		{19, 20, nil}, // 19 windows decide 20 pp
	} {
		ws := SplitWarnings(res, c.calib, c.max)
		if len(ws) != len(c.want) {
			t.Errorf("%d windows at %v pp: %d warnings %q, want %d", c.calib, c.max, len(ws), ws, len(c.want))
			continue
		}
		for i, w := range c.want {
			if !strings.Contains(ws[i], w) {
				t.Errorf("warning %q, want %q in it", ws[i], w)
			}
		}
	}
	if l := CandidateLoss(res.Levels[0]); l.Windows != 0 || l.Paired || l.String() != "0.00 pp" {
		t.Errorf("exact: %+v (%q), want no interval", l, l)
	}
	for _, c := range []struct {
		j    float64
		want string
	}{{0, "0 J"}, {396e-6, "396.0 µJ"}, {0.0123, "12.30 mJ"}, {1.5, "1.500 J"}} {
		if got := FormatEnergy(c.j); got != c.want {
			t.Errorf("FormatEnergy(%v) = %q, want %q", c.j, got, c.want)
		}
	}
}
