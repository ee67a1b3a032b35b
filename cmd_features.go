package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/kagen-ai/kagen/internal/atomicfile"

	"github.com/kagen-ai/kagen/replay"
)

// cmdFeatures implements `kagen features`: run a front-end over traces and
// write X.npy, y.npy, g.npy and meta.json for the training scripts.
func cmdFeatures(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("features", stderr)
	specPath := fs.String("spec", "", "front-end spec: a JSON `file`, or a model holding one")
	norm := fs.Bool("norm", false, "write the features unnormalised (the spec's norm, if any, is not applied) and DIR/spec.json: the spec with their normalisation, per channel or feature row")
	var data pathList
	fs.Var(&data, "data", "trace `path`: IMU CSV file or directory, WAV file (+ NAME.labels.csv), or clip directory; repeatable")
	out := fs.String("o", "", "output `dir`ectory")
	onePerClip := fs.Bool("one-per-clip", false, "one centred window per audio clip (evaluation) instead of a stream")
	maxGap := maxGapFlag(fs)
	hop := fs.Int("hop", 0, "window hop in `samples` at the spec's rate (0: the spec's hop)")
	gap := fs.Float64("gap", 1, "`seconds` of silence or noise before each clip when a clip directory is streamed")
	var snr optFloat
	fs.Var(&snr, "noise-snr", "fill gaps and clips with white noise at this SNR in `dB` below each clip's level")
	seed := fs.Uint64("seed", 1, "seed for noise and shuffling")
	shuffle := fs.Bool("shuffle", false, "stream the clips of a directory in random (seeded) order")
	match := fs.String("match", "", "`pattern` for file names in directories (default *.csv for har, *.wav for kws)")
	strict := fs.Bool("strict", false, "fail on windows whose label is not a class instead of skipping them")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kagen features --spec SPEC|MODEL --data PATH [--data PATH...] -o DIR [--norm] [options]")
		fmt.Fprintln(stderr, "\nWrites the Go front-end's features for training: X.npy, y.npy, g.npy, meta.json.")
		fmt.Fprintln(stderr, "With --norm also spec.json, the spec with the features' normalisation (mean and population\nstandard deviation per channel or feature row, as tools/train computes it): the norm a model\ntrained on these windows needs.")
		fmt.Fprintln(stderr, "\noptions:")
		fs.PrintDefaults()
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	data = append(data, pos...) // trailing arguments are data paths too
	switch {
	case *specPath == "":
		return usageError{"--spec is required"}
	case len(data) == 0:
		return usageError{"at least one --data path is required"}
	case *out == "":
		return usageError{"-o DIR is required"}
	}
	if err := checkReplay(replay.Options{Hop: *hop, Gap: *gap, SNR: snr.v, MaxGap: *maxGap, Match: *match}, map[string]string{"snr": "noise-snr"}); err != nil {
		return err
	}
	if *norm {
		if err := os.MkdirAll(*out, 0o755); err != nil { // as WriteFeatures would
			return err
		}
		if err := checkOutput("-o", filepath.Join(*out, featuresSpecFile), append([]string{*specPath}, data...)...); err != nil {
			return err
		}
	}
	spec, err := replay.SpecFromFile(*specPath)
	if err != nil {
		return err
	}
	if *norm {
		raw := *spec
		raw.Norm = nil // the norm is computed from unnormalised features
		spec = &raw
	}
	var paths []string
	for _, t := range uniqueTraces(data, "", stderr) { // each file once in the training data
		paths = append(paths, t.Path)
	}
	opts := replay.Options{
		Hop: *hop, OnePerClip: *onePerClip, Gap: *gap, Noise: snr.set, SNR: snr.v,
		Seed: *seed, Shuffle: *shuffle, Match: *match, StrictLabels: *strict, MaxGap: *maxGap,
	}
	sum, err := replay.WriteFeatures(spec, paths, *out, opts)
	if err != nil {
		return err
	}
	printRead(stdout, stderr, sum.Read)
	fmt.Fprintf(stdout, "wrote %d windows, X %v, to %s (%s, %s, %s, %s)\n", sum.Windows, sum.Shape, *out,
		replay.FeaturesXFile, replay.FeaturesYFile, replay.FeaturesGFile, replay.FeaturesMetaFile)
	fmt.Fprintf(stdout, "per class: %s\n", counts(spec.Classes, sum.PerClass))
	fmt.Fprintf(stdout, "groups: %s\n", strings.Join(sum.Groups, " "))
	if *norm {
		withNorm := *spec
		withNorm.Norm = sum.Stats
		js, err := withNorm.Marshal()
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		if err := json.Indent(&buf, js, "", "  "); err != nil {
			return err
		}
		buf.WriteByte('\n')
		path := filepath.Join(*out, featuresSpecFile)
		if err := atomicfile.Write(path, buf.Bytes()); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s: the spec with the features' norm (mean %s; std %s)\n", path, floats(sum.Stats.Mean), floats(sum.Stats.Std))
	}
	if len(sum.Skipped) > 0 {
		keys := make([]string, 0, len(sum.Skipped))
		for k := range sum.Skipped {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i, k := range keys {
			if k == "" {
				k = `"" (unlabelled)`
			}
			keys[i] = fmt.Sprintf("%s=%d", k, sum.Skipped[keys[i]])
		}
		fmt.Fprintf(stderr, "skipped windows whose label is not a class: %s\n", strings.Join(keys, " "))
	}
	return nil
}

func counts(classes []string, m map[string]int) string {
	parts := make([]string, len(classes))
	for i, c := range classes {
		parts[i] = fmt.Sprintf("%s=%d", c, m[c])
	}
	return strings.Join(parts, " ")
}

// featuresSpecFile is the spec with the features' norm that features
// --norm writes beside X.npy.
const featuresSpecFile = "spec.json"

// floats formats a few numbers briefly.
func floats(v []float64) string {
	parts := make([]string, 0, min(len(v), 7))
	for i, x := range v {
		if i == 6 && len(v) > 7 {
			parts = append(parts, fmt.Sprintf("... (%d)", len(v)))
			break
		}
		parts = append(parts, fmt.Sprintf("%.4g", x))
	}
	return strings.Join(parts, " ")
}
