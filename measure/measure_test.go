package measure

import (
	"errors"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/kagen-ai/kagen/engine"
)

func TestInterleavedRotatesTheOrder(t *testing.T) {
	var calls []int
	f := func(i int) func() error { return func() error { calls = append(calls, i); return nil } }
	s, err := Interleaved(Options{Warmup: 1, Runs: 3}, f(0), f(1), f(2))
	if err != nil {
		t.Fatal(err)
	}
	// one warm-up round in order, then rounds starting at 0, 1, 2
	want := []int{0, 1, 2, 0, 1, 2, 1, 2, 0, 2, 0, 1}
	if !slices.Equal(calls, want) {
		t.Errorf("call order %v, want %v", calls, want)
	}
	for i, x := range s {
		if len(x) != 3 {
			t.Errorf("sample %d has %d timings, want 3", i, len(x))
		}
	}
}

func TestInterleavedErrors(t *testing.T) {
	boom := errors.New("boom")
	if _, err := Interleaved(Options{Runs: 2}, func() error { return boom }); !errors.Is(err, boom) {
		t.Errorf("error %v, want boom", err)
	}
	if _, err := Interleaved(Options{Runs: 0}, func() error { return nil }); err == nil {
		t.Error("0 runs accepted")
	}
	if _, err := Interleaved(Options{Runs: 1}); err == nil {
		t.Error("no functions accepted")
	}
}

func TestSummaryAndQuantiles(t *testing.T) {
	var s Sample
	for _, us := range []int{9, 1, 5, 3, 7, 2, 8, 4, 6, 10} {
		s = append(s, time.Duration(us)*time.Microsecond)
	}
	got := s.Summary()
	us := func(n int) time.Duration { return time.Duration(n) * time.Microsecond }
	want := Summary{N: 10, Min: us(1), P10: us(2), P25: us(3), Median: us(6), P75: us(8), P90: us(10), Max: us(10)}
	if got != want {
		t.Errorf("summary %+v, want %+v", got, want)
	}
	if sp := got.Spread(); math.Abs(sp-5.0/6) > 1e-12 {
		t.Errorf("spread %v, want 5/6", sp)
	}
	if s[0] != us(9) {
		t.Error("Summary sorted the sample in place")
	}
	if (Sample{}).Summary() != (Summary{}) || !math.IsNaN((Summary{}).Spread()) {
		t.Error("empty sample: want a zero summary and a NaN spread")
	}
	v := []float64{3, 1, 2}
	if Median(v) != 2 || Quantile(v, 0) != 1 || Quantile(v, 1) != 3 || !slices.Equal(v, []float64{3, 1, 2}) {
		t.Error("Median/Quantile wrong or changed their input")
	}
	if !math.IsNaN(Median(nil)) {
		t.Error("median of nothing must be NaN")
	}
}

func TestCompareRecordsEveryStep(t *testing.T) {
	m, err := engine.LoadFile("../bench/testdata/small.onnx", engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := m.NewSession()
	defer s.Close()
	var in []*engine.Tensor
	for _, vi := range m.Inputs() {
		in = append(in, engine.NewFloat(nil, vi.Shape...))
	}
	inf := &Inference{Session: s, Inputs: [][]*engine.Tensor{in}}
	res, err := inf.Compare(Options{Warmup: 2, Runs: 7}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if len(r.Total) != 7 || len(r.Steps) != m.Steps() {
			t.Fatalf("result %d: %d totals and %d steps, want 7 and %d", i, len(r.Total), len(r.Steps), m.Steps())
		}
		var sum time.Duration
		for j, st := range r.Steps {
			if len(st) != 7 {
				t.Fatalf("step %d has %d timings, want 7", j, len(st))
			}
			sum += st[0]
		}
		if sum > r.Total[0] {
			t.Errorf("steps add up to %v, more than the inference's %v", sum, r.Total[0])
		}
	}
}
