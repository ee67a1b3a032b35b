package main

import (
	"fmt"
	"io"
	"os"

	"github.com/kagen-ai/kagen/deploy"
	"github.com/kagen-ai/kagen/internal/atomicfile"
	"github.com/kagen-ai/kagen/ondevice"
	"github.com/kagen-ai/kagen/policy"
	"github.com/kagen-ai/kagen/replay"
)

// cmdRun classifies a live stream with a policy's controller choosing the
// level of every window: a shell over an ondevice.Handle, the API apps
// call.
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
	strict := fs.Bool("strict", false, "stop at the first malformed CSV line (default: skip it, count it in the summary)")
	maxGap := maxGapFlag(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kagen run --model MODEL --policy FILE [--format csv|s16le|f32le] [--rate HZ] [--input FILE]\n\n"+
			"Reads a live stream on standard input and writes one JSON line per window: the prediction, its\n"+
			"confidence, the level it ran at and its latency. IMU CSV needs a header naming the model's columns\n"+
			"and a timestamp column (Unix milliseconds); a malformed line is skipped and counted (--strict: stop).\n"+
			"Stops cleanly at the end of the input or on SIGTERM/SIGINT.")
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
	warnModel(d.Model, *model, stderr)
	if *rate == 0 {
		*rate = d.Spec.SampleRate
	}
	if err := replay.CheckStream(d.Spec, *format, *rate, *channels); err != nil {
		return usageError{"--" + err.Error()}
	}
	if err := checkReplay(replay.Options{MaxGap: *maxGap}, nil); err != nil {
		return err
	}
	in, name := io.ReadCloser(os.Stdin), "stdin"
	if *input != "-" {
		if st, err := os.Stat(*input); err == nil && st.IsDir() {
			return usageError{fmt.Sprintf("--input %s is a folder: run reads one stream (a file, a pipe or standard input); kagen replay --trace reads folders", *input)}
		}
		if in, err = os.Open(*input); err != nil {
			return err
		}
		name = *input
	}
	defer in.Close()
	stream, stopped, release := stoppable(in)
	defer release()
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
	h, err := ondevice.New(d, ondevice.Options{Device: dev, Log: log, Format: *format, Rate: *rate, Channels: *channels,
		MaxGap: *maxGap, Strict: *strict, Name: name})
	if err != nil {
		return err
	}
	defer h.Close()
	err = h.StreamJSON(stream, stdout)
	why := stopped()
	switch {
	case why != "" && err != nil && h.Stats().Windows == 0:
		err = nil // stopped before the first window
	case why != "":
	case err != nil:
		why = "the error below"
	default:
		why = "end of input"
	}
	rep := h.Report("")
	if rep == nil {
		return err
	}
	fmt.Fprintf(stderr, "kagen run: %s\n", rep.StreamSummary(h.StreamStats(), why))
	if rep.NonFinite > 0 {
		fmt.Fprintf(stderr, "kagen run: warning: %d windows gave NaN or infinite outputs (non_finite in their lines); the first: %s\n", rep.NonFinite, rep.FirstNonFinite)
	}
	return err
}
