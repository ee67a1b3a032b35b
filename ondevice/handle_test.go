package ondevice

import (
	"context"
	"errors"
	"github.com/kagen-ai/kagen/deploy"
	"github.com/kagen-ai/kagen/device"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/kagen-ai/kagen/demo"
	"github.com/kagen-ai/kagen/policy"
	"github.com/kagen-ai/kagen/replay"
)

// TestPushIMUAgreesWithReplay: the demo trace's rows pushed in chunks of
// every size from one row to a whole file, each file ended by Flush, give
// the windows `kagen replay` plays on the folder, with the same classes,
// confidences, scores, levels and rules.
func TestPushIMUAgreesWithReplay(t *testing.T) {
	want := replayEvents(t)
	if len(want) == 0 {
		t.Fatal("the replay played no window")
	}
	for _, chunk := range []int{1, 7, 64, 1000, 1 << 20} {
		h := openHAR(t, Options{})
		files := demoRows(t, h.Columns())
		var got []Result
		keep := func(rs []Result) {
			for _, r := range rs {
				r.Scores = slices.Clone(r.Scores)
				got = append(got, r)
			}
		}
		nc := len(h.Columns())
		for _, f := range files {
			for i := 0; i < len(f.timestamps); i += chunk {
				j := min(i+chunk, len(f.timestamps))
				rs, err := h.PushIMU(f.timestamps[i:j], f.values[i*nc:j*nc])
				if err != nil {
					t.Fatalf("chunk %d: %s row %d: %v", chunk, f.name, i, err)
				}
				keep(rs)
			}
			rs, err := h.Flush()
			if err != nil {
				t.Fatalf("chunk %d: flush %s: %v", chunk, f.name, err)
			}
			keep(rs)
		}
		if len(got) != len(want) {
			t.Fatalf("chunk %d: %d windows, replay %d", chunk, len(got), len(want))
		}
		for i := range got {
			if got[i].Seq != int64(i) {
				t.Errorf("chunk %d: window %d has seq %d", chunk, i, got[i].Seq)
			}
			if d := sameDecision(&got[i], &want[i]); d != "" {
				t.Fatalf("chunk %d: window %d: %s", chunk, i, d)
			}
		}
		st := h.Stats()
		if st.Windows != int64(len(want)) || st.EnergyJ <= 0 || st.BusyUS <= 0 || st.Meter != "phone-big (modelled)" {
			t.Errorf("chunk %d: stats %+v", chunk, st)
		}
		var sum int64
		for _, n := range st.LevelWindows {
			sum += n
		}
		if sum != st.Windows {
			t.Errorf("chunk %d: windows per level %v sum to %d, not %d", chunk, st.LevelWindows, sum, st.Windows)
		}
	}
}

// TestPushStreamAgreesWithPushIMU: the trace files' own CSV text pushed
// byte by byte in odd chunks (cut mid-line) gives the same windows.
func TestPushStreamAgreesWithReplay(t *testing.T) {
	want := replayEvents(t)
	h := openHAR(t, Options{})
	task := demo.Tasks()[0]
	var got []Result
	for _, name := range []string{"s17_01_sp.csv", "s18_02_sp.csv", "s19_03_sp.csv"} {
		b, err := os.ReadFile("../demo/data/" + task.Trace + "/" + name)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < len(b); i += 333 {
			rs, err := h.PushStream(b[i:min(i+333, len(b))])
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rs {
				got = append(got, r)
				if r.Label == "" {
					t.Errorf("window %d: no label, the CSV has a label column", r.Seq)
				}
			}
		}
		rs, err := h.Flush()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, rs...)
	}
	if len(got) != len(want) {
		t.Fatalf("%d windows, replay %d", len(got), len(want))
	}
	for i := range got {
		if d := sameDecision(&got[i], &want[i]); d != "" {
			t.Fatalf("window %d: %s", i, d)
		}
	}
}

// TestPushWindowAgreesWithReplay: the front-end's windows pushed ready
// make the replay's decisions.
func TestPushWindowAgreesWithReplay(t *testing.T) {
	want := replayEvents(t)
	h := openHAR(t, Options{})
	task := demo.Tasks()[0]
	src, err := replay.OpenFS(task.Traces, task.Trace, h.Deployment().Spec, replay.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	x := make([]float32, h.WindowSize())
	for i := 0; ; i++ {
		if _, err := src.Next(x); errors.Is(err, io.EOF) {
			if i != len(want) {
				t.Fatalf("%d windows, replay %d", i, len(want))
			}
			break
		} else if err != nil {
			t.Fatal(err)
		}
		r, err := h.PushWindow(x)
		if err != nil {
			t.Fatal(err)
		}
		if d := sameDecision(r, &want[i]); d != "" {
			t.Fatalf("window %d: %s", i, d)
		}
		if p := replay.Predict(r.Scores); p.Class != r.Class || p.Confidence != r.Confidence {
			t.Fatalf("window %d: scores %v predict %+v, the result says class %d confidence %v", i, r.Scores, p, r.Class, r.Confidence)
		}
	}
}

// TestSteadyStateAllocatesNothing: once warm, a window pushed ready, a
// hop of IMU rows and a hop of CSV text each allocate nothing.
func TestSteadyStateAllocatesNothing(t *testing.T) {
	h := openHAR(t, Options{})
	x := make([]float32, h.WindowSize())
	for i := range x {
		x[i] = float32(i%7) / 7
	}
	for range 20 {
		if _, err := h.PushWindow(x); err != nil {
			t.Fatal(err)
		}
	}
	if a := testing.AllocsPerRun(50, func() { h.PushWindow(x) }); a != 0 {
		t.Errorf("PushWindow: %v allocations per window", a)
	}

	h2 := openHAR(t, Options{})
	f := demoRows(t, h2.Columns())[0]
	nc := len(h2.Columns())
	hop := h2.Deployment().Spec.Hop
	// A push of a hop of rows makes a window every push or two (the
	// demo traces are sampled faster than the model's rate).
	i := 0
	push := func() {
		if i+hop > len(f.timestamps) {
			t.Fatal("the trace is too short for the test")
		}
		if _, err := h2.PushIMU(f.timestamps[i:i+hop], f.values[i*nc:(i+hop)*nc]); err != nil {
			t.Fatal(err)
		}
		i += hop
	}
	for range 6 {
		push()
	}
	if a := testing.AllocsPerRun(10, push); a != 0 {
		t.Errorf("PushIMU: %v allocations per hop of rows", a)
	}
	if h2.Stats().Windows < 5 {
		t.Errorf("%d windows from %d rows", h2.Stats().Windows, i)
	}
}

// TestBadInput: every refusal names what was expected and leaves the
// handle usable.
func TestBadInput(t *testing.T) {
	model, pol := harModel(t), harPolicy(t)
	kws := demo.Tasks()[1].Model
	for _, tc := range []struct {
		name        string
		model, pol  []byte
		want        string
		wantOpenErr bool
	}{
		{"truncated model", model[:len(model)/2], pol, "har.onnx", true},
		{"empty model", nil, pol, "har.onnx", true},
		{"policy of another model", kws, pol, "another model", true},
		{"truncated policy", model, pol[:len(pol)/2], "har.policy.json", true},
		{"not a policy", model, []byte("{}"), "har.policy.json", true},
	} {
		_, err := OpenBytes(tc.model, "har.onnx", tc.pol, "har.policy.json", Options{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, expected one naming %q", tc.name, err, tc.want)
		}
	}
	if _, err := Open("no/such/model.onnx", policyPath, Options{}); err == nil || !strings.Contains(err.Error(), "no/such/model.onnx") {
		t.Errorf("missing model file: %v", err)
	}

	h := openHAR(t, Options{})
	nc := len(h.Columns())
	row := make([]float64, nc)
	for _, tc := range []struct {
		name   string
		ts, vs []float64
		want   string
	}{
		{"too few values", []float64{1000}, row[:nc-1], "expected 6"},
		{"NaN value", []float64{1000}, append(slices.Clone(row[:nc-1]), math.NaN()), "row 0 value 5: NaN"},
		{"infinite timestamp", []float64{math.Inf(1)}, row, "timestamp +Inf"},
		{"backwards", []float64{1000, 999}, append(slices.Clone(row), row...), "row 1: timestamp 999 goes backwards"},
	} {
		if _, err := h.PushIMU(tc.ts, tc.vs); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, expected one with %q", tc.name, err, tc.want)
		}
	}
	if _, err := h.PushIMU([]float64{1000}, row); err != nil {
		t.Fatalf("a good row after refused ones: %v", err)
	}
	if _, err := h.PushWindow(make([]float32, h.WindowSize())); err == nil || !strings.Contains(err.Error(), "raw samples") {
		t.Errorf("a window to a handle of samples: %v", err)
	}
	if _, err := h.PushPCM16([]int16{1, 2}); err == nil || !strings.Contains(err.Error(), "not audio") {
		t.Errorf("PCM to an IMU model: %v", err)
	}

	w := openHAR(t, Options{})
	for _, x := range [][]float32{nil, make([]float32, w.WindowSize()-1), make([]float32, w.WindowSize()+1)} {
		if _, err := w.PushWindow(x); err == nil || !strings.Contains(err.Error(), "expected 384") {
			t.Errorf("window of %d values: %v", len(x), err)
		}
	}
	x := make([]float32, w.WindowSize())
	x[3] = float32(math.Inf(-1))
	if _, err := w.PushWindow(x); err == nil || !strings.Contains(err.Error(), "window value 3 is -Inf") {
		t.Errorf("infinite window value: %v", err)
	}
	w.Close()
	if _, err := w.PushWindow(make([]float32, w.WindowSize())); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("push after close: %v", err)
	}
}

// TestStrictStreamStops: with Strict a malformed line stops the stream
// with an error naming the line, and every later push says so; without
// it the line is skipped and counted.
func TestStrictStreamStops(t *testing.T) {
	text := "timestamp,x_acc,y_acc,z_acc,x_gyro,y_gyro,z_gyro\n1000,1,2,3,4,5,6\n1020,1,2,x,4,5,6\n1040,1,2,3,4,5,6\n"
	h := openHAR(t, Options{Strict: true})
	_, err := h.PushStream([]byte(text))
	if err == nil || !strings.Contains(err.Error(), "stream:3: column 4") {
		t.Fatalf("strict: %v", err)
	}
	if _, err2 := h.PushStream([]byte("1060,1,2,3,4,5,6\n")); err2 == nil || err2.Error() != err.Error() {
		t.Errorf("push after the stream stopped: %v", err2)
	}
	l := openHAR(t, Options{})
	if _, err := l.PushStream([]byte(text)); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	if st := l.Stats(); st.BadLines != 1 {
		t.Errorf("%d bad lines, expected 1", st.BadLines)
	}
}

// TestSetGoal: the floor changes the levels the controller may run, a
// budget needs the budget controller, and bad goals are refused.
func TestSetGoal(t *testing.T) {
	h := openHAR(t, Options{})
	files := demoRows(t, h.Columns())
	nc := len(h.Columns())
	f := files[0]
	half := len(f.timestamps) / 2
	if _, err := h.PushIMU(f.timestamps[:half], f.values[:half*nc]); err != nil {
		t.Fatal(err)
	}
	if h.Stats().LevelWindows[2] == 0 {
		t.Fatalf("no window at level 2 before the floor: %v", h.Stats().LevelWindows)
	}
	// The policy's levels 1 and 2 lose less than 0 pp (calibrated): a
	// floor of -0.5 pp keeps level 1 (-0.76) and refuses level 2 (-0.38);
	// but a negative floor removes the guard, so use the loss of level 2
	// less a little, in a policy whose levels lose more.
	if err := h.SetFloor(math.NaN()); err == nil {
		t.Error("floor NaN accepted")
	}
	if err := h.SetBudget(0.001, 0); err == nil || !strings.Contains(err.Error(), "not budget") {
		t.Errorf("budget on the confidence controller: %v", err)
	}
	if err := h.SetFloor(2); err != nil {
		t.Fatal(err)
	}
	if p := h.Params(); p.Floor == nil || p.Floor.LossPP != 2 {
		t.Errorf("params after SetFloor(2): %v", p)
	}
	if err := h.SetFloor(-1); err != nil {
		t.Fatal(err)
	}
	if h.Params().Floor != nil {
		t.Errorf("the floor guard is still there: %v", h.Params())
	}
	h.ResetStats()
	if _, err := h.PushIMU(f.timestamps[half:], f.values[half*nc:]); err != nil {
		t.Fatal(err)
	}
	st := h.Stats()
	if st.Windows == 0 || st.LevelWindows[0]+st.LevelWindows[1]+st.LevelWindows[2] != st.Windows {
		t.Errorf("stats after reset: %+v", st)
	}
	if r := h.Report("har.onnx"); r == nil || r.Windows != int(st.Windows) {
		t.Errorf("report after the goal change: %+v, expected %d windows", r, st.Windows)
	}
}

// TestSetBudget: a budget policy's goal changes while it runs and
// steers the mean energy.
func TestSetBudget(t *testing.T) {
	m := harModel(t)
	pol, err := policy.ParsePolicy(harPolicy(t), "har.policy.json", policy.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pol.Controller, err = (policy.Params{Name: policy.Budget, Budget: &policy.BudgetParams{LatencyUS: 150}}).WithDefaults(); err != nil {
		t.Fatal(err)
	}
	pol.Checksum = ""
	b, err := pol.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	h, err := OpenBytes(m, "har.onnx", b, "budget.json", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	for _, tc := range []struct {
		j, us float64
		ok    bool
	}{{0, 0, false}, {1, 1, false}, {-1, 0, false}, {0.0004, 0, true}, {0, 120, true}} {
		err := h.SetBudget(tc.j, tc.us)
		if (err == nil) != tc.ok {
			t.Errorf("SetBudget(%v, %v): %v", tc.j, tc.us, err)
		}
	}
	if p := h.Params(); p.Budget.LatencyUS != 120 || p.Budget.EnergyJ != 0 {
		t.Errorf("params: %v", p)
	}
}

// TestPushPCM16AgreesWithReplay: the demo's keyword recording pushed as
// 16-bit samples at its own rate (8 kHz, resampled by the front-end) in
// chunks cut anywhere gives `kagen replay`'s windows and decisions.
func TestPushPCM16AgreesWithReplay(t *testing.T) {
	task := demo.Tasks()[1]
	pol, err := os.ReadFile("../examples/kws.policy.json")
	if err != nil {
		t.Fatal(err)
	}
	wav, err := os.ReadFile("../demo/data/kws.wav")
	if err != nil {
		t.Fatal(err)
	}
	// The demo's WAV: a 44-byte header, mono 16-bit PCM at 8000 Hz.
	pcm := make([]int16, (len(wav)-44)/2)
	for i := range pcm {
		pcm[i] = int16(uint16(wav[44+2*i]) | uint16(wav[45+2*i])<<8)
	}
	d, err := deploy.Load(writeTemp(t, "kws.onnx", task.Model), "../examples/kws.policy.json")
	if err != nil {
		t.Fatal(err)
	}
	var want []Result
	if _, err := d.Replay(context.Background(), deploy.ReplaySettings{
		Options: deploy.Options{Traces: []replay.Trace{{Name: task.Trace, FS: task.Traces, Path: task.Trace}}, Device: h0dev(t)},
		Each: func(ev *deploy.Event) error {
			e := ev.Runs[0]
			want = append(want, Result{Class: e.Pred.Class, Confidence: e.Pred.Confidence, Level: e.Level, Next: e.Decision.To, Rule: e.Decision.Rule})
			return nil
		}}); err != nil {
		t.Fatal(err)
	}
	h, err := OpenBytes(task.Model, "kws.onnx", pol, "kws.policy.json", Options{Rate: 8000})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	var got []Result
	for i := 0; i < len(pcm); i += 1234 {
		rs, err := h.PushPCM16(pcm[i:min(i+1234, len(pcm))])
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
	if len(got) != len(want) || len(got) == 0 {
		t.Fatalf("%d windows, replay %d", len(got), len(want))
	}
	for i := range got {
		if d := sameDecision(&got[i], &want[i]); d != "" {
			t.Fatalf("window %d: %s", i, d)
		}
	}
	if _, err := h.PushPCM32([]float32{0}); err == nil || !strings.Contains(err.Error(), "s16le") {
		t.Errorf("float PCM to a stream of 16-bit PCM: %v", err)
	}
	if _, err := h.PushIMU([]float64{1}, []float64{1}); err == nil || !strings.Contains(err.Error(), "not IMU") {
		t.Errorf("IMU rows to an audio model: %v", err)
	}
}

func h0dev(t *testing.T) *device.Profile {
	p, err := device.Lookup("phone-big")
	if err != nil {
		t.Fatal(err)
	}
	return p
}
