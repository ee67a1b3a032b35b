package replay

import (
	"math"
	"strings"
	"testing"

	"github.com/kagen-ai/kagen/engine"
)

func TestPredict(t *testing.T) {
	tests := []struct {
		out   []float32
		class int
		conf  float32
	}{
		{[]float32{0.1, 0.7, 0.2}, 1, 0.7},                     // probabilities are taken as they are
		{[]float32{0, 0, math.Float32frombits(0)}, 0, 1.0 / 3}, // a tie picks the first
		{[]float32{2, 0}, 0, float32(1 / (1 + math.Exp(-2)))},
		{[]float32{-1, 3, 1}, 1, float32(1 / (1 + math.Exp(-4) + math.Exp(-2)))},
	}
	for _, tc := range tests {
		p := Predict(tc.out)
		if p.Class != tc.class || math.Abs(float64(p.Confidence-tc.conf)) > 1e-6 {
			t.Errorf("Predict(%v) = %+v, want class %d confidence %g", tc.out, p, tc.class, tc.conf)
		}
	}
}

func TestEvaluate(t *testing.T) {
	m, err := engine.LoadFile("testdata/tiny_har.onnx", engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	spec, err := SpecFromModel(m)
	if err != nil {
		t.Fatal(err)
	}
	// 20 s at 100 Hz: walking, then seated, then an unknown label.
	var rows [][]float64
	var ts []int64
	var labels []string
	for i := 0; i < 2000; i++ {
		ph := float64(i) / 100
		rows = append(rows, []float64{math.Sin(ph * 7), 9.8 + math.Cos(ph*5), 0.3, 0.1 * math.Sin(ph), 0, 0.2})
		ts = append(ts, 1_700_000_000_000+int64(i)*10)
		switch {
		case i < 900:
			labels = append(labels, "WALKING")
		case i < 1800:
			labels = append(labels, "SEATED")
		default:
			labels = append(labels, "JUMPING")
		}
	}
	path := writeFile(t, t.TempDir(), "trace.csv", imuCSV(rows, ts, labels))
	r, err := Evaluate(m, spec, DiskTraces([]string{path}), EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for i, row := range r.Confusion {
		n := 0
		for _, v := range row {
			n += v
		}
		if n != r.PerClass[r.Classes[i]].N {
			t.Errorf("class %s: confusion row sums to %d, per-class n %d", r.Classes[i], n, r.PerClass[r.Classes[i]].N)
		}
		total += n
	}
	if total != r.N || r.N == 0 || r.Skipped["JUMPING"] == 0 {
		t.Fatalf("n %d, confusion total %d, skipped %v", r.N, total, r.Skipped)
	}
	if r.PerClass["WALKING"].N == 0 || r.PerClass["SEATED"].N == 0 {
		t.Fatalf("per class %v", r.PerClass)
	}
	if want := float64(r.Correct) / float64(r.N); r.Accuracy != want {
		t.Fatalf("accuracy %v, want %v", r.Accuracy, want)
	}
}

func TestCheckModelRefusesMismatch(t *testing.T) {
	m, err := engine.LoadFile("testdata/tiny_har.onnx", engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	spec := DefaultHARSpec() // 128-sample windows: the model takes 64
	if err := CheckModel(spec, m); err == nil || !strings.Contains(err.Error(), "[1 6 128]") {
		t.Fatalf("got %v, want a shape mismatch naming [1 6 128]", err)
	}
	spec = DefaultKWSSpec()
	if err := CheckModel(spec, m); err == nil {
		t.Fatal("a keyword spec matched a HAR model")
	}
}
