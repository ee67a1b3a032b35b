package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/kagen-ai/kagen/engine"
)

// benchResult is the JSON form of one timing.
type benchResult struct {
	Model    string  `json:"model"`
	Runs     int     `json:"runs"`
	Threads  int     `json:"threads"`
	MinUS    float64 `json:"min_us"`
	MedianUS float64 `json:"median_us"`
	P90US    float64 `json:"p90_us"`
	MACs     int64   `json:"macs"`
}

// cmdBench times exact inference.
func cmdBench(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench", stderr)
	runs := fs.Int("runs", 200, "timed runs after warm-up")
	threads := fs.Int("threads", 1, "threads per inference")
	asJSON := fs.Bool("json", false, "print one JSON object")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kagen bench MODEL [--runs N] [--threads T] [--json]")
		fs.PrintDefaults()
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *runs < 1 || *threads < 1 {
		fs.Usage()
		return usageError{"expected one model, --runs >= 1 and --threads >= 1"}
	}
	m, err := engine.LoadFile(pos[0], engine.Options{Threads: *threads})
	if err != nil {
		return err
	}
	s := m.NewSession()
	inputs := randomInputs(m, 1)
	times, err := timeRuns(func() error { _, err := s.Run(inputs); return err }, *runs)
	if err != nil {
		return err
	}
	r := benchResult{Model: pos[0], Runs: *runs, Threads: *threads, MACs: m.MACs()}
	r.MinUS, r.MedianUS, r.P90US = quantiles(times)
	if *asJSON {
		return json.NewEncoder(stdout).Encode(r)
	}
	fmt.Fprintf(stdout, "%s: %d runs, %d thread(s), %d MACs\nmin %.1f us  median %.1f us  p90 %.1f us  (%.2f GMAC/s at the median)\n",
		r.Model, r.Runs, r.Threads, r.MACs, r.MinUS, r.MedianUS, r.P90US, float64(r.MACs)/r.MedianUS/1e3)
	return nil
}

// randomInputs returns seeded uniform [-1, 1) inputs of the model's shapes.
func randomInputs(m *engine.Model, seed uint64) []*engine.Tensor {
	rng := rand.New(rand.NewPCG(seed, 0))
	var ins []*engine.Tensor
	for _, vi := range m.Inputs() {
		t := &engine.Tensor{DType: vi.DType, Shape: vi.Shape}
		n := t.Len()
		if vi.DType.IsInt() {
			t.I = make([]int64, n)
		} else {
			t.F = make([]float32, n)
			for i := range t.F {
				t.F[i] = rng.Float32()*2 - 1
			}
		}
		ins = append(ins, t)
	}
	return ins
}

// timeRuns warms up (at least 5 runs and 200 ms) and then times runs calls.
func timeRuns(run func() error, runs int) ([]time.Duration, error) {
	start := time.Now()
	for i := 0; i < 5 || time.Since(start) < 200*time.Millisecond; i++ {
		if err := run(); err != nil {
			return nil, err
		}
	}
	times := make([]time.Duration, runs)
	for i := range times {
		t0 := time.Now()
		if err := run(); err != nil {
			return nil, err
		}
		times[i] = time.Since(t0)
	}
	return times, nil
}

// quantiles returns the min, median and 90th percentile in microseconds.
func quantiles(times []time.Duration) (minUS, medianUS, p90US float64) {
	s := slices.Clone(times)
	slices.Sort(s)
	us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
	return us(s[0]), us(s[len(s)/2]), us(s[min(len(s)-1, len(s)*9/10)])
}
