package measure

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/kagen-ai/kagen/engine"
)

func TestPerNodeTimesEveryNode(t *testing.T) {
	m, err := engine.LoadFile("../bench/testdata/small.onnx", engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := m.NewSession()
	defer s.Close()
	p, err := PerNode(s, RandomInputs(m, 1), 5)
	if err != nil {
		t.Fatal(err)
	}
	if p.Runs != 5 || len(p.Nodes)+p.Views != m.Steps() || p.MACs != m.MACs() {
		t.Fatalf("runs %d, %d nodes + %d views, %d MACs; want 5, %d steps, %d MACs", p.Runs, len(p.Nodes), p.Views, p.MACs, m.Steps(), m.MACs())
	}
	share, names := 0.0, map[string]bool{}
	for i, n := range p.Nodes {
		share += n.Share
		if names[n.Name] {
			t.Errorf("node name %q twice", n.Name)
		}
		names[n.Name] = true
		if i > 0 && n.MedianUS > p.Nodes[i-1].MedianUS {
			t.Errorf("node %d (%.1f us) slower than node %d (%.1f us): not sorted", i, n.MedianUS, i-1, p.Nodes[i-1].MedianUS)
		}
	}
	if math.Abs(share-1) > 1e-9 {
		t.Errorf("shares add up to %v, want 1", share)
	}
	if p.NodeSumUS <= 0 || p.RunMedianUS <= 0 || p.PlainMedianUS <= 0 {
		t.Errorf("medians not measured: %+v", p)
	}
	var b bytes.Buffer
	if err := p.Format(&b, 1); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "by op:") || !strings.Contains(b.String(), "more node(s)") {
		t.Errorf("format lacks the op summary or the --top note:\n%s", b.String())
	}
}

// TestNodeProfileSummarises checks the arithmetic on made-up samples:
// names made unique, shares, GMAC/s, the per-op sums and their order.
func TestNodeProfileSummarises(t *testing.T) {
	us := func(v ...int) Sample {
		var s Sample
		for _, x := range v {
			s = append(s, time.Duration(x)*time.Microsecond)
		}
		return s
	}
	nodes := []engine.NodeInfo{
		{Step: 0, Name: "a", Op: "Conv", MACs: 30000, Fused: "r"},
		{Step: 1, Name: "", Op: "Sigmoid"},
		{Step: 2, Name: "dup", Op: "Mul"},
		{Step: 3, Name: "dup", Op: "Mul"},
		{Step: 4, Name: "v", Op: "Reshape", View: true},
	}
	steps := []Sample{us(10, 10, 10), us(50, 60, 70), us(20, 20, 20), us(20, 20, 20), us(0, 0, 0)}
	p := nodeProfile(nodes, steps, us(100, 110, 120), us(95, 100, 105))
	if p.Views != 1 || len(p.Nodes) != 4 || p.NodeSumUS != 110 || p.RunMedianUS != 110 || p.PlainMedianUS != 100 {
		t.Fatalf("profile %+v", p)
	}
	want := []struct {
		name  string
		share float64
	}{{"Sigmoid#1", 60.0 / 110}, {"dup#2", 20.0 / 110}, {"dup#3", 20.0 / 110}, {"a", 10.0 / 110}}
	for i, w := range want {
		if n := p.Nodes[i]; n.Name != w.name || math.Abs(n.Share-w.share) > 1e-12 {
			t.Errorf("node %d: %s %.4f, want %s %.4f", i, n.Name, n.Share, w.name, w.share)
		}
	}
	if g := p.Nodes[3].GMACs; math.Abs(g-3) > 1e-12 { // 30000 MACs in 10 µs
		t.Errorf("GMAC/s %v, want 3", g)
	}
	if ops := p.Ops; len(ops) != 3 || ops[0].Op != "Sigmoid" || ops[1].Op != "Mul" || ops[1].Nodes != 2 || ops[1].MedianUS != 40 {
		t.Errorf("ops %+v", ops)
	}
}

// TestRunLimits: run counts outside the stated limits are refused before
// anything is allocated (#19: --runs 1e12 ran out of memory).
func TestRunLimits(t *testing.T) {
	nop := func() error { return nil }
	for _, c := range []struct {
		runs int
		ok   bool
	}{{-1, false}, {0, false}, {1, true}, {MaxRuns + 1, false}, {1_000_000_000_000, false}} {
		_, err := Interleaved(Options{Runs: c.runs}, nop)
		if (err == nil) != c.ok {
			t.Errorf("Interleaved with %d runs: error %v, want ok %v", c.runs, err, c.ok)
		}
	}
	m, err := engine.LoadFile("../bench/testdata/small.onnx", engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := m.NewSession()
	defer s.Close()
	in := RandomInputs(m, 1)
	for _, runs := range []int{0, -5, MaxStepRuns + 1, math.MaxInt} {
		if _, err := PerNode(s, in, runs); err == nil {
			t.Errorf("PerNode with %d runs accepted", runs)
		}
		inf := &Inference{Session: s, Inputs: [][]*engine.Tensor{in}}
		if _, err := inf.Compare(Options{Runs: runs}, nil); err == nil {
			t.Errorf("Compare with %d runs accepted", runs)
		}
	}
}
