package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/internal/atomicfile"
	"github.com/kagen-ai/kagen/internal/readfile"
	"github.com/kagen-ai/kagen/replay"
)

// maxModelFileBytes bounds the model file spec --attach reads whole.
const maxModelFileBytes = 1 << 30

// cmdSpec writes, checks or attaches a model's front-end spec.
func cmdSpec(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("spec", stderr)
	out := fs.String("o", "", "output `file` (default: the spec on stdout; with --attach, required: the model with the spec)")
	task := fs.String("task", "", "write a new spec for this task, har or kws, from its defaults and the flags below")
	rate := fs.Int("rate", 0, "new spec: sample rate in Hz traces are resampled to")
	window := fs.Int("window", 0, "new spec: window length in samples")
	hop := fs.Int("hop", 0, "new spec: hop between windows in samples")
	classes := fs.String("classes", "", "new spec: the output classes by index, comma-separated (the data's label strings)")
	channels := fs.String("channels", "", "new spec (har): the input channels, comma-separated (imu-orient names, or CSV columns with --features imu-raw)")
	features := fs.String("features", "", "new spec: the feature type (imu-orient, imu-raw; logmel, mfcc)")
	check := fs.String("check", "", "check this `spec` (a JSON file, or a model holding one) against MODEL")
	strip := fs.Bool("strip", false, "write MODEL without its spec to -o (a model as a plain export leaves it)")
	attach := fs.String("attach", "", "store this `spec` (a JSON file, as kagen features --norm writes) in MODEL's metadata, written to -o")
	fs.Usage = func() {
		fmt.Fprintln(stderr, `usage: kagen spec MODEL [-o spec.json]                 the model's own spec
       kagen spec --task har|kws [--rate HZ] [--window N] [--hop N] [--classes A,B,...]
                  [--channels C,...] [--features TYPE] [-o spec.json]    a new spec (no norm)
       kagen spec --check SPEC MODEL                      does SPEC fit MODEL (input shape, classes, norm)?
       kagen spec --attach SPEC MODEL -o OUT.onnx         MODEL with SPEC in its metadata
       kagen spec --strip MODEL -o OUT.onnx               MODEL without a spec

A front-end spec says how a trace becomes the model's input (go doc ./replay).
Its optional norm must be the normalisation the model was trained with:
kagen features --spec SPEC --norm computes it from the training data
(features are written unnormalised, then the spec with their norm).`)
		fs.PrintDefaults()
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	modes := 0
	for _, set := range []bool{*task != "", *check != "", *attach != "", *strip} {
		if set {
			modes++
		}
	}
	newFlagsGiven := *rate != 0 || *window != 0 || *hop != 0 || *classes != "" || *channels != "" || *features != ""
	switch {
	case modes > 1:
		fs.Usage()
		return usageError{"give one of --task, --check, --attach and --strip"}
	case newFlagsGiven && *task == "":
		return usageError{"--rate, --window, --hop, --classes, --channels and --features describe a new spec: give --task har or kws"}
	case *task != "" && len(pos) != 0:
		return usageError{"--task writes a new spec: expected no model"}
	case *task == "" && len(pos) != 1:
		fs.Usage()
		return usageError{"expected one model"}
	case (*attach != "" || *strip) && *out == "":
		return usageError{"--attach and --strip need -o OUT.onnx (the model is not rewritten in place)"}
	}
	if *out != "" {
		inputs := append([]string{}, pos...)
		for _, p := range []string{*check, *attach} {
			if p != "" {
				inputs = append(inputs, p)
			}
		}
		if err := checkOutput("-o", *out, inputs...); err != nil {
			return err
		}
	}
	var spec *replay.Spec
	switch {
	case *task != "":
		if spec, err = newSpec(*task, *rate, *window, *hop, *classes, *channels, *features); err != nil {
			return err
		}
	case *check != "":
		return checkSpec(*check, pos[0], stdout)
	case *attach != "" || *strip:
		return attachSpec(*attach, pos[0], *out, stdout)
	default:
		m, err := engine.LoadFile(pos[0], engine.Options{})
		if err != nil {
			return err
		}
		if spec, err = replay.SpecFromModel(m); err != nil {
			return fmt.Errorf("%s: %w (kagen spec --task writes a new one, --attach stores one)", pos[0], err)
		}
	}
	js, err := spec.Marshal()
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, js, "", "  "); err != nil {
		return err
	}
	text := buf.String() + "\n"
	if *out == "" {
		_, err = io.WriteString(stdout, text)
		return err
	}
	if err := atomicfile.Write(*out, []byte(text)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%s)\n", *out, spec.Summary())
	return nil
}

// newSpec is the spec --task and the other flags describe.
func newSpec(task string, rate, window, hop int, classes, channels, features string) (*replay.Spec, error) {
	if task != replay.TaskHAR && task != replay.TaskKWS {
		return nil, usageError{fmt.Sprintf("--task %q, expected har or kws", task)}
	}
	list := func(v string) []string {
		if v == "" {
			return nil
		}
		return strings.Split(v, ",")
	}
	s, err := replay.NewSpec(replay.SpecOptions{Task: task, Rate: rate, Window: window, Hop: hop,
		Classes: list(classes), Channels: list(channels), Features: features})
	if err != nil {
		return nil, usageError{"the spec the flags describe: " + err.Error()}
	}
	return s, nil
}

// checkSpec checks the spec at specPath against the model at modelPath
// and says what it found.
func checkSpec(specPath, modelPath string, stdout io.Writer) error {
	m, err := engine.LoadFile(modelPath, engine.Options{})
	if err != nil {
		return err
	}
	spec, err := replay.SpecFor(m, specPath)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s fits %s: %s (%s)\n", specPath, modelPath, spec.Summary(), strings.Join(spec.Classes, " "))
	if spec.Norm == nil {
		fmt.Fprintln(stdout, "note: no norm: the features reach the model unnormalised; a model trained on normalised features needs the training data's norm (kagen features --spec SPEC --data TRAIN --norm -o DIR writes DIR/spec.json with it)")
	}
	return nil
}

// attachSpec writes the model at modelPath with the spec at specPath in
// its metadata to out ("": without a spec), checked by
// replay.AttachToModel.
func attachSpec(specPath, modelPath, out string, stdout io.Writer) error {
	var spec *replay.Spec
	var err error
	if specPath != "" {
		if spec, err = replay.SpecFromFile(specPath); err != nil {
			return err
		}
	}
	data, err := readfile.Regular(modelPath, maxModelFileBytes)
	if err != nil {
		return err
	}
	m, err := engine.LoadBytes(data, engine.Options{Name: modelPath})
	if err != nil {
		return err
	}
	withSpec, err := replay.AttachToModel(data, m, spec, out)
	if err != nil {
		what := "--strip"
		if specPath != "" {
			what = "--attach " + specPath
		}
		return fmt.Errorf("%s, %s: %w", what, modelPath, err)
	}
	if err := atomicfile.Write(out, withSpec); err != nil {
		return err
	}
	if spec == nil {
		fmt.Fprintf(stdout, "wrote %s: %s without its spec\n", out, modelPath)
		return nil
	}
	fmt.Fprintf(stdout, "wrote %s: %s with the spec of %s (%s)\n", out, modelPath, specPath, spec.Summary())
	return nil
}
