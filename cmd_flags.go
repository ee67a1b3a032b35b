package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/kagen-ai/kagen/device"
	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/internal/atomicfile"
	"github.com/kagen-ai/kagen/measure"
	"github.com/kagen-ai/kagen/policy"
	"github.com/kagen-ai/kagen/profile/dist"
	"github.com/kagen-ai/kagen/replay"
	"github.com/kagen-ai/kagen/tuning"
)

// pathList is a repeatable path flag; the commands also take paths given
// after it (--data a.csv b.csv), as positional arguments.
type pathList []string

func (p *pathList) String() string { return strings.Join(*p, ",") }

func (p *pathList) Set(s string) error {
	if s == "" {
		return errors.New("empty path")
	}
	*p = append(*p, s)
	return nil
}

// optFloat is a float flag that records whether it was given.
type optFloat struct {
	v   float64
	set bool
}

func (o *optFloat) String() string {
	if !o.set {
		return ""
	}
	return strconv.FormatFloat(o.v, 'g', -1, 64)
}

func (o *optFloat) Set(s string) error {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("expected a number of dB: %w", err)
	}
	o.v, o.set = v, true
	return nil
}

// streamFlags defines the flags that say how traces are read as a stream
// (replay, and the report's replays).
func streamFlags(fs *flag.FlagSet) func() replay.Options {
	hop := fs.Int("hop", 0, "window hop in samples (default: the model's)")
	match := fs.String("match", "", "file name pattern when a trace is a folder (default *.csv or *.wav)")
	gap := fs.Float64("gap", 0, "seconds of silence (or noise) around the clips of a clip folder")
	noise := fs.Bool("noise", false, "add white noise to clip folders at --snr dB")
	snr := fs.Float64("snr", 20, "signal-to-noise ratio in dB with --noise")
	seed := fs.Uint64("trace-seed", 0, "seed of the noise and shuffle of clip folders")
	shuffle := fs.Bool("shuffle", false, "play a clip folder in a seeded random order")
	return func() replay.Options {
		return replay.Options{Hop: *hop, Match: *match, Gap: *gap, Noise: *noise, SNR: *snr, Seed: *seed, Shuffle: *shuffle}
	}
}

// deviceFlag defines --device-profile.
func deviceFlag(fs *flag.FlagSet, doc string) *string {
	var names []string
	for _, d := range device.Profiles() {
		names = append(names, d.Name)
	}
	return fs.String("device-profile", "phone-big", doc+": "+strings.Join(names, ", ")+", or a JSON file")
}

// lookupDevice resolves --device-profile (a usage error when unknown).
func lookupDevice(name string) (*device.Profile, error) {
	d, err := device.Lookup(name)
	if err != nil {
		return nil, usageError{"--device-profile: " + err.Error()}
	}
	return d, nil
}

// controllerFlags defines every controller parameter's flag (from the
// policy registry) on fs.
func controllerFlags(fs *flag.FlagSet, fracDoc string) *policy.Builder {
	b := &policy.Builder{}
	b.Flags(fs, fracDoc)
	return b
}

// stoppable copies in through a pipe that SIGTERM or SIGINT close, so that
// a signal ends the stream even while a read blocks; stopped returns the
// signal's name once one came ("" before), release stops listening.
func stoppable(in io.Reader) (r io.Reader, stopped func() string, release func()) {
	pr, pw := io.Pipe()
	go func() {
		_, err := io.Copy(pw, in)
		pw.CloseWithError(err) // nil: io.EOF
	}()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, os.Interrupt)
	done := make(chan struct{})
	var name atomic.Value
	go func() {
		select {
		case s := <-sigs:
			name.Store("signal " + s.String())
			pw.CloseWithError(io.EOF)
		case <-done:
		}
	}()
	stopped = func() string {
		s, _ := name.Load().(string)
		return s
	}
	return pr, stopped, func() {
		signal.Stop(sigs)
		close(done)
	}
}

// checkOutput checks an output path before long work (a usage error).
func checkOutput(path string) error {
	if err := atomicfile.Check(path); err != nil {
		return usageError{"-o: " + err.Error()}
	}
	return nil
}

// inputSettings are the flags that bind a model's inputs: --dim NAME=N
// for symbolic dimensions and --input NAME=FILE.npy for values.
type inputSettings struct{ dims, inputs pathList }

// inputFlags defines --dim and --input.
func inputFlags(fs *flag.FlagSet) *inputSettings {
	s := &inputSettings{}
	fs.Var(&s.dims, "dim", "bind a symbolic input dimension, NAME=N (repeatable)")
	fs.Var(&s.inputs, "input", "feed a named input from a .npy file, NAME=FILE.npy (repeatable; inputs not given get a note)")
	return s
}

// load loads the model with the dimensions and input shapes bound, and
// returns its inputs in order: the files given, and for the others
// seeded random values (random true) or zeros, each with a note on
// stderr.
func (s *inputSettings) load(path string, opts engine.Options, random bool, stderr io.Writer) (*engine.Model, []*engine.Tensor, error) {
	var err error
	if opts.Dims, err = engine.ParseDims(s.dims); err != nil {
		return nil, nil, usageError{"--dim: " + err.Error()}
	}
	named, err := engine.ParseInputs(s.inputs, opts.MaxBytes)
	if err != nil {
		return nil, nil, usageError{"--input: " + err.Error()}
	}
	opts.InputShapes = engine.ShapesOf(named)
	m, err := engine.LoadFile(path, opts)
	if err != nil {
		return nil, nil, err
	}
	inputs, notes, err := m.Feed(named)
	if err != nil {
		return nil, nil, usageError{"--input: " + err.Error()}
	}
	if random {
		rnd := measure.RandomInputs(m, 1)
		for i, vi := range m.Inputs() {
			if _, given := named[vi.Name]; !given && !vi.DType.IsInt() {
				inputs[i] = rnd[i]
			}
		}
		for i := range notes {
			notes[i] = strings.Replace(notes[i], "feeding zeros", "feeding seeded random values (zeros for integers)", 1)
		}
	}
	if len(named) > 0 || len(inputs) > 1 { // a single input is always the one fed
		for _, n := range notes {
			fmt.Fprintln(stderr, "note:", n)
		}
	}
	return m, inputs, nil
}

// distFlags defines the flags of kagen profile and kagen tune that say
// where trials run (docs/distributed.md).
func distFlags(fs *flag.FlagSet) *dist.Setup {
	s := &dist.Setup{}
	fs.StringVar(&s.URL, "nats", "", "run trials on the workers of this NATS cluster (URL) instead of an embedded server")
	fs.IntVar(&s.Workers, "workers", -1, "in-process workers (default 2 with the embedded server, 0 with --nats; 0 without --nats: no NATS at all)")
	fs.StringVar(&s.DeviceClass, "device-class", "", "device class whose workers measure latency (default this machine's)")
	fs.IntVar(&s.ShardWindows, "shard-windows", 64, "windows per data shard, the unit of a QoS trial")
	fs.DurationVar(&s.AckWait, "ack-wait", 30*time.Second, "redeliver a trial whose worker shows no sign of life for this long")
	return s
}

// tuningRun is what kagen profile and kagen tune share: the pipeline of
// a model and its data, the trial pool, the progress line and the
// interrupt.
type tuningRun struct {
	p        *tuning.Pipeline
	pool     *dist.Pool
	ctx      context.Context
	progress func(tuning.Progress)
	// done ends the progress line; close stops the pool and the interrupt.
	done, close func()
}

// startTuning checks the output path, loads a model and the labelled
// windows of data, starts the trial pool of setup (nil: in-process) and
// the progress line (JSON lines on stdout with asJSON).
func startTuning(path string, data []string, out string, setup *dist.Setup, asJSON bool, stdout, stderr io.Writer) (*tuningRun, error) {
	if err := checkOutput(out); err != nil {
		return nil, err
	}
	m, err := engine.LoadFile(path, engine.Options{})
	if err != nil {
		return nil, err
	}
	p, err := tuning.Load(m, replay.DiskTraces(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	setup.Log = stderr
	pool, err := setup.StartFor(ctx, path, m)
	if err != nil {
		stop()
		if err == dist.ErrOtherDevice {
			return nil, usageError{err.Error()}
		}
		return nil, err
	}
	if pool != nil {
		p.Executor = pool
	}
	pr := newProgress(stderr, asJSON)
	if asJSON {
		pr.w = stdout
	}
	return &tuningRun{p: p, pool: pool, ctx: ctx, progress: func(g tuning.Progress) { pr.report(g.Phase, g.Done, g.Total, g.Item) },
		done: pr.done, close: func() { pool.Close(); stop() }}, nil
}
