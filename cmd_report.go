package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/kagen-ai/kagen/deploy"
	"github.com/kagen-ai/kagen/report"
)

// cmdReport regenerates docs/EVALUATION.md and its figures.
func cmdReport(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("report", stderr)
	o := report.Options{Log: stderr, RunTime: true, Cost: deploy.CostMeasured}
	fs.StringVar(&o.Out, "o", "docs", "output directory")
	fs.StringVar(&o.PeersJSON, "peers", "", "JSON lines from bench/peers.sh --json-only (tools/report.sh runs it)")
	fs.StringVar(&o.ZooJSON, "zoo", "", "JSON lines from "+report.ZooCommand+" (tools/zoo-table.sh runs it); without it the zoo section of the previous EVALUATION.md is kept")
	zooOnly := fs.Bool("zoo-only", false, "with --zoo: rewrite only the zoo section of -o's EVALUATION.md (tools/zoo-table.sh)")
	dataRoot := fs.String("data-root", "", "the study's data: a folder holding har-spsw/DATA and fsdd/recordings, whose held-out subjects and speaker are read whole (default: the held-out traces the repository ships in --demo-data)")
	demoData := fs.String("demo-data", "demo/data", "the repository's held-out traces (har/, kws.wav), used without --data-root")
	models := fs.String("models", "models", "folder holding the demo models (har.onnx, har-mobilenet.onnx, har-lstm.onnx, kws.onnx, kws-ds.onnx; those present are reported)")
	fs.Float64Var(&o.MaxLossPP, "max-loss", 1, "accuracy loss threshold of the tuner, in percentage points")
	fs.DurationVar(&o.Budget, "budget", 20*time.Second, "tuner search time per model")
	fs.BoolVar(&o.Realtime, "realtime", true, "replay the held-out traces in real time (one inference per window hop), as the run-time targets require")
	kwsClips := fs.Int("kws-clips", 200, "held-out keyword clips replayed per keyword model (every k-th of the speaker's, in order; 0: all)")
	fs.Float64Var(&o.Floor, "floor", 1, "the controllers' accuracy floor in percentage points")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kagen report [-o docs] [--peers peers.jsonl] [--zoo zoo.jsonl [--zoo-only]] [--data-root DIR] [--models DIR]\n\n"+
			"Profiles, tunes and replays the demo models on their held-out traces and writes\nEVALUATION.md and figures/*.png, with a progress line on stderr at least every 10 s.\n"+
			"Without --data-root it needs nothing outside the repository: the held-out traces are\n"+
			"the ones it ships (demo/data: 3 HAR executions, 53 windows; 40 keyword clips in a 52 s\n"+
			"stream), a few minutes on 2 cores. --data-root DIR reads the whole held-out subjects\n"+
			"(s17-s19, 513 windows) and speaker (theo, 500 clips) from the study's data, as\n"+
			"docs/EVALUATION.md was made (about 13 minutes). tools/report.sh also runs the engine comparison.")
		fs.PrintDefaults()
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		fs.Usage()
		return usageError{"expected no arguments besides the flags"}
	}
	if err := o.Validate(); err != nil {
		return usageError{err.Error()}
	}
	if *kwsClips < 0 {
		return usageError{fmt.Sprintf("--kws-clips %d, expected 0 (all) or more", *kwsClips)}
	}
	if *zooOnly {
		if o.ZooJSON == "" {
			return usageError{"--zoo-only without --zoo: give the zoo's JSON lines (tools/zoo-table.sh)"}
		}
		return report.UpdateZoo(o.Out, o.ZooJSON)
	}
	// SIGTERM too, so that the deferred cleanup removes the linked folders.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var ms []report.Model
	if *dataRoot == "" {
		if ms, err = report.Shipped(*demoData, *models); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "report: the held-out traces the repository ships (%s); --data-root DIR reads the study's whole held-out subjects and speaker\n", *demoData)
	} else {
		var cleanup func()
		if ms, cleanup, err = report.HeldOut(*dataRoot, *models, *kwsClips); err != nil {
			return usageError{err.Error()}
		}
		defer cleanup()
	}
	o.Models = ms
	return report.Generate(ctx, o)
}
