// Package measure times code the one way kagen times it everywhere (the
// bench command, the profiler, the tuner, the replayer's calibration, the
// workbench's live figures and the report): untimed warm-up calls first,
// then timed calls of the things compared interleaved in rounds, so that a
// shared machine's noise hits them alike, and medians and quantiles of the
// samples rather than means.
package measure

import (
	"errors"
	"math"
	"slices"
	"time"

	"github.com/kagen-ai/kagen/engine"
)

// Options say how to time.
type Options struct {
	// Warmup is the number of untimed calls of each function before the
	// timed ones (0: none).
	Warmup int
	// WarmupTime makes the warm-up last at least this long in all.
	WarmupTime time.Duration
	// Runs is the number of timed calls of each function (at least 1).
	Runs int
}

// Sample is a set of timings of one function.
type Sample []time.Duration

// Interleaved times fns in o.Runs rounds (1 to MaxRuns). Each round calls every function
// once, in an order rotated from round to round, so that none always runs
// first (after the caller's own work has evicted the caches) or always
// follows the same other. It returns one sample per function; the first
// error stops it.
func Interleaved(o Options, fns ...func() error) ([]Sample, error) {
	if err := CheckRuns(o.Runs, MaxRuns); err != nil {
		return nil, err
	}
	if len(fns) == 0 {
		return nil, errors.New("measure: nothing to time")
	}
	start := time.Now()
	for i := 0; i < o.Warmup || time.Since(start) < o.WarmupTime; i++ {
		for _, f := range fns {
			if err := f(); err != nil {
				return nil, err
			}
		}
	}
	out := make([]Sample, len(fns))
	for i := range out {
		out[i] = make(Sample, o.Runs)
	}
	for r := 0; r < o.Runs; r++ {
		for k := range fns {
			i := (r + k) % len(fns)
			t0 := time.Now()
			if err := fns[i](); err != nil {
				return nil, err
			}
			out[i][r] = time.Since(t0)
		}
	}
	return out, nil
}

// Repeat times fn alone (Interleaved with one function).
func Repeat(o Options, fn func() error) (Sample, error) {
	s, err := Interleaved(o, fn)
	if err != nil {
		return nil, err
	}
	return s[0], nil
}

// Summary describes a sample by its order statistics.
type Summary struct {
	N                                    int
	Min, P10, P25, Median, P75, P90, Max time.Duration
}

// Summary returns the sample's order statistics (all zero when empty).
func (s Sample) Summary() Summary {
	if len(s) == 0 {
		return Summary{}
	}
	v := slices.Clone(s)
	slices.Sort(v)
	q := func(p float64) time.Duration { return v[rank(len(v), p)] }
	return Summary{N: len(v), Min: v[0], P10: q(0.1), P25: q(0.25), Median: q(0.5), P75: q(0.75), P90: q(0.9), Max: v[len(v)-1]}
}

// Median returns the sample's median (0 when empty).
func (s Sample) Median() time.Duration { return s.Summary().Median }

// MedianUS returns the sample's median in microseconds.
func (s Sample) MedianUS() float64 { return US(s.Median()) }

// Spread is the interquartile range relative to the median, (P75-P25) /
// Median: the noise of a sample in a form that compares across sizes (NaN
// when the median is 0).
func (s Summary) Spread() float64 {
	if s.Median <= 0 {
		return math.NaN()
	}
	return float64(s.P75-s.P25) / float64(s.Median)
}

// US converts a duration to microseconds.
func US(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }

// rank is the index of the p-quantile of n sorted values: the value at
// position floor(p*n), the convention of every figure kagen printed
// before this package (the median of an even count is the upper middle).
func rank(n int, p float64) int {
	return min(n-1, max(0, int(p*float64(n))))
}

// Median returns the median of v (the upper middle of an even count), NaN
// when v is empty. v is not changed.
func Median(v []float64) float64 { return Quantile(v, 0.5) }

// Quantile returns the p-quantile of v (p in [0, 1], by rank as Summary),
// NaN when v is empty. v is not changed.
func Quantile(v []float64, p float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[rank(len(s), p)]
}

// Inference times the inferences of one session under selectors, with
// the time of each step (node) of the plan.
type Inference struct {
	// Session runs the inferences.
	Session *engine.Session
	// Inputs are cycled through, one set per call (at least one).
	Inputs [][]*engine.Tensor
}

// Result is the timing of one selector: the whole inference and each
// step.
type Result struct {
	Total Sample
	// Steps[j] holds step j's times, one per timed run.
	Steps []Sample
}

// StepMedianUS returns the median time of step j in microseconds.
func (r Result) StepMedianUS(j int) float64 { return r.Steps[j].MedianUS() }

// Compare times each selector (nil: the exact kernels) as Interleaved
// does (o.Runs 1 to MaxStepRuns), recording every step's time in the timed runs too.
func (in *Inference) Compare(o Options, sels ...engine.Selector) ([]Result, error) {
	if len(in.Inputs) == 0 {
		return nil, errors.New("measure: no inputs")
	}
	if err := CheckRuns(o.Runs, MaxStepRuns); err != nil {
		return nil, err
	}
	steps := in.Session.Model().Steps()
	res := make([]Result, len(sels))
	fns := make([]func() error, len(sels))
	record := false
	for i := range sels {
		res[i].Steps = make([]Sample, steps)
		for j := range res[i].Steps {
			res[i].Steps[j] = make(Sample, 0, o.Runs)
		}
		buf := make([]int64, steps)
		calls := 0
		fns[i] = func() error {
			x := in.Inputs[calls%len(in.Inputs)]
			calls++
			if _, err := in.Session.RunTimed(x, sels[i], buf); err != nil {
				return err
			}
			if record {
				for j, ns := range buf {
					res[i].Steps[j] = append(res[i].Steps[j], time.Duration(ns))
				}
			}
			return nil
		}
	}
	if o.Warmup > 0 || o.WarmupTime > 0 {
		if _, err := Interleaved(Options{Warmup: o.Warmup - 1, WarmupTime: o.WarmupTime, Runs: 1}, fns...); err != nil {
			return nil, err
		}
	}
	record = true
	samples, err := Interleaved(Options{Runs: o.Runs}, fns...)
	if err != nil {
		return nil, err
	}
	for i := range res {
		res[i].Total = samples[i]
	}
	return res, nil
}
