package measure

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func TestMedianEstimate(t *testing.T) {
	seq := func(n int) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[n-1-i] = float64(i + 1) // reversed: the input is sorted by the estimate
		}
		return v
	}
	for _, tc := range []struct {
		name          string
		v             []float64
		value, lo, hi float64
	}{
		{"one", []float64{7}, 7, 7, 7},
		{"few: the range", []float64{3, 1, 2}, 2, 1, 3},
		{"100: ranks 40 and 60", seq(100), 51, 41, 61},
		{"all equal", []float64{5, 5, 5, 5, 5, 5, 5, 5}, 5, 5, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := MedianEstimate(tc.v)
			if e.Value != tc.value || e.Lo != tc.lo || e.Hi != tc.hi || e.N != len(tc.v) {
				t.Errorf("MedianEstimate = %+v, want value %v in [%v, %v]", e, tc.value, tc.lo, tc.hi)
			}
		})
	}
	if e := MedianEstimate(nil); !math.IsNaN(e.Value) {
		t.Errorf("empty: %+v, want NaN", e)
	}
}

// TestMedianEstimateCovers checks the interval's coverage on noise drawn
// from a skewed distribution: about 95% of the intervals hold the true
// median.
func TestMedianEstimateCovers(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const trials, n = 2000, 64
	truth := math.Ln2 // the median of an exponential of rate 1
	hit := 0
	v := make([]float64, n)
	for k := 0; k < trials; k++ {
		for i := range v {
			v[i] = rng.ExpFloat64()
		}
		if MedianEstimate(v).Contains(truth) {
			hit++
		}
	}
	if f := float64(hit) / trials; f < 0.93 || f > 0.985 {
		t.Errorf("the interval held the median in %.1f%% of %d trials, want about 95%%", 100*f, trials)
	}
}

func TestEstimateFormat(t *testing.T) {
	for _, tc := range []struct {
		e               Estimate
		speedup, change string
	}{
		{ExactEstimate(1), "~1.00x", "~0%"},
		{ExactEstimate(1.6), "1.60x", "+60.0%"},
		{ExactEstimate(0.69), "0.69x", "-31.0%"},
		{Estimate{Value: 0.98, Lo: 0.95, Hi: 1.01, N: 64}, "~0.98x ±3.1%", "~0% ±3.0%"},
		{Estimate{Value: 1.6, Lo: 1.56, Hi: 1.64, N: 64}, "1.60x ±2.5%", "+60.0% ±4.0%"},
		{Estimate{Value: math.NaN()}, "-", "-"},
		{Estimate{Value: 0.99985, Lo: 0.99984, Hi: 0.99986, N: 256}, "1.00x ±0.001%", "-0.015% ±0.001%"},
	} {
		if got := tc.e.Speedup(); got != tc.speedup {
			t.Errorf("%+v.Speedup() = %q, want %q", tc.e, got, tc.speedup)
		}
		if got := tc.e.Change(); got != tc.change {
			t.Errorf("%+v.Change() = %q, want %q", tc.e, got, tc.change)
		}
	}
}

// noisy returns a round of runs of things whose times are base[i] times
// a noise common to the round's run (the machine's load) and its own.
func noisy(rng *rand.Rand, base []time.Duration, runs int, own float64) []Sample {
	out := make([]Sample, len(base))
	for r := 0; r < runs; r++ {
		load := 1 + 0.3*rng.Float64()
		for i, b := range base {
			out[i] = append(out[i], time.Duration(float64(b)*load*(1+own*(rng.Float64()-0.5))))
		}
	}
	return out
}

func TestLive(t *testing.T) {
	speedup := func(t []time.Duration) float64 { return float64(t[0]) / float64(t[1]) }
	t.Run("same thing twice is ~1", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(3, 4))
		l := NewLive(2, 16, 64)
		for l.Runs() < 64 {
			if err := l.Add(noisy(rng, []time.Duration{100e3, 100e3}, 16, 0.02)); err != nil {
				t.Fatal(err)
			}
		}
		e := l.Paired(speedup)
		if !e.Contains(1) || e.Width() > 0.02 {
			t.Errorf("exact over exact = %+v, want about 1 with an interval holding 1", e)
		}
		if !l.Stable() {
			t.Error("not stable after 64 runs of 2% noise")
		}
	})
	t.Run("a speedup is told from 1", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(5, 6))
		l := NewLive(2, 16, 64)
		for i := 0; i < 4; i++ {
			l.Add(noisy(rng, []time.Duration{100e3, 62.5e3}, 16, 0.02))
		}
		e := l.Paired(speedup)
		if e.Contains(1) || math.Abs(e.Value-1.6) > 0.03 || !e.Contains(e.Value) {
			t.Errorf("speedup = %+v, want about 1.6 and not 1", e)
		}
	})
	t.Run("measuring until enough runs", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 8))
		l := NewLive(2, 64, 256)
		l.Add(noisy(rng, []time.Duration{100e3, 100e3}, 16, 0))
		if l.Stable() || l.Runs() != 16 {
			t.Errorf("stable after %d runs, want not before 64", l.Runs())
		}
	})
	t.Run("keeps the newest", func(t *testing.T) {
		l := NewLive(1, 4, 8)
		for i := 0; i < 5; i++ {
			l.Add([]Sample{{time.Duration(i), time.Duration(i)}})
		}
		if l.Runs() != 8 || l.Median(0).Lo != 1 {
			t.Errorf("kept %d runs from %v, want the newest 8 from 1", l.Runs(), l.Median(0).Lo)
		}
		if !l.Stable() {
			t.Error("a full Live is stable whatever its spread")
		}
	})
	t.Run("a noisy machine waits for a full window", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(9, 10))
		l := NewLive(2, 16, 128)
		l.Add(noisy(rng, []time.Duration{100e3, 100e3}, 16, 1.5))
		if l.Stable() {
			t.Errorf("stable with medians known to %.0f%%", 100*l.Median(0).Width())
		}
	})
	t.Run("bad rounds", func(t *testing.T) {
		l := NewLive(2, 0, 0)
		if l.Add([]Sample{{1}}) == nil || l.Add([]Sample{{1}, {1, 2}}) == nil {
			t.Error("a round of the wrong shape was taken")
		}
	})
}

func ExampleLive() {
	l := NewLive(2, 8, 0)
	// two rounds of four runs each of exact (100 µs) and a configuration
	// (about 62 µs), timed interleaved (Interleaved, Inference.Compare)
	l.Add([]Sample{{100e3, 104e3, 99e3, 101e3}, {62e3, 64e3, 61e3, 63e3}})
	l.Add([]Sample{{100e3, 102e3, 98e3, 100e3}, {62e3, 63e3, 61e3, 62e3}})
	speedup := l.Paired(func(t []time.Duration) float64 { return float64(t[0]) / float64(t[1]) })
	fmt.Println(l.Stable(), speedup.Speedup())
	// Output: true 1.61x ±0.57%
}
