package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// zooJSON is what bench/peers.sh --zoo --threads 1,2 --json-only prints
// (trimmed): two passing models, one that does not load, the summary.
const zooJSON = `{"model":"a.onnx","inputs":"x [1 3]","status":"pass","loads":true,"max_abs_diff":1e-7,"runs":{"kagen@1":15,"ort@1":15},"ops":["Conv"],"kagen_median_ms":2,"ort_median_ms":1,"ratio":2,"missing":[],"threads":1,"by_threads":[{"threads":1,"kagen_median_ms":2,"ort_median_ms":1,"ratio":2},{"threads":2,"kagen_median_ms":1.25,"ort_median_ms":0.5,"ratio":2.5,"kagen_speedup":1.6,"ort_speedup":2}]}
{"model":"b.onnx","status":"pass","loads":true,"kagen_median_ms":0.5,"ort_median_ms":1,"ratio":0.5,"missing":[],"threads":1,"by_threads":[{"threads":1,"kagen_median_ms":0.5,"ort_median_ms":1,"ratio":0.5},{"threads":2,"kagen_median_ms":0.4,"ort_median_ms":0.5,"ratio":0.8,"kagen_speedup":1.25,"ort_speedup":2}]}
{"model":"c.onnx","status":"load","error":"unsupported op | x","missing":["Loop"],"threads":1}
{"summary":"zoo","models":3,"load":2,"pass":2,"status":{"load":1,"pass":2},"blocking":[{"op":"Loop","models":1}],"ratio_geomean":1,"seconds":42,"by_threads":[{"threads":1,"ratio_geomean":1,"models":2},{"threads":2,"ratio_geomean":1.414,"kagen_speedup_geomean":1.414,"ort_speedup_geomean":2,"models":2}],"load_start":"1.50","load_end":"2.25","cores":2}
`

func TestZooSection(t *testing.T) {
	s, err := ZooSection(strings.NewReader(zooJSON), ZooCommand)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		ZooBegin, ZooEnd, "### The architecture zoo at 1 and 2 thread(s)",
		"| model | check | kagen/ORT @1 | kagen/ORT @2 | kagen ms @1 | ORT ms @1 | kagen ms @2 | ORT ms @2 | kagen speedup @2 | ORT speedup @2 |",
		"| a | pass | 2.00 | 2.50 | 2 | 1 | 1.25 | 0.5 | 1.60 | 2.00 |",
		"| b | pass | 0.50 | 0.80 |",
		"| c | load: lacks Loop | - | - |",
		"2 of 3 models", "1.00 at 1 thread(s); 1.41 at 2 thread(s) (speedup over 1: kagen 1.41, ORT 2.00).",
		"load average of 1.50 at its start and 2.25", ZooCommand,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("section lacks %q:\n%s", want, s)
		}
	}
	for _, bad := range []string{"", "not json\n", "{\"summary\":\"zoo\"}\n", "{\"model\": 3}\n"} {
		if _, err := ZooSection(strings.NewReader(bad), ZooCommand); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestReplaceZooSection(t *testing.T) {
	sec := ZooBegin + "\nnew\n" + ZooEnd + "\n"
	for _, c := range []struct{ doc, want string }{
		{"# e\n\n## Engine\n\nx\n" + ZooBegin + "\nold\n" + ZooEnd + "\n\n## Knobs\n", "# e\n\n## Engine\n\nx\n" + sec + "\n## Knobs\n"},
		{"# e\n\n## Engine\n\nx\n\n## Knobs\n", "# e\n\n## Engine\n\nx\n\n" + sec + "\n## Knobs\n"},
		{"# e\n", "# e\n\n" + sec},
		{"# e\n" + ZooBegin + "\nunterminated\n", "# e\n" + ZooBegin + "\nunterminated\n\n" + sec},
	} {
		if got := ReplaceZooSection(c.doc, sec); got != c.want {
			t.Errorf("ReplaceZooSection(%q) = %q, want %q", c.doc, got, c.want)
		}
	}
}

// UpdateZoo rewrites the section alone; a full report with no zoo run
// keeps it.
func TestUpdateZooKeepsTheRest(t *testing.T) {
	dir := t.TempDir()
	doc := "# e\n\n## Engine\n\nengine table\n\n## Knobs\n\nknobs\n"
	os.WriteFile(filepath.Join(dir, "EVALUATION.md"), []byte(doc), 0o644)
	js := filepath.Join(dir, "zoo.jsonl")
	os.WriteFile(js, []byte(zooJSON), 0o644)
	if err := UpdateZoo(dir, js); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "EVALUATION.md"))
	got := string(b)
	if !strings.HasPrefix(got, "# e\n\n## Engine\n\nengine table\n\n"+ZooBegin) || !strings.HasSuffix(got, ZooEnd+"\n\n## Knobs\n\nknobs\n") {
		t.Errorf("document after UpdateZoo:\n%s", got)
	}
	kept, err := zooSectionFor(dir, "")
	if err != nil || !strings.Contains(kept, "| a | pass |") {
		t.Errorf("a report without a zoo run does not keep the section: %v\n%s", err, kept)
	}
	if err := UpdateZoo(dir, filepath.Join(dir, "missing.jsonl")); err == nil {
		t.Error("a missing zoo file accepted")
	}
	note, _ := zooSectionFor(t.TempDir(), "")
	if !strings.Contains(note, "tools/zoo-table.sh") {
		t.Errorf("no note without any zoo: %q", note)
	}
}
