package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/measure"
	"github.com/kagen-ai/kagen/replay"
)

// Windows CalibrateExact times: as fast as possible, or paced.
const (
	calibrateWindows      = 64
	calibratePacedWindows = 16
)

// CalibrateExact returns the median busy time of exact inference over the
// first windows of a trace: what a budget given as a fraction of exact
// inference's energy is a fraction of. With pace > 0 it waits that long
// between windows, as a real-time replay does (idle time leaves the
// caches cold, which makes inference slower).
func (d *Deployment) CalibrateExact(ctx context.Context, t replay.Trace, opts replay.Options, pace time.Duration) (time.Duration, error) {
	if d.Spec == nil {
		return 0, fmt.Errorf("%s: the model has no front-end spec to read traces with", d.Name)
	}
	n := calibrateWindows
	if pace > 0 {
		n = calibratePacedWindows
	}
	src, err := t.Open(d.Spec, opts)
	if err != nil {
		return 0, err
	}
	defer src.Close()
	s := d.Model.NewSession()
	defer s.Close()
	x := make([]float32, d.Spec.InputSize())
	in := []*engine.Tensor{engine.NewFloat(x, d.Spec.InputShape()...)}
	var times []float64
	for len(times) < n {
		if len(times) > 0 {
			if err := sleepUntil(ctx, time.Now().Add(pace)); err != nil {
				return 0, err
			}
		}
		if _, err := src.Next(x); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return 0, err
		}
		t0 := time.Now()
		if _, err := s.RunWith(in, d.Levels[0]); err != nil {
			return 0, err
		}
		times = append(times, float64(time.Since(t0)))
	}
	if len(times) == 0 {
		return 0, fmt.Errorf("%s: no window to time exact inference on", t.Name)
	}
	return time.Duration(measure.Median(times)), nil
}
