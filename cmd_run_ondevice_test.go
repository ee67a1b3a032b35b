package main

import (
	"bufio"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kagen-ai/kagen/ondevice"
)

// TestRunAgreesWithAPI: `kagen run` on a demo trace file and an app
// pushing the file's rows through the Go API (ondevice, PushIMU, in
// uneven chunks) make the same windows with the same predictions,
// confidences, levels and rules.
func TestRunAgreesWithAPI(t *testing.T) {
	const (
		model = "demo/data/har.onnx"
		pol   = "examples/har.policy.json"
		trace = "demo/data/har/s18_02_sp.csv"
	)
	code, out, errs := runCmd("run", "--model", model, "--policy", pol, "--input", trace)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := runLines(t, out)
	if len(lines) < 10 {
		t.Fatalf("%d windows", len(lines))
	}
	h, err := ondevice.Open(model, pol, ondevice.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	f, err := os.Open(trace)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan()
	hdr := strings.Split(sc.Text(), ",")
	var ts, vals []float64
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ",")
		v, _ := strconv.ParseFloat(fields[slices.Index(hdr, "timestamp")], 64)
		ts = append(ts, v)
		for _, c := range h.Columns() {
			v, _ := strconv.ParseFloat(fields[slices.Index(hdr, c)], 64)
			vals = append(vals, v)
		}
	}
	var got []ondevice.Result
	nc := len(h.Columns())
	for i, chunk := 0, 1; i < len(ts); i, chunk = i+chunk, chunk%97+13 {
		j := min(i+chunk, len(ts))
		rs, err := h.PushIMU(ts[i:j], vals[i*nc:j*nc])
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, rs...)
	}
	rs, err := h.Flush()
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, rs...)
	if len(got) != len(lines) {
		t.Fatalf("the API made %d windows, kagen run %d", len(got), len(lines))
	}
	for i, l := range lines {
		g := got[i].Record()
		g.Label, g.LatencyUS, l.LatencyUS = l.Label, 0, 0 // the rows pushed carry no label; latency is measured
		if g != l {
			t.Fatalf("window %d: the API gives %+v, kagen run %+v", i, g, l)
		}
	}
}
