package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/kagen-ai/kagen/deploy"
	"github.com/kagen-ai/kagen/internal/atomicfile"
	"github.com/kagen-ai/kagen/policy"
	"github.com/kagen-ai/kagen/replay"
)

// cmdRun classifies a live stream with a policy's controller choosing the
// level of every window (deploy.Deployment.Live).
func cmdRun(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("run", stderr)
	model := fs.String("model", "", "ONNX model")
	polPath := fs.String("policy", "", "policy file (kagen policy new)")
	input := fs.String("input", "-", "stream to read; - is standard input")
	format := fs.String("format", "", "stream format: csv (IMU CSV lines with a header; default for har models), s16le or f32le (raw mono PCM; default s16le for kws models)")
	rate := fs.Int("rate", 0, "sample rate of raw PCM in Hz (default: the model's)")
	channels := fs.Int("channels", 1, "interleaved channels of raw PCM, averaged to mono")
	devName := deviceFlag(fs, "device energy profile for the controller's energy signal")
	logPath := fs.String("log", "", "append every decision as a JSON line to this file")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kagen run --model MODEL --policy FILE [--format csv|s16le|f32le] [--rate HZ] [--input FILE]\n\n"+
			"Reads a live stream on standard input and writes one JSON line per window: the prediction, its\n"+
			"confidence, the level it ran at and its latency. IMU CSV needs a header naming the model's columns\n"+
			"and a timestamp column (Unix milliseconds). Stops cleanly at the end of the input or on SIGTERM/SIGINT.")
		fs.PrintDefaults()
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 || *model == "" || *polPath == "" {
		fs.Usage()
		return usageError{"expected --model and --policy, and no other arguments"}
	}
	if *logPath != "" {
		if err := checkOutput("--log", *logPath, *model, *polPath, *input); err != nil {
			return err
		}
	}
	dev, err := lookupDevice(*devName)
	if err != nil {
		return err
	}
	d, err := deploy.Load(*model, *polPath)
	if err != nil {
		return err
	}
	if *rate < 0 || *rate > 10_000_000 {
		return usageError{fmt.Sprintf("--rate %d, expected 1..10000000 Hz (0: the model's)", *rate)}
	}
	if *rate == 0 {
		*rate = d.Spec.SampleRate
	}
	if err := replay.CheckStream(d.Spec, *format, *rate, *channels); err != nil {
		return usageError{"--" + err.Error()}
	}
	in, name := io.ReadCloser(os.Stdin), "stdin"
	if *input != "-" {
		if in, err = os.Open(*input); err != nil {
			return err
		}
		name = strings.TrimSuffix(filepath.Base(*input), filepath.Ext(*input))
	}
	defer in.Close()
	stream, stopped, release := stoppable(in)
	defer release()
	src, err := replay.OpenStream(stream, name, d.Spec, *format, *rate, *channels)
	if err != nil {
		return fmt.Errorf("%s: %w", *input, err)
	}
	defer src.Close()
	var log *policy.LogWriter
	if *logPath != "" {
		lf, err := atomicfile.Append(*logPath)
		if err != nil {
			return fmt.Errorf("decision log: %w", err)
		}
		defer lf.Close()
		log = policy.NewLogWriter(lf, d.Policy.Classes)
		defer log.Flush()
	}
	out := bufio.NewWriter(stdout)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	rep, err := d.Live(context.Background(), src, dev, log, func(rec *deploy.WindowRecord) error {
		if err := enc.Encode(rec); err != nil {
			return fmt.Errorf("writing: %w", err)
		}
		return out.Flush()
	})
	why := stopped()
	if why == "" {
		why = "end of input"
	} else if err != nil && rep.Windows == 0 {
		err = nil // stopped before the first window
	}
	var perLevel []int
	for _, l := range rep.Levels {
		perLevel = append(perLevel, l.Windows)
	}
	fmt.Fprintf(stderr, "kagen run: %d windows, stopped by %s; windows per level %v\n", rep.Windows, why, perLevel)
	if rep.NonFinite > 0 {
		fmt.Fprintf(stderr, "kagen run: warning: %d windows gave NaN or infinite outputs (non_finite in their lines); the first: %s\n", rep.NonFinite, rep.FirstNonFinite)
	}
	return err
}
