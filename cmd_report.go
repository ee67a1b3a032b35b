package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/kagen-ai/kagen/report"
)

// cmdReport regenerates docs/EVALUATION.md and its figures.
func cmdReport(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("report", stderr)
	out := fs.String("o", "docs", "output directory")
	peers := fs.String("peers", "", "JSON lines from bench/peers.sh --json-only (tools/report.sh runs it)")
	dataRoot := fs.String("data-root", "../shared/data", "folder holding har-spsw/ and fsdd/")
	models := fs.String("models", "models", "folder holding har.onnx, kws.onnx and kws-ds.onnx")
	maxLoss := fs.Float64("max-loss", 1, "accuracy loss threshold of the tuner, in percentage points")
	budget := fs.Duration("budget", 20*time.Second, "tuner search time per model")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kagen report [-o docs] [--peers peers.jsonl] [--data-root DIR] [--models DIR]\n\nProfiles, tunes and replays the demo models on their held-out traces and writes\nEVALUATION.md and figures/*.png. tools/report.sh also runs the engine comparison.")
		fs.PrintDefaults()
	}
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	har := filepath.Join(*dataRoot, "har-spsw", "DATA")
	fsdd := filepath.Join(*dataRoot, "fsdd", "recordings")
	var ms []report.Model
	add := func(name, file string, data []string, held string) {
		p := filepath.Join(*models, file)
		if _, err := os.Stat(p); err == nil {
			ms = append(ms, report.Model{Name: name, Path: p, Data: data, Held: held})
		}
	}
	theo, err := linkFiles("kagen-theo-", filepath.Join(fsdd, "*_theo_*.wav"))
	if err != nil {
		return err
	}
	// The HAR model reads the smartphone streams; the folders also hold the
	// smartwatch's.
	phone, err := linkFiles("kagen-har-", filepath.Join(har, "s1[789]", "*_sp.csv"))
	if err != nil {
		return err
	}
	add("har", "har.onnx", []string{phone}, "subjects s17, s18, s19 (smartphone, 30 executions)")
	add("kws", "kws.onnx", []string{theo}, "speaker theo (500 clips)")
	add("kws-ds", "kws-ds.onnx", []string{theo}, "speaker theo (500 clips)")
	if len(ms) == 0 {
		return fmt.Errorf("no models in %s", *models)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	return report.Generate(ctx, report.Options{Out: *out, Models: ms, PeersJSON: *peers, MaxLossPP: *maxLoss, Budget: *budget, Log: stderr})
}

// linkFiles links the files matching pattern into a temporary folder, which
// then reads as one set of traces (a clip folder, or IMU executions).
func linkFiles(prefix, pattern string) (string, error) {
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return "", err
	}
	clips, _ := filepath.Glob(pattern)
	for _, c := range clips {
		abs, _ := filepath.Abs(c)
		if err := os.Symlink(abs, filepath.Join(dir, filepath.Base(c))); err != nil {
			return "", err
		}
	}
	return dir, nil
}
