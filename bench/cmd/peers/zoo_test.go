package main

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// Protobuf helpers for test models (field numbers from onnx.proto).

func tvi(name string, elem int, shape []int) []byte {
	var dims pb
	for _, d := range shape {
		dims = dims.bytes(1, pb(nil).varint(1, uint64(d)))
	}
	tt := pb(nil).varint(1, uint64(elem)).bytes(2, dims) // an empty shape is rank 0
	return pb(nil).str(1, name).bytes(2, pb(nil).bytes(1, tt))
}

func intAttr(name string, v int64) []byte {
	return pb(nil).str(1, name).varint(3, uint64(v)).varint(20, 2)
}

func graphAttr(name string, g []byte) []byte {
	return pb(nil).str(1, name).bytes(6, g).varint(20, 5)
}

func testNode(op, domain string, ins, outs []string, attrs ...[]byte) []byte {
	n := pb(nil)
	for _, s := range ins {
		n = n.str(1, s)
	}
	for _, s := range outs {
		n = n.str(2, s)
	}
	n = n.str(3, op+"_"+outs[0]).str(4, op)
	for _, a := range attrs {
		n = n.bytes(5, a)
	}
	if domain != "" {
		n = n.str(7, domain)
	}
	return n
}

func testModel(nodes [][]byte, ins, outs [][]byte) []byte {
	g := pb(nil)
	for _, n := range nodes {
		g = g.bytes(1, n)
	}
	g = g.str(2, "test")
	for _, i := range ins {
		g = g.bytes(11, i)
	}
	for _, o := range outs {
		g = g.bytes(12, o)
	}
	return pb(nil).varint(1, 7).str(2, "kagen-bench-test").bytes(7, g).bytes(8, pb(nil).str(1, "").varint(2, 13))
}

// multiIOModel has a float, an int64, a bool and a scalar int64 input and
// three outputs of two kinds:
//
//	Y  = X + float(N)            float [2,3]
//	NS = N + S                   int64 [3]
//	P  = X * float(M)            float [2,3]
func multiIOModel() []byte {
	return testModel(
		[][]byte{
			testNode("Cast", "", []string{"N"}, []string{"Nf"}, intAttr("to", onnxFloat)),
			testNode("Add", "", []string{"X", "Nf"}, []string{"Y"}),
			testNode("Add", "", []string{"N", "S"}, []string{"NS"}),
			testNode("Cast", "", []string{"M"}, []string{"Mf"}, intAttr("to", onnxFloat)),
			testNode("Mul", "", []string{"X", "Mf"}, []string{"P"}),
		},
		[][]byte{tvi("X", onnxFloat, []int{2, 3}), tvi("N", onnxInt64, []int{3}), tvi("M", onnxBool, []int{2, 3}), tvi("S", onnxInt64, nil)},
		[][]byte{tvi("Y", onnxFloat, []int{2, 3}), tvi("NS", onnxInt64, []int{3}), tvi("P", onnxFloat, []int{2, 3})},
	)
}

func multiIOInputs(t *testing.T) []inputSpec {
	infos := []ioInfo{{"X", onnxFloat, []int{2, 3}}, {"N", onnxInt64, []int{3}}, {"M", onnxBool, []int{2, 3}}, {"S", onnxInt64, []int{}}}
	sc := &sidecar{Inputs: map[string]sidecarInput{
		"X": {Values: []float64{1, 2, 3, 4, 5, 6}},
		"N": {Values: []float64{10, 20, 30}},
		"M": {Values: []float64{1, 0, 1, 0, 1, 0}},
		"S": {Shape: &[]int{}, Values: []float64{100}},
	}}
	ins, err := makeInputs(1, "m.onnx", infos, sc)
	if err != nil {
		t.Fatal(err)
	}
	return ins
}

var multiIOWant = []Output{
	{Name: "Y", Shape: []int{2, 3}, F: []float32{11, 22, 33, 14, 25, 36}},
	{Name: "NS", Shape: []int{3}, I: []int64{110, 120, 130}},
	{Name: "P", Shape: []int{2, 3}, F: []float32{1, 0, 3, 0, 5, 0}},
}

// With ORT_LIB set: ORT and kagen run the multi-input, multi-output model
// and give the hand-computed outputs; the zoo child reports it as a pass.
func TestMultiIOEngines(t *testing.T) {
	lib := os.Getenv("ORT_LIB")
	if lib == "" {
		t.Skip("ORT_LIB not set (bench/fetch_ort.sh prints the path)")
	}
	if err := initORT(lib); err != nil {
		t.Fatal(err)
	}
	model := multiIOModel()
	ins := multiIOInputs(t)
	for _, name := range []string{"ort", "kagen"} {
		if name == "kagen" && !kagenAvailable {
			continue
		}
		e, err := factories[name](model, ins, 1)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for run := 0; run < 2; run++ {
			if err := e.Run(); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if d, ok, why := compareOutputs(e.Outputs(), multiIOWant, 0, 0); !ok {
				t.Errorf("%s run %d: diff %g%s; got %+v", name, run, d, why, e.Outputs())
			}
		}
		e.Close()
	}

	// The same through measure, as the zoo child runs it.
	cfg := config{runs: 3, warmup: 1, threads: 1, budget: time.Second, rtol: 1e-3, atol: 1e-4, engines: []string{"ort"}}
	if kagenAvailable {
		cfg.engines = []string{"kagen", "ort"}
	}
	for _, r := range measure(cfg, "multi", model, ins, "") {
		if r.err != nil || len(r.times) != 3 || (r.name == "kagen" && (!r.checked || !r.agree || r.diff != 0)) {
			t.Errorf("%s: err %v, %d runs, checked %v agree %v diff %g", r.name, r.err, len(r.times), r.checked, r.agree, r.diff)
		}
	}

	// With --threads 1,2: every engine at both counts, one ORT the
	// reference, every other checked against it.
	cfg.threadList = []int{1, 2}
	res := measure(cfg, "multi", model, ins, "")
	if len(res) != 2*len(cfg.engines) {
		t.Fatalf("%d results, want %d", len(res), 2*len(cfg.engines))
	}
	refs := 0
	for i, r := range res {
		if want := cfg.threadList[i/len(cfg.engines)]; r.threads != want {
			t.Errorf("result %d (%s) at %d threads, want %d", i, r.name, r.threads, want)
		}
		if r.ref {
			refs++
			continue
		}
		if r.err != nil || len(r.times) != 3 || !r.checked || !r.agree {
			t.Errorf("%s@%d: err %v, %d runs, checked %v agree %v", r.name, r.threads, r.err, len(r.times), r.checked, r.agree)
		}
	}
	if refs != 1 {
		t.Errorf("%d reference runs, want 1", refs)
	}
}

func TestMakeInputs(t *testing.T) {
	infos := []ioInfo{{"x", onnxFloat, []int{1, 4}}, {"sr", onnxInt64, []int{}}, {"h", onnxFloat, []int{2, 1, 3}}, {"mask", onnxBool, []int{1, 2}}, {"dyn", onnxFloat, []int{1, 1}}}
	sc := &sidecar{Inputs: map[string]sidecarInput{
		"sr":  {Values: []float64{16000}},
		"h":   {Fill: "zeros"},
		"dyn": {Shape: &[]int{1, 5}},
	}}
	ins, err := makeInputs(7, "m.onnx", infos, sc)
	if err != nil {
		t.Fatal(err)
	}
	if got := ins[0].F; !reflect.DeepEqual(got, randomInput(7, "m.onnx/x", 4)) {
		t.Errorf("x: %v is not the seeded stream of m.onnx/x", got)
	}
	if ins[1].I[0] != 16000 || len(ins[1].Shape) != 0 || ins[1].F != nil {
		t.Errorf("sr: %+v", ins[1])
	}
	for _, v := range ins[2].F {
		if v != 0 {
			t.Errorf("h not zeros: %v", ins[2].F)
		}
	}
	if !reflect.DeepEqual(ins[3].I, []int64{0, 0}) {
		t.Errorf("mask: %v", ins[3].I)
	}
	if !reflect.DeepEqual(ins[4].Shape, []int{1, 5}) || len(ins[4].F) != 5 {
		t.Errorf("dyn: %+v", ins[4])
	}

	// A single input keeps the stream the bench always used (the file name).
	one, err := makeInputs(1, "small.onnx", []ioInfo{{"input", onnxFloat, []int{3}}}, nil)
	if err != nil || !reflect.DeepEqual(one[0].F, randomInput(1, "small.onnx", 3)) {
		t.Errorf("single input: %v %v", one, err)
	}
	// One value fills the input.
	rep, err := makeInputs(1, "m", []ioInfo{{"n", onnxInt32, []int{3}}}, &sidecar{Inputs: map[string]sidecarInput{"n": {Values: []float64{4}}}})
	if err != nil || !reflect.DeepEqual(rep[0].I, []int64{4, 4, 4}) {
		t.Errorf("repeated value: %v %v", rep, err)
	}

	for _, c := range []struct {
		sc   sidecarInput
		name string
		want string
	}{
		{sidecarInput{Values: []float64{1, 2}}, "x", "gives 2 values"},
		{sidecarInput{Fill: "ones"}, "x", "fill"},
		{sidecarInput{Fill: "normal"}, "sr", "fill"},
		{sidecarInput{Values: []float64{1}, Fill: "zeros"}, "x", "both"},
		{sidecarInput{Shape: &[]int{-1}}, "x", "negative"},
		{sidecarInput{}, "nope", "does not have"},
	} {
		_, err := makeInputs(1, "m", infos[:2], &sidecar{Inputs: map[string]sidecarInput{c.name: c.sc}})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.sc, err, c.want)
		}
	}
	if _, err := makeInputs(1, "m", []ioInfo{{"s", 8, []int{1}}}, nil); err == nil {
		t.Error("a string input was accepted")
	}
}

func TestReadSidecar(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "vad.onnx")
	if sc, err := readSidecar(model); sc != nil || err != nil {
		t.Errorf("no sidecar: %v %v", sc, err)
	}
	os.WriteFile(filepath.Join(dir, "vad.inputs.json"), []byte(`{"inputs": {"sr": {"shape": [], "values": [16000]}, "h": {"shape": [2, 1, 64], "fill": "zeros"}}}`), 0o644)
	sc, err := readSidecar(model)
	if err != nil || sc.Inputs["sr"].Values[0] != 16000 || len(*sc.Inputs["sr"].Shape) != 0 || sc.Inputs["h"].Fill != "zeros" {
		t.Errorf("%+v %v", sc, err)
	}
	os.WriteFile(filepath.Join(dir, "vad.inputs.json"), []byte(`{"inputs": {"sr": {"value": 1}}}`), 0o644)
	if _, err := readSidecar(model); err == nil {
		t.Error("unknown field accepted")
	}
}

func TestCompareOutputs(t *testing.T) {
	want := []Output{{Name: "a", Shape: []int{2}, F: []float32{1, 2}}, {Name: "n", Shape: []int{1}, I: []int64{80}}}
	same := []Output{{Name: "n", Shape: []int{1}, I: []int64{80}}, {Name: "a", Shape: []int{2}, F: []float32{1, 2.001}}}
	if d, ok, why := compareOutputs(same, want, 1e-3, 1e-4); !ok || math.Abs(d-0.001) > 1e-6 || why != "" {
		t.Errorf("in any order, within tolerance: %v %v %q", d, ok, why)
	}
	for _, c := range []struct {
		got  []Output
		want string
	}{
		{[]Output{want[0]}, `"n": missing`},
		{[]Output{want[0], {Name: "n", Shape: []int{}, I: []int64{80}}}, "shape"},
		{[]Output{want[0], {Name: "n", Shape: []int{1}, F: []float32{80}}}, "kind"},
		{[]Output{want[0], {Name: "n", Shape: []int{1}, I: []int64{79}}}, `"n": max abs diff 1`},
		{[]Output{{Name: "a", Shape: []int{2}, F: []float32{1, float32(math.NaN())}}, want[1]}, `"a"`},
	} {
		if _, ok, why := compareOutputs(c.got, want, 1e-3, 1e-4); ok || !strings.Contains(why, c.want) {
			t.Errorf("%+v: ok %v why %q, want %q", c.got, ok, why, c.want)
		}
	}
}

func TestOpTypes(t *testing.T) {
	then := pb(nil).bytes(1, testNode("Neg", "", []string{"x"}, []string{"y"})).bytes(1, testNode("Relu", "", []string{"y"}, []string{"z"}))
	els := pb(nil).bytes(1, testNode("Abs", "", []string{"x"}, []string{"y"}))
	model := testModel(
		[][]byte{
			testNode("Relu", "", []string{"x"}, []string{"a"}),
			testNode("If", "", []string{"c"}, []string{"b"}, graphAttr("then_branch", then), graphAttr("else_branch", els)),
			testNode("FusedConv", "com.microsoft", []string{"b"}, []string{"d"}),
			testNode("Relu", "ai.onnx", []string{"d"}, []string{"e"}),
			testNode("Sqrt", "", []string{"e"}, []string{"f"}),
		}, nil, nil)
	ops, err := opTypes(model)
	want := []string{"Relu", "If", "Neg", "Abs", "com.microsoft:FusedConv", "Sqrt"}
	if err != nil || !reflect.DeepEqual(ops, want) {
		t.Errorf("got %v %v, want %v", ops, err, want)
	}
	if miss := missingOps(ops, []string{"Relu", "Abs", "Sqrt"}); !reflect.DeepEqual(miss, []string{"If", "Neg", "com.microsoft:FusedConv"}) {
		t.Errorf("missing %v", miss)
	}
	if _, err := opTypes(model[:len(model)-3]); err == nil {
		t.Error("truncated model accepted")
	}
}

func TestZooSummary(t *testing.T) {
	r := func(v float64) *float64 { return &v }
	all := []zooResult{
		{Model: "a.onnx", Status: "pass", Loads: true, Ratio: r(2), Missing: []string{}},
		{Model: "b.onnx", Status: "pass", Loads: true, Ratio: r(0.5), Missing: []string{}},
		{Model: "c.onnx", Status: "mismatch", Loads: true, Ratio: r(9), Missing: []string{}},
		{Model: "d.onnx", Status: "load", Error: `node "s": unsupported Slice`, Missing: []string{"Slice", "Expand"}},
		{Model: "e.onnx", Status: "crash", Missing: []string{"Slice"}},
	}
	s := summariseZoo(all, 61*time.Second, []int{1})
	if s.Pass != 2 || s.Load != 3 || *s.Geomean != 1 || s.Status["crash"] != 1 {
		t.Errorf("%+v", s)
	}
	if !reflect.DeepEqual(s.Blocking, []opCount{{"Slice", 2}, {"Expand", 1}}) {
		t.Errorf("blocking %v", s.Blocking)
	}
	line := s.line()
	for _, w := range []string{"2/5 pass", "(3 load)", "1 mismatch ORT", "1 do not load", "1 crash", "geomean over the passing: 1.00x", "61 s"} {
		if !strings.Contains(line, w) {
			t.Errorf("summary %q lacks %q", line, w)
		}
	}
	if l := zooLine(all[3]); !strings.HasPrefix(l, "d ") || !strings.Contains(l, `unsupported Slice; lacks Slice Expand`) {
		t.Errorf("line %q", l)
	}
}

func TestZooModels(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"b.onnx", "a.onnx", "a.inputs.json"} {
		os.WriteFile(filepath.Join(dir, n), nil, 0o644)
	}
	got, err := zooModels([]string{dir, "x.onnx"})
	if err == nil {
		t.Errorf("a missing model accepted: %v", got)
	}
	got, err = zooModels([]string{dir})
	if err != nil || !reflect.DeepEqual(got, []string{filepath.Join(dir, "a.onnx"), filepath.Join(dir, "b.onnx")}) {
		t.Errorf("%v %v", got, err)
	}
	if _, err := zooModels([]string{t.TempDir()}); err == nil || !strings.Contains(err.Error(), "export.py") {
		t.Errorf("empty directory: %v", err)
	}
}

// A child that dies is reported as a crash with its panic line; one that
// prints its result is taken at its word.
func TestZooOneChild(t *testing.T) {
	dir := t.TempDir()
	script := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	crash := script("crash", "echo 'some log' >&2; echo 'panic: runtime error: index out of range [3] with length 3' >&2; echo 'goroutine 1 [running]:' >&2; exit 2\n")
	r := zooOne(crash, nil, "m.onnx", time.Minute)
	if r.Status != "crash" || r.Model != "m.onnx" || !strings.Contains(r.Error, "panic: runtime error: index out of range") {
		t.Errorf("crash: %+v", r)
	}
	ok := script("ok", `echo 'noise'; echo '{"model":"m.onnx","status":"pass","loads":true,"max_abs_diff":0}'`+"\n")
	if r := zooOne(ok, nil, "m.onnx", time.Minute); r.Status != "pass" || !r.Loads {
		t.Errorf("ok: %+v", r)
	}
	slow := script("slow", "exec sleep 10\n")
	if r := zooOne(slow, nil, "m.onnx", 100*time.Millisecond); r.Status != "timeout" {
		t.Errorf("slow: %+v", r)
	}
}

func TestParseThreads(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []int
	}{
		{"1", []int{1}}, {"2", []int{2}}, {"1,2", []int{1, 2}}, {"4, 1", []int{4, 1}},
		{"0", nil}, {"-1", nil}, {"1,1", nil}, {"", nil}, {"1,", nil}, {"NaN", nil}, {"1.5", nil}, {"100000", nil},
	} {
		got, err := parseThreads(c.in)
		if (err == nil) != (c.want != nil) || !reflect.DeepEqual(got, c.want) {
			t.Errorf("parseThreads(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}

// With several thread counts the zoo reports, per count, the ratio and
// each engine's speedup over the first count, and their geomeans.
func TestZooSummaryThreads(t *testing.T) {
	r := func(v float64) *float64 { return &v }
	at := func(t int, ratio float64, ks, os *float64) zooAt {
		return zooAt{Threads: t, KagenMs: r(1), ORTMs: r(1), Ratio: r(ratio), KagenSpeedup: ks, ORTSpeedup: os}
	}
	all := []zooResult{
		{Model: "a.onnx", Status: "pass", Loads: true, Ratio: r(2), ByThreads: []zooAt{at(1, 2, nil, nil), at(2, 4, r(1), r(2))}},
		{Model: "b.onnx", Status: "pass", Loads: true, Ratio: r(0.5), ByThreads: []zooAt{at(1, 0.5, nil, nil), at(2, 1, r(1.96), r(3.92))}},
		{Model: "c.onnx", Status: "mismatch", Loads: true, Ratio: r(9), ByThreads: []zooAt{at(1, 9, nil, nil), at(2, 9, r(9), r(9))}},
	}
	s := summariseZoo(all, time.Second, []int{1, 2})
	if len(s.ByThreads) != 2 {
		t.Fatalf("by threads %+v", s.ByThreads)
	}
	g1, g2 := s.ByThreads[0], s.ByThreads[1]
	if *g1.Ratio != 1 || g1.KagenSpeedup != nil || g1.Models != 2 || *g2.Ratio != 2 || *g2.KagenSpeedup != 1.4 || *g2.ORTSpeedup != 2.8 {
		t.Errorf("geomeans %+v %+v", g1, g2)
	}
	line := s.line()
	for _, w := range []string{"at 1 thread(s) 1.00x", "at 2 thread(s) 2.00x (speedup kagen 1.40x, ORT 2.80x)"} {
		if !strings.Contains(line, w) {
			t.Errorf("summary %q lacks %q", line, w)
		}
	}
	l, h := zooLine(all[0]), zooHeader([]int{1, 2})
	for _, w := range []string{"2.00x", "4.00x", "1.00x", "2.00x"} {
		if !strings.Contains(l, w) {
			t.Errorf("line %q lacks %q", l, w)
		}
	}
	for _, w := range []string{"k/ORT@1", "k/ORT@2", "kagen@2", "ORT@2", "kagen 1/2", "ORT 1/2"} {
		if !strings.Contains(h, w) {
			t.Errorf("header %q lacks %q", h, w)
		}
	}
}
