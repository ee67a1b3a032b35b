package main

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/replay"
)

// TestMain lets the test binary stand in for kagen in the scripts the
// tests run (examples/own-model.sh): with KAGEN_AS_MAIN=1 it is the
// command line (TestRunSIGTERM's KAGEN_TEST_MAIN is another way in).
func TestMain(m *testing.M) {
	if os.Getenv("KAGEN_AS_MAIN") == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestSpec: kagen spec writes a model's spec and a new one, checks one
// against a model, strips and attaches one, and refuses what does not fit.
func TestSpec(t *testing.T) {
	dir := t.TempDir()
	own := filepath.Join(dir, "own.json")
	if code, _, errs := runCmd("spec", "models/har.onnx", "-o", own); code != 0 {
		t.Fatalf("spec MODEL: exit %d: %s", code, errs)
	}
	shipped, err := replay.SpecFromFile(own)
	if err != nil || shipped.Norm == nil {
		t.Fatalf("the shipped model's spec: %v (norm %v)", err, shipped)
	}
	fresh := filepath.Join(dir, "new.json")
	code, out, errs := runCmd("spec", "--task", "har", "--window", "64", "--hop", "32", "-o", fresh)
	if code != 0 || !strings.Contains(out, "input [1 6 64], 5 classes, no norm") {
		t.Fatalf("spec --task: exit %d: %s%s", code, out, errs)
	}
	code, out, errs = runCmd("spec", "--check", fresh, "models/har.onnx")
	if code != 0 || !strings.Contains(out, "fits models/har.onnx") || !strings.Contains(out, "note: no norm") {
		t.Fatalf("spec --check: exit %d: %s%s", code, out, errs)
	}
	bare := filepath.Join(dir, "bare.onnx")
	if code, _, errs := runCmd("spec", "--strip", "models/har.onnx", "-o", bare); code != 0 {
		t.Fatalf("spec --strip: exit %d: %s", code, errs)
	}
	if code, _, errs := runCmd("eval", bare, "--data", "demo/data/har"); code != 1 || !strings.Contains(errs, "no front-end spec") {
		t.Fatalf("eval of a stripped model: exit %d: %s", code, errs)
	}
	back := filepath.Join(dir, "back.onnx")
	if code, _, errs := runCmd("spec", "--attach", own, bare, "-o", back); code != 0 {
		t.Fatalf("spec --attach: exit %d: %s", code, errs)
	}
	// the model with its own spec attached again is the model
	a, _ := os.ReadFile("models/har.onnx")
	b, _ := os.ReadFile(back)
	m, err := engine.LoadBytes(b, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s, err := replay.SpecFromModel(m); err != nil || s.Norm == nil || s.Norm.Mean[2] != shipped.Norm.Mean[2] {
		t.Fatalf("spec read back: %v %+v", err, s)
	}
	if math.Abs(float64(len(a)-len(b))) > 64 {
		t.Errorf("stripped and attached again: %d bytes, the model %d", len(b), len(a))
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"spec"}, "expected one model"},
		{[]string{"spec", "--task", "har", "--check", fresh, "models/har.onnx"}, "give one of"},
		{[]string{"spec", "--window", "64", "models/har.onnx"}, "give --task"},
		{[]string{"spec", "--task", "robot"}, `--task "robot"`},
		{[]string{"spec", "--attach", own, "models/har.onnx"}, "need -o"},
		{[]string{"spec", "--strip", "models/har.onnx", "-o", "models/har.onnx"}, "-o"},
	} {
		if code, _, errs := runCmd(c.args...); code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, %q; want a usage error with %q", c.args, code, errs, c.want)
		}
	}
	// a spec that does not fit: 128-sample windows for a 64-sample model
	long := filepath.Join(dir, "long.json")
	if code, _, errs := runCmd("spec", "--task", "har", "-o", long); code != 0 {
		t.Fatal(errs)
	}
	for _, args := range [][]string{{"spec", "--check", long, "models/har.onnx"}, {"spec", "--attach", long, "models/har.onnx", "-o", filepath.Join(dir, "x.onnx")}} {
		if code, _, errs := runCmd(args...); code != 1 || !strings.Contains(errs, "128") {
			t.Errorf("%v: exit %d, %q; want an error naming the window", args, code, errs)
		}
	}
}

// TestOwnModelExample runs examples/own-model.sh on the shipped HAR model
// stripped of its spec, as a plain export leaves a model: the script
// computes the norm with kagen features --norm, attaches the spec and
// evaluates. With the study's data beside the repository
// (KAGEN_SHARED_DATA, default ../shared/data) it computes the norm from
// the subjects the model was trained on and checks it is the norm
// tools/train/har.py stored in the model.
func TestOwnModelExample(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	dir := t.TempDir()
	bare := filepath.Join(dir, "exported.onnx")
	if code, _, errs := runCmd("spec", "--strip", "models/har.onnx", "-o", bare); code != 0 {
		t.Fatal(errs)
	}
	train, heldout := []string{"demo/data/har"}, "demo/data/har"
	trainHop := ""
	shared := os.Getenv("KAGEN_SHARED_DATA")
	if shared == "" {
		shared = "../shared/data"
	}
	study := filepath.Join(shared, "har-spsw", "DATA")
	if _, err := os.Stat(filepath.Join(study, "s01")); err == nil {
		// har.py's final model: s01-s16 less s11 and s13 (early
		// stopping), training windows every 8 samples
		train = nil
		for _, s := range []string{"s01", "s02", "s03", "s04", "s05", "s06", "s07", "s08", "s09", "s10", "s12", "s14", "s15", "s16"} {
			train = append(train, filepath.Join(study, s))
		}
		trainHop = "8"
	} else {
		t.Logf("no %s: the norm is computed from the demo's traces, not checked against training's", study)
	}
	// the script takes one training path: a folder of links
	trainDir := filepath.Join(dir, "train")
	if err := os.Mkdir(trainDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range train {
		files, _ := filepath.Glob(filepath.Join(d, "*_sp.csv"))
		for _, f := range files {
			abs, _ := filepath.Abs(f)
			if err := os.Symlink(abs, filepath.Join(trainDir, filepath.Base(f))); err != nil {
				t.Fatal(err)
			}
		}
	}
	work := filepath.Join(dir, "work")
	cmd := exec.Command("sh", "examples/own-model.sh", bare, trainDir, heldout)
	cmd.Env = append(os.Environ(), "KAGEN_AS_MAIN=1", "KAGEN="+os.Args[0], "WORK="+work, "MATCH=*_sp.csv", "TRAIN_HOP="+trainHop)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("examples/own-model.sh: %v\n%s", err, out)
	}
	for _, want := range []string{"wrote " + filepath.Join(work, "features", "spec.json"), "norm of 6 channels", "read 3 files (IMU CSV s*_*_sp.csv) from 1 folder: 53 windows", "accuracy"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("examples/own-model.sh printed no %q:\n%s", want, out)
		}
	}
	got, err := replay.SpecFromFile(filepath.Join(work, "model.onnx"))
	if err != nil || got.Norm == nil {
		t.Fatalf("the model the example wrote: %v", err)
	}
	if trainHop == "" {
		return
	}
	want, _ := replay.SpecFromFile("models/har.onnx")
	for i := range want.Norm.Mean {
		if math.Abs(got.Norm.Mean[i]-want.Norm.Mean[i]) > 1e-9*(1+math.Abs(want.Norm.Mean[i])) || math.Abs(got.Norm.Std[i]/want.Norm.Std[i]-1) > 1e-9 {
			t.Errorf("channel %d: norm %v/%v, training's %v/%v", i, got.Norm.Mean[i], got.Norm.Std[i], want.Norm.Mean[i], want.Norm.Std[i])
		}
	}
	var r struct{ Accuracy float64 }
	code, js, _ := runCmd("eval", filepath.Join(work, "model.onnx"), "--data", heldout, "--json")
	code2, js2, _ := runCmd("eval", "models/har.onnx", "--data", heldout, "--json")
	var r2 struct{ Accuracy float64 }
	if code != 0 || code2 != 0 || json.Unmarshal([]byte(js), &r) != nil || json.Unmarshal([]byte(js2), &r2) != nil || r.Accuracy != r2.Accuracy {
		t.Errorf("the example's model: accuracy %v, the shipped model's %v", r.Accuracy, r2.Accuracy)
	}
}
