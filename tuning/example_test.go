package tuning_test

import (
	"context"
	"fmt"
	"time"

	"github.com/kagen-ai/kagen/demo"
	"github.com/kagen-ai/kagen/device"
	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/policy"
	"github.com/kagen-ai/kagen/profile"
	"github.com/kagen-ai/kagen/replay"
	"github.com/kagen-ai/kagen/tuning"
)

// The demo's activity model tuned on its embedded trace: the Pareto file
// kagen tune writes.
func ExamplePipeline_Run() {
	task := demo.Tasks()[0]
	m, err := engine.LoadBytes(task.Model, engine.Options{Name: task.ModelName})
	if err != nil {
		panic(err)
	}
	p, err := tuning.Load(m, []replay.Trace{{Name: task.Trace, FS: task.Traces, Path: task.Trace}})
	if err != nil {
		panic(err)
	}
	dev, _ := device.Lookup("phone-big")
	res, err := p.Run(context.Background(), tuning.Settings{MaxLossPP: 1, Budget: 200 * time.Millisecond,
		Objective: policy.ObjectiveTime, Device: dev, Seed: 1, Profile: profile.Options{Repeats: 3}}, tuning.Files{}, nil)
	if err != nil {
		panic(err)
	}
	par := res.Pareto
	fmt.Println(par.Configs[0].Config, par.Meter, len(par.Classes), par.ModelSHA256 == m.SHA256())
	// Output: exact phone-big (modelled) 5 true
}
