package measure

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// Live keeps the newest timed runs of a few things timed interleaved
// (the levels of a policy, exact and a configuration) for figures that
// are refreshed while they are measured, as the workbench shows them: the
// median of each, how far it is known, and any figure of the things
// together (a speedup, a saving) with its uncertainty, from the runs of
// the same rounds (paired), so that what the machine's noise did to one
// round it did to every figure of it.
type Live struct {
	enough, keep int
	runs         []Sample // per thing, oldest first, all of one length
}

// The defaults of NewLive's enough and keep.
const (
	// LiveEnough is the fewest runs of each thing before its figures are
	// shown.
	LiveEnough = 64
	// LiveKeep is how many of the newest runs of each thing are kept.
	LiveKeep = 256
	// StableWidth is the relative half-width of a median's 95% interval
	// under which Live.Stable calls it known.
	StableWidth = 0.03
)

// NewLive returns a Live of things timed together: its figures are
// stable once each has at least enough runs (0: LiveEnough) and its median
// is known to StableWidth, or keep runs (0: LiveKeep; at least enough) are
// kept whatever the noise; the newest keep runs are kept.
func NewLive(things, enough, keep int) *Live {
	if enough <= 0 {
		enough = LiveEnough
	}
	if keep <= 0 {
		keep = LiveKeep
	}
	return &Live{enough: enough, keep: max(keep, enough), runs: make([]Sample, things)}
}

// Add adds a round of runs: round[i] are thing i's runs, timed
// interleaved with the others' (Interleaved, Inference.Compare), so that
// run r of every thing was timed in the same round.
func (l *Live) Add(round []Sample) error {
	if len(round) != len(l.runs) {
		return fmt.Errorf("measure: %d samples for %d things", len(round), len(l.runs))
	}
	for i := range round {
		if len(round[i]) != len(round[0]) {
			return errors.New("measure: the samples of a round differ in length")
		}
	}
	for i, s := range round {
		r := append(l.runs[i], s...)
		if len(r) > l.keep {
			r = slices.Clone(r[len(r)-l.keep:])
		}
		l.runs[i] = r
	}
	return nil
}

// Runs returns the number of runs of each thing kept.
func (l *Live) Runs() int {
	if len(l.runs) == 0 {
		return 0
	}
	return len(l.runs[0])
}

// Enough is the number of runs of each thing before Stable can hold.
func (l *Live) Enough() int { return l.enough }

// Summary returns thing i's order statistics.
func (l *Live) Summary(i int) Summary { return l.runs[i].Summary() }

// Median returns thing i's median with its 95% interval.
func (l *Live) Median(i int) Estimate {
	v := make([]float64, len(l.runs[i]))
	for r, d := range l.runs[i] {
		v[r] = float64(d)
	}
	return MedianEstimate(v)
}

// Stable reports whether the figures can be shown: every thing has
// enough runs and its median is known to within StableWidth, or the
// kept runs are full (a noisy machine: the figures are then shown with
// their spread).
func (l *Live) Stable() bool {
	n := l.Runs()
	if n < l.enough {
		return false
	}
	if n >= l.keep {
		return true
	}
	for i := range l.runs {
		if !(l.Median(i).Width() <= StableWidth) {
			return false
		}
	}
	return true
}

// Medians returns every thing's median.
func (l *Live) Medians() []time.Duration {
	out := make([]time.Duration, len(l.runs))
	for i, s := range l.runs {
		out[i] = s.Median()
	}
	return out
}

// Paired returns a figure f of the things' times together (a speedup, a
// saving): its Value is f of the medians (the figures charged), its
// interval the 95% interval of the median of f over the rounds' runs
// (run r of every thing, timed together), widened to hold Value.
func (l *Live) Paired(f func(times []time.Duration) float64) Estimate {
	n := l.Runs()
	if n == 0 {
		return Estimate{Value: math.NaN(), Lo: math.NaN(), Hi: math.NaN()}
	}
	v := make([]float64, n)
	t := make([]time.Duration, len(l.runs))
	for r := range v {
		for i := range l.runs {
			t[i] = l.runs[i][r]
		}
		v[r] = f(t)
	}
	e := MedianEstimate(v)
	e.Value = f(l.Medians())
	e.Lo, e.Hi = math.Min(e.Lo, e.Value), math.Max(e.Hi, e.Value)
	return e
}

// Estimate is a figure with its 95% interval, from N samples (N 0: an
// exact figure, such as one of a fixed cost).
type Estimate struct {
	Value, Lo, Hi float64
	N             int
}

// ExactEstimate is a figure known exactly (a modelled or fixed cost).
func ExactEstimate(v float64) Estimate { return Estimate{Value: v, Lo: v, Hi: v} }

// MedianEstimate is the median of v with the distribution-free 95%
// interval of a median (the order statistics n/2 ± 0.98·√n): no
// assumption on the shape of the noise. With fewer than six values the
// interval is their range. v is not changed.
func MedianEstimate(v []float64) Estimate {
	n := len(v)
	if n == 0 {
		return Estimate{Value: math.NaN(), Lo: math.NaN(), Hi: math.NaN()}
	}
	s := slices.Clone(v)
	slices.Sort(s)
	h := 0.98 * math.Sqrt(float64(n))
	lo := clamp(int(math.Floor(float64(n)/2-h)), 0, n-1)
	hi := clamp(int(math.Ceil(float64(n)/2+h)), 0, n-1)
	return Estimate{Value: s[rank(n, 0.5)], Lo: s[lo], Hi: s[hi], N: n}
}

func clamp(v, lo, hi int) int { return max(lo, min(hi, v)) }

// Contains reports whether x is inside the interval: the figure cannot
// be told from x.
func (e Estimate) Contains(x float64) bool { return e.Lo <= x && x <= e.Hi }

// Width is the interval's half-width relative to the value (0 for an
// exact figure, NaN when the value is 0 or not a number).
func (e Estimate) Width() float64 {
	if e.Value == 0 || math.IsNaN(e.Value) {
		return math.NaN()
	}
	return (e.Hi - e.Lo) / 2 / math.Abs(e.Value)
}

// Speedup formats a ratio of times (exact over another): "1.61x ±2%",
// or "~1.00x ±2%" when it cannot be told from 1 (within the noise: no
// speedup shown where none was measured); "-" when not a number.
func (e Estimate) Speedup() string {
	if math.IsNaN(e.Value) {
		return "-"
	}
	s := fmt.Sprintf("%.2fx", e.Value)
	if e.Contains(1) {
		s = "~" + s
	}
	return s + e.spread(e.Width())
}

// Change formats a ratio of a figure to its baseline (another's energy
// over exact's) as a relative change: "-31.2% ±1.5%", or "~0% ±1.5%"
// when it cannot be told from no change; "-" when not a number.
func (e Estimate) Change() string {
	if math.IsNaN(e.Value) {
		return "-"
	}
	if e.Contains(1) {
		return "~0%" + e.spread((e.Hi-e.Lo)/2)
	}
	return signedPct(100*(e.Value-1)) + e.spread((e.Hi-e.Lo)/2)
}

// decimals is the number of decimals that show p (in percent) to two
// significant digits, from one to three.
func decimals(p float64) int {
	switch a := math.Abs(p); {
	case a >= 1 || a == 0:
		return 1
	case a >= 0.1:
		return 2
	}
	return 3
}

// signedPct formats a change in percent: "-31.2%", "-0.015%".
func signedPct(p float64) string { return fmt.Sprintf("%+.*f%%", decimals(p), p) }

// spread is " ±x%" of h, a fraction, empty for an exact figure (or
// one measured the same in every run, such as a thing over itself).
func (e Estimate) spread(h float64) string {
	if e.N == 0 || !(h > 0) {
		return ""
	}
	return fmt.Sprintf(" ±%.*f%%", decimals(100*h), 100*h)
}
