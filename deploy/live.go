package deploy

import (
	"context"
	"errors"

	"github.com/kagen-ai/kagen/device"
	"github.com/kagen-ai/kagen/policy"
	"github.com/kagen-ai/kagen/replay"
)

// WindowRecord is what the device did with one window of a live stream:
// `kagen run` prints one per line.
type WindowRecord struct {
	Index      int     `json:"index"`
	Start      float64 `json:"start_s"`
	End        float64 `json:"end_s"`
	Label      string  `json:"label,omitempty"`
	Prediction string  `json:"prediction"`
	Class      int     `json:"class"`
	Confidence float32 `json:"confidence"`
	Level      int     `json:"level"`
	// LatencyUS is the busy time measured for this inference.
	LatencyUS float64 `json:"latency_us"`
	Next      int     `json:"next_level"`
	Rule      string  `json:"rule"`
	// NonFinite is set when the model's outputs held a NaN or an
	// infinity (Class is then -1, Prediction empty, Confidence 0).
	NonFinite bool `json:"non_finite,omitempty"`
}

// Live runs the policy's own controller over a live source, as on the
// device, calling each with every window's record, until the source ends
// or ctx is done; it returns the report of what ran. log, if set,
// receives every decision.
func (d *Deployment) Live(ctx context.Context, src replay.Source, dev *device.Profile, log *policy.LogWriter, each func(*WindowRecord) error) (*Report, error) {
	r, err := d.NewReplayer([]policy.Params{d.Policy.Controller}, Options{Source: src, Device: dev, Log: log})
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var rec WindowRecord
	err = r.Run(ctx, func(ev *Event) error {
		e := ev.Runs[0]
		rec = WindowRecord{Index: ev.Window.Index, Start: ev.Window.Start, End: ev.Window.End, Label: ev.Window.Label, Class: e.Pred.Class,
			Confidence: e.Pred.Confidence, Level: e.Level, LatencyUS: float64(e.Measured) / 1e3, Next: e.Decision.To, Rule: e.Decision.Rule, NonFinite: e.NonFinite}
		if c := e.Pred.Class; c >= 0 && c < len(d.Spec.Classes) {
			rec.Prediction = d.Spec.Classes[c]
		}
		return each(&rec)
	})
	if errors.Is(err, errNoWindow) {
		err = nil // a live stream may end before its first window
	}
	return r.Report(0, ""), err
}
