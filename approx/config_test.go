package approx

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/kagen-ai/kagen/engine"
)

func loadModel(t testing.TB, path string) (*Approximator, []*engine.Tensor) {
	t.Helper()
	m, err := engine.LoadFile(path, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(4, 4))
	in := m.Inputs()[0]
	return New(m), []*engine.Tensor{engine.NewFloat(randFloats(rng, in.Shape[0]*in.Shape[1]*in.Shape[2]*last(in.Shape)), in.Shape...)}
}

func last(s []int) int {
	if len(s) == 4 {
		return s[3]
	}
	return 1
}

func TestParseConfig(t *testing.T) {
	a, _ := loadModel(t, "../bench/testdata/conv1d.onnx")
	convs := 0
	for _, n := range a.Nodes() {
		if n.Op == "Conv" {
			convs++
		}
	}
	c, err := a.Parse("Conv=perf-row:2:0,/features/features.4/Conv=int8")
	if err == nil {
		// int8 may be missing in this build; then the error lists the valid knobs
		t.Logf("parsed %s", a.Text(c))
	} else if !strings.Contains(err.Error(), "valid:") {
		t.Fatalf("error %v does not list the valid choices", err)
	}
	c, err = a.Parse("Conv=perf-row:2:0,/features/features.4/Conv=samp:3:1")
	if err != nil {
		t.Fatal(err)
	}
	// features.0 (6 input channels, kernel 5: 30 multiply-adds per output)
	// is not offered perforation along time (see Applicable), so the op
	// selector skips it.
	want := "/features/features.4/Conv=samp:3:1,/features/features.8/Conv=perf-row:2:0"
	if got := a.Text(c); got != want {
		t.Fatalf("Text = %q, want %q", got, want)
	}
	js, _ := a.JSON(c)
	c2, err := a.Parse(string(js))
	if err != nil || !c2.Equal(c) {
		t.Fatalf("JSON round trip: %s -> %v, %v", js, a.Text(c2), err)
	}
	for _, bad := range []string{"conv9=fp32", "Conv=perf-col:2:0", "/fc/Gemm=perf-row:2:0", "Conv=perf-row:7:0", "Relu=int8", "=int8", "Conv"} {
		if _, err := a.Parse(bad); err == nil {
			t.Errorf("Parse(%q) succeeded", bad)
		}
	}
	if c, err := a.Parse("*=red:0.5"); err != nil || a.Text(c) != "/fc/Gemm=red:0.5" {
		t.Fatalf("*=red:0.5 gave %q, %v", a.Text(c), err)
	}
}

// TestExactConfigIsBitExact checks that a configuration with every knob at
// fp32 gives the exact engine's outputs bit for bit.
func TestExactConfigIsBitExact(t *testing.T) {
	for _, p := range []string{"../bench/testdata/conv1d.onnx", "../bench/testdata/small.onnx"} {
		a, in := loadModel(t, p)
		s := a.Model().NewSession()
		exact, _ := s.Run(in)
		want := append([]float32(nil), exact[0].F...)
		c, err := a.Parse("*=fp32")
		if err != nil {
			t.Fatal(err)
		}
		sel, err := a.Prepare(c)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := s.RunWith(in, sel)
		for i := range want {
			if got[0].F[i] != want[i] {
				t.Fatalf("%s: output %d differs: %v vs %v", p, i, got[0].F[i], want[i])
			}
		}
	}
}

// TestSwitchingAllocatesNothing switches between two prepared
// configurations on every inference.
func TestSwitchingAllocatesNothing(t *testing.T) {
	a, in := loadModel(t, "../bench/testdata/conv1d.onnx")
	c1, _ := a.Parse("Conv=perf-row:2:0")
	c2, err := a.Parse("Conv=samp:2:1+int8,Gemm=red:0.5+fp16,/features/features.8/Conv=perf-row:2:0+fp16")
	if err != nil {
		t.Fatal(err)
	}
	s1, err := a.Prepare(c1)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := a.Prepare(c2)
	if err != nil {
		t.Fatal(err)
	}
	s := a.Model().NewSession()
	s.RunWith(in, s1)
	s.RunWith(in, s2)
	i := 0
	allocs := testing.AllocsPerRun(20, func() {
		sel := s1
		if i%2 == 1 {
			sel = s2
		}
		i++
		if _, err := s.RunWith(in, sel); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("switching configurations allocates %.1f times per inference", allocs)
	}
}

// TestModelKnobsMatchReference runs whole models with each applicable knob
// on one node and compares that node's effect with the reference through the
// model's output: the approximate run must differ from exact (work was
// skipped) and the per-node kernel must agree with ReferenceConv.
func TestModelKnobsMatchReference(t *testing.T) {
	a, in := loadModel(t, "../bench/testdata/conv1d.onnx")
	m := a.Model()
	for _, n := range a.Nodes() {
		cs, ok := m.Conv(n.Step)
		if !ok {
			continue
		}
		x := randFloats(rand.New(rand.NewPCG(5, uint64(n.Step))), cs.C*cs.H*cs.W)
		for _, k := range a.Applicable(n.Step) {
			if k.Prec != FP32 || k.IsExact() {
				continue
			}
			kr, err := a.Kernel(n.Step, k)
			if err != nil {
				t.Fatal(err)
			}
			want := ReferenceConv(cs, k, x)
			got := run(kr, x, len(want), 1, cs.C, cs.H, cs.W)
			if d := maxRelDiff(got, want); d > 1e-5 {
				t.Fatalf("%s %s: max relative difference %g", n.Name, k, d)
			}
		}
	}
	_ = in
}

// TestPerforationOfferedWhereItPays checks Applicable's rule on HAR's
// layers: perforation along time is offered on features.4 (32 positions,
// 448 multiply-adds each) and not on features.0 (30 each), features.8 (16
// positions: the GEMM panel count would not change) or features.12.
func TestPerforationOfferedWhereItPays(t *testing.T) {
	a, _ := loadModel(t, "../models/har.onnx")
	want := map[string]bool{"/features/features.0/Conv": false, "/features/features.4/Conv": true, "/features/features.8/Conv": false, "/features/features.12/Conv": false}
	for _, n := range a.Nodes() {
		w, ok := want[n.Name]
		if !ok {
			continue
		}
		got := false
		for _, k := range Applicable(a.Model(), n.Step) {
			if k.Shape == PerfRow {
				got = true
			}
		}
		if got != w {
			t.Errorf("%s: perforation offered %v, want %v", n.Name, got, w)
		}
		delete(want, n.Name)
	}
	if len(want) > 0 {
		t.Fatalf("nodes not found: %v", want)
	}
}

// TestDepthwiseOffersNoLowPrecision checks that kws-ds.onnx's depthwise
// convolutions are offered fp32 knobs only (fp16 and int8 would run one
// GEMM per channel, slower than exact), and its other convolutions all
// three precisions.
func TestDepthwiseOffersNoLowPrecision(t *testing.T) {
	a, _ := loadModel(t, "../models/kws-ds.onnx")
	m := a.Model()
	seen := 0
	for _, n := range a.Nodes() {
		cs, ok := m.Conv(n.Step)
		if !ok {
			continue
		}
		depthwise := cs.C/cs.Group == 1 && cs.M/cs.Group == 1
		low := false
		for _, k := range Applicable(m, n.Step) {
			if k.Prec != FP32 {
				low = true
			}
		}
		if low == depthwise {
			t.Errorf("%s (depthwise %v): low-precision knobs offered %v", n.Name, depthwise, low)
		}
		seen++
	}
	if seen < 11 {
		t.Fatalf("%d convolutions, want 11", seen)
	}
}
