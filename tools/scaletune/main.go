// Command scaletune times kagen's profiler and predictive tuner on a model
// that has no front-end (an image model of the zoo, such as MobileNetV2):
// it feeds seeded random windows of the model's input shape, takes the
// exact model's own predictions as their classes (the agreement QoS,
// dataset.Relabel) and runs the tuning pipeline `kagen tune` runs, with
// the settings given, printing the phases' wall times and the result.
//
//	go run ./tools/scaletune -model mobilenet_v2.onnx -windows 24 -one-offset
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"syscall"
	"time"

	"github.com/kagen-ai/kagen/approx"
	"github.com/kagen-ai/kagen/dataset"
	"github.com/kagen-ai/kagen/device"
	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/policy"
	"github.com/kagen-ai/kagen/replay"
	"github.com/kagen-ai/kagen/tuning"
)

func main() {
	model := flag.String("model", "", "ONNX model")
	windows := flag.Int("windows", 24, "random windows (half tune, half calibration)")
	oneOffset := flag.Bool("one-offset", false, "profile one offset per stride")
	alone := flag.Bool("node-alone", false, "time each pair's node alone")
	budget := flag.Duration("budget", 10*time.Second, "search time")
	candidates := flag.Int("candidates", 24, "configurations validated")
	rounds := flag.Int("rounds", 3, "validation rounds")
	maxLoss := flag.Float64("max-loss", 1, "disagreement threshold in pp")
	out := flag.String("o", "", "write the Pareto file here")
	flag.Parse()
	if err := run(*model, *windows, *oneOffset, *alone, *budget, *candidates, *rounds, *maxLoss, *out); err != nil {
		fmt.Fprintln(os.Stderr, "scaletune:", err)
		os.Exit(1)
	}
}

func run(path string, windows int, oneOffset, alone bool, budget time.Duration, candidates, rounds int, maxLoss float64, out string) error {
	if path == "" || windows < 4 {
		return fmt.Errorf("expected -model and -windows of at least 4")
	}
	start := time.Now()
	m, err := engine.LoadFile(path, engine.Options{})
	if err != nil {
		return err
	}
	shape := m.Inputs()[0].Shape
	size := 1
	for _, d := range shape {
		size *= d
	}
	classes := 1
	for _, d := range m.Outputs()[0].Shape {
		classes *= d
	}
	rng := rand.New(rand.NewPCG(1, 2))
	d := &dataset.Dataset{Shape: shape}
	for i := 0; i < windows; i++ {
		x := make([]float32, size)
		for j := range x {
			x[j] = float32(rng.NormFloat64())
		}
		d.X, d.Y, d.Files = append(d.X, x), append(d.Y, -1), append(d.Files, fmt.Sprintf("random%d", i%4))
	}
	ev := dataset.NewEvaluator(m, 0)
	_, err = d.Relabel(ev, nil)
	ev.Close()
	if err != nil {
		return err
	}
	spec := &replay.Spec{Task: replay.TaskHAR}
	for i := 0; i < classes; i++ {
		spec.Classes = append(spec.Classes, fmt.Sprint(i))
	}
	a := approx.New(m)
	p := tuning.New(a, spec, d)
	p.QoS = replay.QoSAgreement
	dev, err := device.Lookup("phone-big")
	if err != nil {
		return err
	}
	s := tuning.Settings{MaxLossPP: maxLoss, Budget: budget, Objective: policy.ObjectiveTime, Device: dev, Seed: 1,
		Candidates: candidates, Rounds: rounds, MinWindows: 2}
	s.Profile.Windows = windows
	s.Profile.OneOffset = oneOffset
	s.Profile.NodeAlone = alone
	tunable := 0
	for _, n := range a.Nodes() {
		if !n.View && len(a.Applicable(n.Step)) > 1 {
			tunable++
		}
	}
	fmt.Printf("%s: %d tunable nodes, %d windows, one offset %v, nodes alone %v; loaded and labelled in %.1f s\n", path, tunable, windows, oneOffset, alone, time.Since(start).Seconds())
	phase, t0, tenth := "", time.Now(), -1
	res, err := p.Run(context.Background(), s, tuning.Files{}, func(g tuning.Progress) {
		at := -1
		if g.Total > 0 {
			at = 10 * g.Done / g.Total
		}
		if g.Phase != phase || at != tenth {
			fmt.Printf("  %6.1f s wall, %6.1f s CPU: %s %d/%d\n", time.Since(t0).Seconds(), cpuSeconds(), g.Phase, g.Done, g.Total)
			phase, tenth = g.Phase, at
		}
	})
	if err != nil {
		return err
	}
	fmt.Printf("%s", res.Tune)
	fmt.Printf("profile: %d pairs (%d kept) in %.1f s; tune total %.1f s wall, %.1f s CPU\n", len(res.Profile.Pairs), kept(res), res.Profile.ProfileTime, res.Seconds, cpuSeconds())
	if out != "" {
		return policy.WritePareto(out, res.Pareto)
	}
	return nil
}

// cpuSeconds is the process's user and system time so far: on a shared
// machine it says what the run cost where the wall time says how busy the
// machine was.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

func kept(res *tuning.Result) int {
	n := 0
	for _, pp := range res.Profile.Pairs {
		if !pp.Pruned {
			n++
		}
	}
	return n
}
