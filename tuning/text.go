package tuning

import (
	"fmt"
	"strings"

	"github.com/kagen-ai/kagen/profile"
)

// FormatLoss is a configuration's loss with its interval and windows,
// as kagen tune and the report print it: "-0.38 pp [-1.9, +1.2] on 262".
func FormatLoss(c profile.Candidate) string { return CandidateLoss(c).String() }

// Text is the tune's result as kagen tune prints it: the exact accuracy
// and what was scored, the timing noise the levels were chosen with, then each level's speedup (and energy with the
// energy objective), its loss on the calibration split with the loss's
// 95% interval and the windows it rests on, the loss predicted, and the
// configuration.
func Text(res *profile.TuneResult, objective string) string {
	var b strings.Builder
	what := "exact accuracy"
	if res.Agreement {
		what = "QoS: top-1 agreement with the exact model (its predictions are the reference, labels unused): exact agreement"
	}
	fmt.Fprintf(&b, "%s %.2f%%; %d configurations scored, %d knob pairs screened, %d validated, predictor MAE %.2f pp\n",
		what, 100*res.ExactAccuracy, res.Evaluated, len(res.Screened), len(res.Validated), res.PredictorMAE)
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
