package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// mixedFolder returns a folder holding the demo's three phone recordings
// (s*_*_sp.csv) and the same three named as watch recordings
// (s*_*_sw.csv), as a folder of the study's data mixes them.
func mixedFolder(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src, err := filepath.Glob("demo/data/har/*_sp.csv")
	if err != nil || len(src) != 3 {
		t.Fatalf("demo recordings: %v %v", src, err)
	}
	for _, f := range src {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		base := filepath.Base(f)
		for _, name := range []string{base, strings.Replace(base, "_sp", "_sw", 1)} {
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

// TestReadCounts: eval, features and tune say how many files of which
// kind they read and how many windows each gave, warn when a folder
// mixes kinds, and --match picks one kind.
func TestReadCounts(t *testing.T) {
	dir := mixedFolder(t)
	code, out, errs := runCmd("eval", "models/har.onnx", "--data", dir)
	if code != 0 {
		t.Fatalf("eval: exit %d: %s", code, errs)
	}
	if want := "read 6 files from 1 folder: 106 windows from 3 files IMU CSV s*_*_sp.csv (53 windows), 3 files IMU CSV s*_*_sw.csv (53 windows)\n"; !strings.HasPrefix(out, want) {
		t.Errorf("eval of a mixed folder printed\n%s\nwant it to start with\n%s", out, want)
	}
	if !strings.Contains(out, "warning: the data mixes kinds of file (3 IMU CSV s*_*_sp.csv, 3 IMU CSV s*_*_sw.csv)") || !strings.Contains(out, "--match") {
		t.Errorf("eval of a mixed folder gave no warning naming the kinds and --match:\n%s", out)
	}

	code, out, errs = runCmd("eval", "models/har.onnx", "--data", dir, "--match", "*_sp.csv")
	if code != 0 {
		t.Fatalf("eval --match: exit %d: %s", code, errs)
	}
	if want := "read 3 files (IMU CSV s*_*_sp.csv) from 1 folder: 53 windows\n"; !strings.HasPrefix(out, want) || strings.Contains(out, "warning") {
		t.Errorf("eval --match printed\n%s\nwant it to start with\n%s and no warning", out, want)
	}

	code, out, errs = runCmd("eval", "models/har.onnx", "--data", dir, "--match", "*_sw.csv", "--json")
	if code != 0 {
		t.Fatalf("eval --json: exit %d: %s", code, errs)
	}
	var r struct {
		N    int `json:"n"`
		Read struct {
			Files, Folders, Windows int
			Kinds                   []struct{ Pattern string }
		} `json:"read"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if r.N != 53 || r.Read.Files != 3 || r.Read.Folders != 1 || r.Read.Windows != 53 || len(r.Read.Kinds) != 1 || r.Read.Kinds[0].Pattern != "s*_*_sw.csv" {
		t.Errorf("eval --json read %+v (n %d), want 3 files of s*_*_sw.csv from 1 folder, 53 windows", r.Read, r.N)
	}

	spec := filepath.Join(t.TempDir(), "spec.json")
	if code, _, errs := runCmd("spec", "models/har.onnx", "-o", spec); code != 0 {
		t.Fatalf("spec: exit %d: %s", code, errs)
	}
	code, out, errs = runCmd("features", "--spec", spec, "--data", dir, "--match", "s18*", "-o", t.TempDir())
	if code != 0 {
		t.Fatalf("features: exit %d: %s", code, errs)
	}
	if !strings.HasPrefix(out, "read 2 files from 1 folder: ") || strings.Contains(errs, "mixes") {
		t.Errorf("features --match s18* printed\n%s%s\nwant 2 files (one of each kind, too few to call a mix)", out, errs)
	}

	code, out, errs = runCmd("tune", "models/har.onnx", "--data", dir, "--match", "*_sp.csv", "--max-loss", "1", "--budget", "100ms",
		"--candidates", "2", "--rounds", "1", "--screen", "-1", "--windows", "20", "--workers", "0", "-o", filepath.Join(t.TempDir(), "p.json"))
	if code != 0 {
		t.Fatalf("tune: exit %d: %s", code, errs)
	}
	for _, want := range []string{"read 3 files (IMU CSV s*_*_sp.csv) from 1 folder: 53 windows\n", "split by file: 34 windows to tune on, 19 to check the losses on\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("tune printed\n%s\nwant %q", out, want)
		}
	}
	if !strings.Contains(errs, "warning: one calibration window weighs 5.26 pp, more than --max-loss 1") {
		t.Errorf("tune on 19 calibration windows at 1 pp gave no warning:\n%s", errs)
	}

	for _, cmd := range [][]string{
		{"eval", "models/har.onnx", "--data", dir, "--match", "[x"},
		{"tune", "models/har.onnx", "--data", dir, "--match", "[x"},
		{"profile", "models/har.onnx", "--data", dir, "--match", "[x"},
	} {
		if code, _, errs := runCmd(cmd...); code != 2 || !strings.Contains(errs, "--match") {
			t.Errorf("%s --match [x: exit %d, %s; want a usage error naming --match", cmd[0], code, errs)
		}
	}
}
