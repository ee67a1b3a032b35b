package replay

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/kagen-ai/kagen/internal/atomicfile"
)

// Names of the files WriteFeatures writes in its output directory.
const (
	FeaturesXFile    = "X.npy"
	FeaturesYFile    = "y.npy"
	FeaturesGFile    = "g.npy"
	FeaturesMetaFile = "meta.json"
)

// ExportSummary reports what WriteFeatures wrote.
type ExportSummary struct {
	// Windows is the number of windows written (rows of X.npy).
	Windows int `json:"windows"`
	// Shape is the shape of X.npy: [Windows, InputShape[1:]...].
	Shape []int `json:"x_shape"`
	// PerClass counts the windows written per class.
	PerClass map[string]int `json:"per_class"`
	// Skipped counts, per label, windows not written because their label is
	// not a class ("" for windows of unlabelled traces).
	Skipped map[string]int `json:"skipped"`
	// Groups lists the groups (subjects or speakers, see GroupOf) in the
	// order g.npy indexes them.
	Groups []string `json:"groups"`
	// Read is what the paths held: files by kind and the windows written
	// from each.
	Read *Inventory `json:"read,omitempty"`
	// Stats are the mean and standard deviation of the features written,
	// per channel (IMU) or feature row (audio), over every window: the
	// population deviation, at least 1e-6, as tools/train's norm_stats.
	// Written from features without a norm, they are the norm a model
	// trained on these windows needs (kagen features --norm).
	Stats *Norm `json:"feature_stats,omitempty"`
}

// windowMeta is one window's entry in meta.json.
type windowMeta struct {
	File  string  `json:"file"`
	Group string  `json:"group"`
	Start float64 `json:"start"`
	End   float64 `json:"end"`
	Label string  `json:"label"`
}

// exportMeta is the content of meta.json.
type exportMeta struct {
	Format  string          `json:"format"`
	Spec    json.RawMessage `json:"spec"`
	Data    []string        `json:"data"`
	Options exportOptions   `json:"options"`
	X       string          `json:"x"`
	Y       string          `json:"y"`
	G       string          `json:"g"`
	Classes []string        `json:"classes"`
	ExportSummary
	WindowList []windowMeta `json:"window_list"`
}

type exportOptions struct {
	Hop        int     `json:"hop"`
	OnePerClip bool    `json:"one_per_clip"`
	Gap        float64 `json:"gap_s"`
	Noise      bool    `json:"noise"`
	SNR        float64 `json:"snr_db"`
	Seed       uint64  `json:"seed"`
	Shuffle    bool    `json:"shuffle"`
	Match      string  `json:"match"`
	Strict     bool    `json:"strict_labels"`
}

// WriteFeatures runs spec's front-end over the traces at paths (each opened
// as by Open) and writes, in outDir (created if needed):
//
//   - X.npy: float32 features, shape [N, InputShape[1:]...], C order;
//   - y.npy: int64 class index of each window into spec.Classes, shape [N];
//   - g.npy: int64 group index of each window into meta.json's "groups",
//     shape [N], for splitting by subject or speaker (see GroupOf);
//   - meta.json: the spec, the data paths, the options, the counts and, per
//     window ("window_list"), its file, group, start and end (seconds) and
//     label.
//
// Windows whose label is not one of spec.Classes (including the unlabelled
// windows of traces without labels) are skipped and counted per label in
// the summary and meta.json, unless opts.StrictLabels is set, in which case
// they are an error naming the file and time. Each file is written to a
// temporary file, synced and renamed into place; meta.json is written last.
func WriteFeatures(spec *Spec, paths []string, outDir string, opts Options) (*ExportSummary, error) {
	specJSON, err := spec.Marshal()
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, errors.New("write features: no data paths")
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("write features: %w", err)
	}
	// Before reading any trace: every file written is a writable path and
	// none of the traces.
	for _, name := range []string{FeaturesXFile, FeaturesYFile, FeaturesGFile, FeaturesMetaFile} {
		if err := atomicfile.CheckOutput(filepath.Join(outDir, name), paths...); err != nil {
			return nil, fmt.Errorf("write features: %w", err)
		}
	}
	shape := spec.InputShape()
	x, err := createNPY(filepath.Join(outDir, FeaturesXFile), "<f4", shape[1:])
	if err != nil {
		return nil, err
	}
	y, err := createNPY(filepath.Join(outDir, FeaturesYFile), "<i8", nil)
	if err != nil {
		x.abort()
		return nil, err
	}
	g, err := createNPY(filepath.Join(outDir, FeaturesGFile), "<i8", nil)
	if err != nil {
		x.abort()
		y.abort()
		return nil, err
	}
	sum, list, err := exportWindows(spec, paths, opts, x, y, g)
	if err == nil && sum.Windows == 0 {
		if len(sum.Skipped) == 0 {
			err = fmt.Errorf("write features: no windows: every trace is shorter than one window (%d samples at %d Hz)", spec.Window, spec.SampleRate)
		} else {
			err = fmt.Errorf("write features: no window has a label among the spec's classes (skipped, by label: %v)", sum.Skipped)
		}
	}
	if err != nil {
		x.abort()
		y.abort()
		g.abort()
		return nil, err
	}
	// A stale meta.json must not describe the new arrays if a commit fails.
	if err := os.Remove(filepath.Join(outDir, FeaturesMetaFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		x.abort()
		y.abort()
		g.abort()
		return nil, fmt.Errorf("write features: %w", err)
	}
	for i, w := range []*npyWriter{x, y, g} {
		if err := w.commit(); err != nil {
			for _, rest := range []*npyWriter{x, y, g}[i+1:] {
				rest.abort()
			}
			return nil, err
		}
	}
	meta := exportMeta{
		Format: "kagen.features/1", Spec: specJSON, Data: paths,
		Options: exportOptions{Hop: opts.Hop, OnePerClip: opts.OnePerClip, Gap: opts.Gap, Noise: opts.Noise, SNR: opts.SNR,
			Seed: opts.Seed, Shuffle: opts.Shuffle, Match: opts.Match, Strict: opts.StrictLabels},
		X: FeaturesXFile, Y: FeaturesYFile, G: FeaturesGFile, Classes: spec.Classes,
		ExportSummary: *sum, WindowList: list,
	}
	data, err := json.MarshalIndent(&meta, "", " ")
	if err != nil {
		return nil, fmt.Errorf("write features: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(outDir, FeaturesMetaFile), append(data, '\n')); err != nil {
		return nil, err
	}
	return sum, nil
}

func exportWindows(spec *Spec, paths []string, opts Options, x, y, g *npyWriter) (*ExportSummary, []windowMeta, error) {
	shape := spec.InputShape()
	sum := &ExportSummary{Shape: shape, PerClass: map[string]int{}, Skipped: map[string]int{}, Groups: []string{}}
	groupIdx := map[string]int{}
	var list []windowMeta
	dst := make([]float32, spec.InputSize())
	stats := newRowStats(spec)
	for _, p := range paths {
		src, err := Open(p, spec, opts)
		if err != nil {
			return nil, nil, err
		}
		for {
			w, err := src.Next(dst)
			if err == io.EOF {
				break
			}
			if err != nil {
				src.Close()
				return nil, nil, err
			}
			ci := spec.ClassIndex(w.Label)
			if ci < 0 {
				if opts.StrictLabels {
					src.Close()
					return nil, nil, fmt.Errorf("%s: window at %.3f-%.3f s has label %q, expected one of the spec's classes %v",
						w.File, w.Start, w.End, w.Label, spec.Classes)
				}
				sum.Skipped[w.Label]++
				continue
			}
			grp := GroupOf(spec.Task, w.File)
			gi, ok := groupIdx[grp]
			if !ok {
				gi = len(sum.Groups)
				groupIdx[grp] = gi
				sum.Groups = append(sum.Groups, grp)
			}
			if err := x.float32s(dst); err != nil {
				src.Close()
				return nil, nil, err
			}
			if err := y.int64s(int64(ci)); err != nil {
				src.Close()
				return nil, nil, err
			}
			if err := g.int64s(int64(gi)); err != nil {
				src.Close()
				return nil, nil, err
			}
			stats.add(dst)
			sum.PerClass[w.Label]++
			sum.Windows++
			list = append(list, windowMeta{File: w.File, Group: grp, Start: w.Start, End: w.End, Label: w.Label})
		}
		if err := src.Close(); err != nil {
			return nil, nil, fmt.Errorf("close %s: %w", p, err)
		}
	}
	sum.Shape = append([]int{sum.Windows}, shape[1:]...)
	sum.Stats = stats.norm()
	sum.Read = Survey(spec, DiskTraces(paths), opts)
	for _, w := range list {
		sum.Read.Count(w.File)
	}
	return sum, list, nil
}

// rowStats accumulates the mean and variance of each channel (IMU,
// [1, C, T]: x[c*T+t]) or feature row (audio, [1, 1, frames, F]:
// x[t*F+j]) of feature windows, shifted by the first window's values for
// precision.
type rowStats struct {
	rows, inner int
	imu         bool
	shift       []float64
	sum, sumSq  []float64
	n           float64
}

func newRowStats(spec *Spec) *rowStats {
	rows := spec.FeatureRows()
	return &rowStats{rows: rows, inner: spec.InputSize() / rows, imu: spec.Task == TaskHAR,
		sum: make([]float64, rows), sumSq: make([]float64, rows)}
}

func (s *rowStats) add(x []float32) {
	at := func(r, k int) float64 {
		if s.imu {
			return float64(x[r*s.inner+k])
		}
		return float64(x[k*s.rows+r])
	}
	if s.shift == nil {
		s.shift = make([]float64, s.rows)
		for r := range s.shift {
			s.shift[r] = at(r, 0)
		}
	}
	for r := 0; r < s.rows; r++ {
		for k := 0; k < s.inner; k++ {
			d := at(r, k) - s.shift[r]
			s.sum[r] += d
			s.sumSq[r] += d * d
		}
	}
	s.n += float64(s.inner)
}

// norm returns the mean and population standard deviation (at least
// 1e-6) of each row; nil before any window.
func (s *rowStats) norm() *Norm {
	if s.n == 0 {
		return nil
	}
	nm := &Norm{Mean: make([]float64, s.rows), Std: make([]float64, s.rows)}
	for r := range nm.Mean {
		m := s.sum[r] / s.n
		nm.Mean[r] = s.shift[r] + m
		nm.Std[r] = math.Max(math.Sqrt(math.Max(s.sumSq[r]/s.n-m*m, 0)), 1e-6)
	}
	return nm
}
