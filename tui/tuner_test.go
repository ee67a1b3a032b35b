package tui

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/kagen-ai/kagen/dataset"
	"github.com/kagen-ai/kagen/replay"
	"github.com/kagen-ai/kagen/tuning"
)

// TestTunerWindowsMatchKagenTune checks that the workbench's tuner (which
// runs Bench.Pipeline) and `kagen tune` (tuning.Load) tune and validate on
// the same windows: the demo's activity traces, the keyword demo's stream,
// and a folder of keyword clips, of which each gives one window (the
// workbench's own copy of the loading once streamed them, two windows a
// clip here).
func TestTunerWindowsMatchKagenTune(t *testing.T) {
	har, err := DemoSource("har")
	if err != nil {
		t.Fatal(err)
	}
	sources := []Source{har}
	clips := 0
	if kws, err := DemoSource("kws"); err == nil {
		dir := t.TempDir()
		clips = writeClips(t, dir, kws)
		sources = append(sources, kws, Source{Name: "kws clips", ModelBytes: kws.ModelBytes, Traces: replay.DiskTraces([]string{dir})})
	} else {
		t.Log("no keyword demo in this build: activity traces only")
	}
	for _, src := range sources {
		t.Run(src.Name, func(t *testing.T) {
			b := loadBench(src, "")
			if b.LoadErr != nil {
				t.Fatal(b.LoadErr)
			}
			wb, err := b.Pipeline()
			if err != nil {
				t.Fatal(err)
			}
			cli, err := tuning.Load(b.Model, src.Traces)
			if err != nil {
				t.Fatal(err)
			}
			for _, half := range []struct {
				name string
				a, b *dataset.Dataset
			}{{"all", wb.Data, cli.Data}, {"tune", wb.Tune, cli.Tune}, {"calibration", wb.Calib, cli.Calib}} {
				if !sameWindows(half.a, half.b) {
					t.Errorf("%s: the workbench has %d windows of %v, kagen tune %d of %v", half.name, half.a.Len(), fileSet(half.a), half.b.Len(), fileSet(half.b))
				}
			}
			if src.Name == "kws clips" && wb.Data.Len() != clips {
				t.Errorf("%d windows of %d clips, want one a clip", wb.Data.Len(), clips)
			}
			t.Logf("%d windows (%d to tune, %d to validate) from %d files", wb.Data.Len(), wb.Tune.Len(), wb.Calib.Len(), len(fileSet(wb.Data)))
		})
	}
}

// writeClips writes keyword clips of 1.5 s (longer than a window) named
// LABEL_speaker_N.wav, two of each of four classes, and returns their
// number.
func writeClips(t *testing.T, dir string, kws Source) int {
	t.Helper()
	b := loadBench(kws, "")
	if b.LoadErr != nil {
		t.Fatal(b.LoadErr)
	}
	rate := b.Spec.SampleRate
	n := 0
	for c, label := range b.Spec.Classes[1:5] {
		for k := 0; k < 2; k++ {
			x := make([]float32, rate*3/2)
			for i := range x {
				x[i] = float32(0.3 * math.Sin(2*math.Pi*float64(300+100*c+50*k)*float64(i)/float64(rate)))
			}
			f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%s_speaker_%d.wav", label, k)))
			if err != nil {
				t.Fatal(err)
			}
			if err := replay.WriteWAV(f, rate, x); err != nil {
				t.Fatal(err)
			}
			f.Close()
			n++
		}
	}
	return n
}

// sameWindows reports whether two datasets hold the same windows in the
// same order: labels, files and features.
func sameWindows(a, b *dataset.Dataset) bool {
	if a.Len() != b.Len() || !slices.Equal(a.Y, b.Y) || !slices.Equal(a.Files, b.Files) {
		return false
	}
	for i := range a.X {
		if !slices.Equal(a.X[i], b.X[i]) {
			return false
		}
	}
	return true
}

func fileSet(d *dataset.Dataset) []string {
	s := slices.Clone(d.Files)
	slices.Sort(s)
	return slices.Compact(s)
}
