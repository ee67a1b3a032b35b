package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/kagen-ai/kagen/device"
	"github.com/kagen-ai/kagen/profile/dist"
)

// cmdWorker joins a NATS cluster as a worker of distributed profiling and
// tuning (docs/distributed.md).
func cmdWorker(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("worker", stderr)
	url := fs.String("nats", "", "NATS server URL(s), comma-separated (required)")
	devName := fs.String("device-profile", "", "energy profile of this device to announce (e.g. phone-big, or a JSON file)")
	concurrency := fs.Int("concurrency", 1, "trials run at once (latency trials always run one at a time)")
	name := fs.String("name", "", "worker name (default HOST-PID-1)")
	ackWait := fs.Duration("ack-wait", 30*time.Second, "redeliver a trial whose worker shows no sign of life for this long (sets the cluster's consumers)")
	verbose := fs.Bool("v", false, "log every trial")
	delay := fs.Duration("trial-delay", 0, "sleep this long inside every trial (simulates a slow device; for tests)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kagen worker --nats URL [--device-profile NAME] [--concurrency N] [--name NAME] [-v]")
		fs.PrintDefaults()
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 || *url == "" {
		fs.Usage()
		return usageError{"expected --nats URL and no other arguments"}
	}
	wo := dist.WorkerOptions{Name: *name, Concurrency: *concurrency, DeviceProfile: *devName, Verbose: *verbose, Delay: *delay}
	if err := dist.ValidateWorker(wo, *ackWait); err != nil {
		return usageError{err.Error()}
	}
	if *devName != "" {
		d, err := device.Lookup(*devName)
		if err != nil {
			return err
		}
		*devName = d.Name
	}
	logger := log.New(stderr, "", log.LstdFlags|log.Lmicroseconds)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c, err := dist.Start(ctx, dist.Config{URL: *url, AckWait: *ackWait, Name: "kagen worker", Logf: logger.Printf})
	if err != nil {
		return err
	}
	defer c.Close()
	wo.DeviceProfile, wo.Logf = *devName, logger.Printf
	w, err := c.StartWorker(ctx, wo)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "worker %s joined %s: device %s, class %s\n", w.Info().Name, *url, w.Info().Device, w.Info().Class)
	done := make(chan struct{})
	go func() {
		w.Wait()
		close(done)
	}()
	select {
	case <-ctx.Done():
		w.Stop()
	case <-done: // connection closed for good
	}
	st := w.Stats()
	fmt.Fprintf(stdout, "worker %s: %d results (%d errors), %d skipped as done, %d malformed, %d handed back\n", w.Info().Name, st.Done, st.Failed, st.Skipped, st.Malformed, st.Retried)
	return nil
}
