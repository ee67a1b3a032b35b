package report

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/kagen-ai/kagen/internal/tempdir"
)

// HeldOut lists the shipped models found in modelsDir with their held-out
// traces under dataRoot (the layout of ../shared/data): HAR's smartphone
// streams of subjects s17-s19 for the three activity models (har,
// har-mobilenet, har-lstm), and speaker theo's FSDD clips for the
// keyword models (every k-th of them, at most kwsClips, replayed; all of
// them for tuning). The traces are linked into temporary folders, which
// cleanup removes.
func HeldOut(dataRoot, modelsDir string, kwsClips int) (ms []Model, cleanup func(), err error) {
	var dirs []string
	cleanup = func() {
		for _, d := range dirs {
			os.RemoveAll(d)
		}
	}
	remove := cleanup // the error returns below set cleanup to nil
	defer func() {
		if err != nil {
			remove()
		}
	}()
	har := filepath.Join(dataRoot, "har-spsw", "DATA")
	fsdd := filepath.Join(dataRoot, "fsdd", "recordings")
	for _, d := range []string{har, fsdd} {
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			return nil, nil, fmt.Errorf("--data-root %s: expected the study's folders har-spsw/DATA and fsdd/recordings in it, and %s is not a folder", dataRoot, d)
		}
	}
	add := func(name, file string, data, replayed []string, held string) {
		p := filepath.Join(modelsDir, file)
		if _, err := os.Stat(p); err == nil {
			ms = append(ms, Model{Name: name, Path: p, Data: data, Replay: replayed, Held: held})
		}
	}
	theo, err := linkFiles("kagen-theo-", filepath.Join(fsdd, "*_theo_*.wav"))
	if err != nil {
		return nil, nil, err
	}
	dirs = append(dirs, theo)
	theoReplay, err := linkEvery("kagen-theo-replay-", filepath.Join(fsdd, "*_theo_*.wav"), kwsClips)
	if err != nil {
		return nil, nil, err
	}
	dirs = append(dirs, theoReplay)
	// The HAR model reads the smartphone streams; the folders also hold the
	// smartwatch's.
	phone, err := linkFiles("kagen-har-", filepath.Join(har, "s1[789]", "*_sp.csv"))
	if err != nil {
		return nil, nil, err
	}
	dirs = append(dirs, phone)
	add("har", "har.onnx", []string{phone}, nil, "subjects s17, s18, s19 (smartphone, 30 executions)")
	add("har-mobilenet", "har-mobilenet.onnx", []string{phone}, nil, "subjects s17, s18, s19 (smartphone, 30 executions)")
	add("har-lstm", "har-lstm.onnx", []string{phone}, nil, "subjects s17, s18, s19 (smartphone, 30 executions)")
	add("kws", "kws.onnx", []string{theo}, []string{theoReplay}, "speaker theo (500 clips)")
	add("kws-ds", "kws-ds.onnx", []string{theo}, []string{theoReplay}, "speaker theo (500 clips)")
	if len(ms) == 0 {
		return nil, nil, fmt.Errorf("no models in %s", modelsDir)
	}
	return ms, cleanup, nil
}

// linkEvery links every k-th file matching pattern (k chosen so that at
// most n are linked; n <= 0 links all) into a temporary folder.
func linkEvery(prefix, pattern string, n int) (string, error) {
	dir, err := tempdir.Make(prefix)
	if err != nil {
		return "", err
	}
	files, _ := filepath.Glob(pattern)
	step := 1
	if n > 0 && len(files) > n {
		step = (len(files) + n - 1) / n
	}
	for i := 0; i < len(files); i += step {
		abs, _ := filepath.Abs(files[i])
		if err := os.Symlink(abs, filepath.Join(dir, filepath.Base(files[i]))); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// linkFiles links the files matching pattern into a temporary folder, which
// then reads as one set of traces (a clip folder, or IMU executions).
func linkFiles(prefix, pattern string) (string, error) {
	dir, err := tempdir.Make(prefix)
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

// Shipped returns the demo models of modelsDir on the held-out traces the
// repository ships in demoDir (demo/data): the HAR model on three
// executions of subjects s17-s19 (har/, 53 windows), the keyword models
// on a 52 s stream of 40 of theo's clips (kws.wav with kws.labels.csv).
// It needs nothing outside the repository; HeldOut reads the whole
// held-out subjects and speaker from the study's data instead.
func Shipped(demoDir, modelsDir string) ([]Model, error) {
	har := filepath.Join(demoDir, "har")
	kws := filepath.Join(demoDir, "kws.wav")
	for _, p := range []string{har, kws} {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("--demo-data %s: the shipped held-out traces are not there (%s is missing); run kagen report from the repository's root, or give --demo-data or --data-root", demoDir, p)
		}
	}
	var ms []Model
	for _, m := range []Model{
		{Name: "har", Path: "har.onnx", Data: []string{har}, Held: "subjects s17, s18, s19 (smartphone, the demo's 3 executions, demo/data/har)"},
		{Name: "kws", Path: "kws.onnx", Data: []string{kws}, Replay: []string{kws}, Held: "speaker theo (the demo's 40 clips in a 52 s stream, demo/data/kws.wav)"},
		{Name: "kws-ds", Path: "kws-ds.onnx", Data: []string{kws}, Replay: []string{kws}, Held: "speaker theo (the demo's 40 clips in a 52 s stream, demo/data/kws.wav)"},
	} {
		m.Path = filepath.Join(modelsDir, m.Path)
		if _, err := os.Stat(m.Path); err == nil {
			ms = append(ms, m)
		}
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("no models in %s", modelsDir)
	}
	return ms, nil
}
