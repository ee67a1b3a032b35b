package tui

import (
	"errors"
	"fmt"
	"io"

	"github.com/kagen-ai/kagen/approx"
	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/replay"
)

// Latency turns the measured per-step times of one inference into the
// times the workbench shows and meters. The default keeps the
// measurement; tests install a model of the times so that golden files
// hold no timing-dependent numbers.
type Latency interface {
	// Adjust may rewrite stepNanos, the measured nanoseconds of each step
	// of one inference under cfg.
	Adjust(cfg approx.Config, stepNanos []int64)
}

// player replays the traces of a Bench through its own engine session,
// window by window, looping at the end. It is used by one job at a time
// (a screen keeps at most one batch in flight), never by Update.
type player struct {
	b       *Bench
	lat     Latency
	sess    *engine.Session
	src     replay.Source
	trace   int // index of the open trace in b.Source.Traces
	laps    int // times the traces were played through
	x       []float32
	in      []*engine.Tensor
	steps   []int64
	out     []float32
	windows int64   // windows read
	offset  float64 // stream time at the start of the current file
	lastEnd float64 // stream time of the last window's end
	file    string  // file of the last window
}

func newPlayer(b *Bench, lat Latency) *player {
	p := &player{b: b, lat: lat, sess: b.Model.NewSession(), trace: -1}
	p.x = make([]float32, b.Spec.InputSize())
	p.in = []*engine.Tensor{engine.NewFloat(p.x, b.Spec.InputShape()...)}
	p.steps = make([]int64, b.Model.Steps())
	return p
}

// frame is one window read by a player.
type frame struct {
	Seq   int64   // windows read before this one by the player
	Time  float64 // seconds since the stream started (window end)
	Win   replay.Window
	Label int // class index, -1 if the label is not a class
}

// next reads the next window, opening the next trace at the end of one
// and starting over after the last. An error names the trace; the player
// then moves on to the next trace.
func (p *player) next() (frame, error) {
	for tries := 0; tries <= len(p.b.Source.Traces); tries++ {
		if p.src == nil {
			p.trace++
			if p.trace >= len(p.b.Source.Traces) {
				p.trace = 0
				p.laps++
			}
			src, err := p.b.Source.Traces[p.trace].Open(p.b.Spec, replay.Options{})
			if err != nil {
				return frame{}, err
			}
			p.src = src
			p.file = ""
		}
		w, err := p.src.Next(p.x)
		if err == io.EOF {
			p.src.Close()
			p.src = nil
			continue
		}
		if err != nil {
			p.src.Close()
			p.src = nil
			return frame{}, err
		}
		if w.File != p.file || p.file == "" {
			// a new file (of a folder) starts where the last one ended
			p.file, p.offset = w.File, p.lastEnd
		}
		f := frame{Seq: p.windows, Win: w, Label: p.b.Spec.ClassIndex(w.Label)}
		p.windows++
		f.Time = p.offset + w.End
		p.lastEnd = max(p.lastEnd, f.Time)
		return f, nil
	}
	return frame{}, errors.New("the traces hold no window")
}

// infer runs the current window under cfg (sel its prepared selector, nil
// for exact) and returns the prediction and the busy nanoseconds. The
// per-step times are left in p.steps.
func (p *player) infer(cfg approx.Config, sel engine.Selector) (replay.Prediction, int64, error) {
	var outs []*engine.Tensor
	var err error
	if sel == nil {
		outs, err = p.sess.RunTimed(p.in, nil, p.steps)
	} else {
		outs, err = p.sess.RunTimed(p.in, sel, p.steps)
	}
	if err != nil {
		return replay.Prediction{}, 0, fmt.Errorf("inference: %w", err)
	}
	if p.lat != nil {
		p.lat.Adjust(cfg, p.steps)
	}
	var busy int64
	for _, n := range p.steps {
		busy += n
	}
	p.out = append(p.out[:0], outs[0].F...)
	return replay.Predict(p.out), busy, nil
}

// close releases the open trace.
func (p *player) close() {
	if p.src != nil {
		p.src.Close()
		p.src = nil
	}
}
