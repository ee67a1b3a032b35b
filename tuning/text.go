package tuning

import (
	"fmt"
	"strings"

	"github.com/kagen-ai/kagen/measure"
	"github.com/kagen-ai/kagen/profile"
)

// LossInterval is the 95% confidence interval, in percentage points, of
// a validated configuration's loss on the calibration split
// (measure.Paired.LossInterval over the windows exact and it got right),
// and the number of windows it rests on; ok is false for exact and for a
// configuration read back from an older file without the counts. The CLI
// (kagen tune) and the workbench's Pareto screen show it beside every
// loss.
func LossInterval(c profile.Candidate) (lo, hi float64, windows int, ok bool) {
	n := c.Calib.N()
	if n == 0 {
		return 0, 0, 0, false
	}
	lo, hi = c.Calib.LossInterval(measure.Z95)
	return lo, hi, n, true
}

// FormatLoss is a loss with its interval and windows, as kagen tune and
// the workbench print it: "-0.38 pp [-1.9, +1.2] on 262".
func FormatLoss(c profile.Candidate) string {
	lo, hi, n, ok := LossInterval(c)
	if !ok {
		return fmt.Sprintf("%.2f pp", c.LossPP)
	}
	return fmt.Sprintf("%.2f pp [%+.1f, %+.1f] on %d", c.LossPP, lo, hi, n)
}

// SplitWarnings say when the calibration split is too small to decide
// at maxLossPP: one window weighs more than the threshold, or a level
// kept below the threshold has an interval reaching above it (the data
// cannot tell that level from one that breaks the threshold).
func SplitWarnings(res *profile.TuneResult, calibWindows int, maxLossPP float64) []string {
	var out []string
	if calibWindows > 0 && 100/float64(calibWindows) > maxLossPP {
		out = append(out, fmt.Sprintf("one calibration window weighs %.2f pp, more than --max-loss %g: %d windows cannot decide at that threshold; give more data",
			100/float64(calibWindows), maxLossPP, calibWindows))
	}
	var undecided []string
	for i, l := range res.Levels {
		if lo, hi, _, ok := LossInterval(l); ok && i > 0 && hi > maxLossPP && lo <= maxLossPP {
			undecided = append(undecided, fmt.Sprintf("%d (up to %.1f pp)", i, hi))
		}
	}
	if len(undecided) > 0 {
		out = append(out, fmt.Sprintf("the 95%% interval of level %s reaches above --max-loss %g on %d calibration windows: the split is too small to say the level meets it; give more data or a larger --max-loss",
			strings.Join(undecided, ", level "), maxLossPP, calibWindows))
	}
	return out
}

// Text is the tune's result as kagen tune prints it: the exact accuracy
// and what was scored, the timing noise the levels were chosen with, then each level's speedup (and energy with the
// energy objective), its loss on the calibration split with the loss's
// 95% interval and the windows it rests on, the loss predicted, and the
// configuration.
func Text(res *profile.TuneResult, objective string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "exact accuracy %.2f%%; %d configurations scored, %d knob pairs screened, %d validated, predictor MAE %.2f pp\n",
		100*res.ExactAccuracy, res.Evaluated, len(res.Screened), len(res.Validated), res.PredictorMAE)
	if res.SpeedupNoise > 0 {
		fmt.Fprintf(&b, "speedups within %.1f%% of each other counted as equal when choosing the levels (twice the spread of exact's time over the validation)\n", 100*res.SpeedupNoise)
	}
	for i, l := range res.Levels {
		energy := ""
		if objective == "energy" {
			energy = " energy " + FormatEnergy(l.EnergyJ)
		}
		fmt.Fprintf(&b, "level %d: speedup %.2fx%s loss %s (predicted %.2f) %s\n", i, l.Speedup, energy, FormatLoss(l), l.PredictedLossPP, l.Config)
	}
	return b.String()
}

// FormatEnergy is an energy in the unit that suits it (µJ, mJ or J).
func FormatEnergy(j float64) string {
	switch {
	case j == 0:
		return "0 J"
	case j < 1e-3:
		return fmt.Sprintf("%.1f µJ", j*1e6)
	case j < 1:
		return fmt.Sprintf("%.2f mJ", j*1e3)
	}
	return fmt.Sprintf("%.3f J", j)
}
