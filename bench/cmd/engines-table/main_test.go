package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeFixture writes the files tools/engines-table.sh measures, with
// known figures.
func writeFixture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"conf-kagen.txt":  "PASS test_abs\nconformance: 987 passed, 0 failed, 85 unsupported\n  unsupported 28: sequence type\n",
		"conf-onnxgo.txt": "onnx-go conformance: 149 passed, 131 failed, 792 unsupported (1072 tests, ...)\n  unsupported 63: not implemented: Shape\n",
		"conf-gomlx.txt":  "gomlx conformance: 268 passed, 221 failed, 583 unsupported (1072 tests)\n",
		"conf-ort.txt":    "ort conformance: 923 passed, 13 failed, 136 unsupported (1072 tests)\n",
		"shipped.jsonl": `{"model":"har.onnx","kagen_median_us":75,"ort_median_us":74,"gomlx_median_us":315516,"errors":{"onnxgo":"load: conv: kernel shape is supposed to have a dim of 2"},"agree":{"kagen":true,"gomlx":true},"min_us":{"kagen":70}}
{"model":"kws.onnx","kagen_median_us":3600,"ort_median_us":8400,"gomlx_median_us":null,"onnxgo_median_us":1208322,"errors":{"gomlx":"run: boom"},"agree":{"kagen":true,"onnxgo":false}}
`,
		"zoo.jsonl": `{"model":"a.onnx","status":"pass","loads":true,"peers":[{"engine":"gomlx","status":"pass","loads":true},{"engine":"onnxgo","status":"load","loads":false}]}
{"model":"b.onnx","status":"pass","loads":true,"peers":[{"engine":"gomlx","status":"mismatch","loads":true},{"engine":"onnxgo","status":"mismatch","loads":true}]}
{"model":"c.onnx","status":"timeout","loads":false}
{"summary":"zoo","models":3,"load_start":"1.5","load_end":"2.5","date":"2026-12-07 18:00 UTC"}
`,
		"load.txt": "17:33 kagen conformance start: load 1.0 1.0 1.0\n17:40 zoo start: load 2.0 1.0 1.0\n17:50 end: load 3.0 2.0 1.0\n17:55 again: load 1.5 1.0 1.0\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestRender(t *testing.T) {
	dir := writeFixture(t)
	s, err := render(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| kagen (this repository's engine) | 987 / 0 / 85 | 2 / 2 | 75 µs (min 70 µs) | 3.6 ms |",
		"| onnx-go (github.com/owulveryck/onnx-go v0.5.0, Gorgonia backend) | 149 / 131 / 792 | 1 / 0 | does not load: conv: kernel shape is supposed to have a dim of 2 | 1.21 s (**wrong output**) |",
		"| GoMLX (v0.26.0 simplego + onnx-gomlx v0.3.4) | 268 / 221 / 583 | 2 / 1 | 316 ms | does not run: boom |",
		"| ONNX Runtime (1.30.0 through onnxruntime_go (cgo)) | 923 / 13 / 136 | 2 / 2 (the reference) | 74 µs | 8.4 ms |",
		"(of 3)", "1072 tests", "load average 1.5 at its start and 2.5 at its end",
		"17:33 kagen conformance start: load 1.0 1.0 1.0",
		"was between 1.0 and 3.0 during",
		"kagen: conformance: 987 passed, 0 failed, 85 unsupported",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("section lacks %q:\n%s", want, s)
		}
	}
}

func TestRenderShort(t *testing.T) {
	s, err := render(writeFixture(t), true)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s, "| 987 / 0 / 85 |") || !strings.Contains(s, "docs/EVALUATION.md#why-kagen-has-its-own-onnx-engine") || strings.Contains(s, "17:33 kagen") {
		t.Errorf("short section:\n%s", s)
	}
}

func TestRenderMissing(t *testing.T) {
	dir := writeFixture(t)
	os.Remove(filepath.Join(dir, "conf-ort.txt"))
	os.WriteFile(filepath.Join(dir, "zoo.jsonl"), []byte(`{"model":"a.onnx","status":"pass"}`+"\n"), 0o644)
	_, err := render(dir, false)
	if err == nil || !strings.Contains(err.Error(), "conf-ort.txt") || !strings.Contains(err.Error(), "no summary line") {
		t.Errorf("error %v", err)
	}
}

func TestReplaceSection(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "x.md")
	os.WriteFile(f, []byte("# Title\n\ntext\n"), 0o644)
	if err := replaceSection(f, "one\n"); err != nil {
		t.Fatal(err)
	}
	if err := replaceSection(f, "two\n"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(f)
	want := "# Title\n\ntext\n\n" + EnginesBegin + "\ntwo\n" + EnginesEnd + "\n"
	if string(b) != want {
		t.Errorf("got %q, want %q", b, want)
	}
	os.WriteFile(f, []byte(EnginesEnd+"\n"+EnginesBegin+"\n"), 0o644)
	if err := replaceSection(f, "x\n"); err == nil {
		t.Error("markers out of order accepted")
	}
	if err := replaceSection(filepath.Join(dir, "missing.md"), "x\n"); err == nil {
		t.Error("missing file accepted")
	}
}
