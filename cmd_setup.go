package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/internal/atomicfile"
	"github.com/kagen-ai/kagen/profile/dist"
	"github.com/kagen-ai/kagen/replay"
	"github.com/kagen-ai/kagen/tuning"
)

// Setup shared by several commands: the interruptible stdin of kagen run
// and the pipeline, trial pool and progress line of kagen profile and
// kagen tune.

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

// distFlags defines the flags of kagen profile and kagen tune that say
// where trials run (docs/distributed.md).
func distFlags(fs *flag.FlagSet) *dist.Setup {
	s := &dist.Setup{}
	fs.StringVar(&s.URL, "nats", "", "run trials on the workers of this NATS cluster (URL) instead of an embedded server")
	fs.IntVar(&s.Workers, "workers", -1, "in-process workers (default 2 with the embedded server, 0 with --nats; 0 without --nats: no NATS at all)")
	fs.StringVar(&s.DeviceClass, "device-class", "", "device class whose workers measure latency (default this machine's)")
	fs.IntVar(&s.ShardWindows, "shard-windows", 64, "windows per data shard, the unit of a QoS trial")
	fs.DurationVar(&s.AckWait, "ack-wait", 30*time.Second, "redeliver a trial whose worker shows no sign of life for this long")
	fs.DurationVar(&s.ReconnectFor, "nats-retry", dist.DefaultReconnectFor, "with --nats: how long to wait for a lost connection to come back before giving up")
	return s
}

// tuningRun is what kagen profile and kagen tune share: the pipeline of
// a model and its data, the trial pool, the progress line and the
// interrupt.
type tuningRun struct {
	p        *tuning.Pipeline
	lock     *atomicfile.Locked
	pool     *dist.Pool
	ctx      context.Context
	progress func(tuning.Progress)
	// done ends the progress line; close stops the pool and the interrupt.
	done, close func()
}

// startTuning checks the output paths against the inputs (the model, data,
// spec and extraInputs), loads a model and the labelled
// windows of data, starts the trial pool of setup (nil: in-process) and
// the progress line (JSON lines on stdout with asJSON).
func startTuning(path, specPath, qos string, data []string, match string, outs, extraInputs []string, setup *dist.Setup, asJSON bool, stdout, stderr io.Writer) (run *tuningRun, err error) {
	inputs := append(append([]string{path}, data...), extraInputs...)
	if specPath != "" {
		inputs = append(inputs, specPath)
	}
	for _, out := range outs {
		if err := checkOutput("-o", out, inputs...); err != nil {
			return nil, err
		}
	}
	lock, err := atomicfile.Lock(outs[0])
	if err != nil {
		return nil, usageError{"-o: " + err.Error()}
	}
	defer func() {
		if err != nil {
			lock.Unlock()
		}
	}()
	m, err := engine.LoadFile(path, engine.Options{})
	if err != nil {
		return nil, err
	}
	warnModel(m, path, stderr)
	var spec *replay.Spec
	if specPath != "" {
		if spec, err = replay.SpecFor(m, specPath); err != nil {
			return nil, err
		}
	}
	if err := replay.CheckQoS(qos); err != nil {
		return nil, usageError{"--qos: " + err.Error()}
	}
	load := tuning.LoadSpec
	if qos == replay.QoSAgreement {
		load = tuning.LoadAgreement
		fmt.Fprintln(stderr, "QoS: top-1 agreement with the exact model (its predictions on every window are the reference; labels are not read)")
	}
	traces := uniqueTraces(data, match, stderr)
	p, err := load(m, spec, traces)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	inv := replay.Survey(p.Spec, traces, replay.Options{})
	inv.CountFiles(p.Data.Files)
	if asJSON {
		printRead(stderr, stderr, inv)
	} else {
		printRead(stdout, stderr, inv)
		fmt.Fprintf(stdout, "split by file: %d windows to tune on, %d to check the losses on\n", p.Tune.Len(), p.Calib.Len())
	}
	// SIGTERM too: the embedded server's temporary folder is removed.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
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
	return &tuningRun{p: p, pool: pool, ctx: ctx, lock: lock, progress: func(g tuning.Progress) { pr.report(g.Phase, g.Done, g.Total, g.Item) },
		done: pr.done, close: func() { pool.Close(); stop(); lock.Unlock() }}, nil
}
