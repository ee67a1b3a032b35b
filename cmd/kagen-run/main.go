// Command kagen-run is the device build of `kagen run`: it classifies a
// live stream (IMU CSV lines, or raw PCM for keyword models) on standard
// input with a policy's controller choosing the level of every window,
// and writes one JSON line per window, as `kagen run` does. It links only
// the inference engine, the front-ends, the controllers and the
// application layer (package ondevice), none of the workbench, so that it
// stays small on the device:
//
//	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -ldflags=-s -o kagen-run ./cmd/kagen-run
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/kagen-ai/kagen/ondevice"
)

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "kagen-run:", err)
		os.Exit(1)
	}
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("kagen-run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	model := fs.String("model", "", "ONNX model")
	pol := fs.String("policy", "", "policy file (kagen policy new)")
	input := fs.String("input", "-", "stream to read; - is standard input")
	format := fs.String("format", "", "stream format: csv (IMU CSV lines with a header; default for har models), s16le or f32le (raw mono PCM; default s16le for kws models)")
	rate := fs.Int("rate", 0, "sample rate of raw PCM in Hz (default: the model's)")
	channels := fs.Int("channels", 1, "interleaved channels of raw PCM, averaged to mono")
	strict := fs.Bool("strict", false, "stop at the first malformed CSV line (default: skip it, count it)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 || *model == "" || *pol == "" {
		fs.Usage()
		return fmt.Errorf("expected --model and --policy, and no other arguments")
	}
	in, name := stdin, "stdin"
	if *input != "-" {
		f, err := os.Open(*input)
		if err != nil {
			return err
		}
		defer f.Close()
		in, name = f, *input
	}
	h, err := ondevice.Open(*model, *pol, ondevice.Options{Format: *format, Rate: *rate, Channels: *channels, Strict: *strict, Name: name})
	if err != nil {
		return err
	}
	defer h.Close()
	err = h.StreamJSON(in, stdout)
	st := h.Stats()
	fmt.Fprintf(stderr, "kagen-run: %d windows, windows per level %v, %d switches, %d malformed lines skipped, inference energy %.4g J (%s)\n",
		st.Windows, st.LevelWindows, st.Switches, st.BadLines, st.EnergyJ, st.Meter)
	return err
}
