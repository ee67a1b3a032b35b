package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/kagen-ai/kagen/deploy"
	"github.com/kagen-ai/kagen/policy"
	"github.com/kagen-ai/kagen/replay"
)

// runLines decodes the JSON lines of `kagen run`.
func runLines(t *testing.T, out string) []deploy.WindowRecord {
	t.Helper()
	var lines []deploy.WindowRecord
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var l deploy.WindowRecord
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			t.Fatalf("line %d %q: %v", len(lines)+1, sc.Text(), err)
		}
		lines = append(lines, l)
	}
	return lines
}

func TestRunIMU(t *testing.T) {
	dir := t.TempDir()
	trace := writeIMUTrace(t, dir, "live.csv", 1000)
	pol := newPolicy(t, dir, "p", "--controller", "naive", "--factor", "2", "--floor", "1")
	logPath := filepath.Join(dir, "d.jsonl")
	code, out, errs := runCmd("run", "--model", tinyHAR, "--policy", pol, "--input", trace, "--log", logPath)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := runLines(t, out)
	// The same trace replayed has as many windows.
	m := replayJSON(t, "--model", tinyHAR, "--policy", pol, "--trace", trace)
	if float64(len(lines)) != m["windows"] {
		t.Fatalf("%d lines, replay has %v windows", len(lines), m["windows"])
	}
	for i, l := range lines {
		if l.Index != i || l.Level < 0 || l.Level > 2 || l.Prediction == "" || l.Confidence <= 0 || l.Confidence > 1 || l.LatencyUS <= 0 || l.Rule == "" || l.Label == "" {
			t.Fatalf("line %d: %+v", i, l)
		}
		if i > 0 && l.Level != lines[i-1].Next {
			t.Fatalf("line %d runs at level %d, the decision before said %d", i, l.Level, lines[i-1].Next)
		}
	}
	if !strings.Contains(errs, fmt.Sprintf("%d windows, stopped by end of input", len(lines))) {
		t.Fatalf("stderr: %s", errs)
	}
	if n := bytes.Count(mustRead(t, logPath), []byte("\n")); n != len(lines) {
		t.Fatalf("%d decisions logged for %d windows", n, len(lines))
	}
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	pol := newPolicy(t, dir, "p", "--controller", "naive")
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("x_acc,y_acc,z_acc,x_gyro,y_gyro,z_gyro\n1,2,3,4,5,6\n"), 0o644)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no policy", []string{"--model", tinyHAR}, 2, "expected --model and --policy"},
		{"pcm for imu", []string{"--model", tinyHAR, "--policy", pol, "--format", "s16le"}, 2, "--format s16le is for audio models"},
		{"format", []string{"--model", tinyHAR, "--policy", pol, "--format", "mp3"}, 2, `--format "mp3"`},
		{"no timestamp", []string{"--model", tinyHAR, "--policy", pol, "--input", bad}, 1, "bad.csv"},
		{"missing input", []string{"--model", tinyHAR, "--policy", pol, "--input", filepath.Join(dir, "none.csv")}, 1, "none.csv"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errs := runCmd(append([]string{"run"}, tt.args...)...)
			if code != tt.code || !strings.Contains(errs, tt.want) {
				t.Fatalf("exit %d (want %d): %s\nwant %q", code, tt.code, errs, tt.want)
			}
		})
	}
}

func TestRunPCM(t *testing.T) {
	dir := t.TempDir()
	model := writeTinyKWS(t, dir)
	pol := writeKWSPolicy(t, dir, model)
	// 3 s of a tone in noise at 16 kHz, resampled to the model's 8 kHz.
	r := rand.New(rand.NewPCG(1, 2))
	for _, format := range []string{"s16le", "f32le"} {
		t.Run(format, func(t *testing.T) {
			var raw bytes.Buffer
			for i := 0; i < 3*16000; i++ {
				v := 0.3*math.Sin(2*math.Pi*440*float64(i)/16000) + 0.05*r.NormFloat64()
				if format == "s16le" {
					binary.Write(&raw, binary.LittleEndian, int16(v*32767))
				} else {
					binary.Write(&raw, binary.LittleEndian, float32(v))
				}
			}
			in := filepath.Join(dir, "live."+format)
			os.WriteFile(in, raw.Bytes(), 0o644)
			code, out, errs := runCmd("run", "--model", model, "--policy", pol, "--input", in, "--format", format, "--rate", "16000")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			lines := runLines(t, out)
			// 1000-sample windows every 500 samples over 24000 samples.
			if len(lines) != 47 {
				t.Fatalf("%d windows, want 47", len(lines))
			}
			if l := lines[46]; math.Abs(l.Start-2.875) > 1e-9 || math.Abs(l.End-3) > 1e-9 || l.Prediction == "" {
				t.Fatalf("last window %+v, want 2.875 s to 3 s", l)
			}
		})
	}
	code, _, errs := runCmd("run", "--model", model, "--policy", pol, "--input", filepath.Join(dir, "live.s16le"), "--rate", "100")
	if code != 2 || !strings.Contains(errs, "--rate 100") {
		t.Fatalf("exit %d: %s", code, errs)
	}
}

// TestRunSIGTERM starts kagen run as a subprocess on a pipe that stays
// open, waits for its first window, sends SIGTERM and expects a clean exit
// with every line written.
func TestRunSIGTERM(t *testing.T) {
	if os.Getenv("KAGEN_TEST_MAIN") == "1" {
		var args []string
		json.Unmarshal([]byte(os.Getenv("KAGEN_TEST_ARGS")), &args)
		os.Exit(run(args, os.Stdout, os.Stderr))
	}
	dir := t.TempDir()
	pol := newPolicy(t, dir, "p", "--controller", "state")
	model, _ := filepath.Abs(tinyHAR)
	args, _ := json.Marshal([]string{"run", "--model", model, "--policy", pol})
	cmd := exec.Command(os.Args[0], "-test.run=^TestRunSIGTERM$")
	cmd.Env = append(os.Environ(), "KAGEN_TEST_MAIN=1", "KAGEN_TEST_ARGS="+string(args))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		if errors.Is(err, syscall.ENOEXEC) {
			t.Skipf("cannot run the test binary as a subprocess (under an emulator?): %v", err)
		}
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	trace := mustRead(t, writeIMUTrace(t, dir, "live.csv", 400))
	go func() {
		stdin.Write(trace) // the pipe stays open: no end of input
	}()
	sc := bufio.NewScanner(stdout)
	got := make(chan string, 1)
	go func() {
		if sc.Scan() {
			got <- sc.Text()
		}
		close(got)
	}()
	select {
	case line, ok := <-got:
		if !ok || !strings.Contains(line, `"prediction"`) {
			t.Fatalf("first line %q (%v); stderr %s", line, ok, stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("no window within 60 s; stderr %s", stderr.String())
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	n := 1
	for sc.Scan() { // the scanner may hold lines read ahead
		n++
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit: %v; stderr %s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("kagen run did not stop within 30 s of SIGTERM")
	}
	if !strings.Contains(stderr.String(), fmt.Sprintf("%d windows, stopped by signal terminated", n)) {
		t.Fatalf("%d lines; stderr %s", n, stderr.String())
	}
}

// writeKWSPolicy writes a policy for the tiny KWS model with two levels.
func writeKWSPolicy(t *testing.T, dir, model string) string {
	t.Helper()
	sha := sha256File(t, model)
	classes := replay.DefaultKWSSpec().Classes
	p := &policy.Pareto{Version: 1, ModelSHA256: sha, Meter: "host (modelled)", Objective: "time", ExactAccuracy: 0.1, Classes: classes,
		Configs: []policy.Level{
			{Level: 0, Config: "exact", Speedup: 1, Accuracy: 0.1, TimeUS: 20},
			{Level: 1, Config: "Conv_0=samp:2:0", Speedup: 1.4, QoSLossPP: 0.1, Accuracy: 0.099, TimeUS: 14},
		}}
	pol, err := policy.FromPareto(p, policy.Params{Name: policy.Naive})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "kws-policy.json")
	if err := policy.WritePolicy(path, pol); err != nil {
		t.Fatal(err)
	}
	return path
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	code, out, errs := runCmd("inspect", path)
	if code != 0 {
		t.Fatalf("inspect: %s", errs)
	}
	for _, l := range strings.Split(out, "\n") {
		if s, ok := strings.CutPrefix(l, "sha256 "); ok {
			return strings.TrimSpace(s)
		}
	}
	t.Fatalf("no sha256 in %s", out)
	return ""
}

// writeTinyKWS writes an untrained keyword-spotting model: 8 kHz, 1000-
// sample windows every 500 samples, 9 frames x 8 log-mel bands, Conv 3x3
// -> Relu -> GlobalAveragePool -> Flatten -> Gemm to the 11 classes of the
// default KWS spec. The ONNX protobuf is written by hand.
func writeTinyKWS(t *testing.T, dir string) string {
	t.Helper()
	spec := replay.DefaultKWSSpec()
	spec.Window, spec.Hop = 1000, 500
	spec.Features.FrameLength, spec.Features.FrameHop, spec.Features.NMels = 200, 100, 8
	spec.Shape = nil
	specJSON, err := spec.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(7, 7))
	weights := func(n int) []float32 {
		w := make([]float32, n)
		for i := range w {
			w[i] = float32(r.NormFloat64() * 0.3)
		}
		return w
	}
	nc := len(spec.Classes)
	var graph []byte
	node := func(name, op string, in, out []string, attrs ...[]byte) {
		var n []byte
		for _, s := range in {
			n = protowire.AppendTag(n, 1, protowire.BytesType)
			n = protowire.AppendString(n, s)
		}
		for _, s := range out {
			n = protowire.AppendTag(n, 2, protowire.BytesType)
			n = protowire.AppendString(n, s)
		}
		n = protowire.AppendTag(n, 3, protowire.BytesType)
		n = protowire.AppendString(n, name)
		n = protowire.AppendTag(n, 4, protowire.BytesType)
		n = protowire.AppendString(n, op)
		for _, a := range attrs {
			n = protowire.AppendTag(n, 5, protowire.BytesType)
			n = protowire.AppendBytes(n, a)
		}
		graph = protowire.AppendTag(graph, 1, protowire.BytesType)
		graph = protowire.AppendBytes(graph, n)
	}
	ints := func(name string, v ...int64) []byte {
		var a []byte
		a = protowire.AppendTag(a, 1, protowire.BytesType)
		a = protowire.AppendString(a, name)
		for _, x := range v {
			a = protowire.AppendTag(a, 8, protowire.VarintType)
			a = protowire.AppendVarint(a, uint64(x))
		}
		a = protowire.AppendTag(a, 20, protowire.VarintType)
		return protowire.AppendVarint(a, 7) // INTS
	}
	node("Conv_0", "Conv", []string{"x", "w"}, []string{"c"}, ints("pads", 1, 1, 1, 1))
	node("Relu_1", "Relu", []string{"c"}, []string{"r"})
	node("GlobalAveragePool_2", "GlobalAveragePool", []string{"r"}, []string{"g"})
	node("Flatten_3", "Flatten", []string{"g"}, []string{"f"})
	node("Gemm_4", "Gemm", []string{"f", "fc"}, []string{"y"})
	tensor := func(name string, dims []int64, data []float32) []byte {
		var b []byte
		for _, d := range dims {
			b = protowire.AppendTag(b, 1, protowire.VarintType)
			b = protowire.AppendVarint(b, uint64(d))
		}
		b = protowire.AppendTag(b, 2, protowire.VarintType)
		b = protowire.AppendVarint(b, 1) // FLOAT
		b = protowire.AppendTag(b, 8, protowire.BytesType)
		b = protowire.AppendString(b, name)
		raw := make([]byte, 4*len(data))
		for i, v := range data {
			binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
		}
		b = protowire.AppendTag(b, 9, protowire.BytesType)
		return protowire.AppendBytes(b, raw)
	}
	valueInfo := func(name string, dims ...int64) []byte {
		var shape []byte
		for _, d := range dims {
			var dim []byte
			dim = protowire.AppendTag(dim, 1, protowire.VarintType)
			dim = protowire.AppendVarint(dim, uint64(d))
			shape = protowire.AppendTag(shape, 1, protowire.BytesType)
			shape = protowire.AppendBytes(shape, dim)
		}
		var tt []byte
		tt = protowire.AppendTag(tt, 1, protowire.VarintType)
		tt = protowire.AppendVarint(tt, 1)
		tt = protowire.AppendTag(tt, 2, protowire.BytesType)
		tt = protowire.AppendBytes(tt, shape)
		var typ []byte
		typ = protowire.AppendTag(typ, 1, protowire.BytesType)
		typ = protowire.AppendBytes(typ, tt)
		var vi []byte
		vi = protowire.AppendTag(vi, 1, protowire.BytesType)
		vi = protowire.AppendString(vi, name)
		vi = protowire.AppendTag(vi, 2, protowire.BytesType)
		return protowire.AppendBytes(vi, typ)
	}
	graph = protowire.AppendTag(graph, 2, protowire.BytesType)
	graph = protowire.AppendString(graph, "tiny_kws")
	graph = protowire.AppendTag(graph, 5, protowire.BytesType)
	graph = protowire.AppendBytes(graph, tensor("w", []int64{8, 1, 3, 3}, weights(72)))
	graph = protowire.AppendTag(graph, 5, protowire.BytesType)
	graph = protowire.AppendBytes(graph, tensor("fc", []int64{8, int64(nc)}, weights(8*nc)))
	graph = protowire.AppendTag(graph, 11, protowire.BytesType)
	graph = protowire.AppendBytes(graph, valueInfo("x", 1, 1, 9, 8))
	graph = protowire.AppendTag(graph, 12, protowire.BytesType)
	graph = protowire.AppendBytes(graph, valueInfo("y", 1, int64(nc)))

	var m []byte
	m = protowire.AppendTag(m, 1, protowire.VarintType)
	m = protowire.AppendVarint(m, 8)
	var opset []byte
	opset = protowire.AppendTag(opset, 2, protowire.VarintType)
	opset = protowire.AppendVarint(opset, 13)
	m = protowire.AppendTag(m, 8, protowire.BytesType)
	m = protowire.AppendBytes(m, opset)
	m = protowire.AppendTag(m, 7, protowire.BytesType)
	m = protowire.AppendBytes(m, graph)
	var kv []byte
	kv = protowire.AppendTag(kv, 1, protowire.BytesType)
	kv = protowire.AppendString(kv, replay.SpecKey)
	kv = protowire.AppendTag(kv, 2, protowire.BytesType)
	kv = protowire.AppendBytes(kv, specJSON)
	m = protowire.AppendTag(m, 14, protowire.BytesType)
	m = protowire.AppendBytes(m, kv)
	path := filepath.Join(dir, "tiny_kws.onnx")
	if err := os.WriteFile(path, m, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
