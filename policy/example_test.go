package policy_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/kagen-ai/kagen/device"
	"github.com/kagen-ai/kagen/policy"
)

// pareto returns a small Pareto file: exact, 1.3x at 0.4 pp and 1.6x at
// 1.5 pp accuracy loss.
func pareto() *policy.Pareto {
	stats := func(c, w float64) policy.ConfidenceStats {
		return policy.ConfidenceStats{CorrectMean: []float64{c, c}, WrongMean: []float64{w, w}, CorrectN: []int{90, 90}, WrongN: []int{10, 10}}
	}
	return &policy.Pareto{
		Version:       policy.ParetoVersion,
		ModelSHA256:   "e4024b86d27dbf3c6067d23a9c2b48cde3ce712ed17c871ae5ed5a13ff5b6452",
		Device:        device.Fingerprint{GOOS: "linux", GOARCH: "arm64", CPU: "Cortex-A76", Kagen: "dev"},
		Meter:         "phone-big (modelled)",
		Objective:     policy.ObjectiveTime,
		ExactAccuracy: 0.9,
		Classes:       []string{"SEATED", "WALKING"},
		Configs: []policy.Level{
			{Level: 0, Config: "exact", Speedup: 1, Accuracy: 0.9, TimeUS: 130, EnergyJ: 0.00039, Confidence: stats(0.92, 0.6)},
			{Level: 1, Config: "Conv_0=perf-row:2:0", Speedup: 1.3, QoSLossPP: 0.4, Accuracy: 0.896, TimeUS: 100, EnergyJ: 0.0003, Confidence: stats(0.9, 0.6)},
			{Level: 2, Config: "Conv_0=samp:2:0", Speedup: 1.6, QoSLossPP: 1.5, Accuracy: 0.885, TimeUS: 81, EnergyJ: 0.00024, Confidence: stats(0.88, 0.6)},
		},
	}
}

func ExampleNewController() {
	// The naive controller under a 1 pp accuracy floor: level 2 loses
	// 1.5 pp, so only levels 0 and 1 may run.
	pol, err := policy.FromPareto(pareto(), policy.Params{Name: policy.Naive, Floor: &policy.FloorParams{LossPP: 1, HardFrac: 0.5}}) // a strict guard, to show its rule
	if err != nil {
		log.Fatal(err)
	}
	c, err := policy.NewController(pol)
	if err != nil {
		log.Fatal(err)
	}
	level := c.Start()
	for i, in := range []struct {
		class int
		conf  float32
	}{{1, 0.97}, {1, 0.97}, {1, 0.97}, {1, 0.62}, {0, 0.95}} {
		// Run the inference at level here, then tell the controller.
		d := c.Decide(policy.Observation{Index: int64(i), Level: level, Class: in.class, Confidence: in.conf})
		fmt.Printf("input %d: level %d -> %d (%s)\n", i, d.From, d.To, d.Rule)
		level = d.To
	}
	// Output:
	// input 0: level 0 -> 0 (naive: first input -> hold)
	// input 1: level 0 -> 1 (naive: class unchanged -> more)
	// input 2: level 1 -> 1 (naive: class unchanged -> more)
	// input 3: level 1 -> 0 (floor: confidence below the calibrated hard-input threshold -> exact)
	// input 4: level 0 -> 0 (naive: class changed -> less)
}

func ExampleWritePolicy() {
	dir, err := os.MkdirTemp("", "policy")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "policy.json")

	pol, err := policy.FromPareto(pareto(), policy.Params{Name: policy.Budget, Budget: &policy.BudgetParams{EnergyJ: 0.0003}})
	if err != nil {
		log.Fatal(err)
	}
	if err := policy.WritePolicy(path, pol); err != nil {
		log.Fatal(err)
	}
	p, err := policy.ReadPolicy(path, policy.ReadOptions{ModelSHA256: pol.ModelSHA256})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(p.Levels), "levels,", p.Controller)

	// A policy for another model is refused.
	_, err = policy.ReadPolicy(path, policy.ReadOptions{ModelSHA256: "00000000000000000000000000000000000000000000000000000000000000ff"})
	fmt.Println(err != nil)
	// Output:
	// 3 levels, budget 0.0003J kp=0.2 ki=0.05 alpha=0.1 mix=cost seed=0
	// true
}

func ExampleRing() {
	pol, err := policy.FromPareto(pareto(), policy.Params{Name: policy.State})
	if err != nil {
		log.Fatal(err)
	}
	c, err := policy.NewController(pol)
	if err != nil {
		log.Fatal(err)
	}
	ring := policy.NewRing(100) // the last 100 decisions, for a user interface
	jsonl := policy.NewLogWriter(os.Stdout, pol.Classes)
	level := c.Start()
	for i := range 4 {
		d := c.Decide(policy.Observation{Index: int64(i), Time: 1.25 * float64(i+1), Level: level, Class: 1, Confidence: 0.9})
		ring.Add(d)
		jsonl.Write(d)
		level = d.To
	}
	jsonl.Flush()
	shown, next := ring.Since(0, nil)
	fmt.Println(len(shown), "decisions, next", next)
	// Output:
	// {"index":0,"time_s":1.25,"from":0,"to":0,"rule":"state: last 3 predictions not all equal, votes -1 -> hold","class":1,"class_name":"WALKING","confidence":0.9,"votes":-1}
	// {"index":1,"time_s":2.5,"from":0,"to":0,"rule":"state: last 3 predictions not all equal, votes -2 -> less","class":1,"class_name":"WALKING","confidence":0.9,"votes":-2}
	// {"index":2,"time_s":3.75,"from":0,"to":0,"rule":"state: last 3 predictions equal, votes +1 -> hold","class":1,"class_name":"WALKING","confidence":0.9,"votes":1}
	// {"index":3,"time_s":5,"from":0,"to":1,"rule":"state: last 3 predictions equal, votes +2 -> more","class":1,"class_name":"WALKING","confidence":0.9,"votes":2}
	// 4 decisions, next 4
}

// always2 is an application's own controller: it always asks for level 2.
type always2 struct{}

func (always2) Name() string { return "always2" }
func (always2) Start() int   { return 2 }
func (always2) Reset()       {}
func (always2) Decide(o policy.Observation) policy.Decision {
	return policy.Decision{Index: o.Index, From: o.Level, To: 2, Rule: "always2: level 2", Class: o.Class, Confidence: o.Confidence}
}

func ExampleWithFloor() {
	pol, err := policy.FromPareto(pareto(), policy.Params{Name: policy.Static})
	if err != nil {
		log.Fatal(err)
	}
	// Level 2 loses 1.5 pp: a 1 pp floor holds the controller at level 1,
	// and a hard input (confidence below the calibrated threshold) sends
	// the next inference to exact.
	c, err := policy.WithFloor(always2{}, pol, policy.FloorParams{LossPP: 1, HardFrac: 0.5})
	if err != nil {
		log.Fatal(err)
	}
	level := c.Start()
	for i, conf := range []float32{0.95, 0.95, 0.5, 0.95} {
		d := c.Decide(policy.Observation{Index: int64(i), Level: level, Class: 0, Confidence: conf})
		fmt.Printf("%s: level %d -> %d (%s; proposed %d)\n", c.Name(), d.From, d.To, d.Rule, d.Proposed)
		level = d.To
	}
	// Output:
	// always2+floor: level 1 -> 1 (floor: proposed level exceeds the accuracy floor -> highest allowed; proposed 2)
	// always2+floor: level 1 -> 1 (floor: proposed level exceeds the accuracy floor -> highest allowed; proposed 2)
	// always2+floor: level 1 -> 0 (floor: confidence below the calibrated hard-input threshold -> exact; proposed 2)
	// always2+floor: level 0 -> 1 (floor: proposed level exceeds the accuracy floor -> highest allowed; proposed 2)
}
