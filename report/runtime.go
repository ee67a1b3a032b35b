package report

import (
	"context"
	"strconv"

	"github.com/kagen-ai/kagen/approx"
	"github.com/kagen-ai/kagen/deploy"
	"github.com/kagen-ai/kagen/device"
	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/policy"
	"github.com/kagen-ai/kagen/replay"
)

// Replay replays a model's held-out traces with every controller side by
// side against the exact run, as `kagen replay --controller all` does:
// each with the accuracy floor o.Floor, the budget controller aiming at
// o.BudgetFrac of exact inference's energy, keyword clip folders played
// with half a second of silence between clips, on the phone-big profile.
// The policy's own controller is the confidence controller, whose run is
// kept as the trace figure. paretoName names the levels in errors.
func Replay(ctx context.Context, o Options, rm Model, m *engine.Model, paretoName string, par *policy.Pareto) ([]ControllerRow, *Trace, error) {
	floor := strconv.FormatFloat(o.Floor, 'g', -1, 64)
	own := &policy.Builder{}
	if err := own.Set("floor", floor); err != nil {
		return nil, nil, err
	}
	pol, err := policy.New(par, own, policy.Confidence, paretoName)
	if err != nil {
		return nil, nil, err
	}
	d, err := deploy.New(paretoName, m, approx.New(m), pol)
	if err != nil {
		return nil, nil, err
	}
	frac := o.BudgetFrac
	if frac == 0 {
		frac = 0.7
	}
	all := &policy.Builder{}
	if err := all.Set("floor", floor); err != nil {
		return nil, nil, err
	}
	if err := all.Set(policy.FracFlag, strconv.FormatFloat(frac, 'g', -1, 64)); err != nil {
		return nil, nil, err
	}
	dev, err := device.Lookup("phone-big")
	if err != nil {
		return nil, nil, err
	}
	traces := rm.Replay
	if len(traces) == 0 {
		traces = rm.Data
	}
	tr, traced := &Trace{}, -1
	reports, err := d.Replay(ctx, deploy.ReplaySettings{Controller: "all", Settings: all, CostName: o.Cost, Model: rm.Path,
		Options: deploy.Options{Traces: replay.DiskTraces(traces), Read: replay.Options{Gap: 0.5}, Device: dev, Realtime: o.Realtime},
		Each: func(ev *deploy.Event) error {
			for i, r := range ev.Runs {
				if r.Controller == policy.Confidence {
					traced = i
					tr.Level = append(tr.Level, float64(r.Obs.Level))
					tr.Confidence = append(tr.Confidence, float64(r.Obs.Confidence))
					tr.EnergyMJ = append(tr.EnergyMJ, 1e3*r.Obs.EnergyJ)
				}
			}
			return nil
		}})
	if err != nil {
		return nil, nil, err
	}
	var rows []ControllerRow
	for _, rep := range reports {
		rows = append(rows, Row(rep))
	}
	if traced < 0 {
		return rows, nil, ctx.Err()
	}
	tr.Controller = reports[traced].Params
	return rows, tr, ctx.Err()
}

// Row is a replay report as a row of the document's run-time table.
func Row(rep *deploy.Report) ControllerRow {
	row := ControllerRow{Controller: rep.Params, Accuracy: rep.Accuracy, ExactAcc: rep.ExactAccuracy, LossPP: rep.AccuracyLossPP,
		InferenceSaving: rep.InferenceEnergySaving, Switches: rep.Switches, EnergyJ: rep.InferenceEnergyJ,
		SystemSaving: map[string]float64{}, InferenceShare: map[string]float64{}}
	for _, p := range rep.Profiles {
		row.SystemSaving[p.Name] = p.SystemEnergySaving
		row.InferenceShare[p.Name] = p.InferenceShare
	}
	for _, l := range rep.Levels {
		row.TimeAtLevel = append(row.TimeAtLevel, l.Fraction)
	}
	return row
}
