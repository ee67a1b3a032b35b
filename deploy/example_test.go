package deploy_test

import (
	"context"
	"fmt"

	"github.com/kagen-ai/kagen/approx"
	"github.com/kagen-ai/kagen/demo"
	"github.com/kagen-ai/kagen/deploy"
	"github.com/kagen-ai/kagen/device"
	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/policy"
	"github.com/kagen-ai/kagen/replay"
)

// A policy bound to the demo's activity model, replayed on the demo's
// trace beside the exact run, each inference charged the policy's time
// for its level (deterministic figures).
func ExampleDeployment_Replay() {
	task := demo.Tasks()[0]
	m, err := engine.LoadBytes(task.Model, engine.Options{Name: task.ModelName})
	if err != nil {
		panic(err)
	}
	spec, err := replay.SpecFromModel(m)
	if err != nil {
		panic(err)
	}
	par := &policy.Pareto{Version: policy.ParetoVersion, ModelSHA256: m.SHA256(), Meter: "phone-big (modelled)",
		Objective: policy.ObjectiveTime, ExactAccuracy: 0.9, Classes: spec.Classes,
		Configs: []policy.Level{
			{Level: 0, Config: "exact", Speedup: 1, Accuracy: 0.9, TimeUS: 200},
			{Level: 1, Config: "Conv=int8", Speedup: 2, Accuracy: 0.9, TimeUS: 100},
		}}
	var settings policy.Builder
	settings.Set("level", "1")
	pol, err := policy.New(par, &settings, policy.Static, "levels")
	if err != nil {
		panic(err)
	}
	d, err := deploy.New("policy", m, approx.New(m), pol)
	if err != nil {
		panic(err)
	}
	dev, _ := device.Lookup("phone-big")
	reports, err := d.Replay(context.Background(), deploy.ReplaySettings{CostName: deploy.CostPareto,
		Options: deploy.Options{Traces: []replay.Trace{{Name: task.Trace, FS: task.Traces, Path: task.Trace}}, Device: dev}})
	if err != nil {
		panic(err)
	}
	r := reports[0]
	fmt.Printf("%s: %.0f%% of %d windows at level 1, %d switches, inference energy saved %.0f%%\n",
		r.Params, 100*r.Levels[1].Fraction, r.Windows, r.Switches, 100*r.InferenceEnergySaving)
	// Output: static level=1: 100% of 53 windows at level 1, 0 switches, inference energy saved 50%
}
