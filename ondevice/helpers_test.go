package ondevice

import (
	"bufio"
	"context"
	"io/fs"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kagen-ai/kagen/demo"
	"github.com/kagen-ai/kagen/deploy"
	"github.com/kagen-ai/kagen/device"
	"github.com/kagen-ai/kagen/replay"
)

// The demo's activity model and the example policy shipped for it
// (examples/har.policy.json, made by `kagen policy new` from
// docs/figures/har.pareto.json: confidence controller, floor 1 pp).
const policyPath = "../examples/har.policy.json"

func harModel(t testing.TB) []byte {
	t.Helper()
	return demo.Tasks()[0].Model
}

func harPolicy(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(policyPath)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func openHAR(t testing.TB, o Options) *Handle {
	t.Helper()
	h, err := OpenBytes(harModel(t), "har.onnx", harPolicy(t), "har.policy.json", o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// imuRows is a demo trace file read into PushIMU's arguments.
type imuRows struct {
	name       string
	timestamps []float64
	values     []float64
}

// demoRows reads the demo's activity traces, sorted by name as a
// replay of the folder plays them.
func demoRows(t testing.TB, cols []string) []imuRows {
	t.Helper()
	task := demo.Tasks()[0]
	ents, err := fs.ReadDir(task.Traces, task.Trace)
	if err != nil {
		t.Fatal(err)
	}
	var out []imuRows
	for _, e := range ents {
		f, err := task.Traces.Open(path.Join(task.Trace, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Scan()
		hdr := strings.Split(sc.Text(), ",")
		idx := make([]int, len(cols))
		for i, c := range cols {
			idx[i] = slices.Index(hdr, c)
		}
		ts := slices.Index(hdr, "timestamp")
		r := imuRows{name: e.Name()}
		for sc.Scan() {
			fields := strings.Split(sc.Text(), ",")
			v, err := strconv.ParseFloat(fields[ts], 64)
			if err != nil {
				t.Fatal(err)
			}
			r.timestamps = append(r.timestamps, v)
			for _, j := range idx {
				v, err := strconv.ParseFloat(fields[j], 64)
				if err != nil {
					t.Fatal(err)
				}
				r.values = append(r.values, v)
			}
		}
		f.Close()
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b imuRows) int { return strings.Compare(a.name, b.name) })
	return out
}

// replayEvents returns what `kagen replay` decides on the demo trace:
// per window the class, confidence, level, next level and rule of the
// policy's controller (not the scores: the exact run beside it may have
// overwritten them).
func replayEvents(t testing.TB) []Result {
	t.Helper()
	task := demo.Tasks()[0]
	d, err := deploy.Load(writeTemp(t, "har.onnx", task.Model), policyPath)
	if err != nil {
		t.Fatal(err)
	}
	dev, _ := device.Lookup("phone-big")
	var out []Result
	_, err = d.Replay(context.Background(), deploy.ReplaySettings{
		Options: deploy.Options{Traces: []replay.Trace{{Name: task.Trace, FS: task.Traces, Path: task.Trace}}, Device: dev},
		Each: func(ev *deploy.Event) error {
			e := ev.Runs[0]
			out = append(out, Result{Seq: ev.Seq, Class: e.Pred.Class, Confidence: e.Pred.Confidence, Level: e.Level,
				Next: e.Decision.To, Rule: e.Decision.Rule})
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func writeTemp(t testing.TB, name string, b []byte) string {
	t.Helper()
	p := path.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// sameDecision says how a result differs from the replay's, "" if not.
func sameDecision(got, want *Result) string {
	switch {
	case got.Class != want.Class:
		return "class " + strconv.Itoa(got.Class) + ", replay " + strconv.Itoa(want.Class)
	case got.Confidence != want.Confidence:
		return "confidence " + strconv.FormatFloat(float64(got.Confidence), 'g', -1, 32) + ", replay " + strconv.FormatFloat(float64(want.Confidence), 'g', -1, 32)
	case got.Level != want.Level || got.Next != want.Next:
		return "levels " + strconv.Itoa(got.Level) + "->" + strconv.Itoa(got.Next) + ", replay " + strconv.Itoa(want.Level) + "->" + strconv.Itoa(want.Next)
	case got.Rule != want.Rule:
		return "rule " + got.Rule + ", replay " + want.Rule
	}
	return ""
}
