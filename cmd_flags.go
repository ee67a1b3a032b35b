package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/kagen-ai/kagen/device"
	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/internal/atomicfile"
	"github.com/kagen-ai/kagen/measure"
	"github.com/kagen-ai/kagen/policy"
	"github.com/kagen-ai/kagen/replay"
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
// (replay, and the report's replays); the function returned checks them,
// naming the flag at fault.
func streamFlags(fs *flag.FlagSet) func() (replay.Options, error) {
	hop := fs.Int("hop", 0, "window hop in samples (default: the model's)")
	match := fs.String("match", "", "file name pattern when a trace is a folder (default *.csv or *.wav)")
	gap := fs.Float64("gap", 0, "seconds of silence (or noise) around the clips of a clip folder")
	noise := fs.Bool("noise", false, "add white noise to clip folders at --snr dB")
	snr := fs.Float64("snr", 20, "signal-to-noise ratio in dB with --noise")
	seed := fs.Uint64("trace-seed", 0, "seed of the noise and shuffle of clip folders")
	shuffle := fs.Bool("shuffle", false, "play a clip folder in a seeded random order")
	maxGap := maxGapFlag(fs)
	return func() (replay.Options, error) {
		o := replay.Options{Hop: *hop, Match: *match, Gap: *gap, Noise: *noise, SNR: *snr, Seed: *seed, Shuffle: *shuffle, MaxGap: *maxGap}
		return o, checkReplay(o, nil)
	}
}

// warnModel prints the model's load warnings (engine.Model.Warnings).
func warnModel(m *engine.Model, path string, stderr io.Writer) {
	for _, w := range m.Warnings() {
		fmt.Fprintf(stderr, "warning: %s: %s\n", path, w)
	}
}

// uniqueTraces returns the traces of paths with every file read once
// (replay.UniqueTraces) and the folders' file name pattern match ("":
// the task's default), noting on stderr the paths dropped.
func uniqueTraces(paths []string, match string, stderr io.Writer) []replay.Trace {
	traces, notes := replay.UniqueTraces(paths)
	for _, n := range notes {
		fmt.Fprintln(stderr, "note:", n)
	}
	return replay.WithMatch(traces, match)
}

// matchFlag defines --match, the file name pattern of --data folders.
func matchFlag(fs *flag.FlagSet) *string {
	return fs.String("match", "", "file name `pattern` in --data folders, as s*_sp.csv (default *.csv for IMU models, *.wav for audio); the files read are counted by kind")
}

// checkMatch checks --match (a usage error).
func checkMatch(pattern string) error {
	return checkReplay(replay.Options{Match: pattern}, nil)
}

// printRead prints what the data held (replay.Inventory) and a warning
// when it mixes kinds of file.
func printRead(w, stderr io.Writer, inv *replay.Inventory) {
	fmt.Fprintln(w, inv)
	if m := inv.Mixed(); m != "" {
		fmt.Fprintln(stderr, "warning:", m)
	}
}

// maxGapFlag defines --max-gap, checked by checkReplay (replay.Open
// checks it too).
func maxGapFlag(fs *flag.FlagSet) *float64 {
	return fs.Float64("max-gap", 0, "split an IMU trace at a gap between timestamps longer than this many `seconds` (0: one window; at most 60)")
}

// checkReplay checks replay options given by flags (replay.Options.Check,
// which replay.Open repeats): a usage error naming the flag at fault,
// called as the option is unless flags renames it (noise-snr for snr).
func checkReplay(o replay.Options, flags map[string]string) error {
	var oe *replay.OptionError
	if err := o.Check(); errors.As(err, &oe) {
		return usageError{"--" + cmp.Or(flags[oe.Field], oe.Field) + " " + oe.Problem}
	} else if err != nil {
		return usageError{err.Error()}
	}
	return nil
}

// specFlag defines --spec, the front-end spec of a model that carries
// none.
func specFlag(fs *flag.FlagSet) *string {
	return fs.String("spec", "", "front-end spec (a JSON file, or a model holding one) for a model without its own")
}

// qosFlag defines --qos: what the loss is measured against.
func qosFlag(fs *flag.FlagSet) *string {
	return fs.String("qos", "accuracy", "QoS reference: accuracy (the traces' labels) or agreement (the exact model's own predictions: top-1 agreement, no labels needed)")
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

// checkOutput checks the output path given with flag before long work
// (a usage error naming the flag): a writable place for a regular file,
// and none of the command's inputs (atomicfile.CheckOutput).
func checkOutput(flag, path string, inputs ...string) error {
	if err := atomicfile.CheckOutput(path, inputs...); err != nil {
		return usageError{flag + ": " + err.Error()}
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
	warnModel(m, path, stderr)
	what, fill := "zeros", func(engine.ValueInfo) *engine.Tensor { return nil }
	if random {
		rng := rand.New(rand.NewPCG(1, 0)) // measure.RandomInputs' seed
		what, fill = "seeded random values (zeros for integers)", func(vi engine.ValueInfo) *engine.Tensor { return measure.RandomTensor(vi, rng) }
	}
	inputs, notes, err := m.FeedFilled(named, what, fill)
	if err != nil {
		return nil, nil, usageError{"--input: " + err.Error()}
	}
	if len(named) > 0 || len(inputs) > 1 { // a single input is always the one fed
		for _, n := range notes {
			fmt.Fprintln(stderr, "note:", n)
		}
	}
	return m, inputs, nil
}
