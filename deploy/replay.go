package deploy

import (
	"context"
	"fmt"
	"time"

	"github.com/kagen-ai/kagen/internal/atomicfile"
	"github.com/kagen-ai/kagen/policy"
	"github.com/kagen-ai/kagen/replay"
)

// ReplaySettings say what Replay runs: which controllers, with which
// settings, over which traces, charging which cost.
type ReplaySettings struct {
	// Controller is "" (the policy's), a controller's name, or "all".
	Controller string
	// Settings change the controllers' parameters (nil: none).
	Settings *policy.Builder
	// CostName is CostMeasured (default) or CostPareto.
	CostName string
	// LogPath, if set, receives every decision of the (single)
	// controller as JSON lines, written atomically at the end.
	LogPath string
	// Model names the model in the reports.
	Model string
	// Each, if set, sees every window's event.
	Each func(*Event) error
	// Options are the replayer's; Cost is set from CostName.
	Options
}

// Replay plays the traces with the controllers chosen, beside the exact
// run, and returns one report per controller: what `kagen replay` prints
// and the report's run-time section shows. A budget given as a fraction
// (policy.FracFlag) is a fraction of exact inference's energy: of the
// policy's level-0 time_us under the pareto cost, else of the median busy
// time of exact inference measured on the first trace (paced as the
// replay is).
func (d *Deployment) Replay(ctx context.Context, s ReplaySettings) ([]*Report, error) {
	if s.Settings == nil {
		s.Settings = &policy.Builder{}
	}
	if s.Controller == "all" && s.LogPath != "" {
		return nil, &policy.FlagError{Flag: "log", Msg: "needs one controller, not all"}
	}
	if s.LogPath != "" {
		if err := atomicfile.Check(s.LogPath); err != nil {
			return nil, fmt.Errorf("decision log: %w", err)
		}
		// A replay can run for long (--realtime): one at a time per log.
		lock, err := atomicfile.Lock(s.LogPath)
		if err != nil {
			return nil, fmt.Errorf("decision log: %w", err)
		}
		defer lock.Unlock()
	}
	o := s.Options
	o.Exact = true
	switch s.CostName {
	case "", CostMeasured:
		o.Cost = NewMeasuredCost(len(d.Levels))
	case CostPareto:
		c, err := PolicyCost(d.Policy)
		if err != nil {
			return nil, fmt.Errorf("cost pareto: %s: %w", d.Name, err)
		}
		o.Cost = c
	default:
		return nil, &policy.FlagError{Flag: "cost", Msg: fmt.Sprintf("%q, expected %s or %s", s.CostName, CostMeasured, CostPareto)}
	}
	if o.Device == nil {
		return nil, fmt.Errorf("replay: no device profile")
	}
	frac := func(f float64) (float64, error) {
		if lc, ok := o.Cost.(*LevelCost); ok {
			return f * o.Device.InferenceEnergy(lc.Times[0]), nil
		}
		if len(o.Traces) == 0 {
			return 0, fmt.Errorf("--%s: no trace to time exact inference on", policy.FracFlag)
		}
		pace := time.Duration(0)
		if o.Realtime {
			pace = d.hop(o.Read)
		}
		busy, err := d.CalibrateExact(ctx, o.Traces[0], o.Read, pace)
		if err != nil {
			return 0, fmt.Errorf("--%s: %w", policy.FracFlag, err)
		}
		return f * o.Device.InferenceEnergy(busy), nil
	}
	params, err := s.Settings.ForPolicy(d.Policy, s.Controller, frac)
	if err != nil {
		return nil, err
	}
	var logFile *atomicfile.File
	if s.LogPath != "" {
		if logFile, err = atomicfile.Create(s.LogPath); err != nil {
			return nil, fmt.Errorf("decision log: %w", err)
		}
		defer logFile.Abort()
		o.Log = policy.NewLogWriter(logFile, d.Policy.Classes)
	}
	r, err := d.NewReplayer(params, o)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	if err := r.Run(ctx, s.Each); err != nil {
		return nil, err
	}
	if logFile != nil {
		err := o.Log.Flush()
		if err == nil {
			err = logFile.Commit()
		}
		if err != nil {
			return nil, fmt.Errorf("decision log: %w", err)
		}
	}
	reports := make([]*Report, r.Controllers())
	for i := range reports {
		reports[i] = r.Report(i, s.Model)
	}
	return reports, nil
}

// hop returns the time between windows read with o.
func (d *Deployment) hop(o replay.Options) time.Duration {
	h := d.Spec.Hop
	if o.Hop > 0 {
		h = o.Hop
	}
	return time.Duration(float64(h) / float64(d.Spec.SampleRate) * float64(time.Second))
}
