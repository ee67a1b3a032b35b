package ondevice

import (
	"errors"
	"fmt"
	"io"

	"github.com/kagen-ai/kagen/deploy"
	"github.com/kagen-ai/kagen/replay"
)

// feeder turns pushes into the pulled stream replay's front-ends read.
// The replayer runs in the feeder's goroutine and reads windows from it
// (it is the replayer's Source); the front-end under it reads bytes from
// it (it is that stream's io.Reader). A push hands one chunk over data
// and waits on done, which the goroutine sends when the front-end asks
// for bytes past the chunk: every window the chunk completes has then
// been played. A nil chunk ends the segment (Flush); closing data ends
// the goroutine (Close).
//
// Between a push's done and the next push the goroutine is blocked on
// data, so the replayer and the handle's results belong to the caller:
// the channel operations order every access.
type feeder struct {
	h    *Handle
	data chan []byte
	done chan struct{}
	exit chan struct{}

	// The goroutine's state.
	cur     []byte
	eof     bool // the segment's bytes have ended
	closing bool // data was closed
	src     replay.Source
	total   replay.Stats // of the segments ended
	err     error        // why the goroutine ended
	ended   bool         // set by the caller after exit closed
	opts    replay.Options
}

func newFeeder(h *Handle) (*feeder, error) {
	return &feeder{h: h, data: make(chan []byte), done: make(chan struct{}), exit: make(chan struct{}),
		opts: replay.Options{MaxGap: h.o.MaxGap, SkipBadLines: !h.o.Strict}}, nil
}

// run starts the goroutine playing r.
func (f *feeder) run(r *deploy.Replayer) {
	go func() {
		defer close(f.exit)
		defer func() {
			if p := recover(); p != nil {
				f.err = fmt.Errorf("internal error in the stream's front-end: %v", p)
			}
		}()
		f.err = r.Run(f.h.ctx, f.h.collect)
		if f.err == nil {
			f.err = errClosed
		}
	}()
}

// push hands a chunk (nil: the end of the segment) to the goroutine and
// waits until it has played every window the chunk completes.
func (f *feeder) push(p []byte) error {
	select {
	case f.data <- p:
	case <-f.exit:
		f.ended = true
		return f.failure()
	}
	select {
	case <-f.done:
		return nil
	case <-f.exit:
		f.ended = true
		return f.failure()
	}
}

// failure is the error that ended the goroutine.
func (f *feeder) failure() error {
	if f.err == nil || errors.Is(f.err, errClosed) {
		return errClosed
	}
	return f.err
}

// close ends the goroutine and waits for it.
func (f *feeder) close() {
	if !f.ended {
		close(f.data)
		<-f.exit
		f.ended = true
	}
}

// streamStats are the front-end's figures over every segment.
func (f *feeder) streamStats() replay.Stats {
	st := f.total
	if f.src != nil {
		add(&st, replay.StatsOf(f.src))
	}
	return st
}

func add(dst *replay.Stats, s replay.Stats) {
	dst.Windows += s.Windows
	dst.Gaps += s.Gaps
	dst.BadLines += s.BadLines
	for _, e := range s.FirstBad {
		if len(dst.FirstBad) < 8 {
			dst.FirstBad = append(dst.FirstBad, e)
		}
	}
	dst.Short = append(dst.Short, s.Short...)
}

// Read implements io.Reader for the segment's front-end: the pushed
// chunk, then (once it is consumed) a wait for the next.
func (f *feeder) Read(p []byte) (int, error) {
	for len(f.cur) == 0 {
		if f.eof {
			return 0, io.EOF
		}
		f.done <- struct{}{}
		c, ok := <-f.data
		if !ok {
			f.closing = true
		}
		if c == nil {
			f.eof = true
			return 0, io.EOF
		}
		f.cur = c
	}
	n := copy(p, f.cur)
	f.cur = f.cur[n:]
	return n, nil
}

// Next implements replay.Source for the replayer: the windows of the
// segment's stream, a new stream after each Flush.
func (f *feeder) Next(dst []float32) (replay.Window, error) {
	for {
		if f.closing {
			return replay.Window{}, io.EOF
		}
		if f.src == nil {
			c, ok := <-f.data
			if !ok {
				return replay.Window{}, io.EOF
			}
			if c == nil { // Flush of a segment that took no bytes
				f.done <- struct{}{}
				continue
			}
			f.cur, f.eof = c, false
			src, err := replay.OpenStream(f, f.h.o.Name, f.h.d.Spec, f.h.o.Format, f.h.o.Rate, f.h.o.Channels, f.opts)
			if err != nil {
				return replay.Window{}, err
			}
			f.src = src
		}
		w, err := f.src.Next(dst)
		if err == io.EOF {
			add(&f.total, replay.StatsOf(f.src))
			f.src.Close()
			f.src = nil
			if f.closing {
				return replay.Window{}, io.EOF
			}
			f.done <- struct{}{} // the Flush that ended the segment
			continue
		}
		return w, err
	}
}

// Close implements replay.Source (the handle closes the stream).
func (f *feeder) Close() error { return nil }

// winInput is the Source of a handle that takes feature windows: the
// window of the push under way.
type winInput struct {
	x           []float32
	n           int
	hop, length float64 // seconds
}

var errNoWindow = errors.New("no window was pushed")

// Next implements replay.Source.
func (w *winInput) Next(dst []float32) (replay.Window, error) {
	if w.x == nil {
		return replay.Window{}, errNoWindow
	}
	copy(dst, w.x)
	start := float64(w.n) * w.hop
	win := replay.Window{Index: w.n, Start: start, End: start + w.length, File: "windows"}
	w.n++
	return win, nil
}

// Close implements replay.Source.
func (w *winInput) Close() error { return nil }
