package tuning

import (
	"fmt"
	"math"
	"strings"

	"github.com/kagen-ai/kagen/measure"
	"github.com/kagen-ai/kagen/policy"
	"github.com/kagen-ai/kagen/profile"
)

// Loss is a calibrated accuracy loss with its 95% confidence interval and
// the windows it rests on, as kagen tune, the report and the workbench
// show it beside every level.
type Loss struct {
	// PP is the loss in percentage points (negative: more accurate than
	// exact).
	PP float64
	// Lo and Hi bound the 95% interval, in percentage points.
	Lo, Hi float64
	// Windows is the number of calibration windows; 0 when unknown (then
	// Lo and Hi are meaningless).
	Windows int
	// Paired says the interval comes from the paired counts of the
	// windows exact and the level each got right (measure.Paired:
	// Newcombe's interval). When false it is the wider bound of two
	// independent accuracies, used for files without the counts.
	Paired bool
}

// String is "+0.38 pp [-1.9, +2.6] on 262", or "0.38 pp" without
// windows.
func (l Loss) String() string {
	if l.Windows <= 0 {
		return fmt.Sprintf("%.2f pp", l.PP)
	}
	return fmt.Sprintf("%+.2f pp [%+.1f, %+.1f] on %d", l.PP, l.Lo, l.Hi, l.Windows)
}

// CandidateLoss is a tuned configuration's loss with its paired interval
// (no windows for exact and for a configuration read back from a partial
// file, which does not keep the counts).
func CandidateLoss(c profile.Candidate) Loss {
	return pairedLoss(c.LossPP, c.Calib)
}

// LevelLoss is a level's loss from a Pareto file or policy: its paired
// interval when the file has the counts, else the independent bound over
// the windows its confidence statistics count.
func LevelLoss(l policy.Level, exactAccuracy float64) Loss {
	if c := l.Calib; c != nil {
		return pairedLoss(l.QoSLossPP, measure.Paired{Both: c.Both, Lost: c.Lost, Gained: c.Gained, Neither: c.Neither})
	}
	return IndependentLoss(l.QoSLossPP, exactAccuracy, l.Accuracy, Windows(l.Confidence))
}

func pairedLoss(pp float64, c measure.Paired) Loss {
	n := c.N()
	if n == 0 {
		return Loss{PP: pp}
	}
	lo, hi := c.LossInterval(measure.Z95)
	return Loss{PP: pp, Lo: lo, Hi: hi, Windows: n, Paired: true}
}

// IndependentLoss bounds the 95% interval of a loss measured as exact's
// accuracy minus a configuration's on the same n windows without their
// pairing: the normal interval of two independent proportions, at least
// one window (100/n pp) each side. Both were measured on the same
// windows, which makes the true (paired) interval narrower when they
// fail on the same ones. No windows give a Loss without an interval.
func IndependentLoss(pp, exactAccuracy, accuracy float64, n int) Loss {
	if n <= 0 {
		return Loss{PP: pp}
	}
	fn := float64(n)
	se := math.Sqrt(exactAccuracy*(1-exactAccuracy)/fn + accuracy*(1-accuracy)/fn)
	h := 100 * max(1.96*se, 1/fn)
	return Loss{PP: pp, Lo: pp - h, Hi: pp + h, Windows: n}
}

// Windows returns the number of calibration windows a level's accuracy
// was measured on: the windows its confidence statistics count (windows
// whose outputs were not finite are not among them).
func Windows(c policy.ConfidenceStats) int {
	n := 0
	for _, k := range c.CorrectN {
		n += k
	}
	for _, k := range c.WrongN {
		n += k
	}
	return n
}

// SplitWarnings say when the calibration split is too small to decide
// at maxLossPP: one window weighs more than the threshold, or else a
// level kept below the threshold has an interval reaching above it (the
// data cannot tell that level from one that breaks the threshold).
func SplitWarnings(res *profile.TuneResult, calibWindows int, maxLossPP float64) []string {
	losses := make([]Loss, len(res.Levels))
	for i, l := range res.Levels {
		losses[i] = CandidateLoss(l)
	}
	return splitWarnings(calibWindows, maxLossPP, losses)
}

// ParetoWarnings are SplitWarnings for the levels of a Pareto file (the
// workbench's Pareto screen), at the threshold the file was tuned at, or
// at maxLossPP for a file that does not record it.
func ParetoWarnings(p *policy.Pareto, maxLossPP float64) []string {
	if p == nil || len(p.Configs) == 0 {
		return nil
	}
	if p.MaxLossPP > 0 {
		maxLossPP = p.MaxLossPP
	}
	losses := make([]Loss, len(p.Configs))
	calib := 0
	for i, l := range p.Configs {
		losses[i] = LevelLoss(l, p.ExactAccuracy)
		calib = max(calib, losses[i].Windows)
	}
	if calib == 0 {
		calib = Windows(p.Configs[0].Confidence)
	}
	return splitWarnings(calib, maxLossPP, losses)
}

func splitWarnings(calibWindows int, maxLossPP float64, losses []Loss) []string {
	if !(maxLossPP > 0) {
		return nil
	}
	var out []string
	if calibWindows > 0 && 100/float64(calibWindows) > maxLossPP {
		// every level's interval is wider still: saying so level by level
		// would repeat it
		return []string{fmt.Sprintf("one calibration window weighs %.2f pp, more than --max-loss %g: %d windows cannot decide at that threshold; give more data",
			100/float64(calibWindows), maxLossPP, calibWindows)}
	}
	var undecided []string
	for i, l := range losses {
		if i > 0 && l.Windows > 0 && l.Hi > maxLossPP && l.Lo <= maxLossPP {
			undecided = append(undecided, fmt.Sprintf("%d (up to %.1f pp)", i, l.Hi))
		}
	}
	if len(undecided) > 0 {
		out = append(out, fmt.Sprintf("the 95%% interval of level %s reaches above --max-loss %g on %d calibration windows: the split is too small to say the level meets it; give more data or a larger --max-loss",
			strings.Join(undecided, ", level "), maxLossPP, calibWindows))
	}
	return out
}
