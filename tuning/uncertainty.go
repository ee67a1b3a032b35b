package tuning

import (
	"fmt"
	"math"

	"github.com/kagen-ai/kagen/policy"
)

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

// LossHalfWidthPP bounds the 95% half-width, in percentage points, of an
// accuracy loss measured as exact's accuracy minus a configuration's on
// the same n windows: the normal interval of two independent proportions,
// at least one window (100/n pp). Both are measured on the same windows,
// which makes the true interval narrower when they fail on the same ones;
// without the windows on which they disagree this is the bound. +Inf for
// n 0.
func LossHalfWidthPP(exactAcc, acc float64, n int) float64 {
	if n <= 0 {
		return math.Inf(1)
	}
	fn := float64(n)
	se := math.Sqrt(exactAcc*(1-exactAcc)/fn + acc*(1-acc)/fn)
	return 100 * max(1.96*se, 1/fn)
}

// SplitWarning says, when it is so, that n calibration windows cannot
// tell a loss of maxLossPP from none (the half-width of a loss at the
// exact accuracy is above the threshold): the levels' losses are then
// not known well enough to keep or drop a level by it. "" otherwise.
func SplitWarning(n int, exactAcc, maxLossPP float64) string {
	h := LossHalfWidthPP(exactAcc, exactAcc, n)
	if !(h > maxLossPP) {
		return ""
	}
	return fmt.Sprintf("%d calibration windows know a loss to ±%.1f pp, more than the %s pp threshold: too few to decide; tune on more data", n, h, trimPP(maxLossPP))
}

func trimPP(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	for len(s) > 1 && s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	if s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	return s
}
