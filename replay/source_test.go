package replay

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// rawSpec is an imu-raw spec over one column "a" at 50 Hz.
func rawSpec(window, hop int, classes ...string) *Spec {
	return &Spec{Version: 1, Task: TaskHAR, SampleRate: 50, Channels: []string{"a"}, Window: window, Hop: hop,
		Features: Features{Type: FeatIMURaw}, Classes: classes}
}

// labelledCSV writes a one-column trace at exactly 50 Hz whose value is the
// sample index and whose labels are given.
func labelledCSV(labels ...string) []byte {
	var b strings.Builder
	b.WriteString("timestamp,a,label\n")
	for i, l := range labels {
		fmt.Fprintf(&b, "%d,%d,%s\n", 1000+20*i, i, l)
	}
	return []byte(b.String())
}

func rep(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func cat(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestIMUWindows(t *testing.T) {
	dir := t.TempDir()
	// 20 samples: 6 A, 4 B, 10 C.
	p := writeFile(t, dir, "s07_01_sp.csv", labelledCSV(cat(rep("A", 6), rep("B", 4), rep("C", 10))...))
	tests := []struct {
		name          string
		window, hop   int
		wantLabels    []string
		wantFirstVals []float32
	}{
		{"hop half", 8, 4, []string{"A", "B", "C", "C"}, []float32{0, 4, 8, 12}},                       // [0,8): A6 B2; [4,12): A2 B4 C2; [8,16): B2 C6; [12,20): C8
		{"tie goes to the first", 4, 4, []string{"A", "A", "B", "C", "C"}, []float32{0, 4, 8, 12, 16}}, // [4,8): A2 B2
		{"hop larger than window", 5, 7, []string{"A", "B", "C"}, []float32{0, 7, 14}},
		{"window is the trace", 20, 1, []string{"C"}, []float32{0}},
		{"window longer than the trace", 21, 1, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec := rawSpec(tc.window, tc.hop, "A", "B", "C")
			src, err := Open(p, spec, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			xs, ws := allWindows(t, src, spec.InputSize())
			if len(ws) != len(tc.wantLabels) {
				t.Fatalf("%d windows, want %d", len(ws), len(tc.wantLabels))
			}
			for i, w := range ws {
				if w.Label != tc.wantLabels[i] || xs[i][0] != tc.wantFirstVals[i] || w.Index != i || w.File != p {
					t.Errorf("window %d: %+v first %v, want label %q first %v", i, w, xs[i][0], tc.wantLabels[i], tc.wantFirstVals[i])
				}
				wantStart := float64(tc.wantFirstVals[i]) / 50
				if !approx(w.Start, wantStart, 1e-9) || !approx(w.End, wantStart+float64(tc.window)/50, 1e-9) {
					t.Errorf("window %d spans %v-%v s", i, w.Start, w.End)
				}
				for k := range xs[i] {
					if xs[i][k] != tc.wantFirstVals[i]+float32(k) {
						t.Fatalf("window %d sample %d = %v", i, k, xs[i][k])
					}
				}
			}
		})
	}
}

func TestIMUDirectory(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "s01/s01_01_sp.csv", labelledCSV(rep("A", 10)...))
	writeFile(t, dir, "s01/s01_01_sw.csv", labelledCSV(rep("C", 10)...))
	writeFile(t, dir, "s02/s02_01_sp.csv", labelledCSV(rep("B", 7)...))
	writeFile(t, dir, "notes.txt", []byte("not a trace"))
	spec := rawSpec(4, 4, "A", "B", "C")
	tests := []struct {
		match string
		want  []string // file base names of the windows
	}{
		{"", []string{"s01_01_sp.csv", "s01_01_sp.csv", "s01_01_sw.csv", "s01_01_sw.csv", "s02_01_sp.csv"}},
		{"*_sp.csv", []string{"s01_01_sp.csv", "s01_01_sp.csv", "s02_01_sp.csv"}},
	}
	for _, tc := range tests {
		src, err := Open(dir, spec, Options{Match: tc.match})
		if err != nil {
			t.Fatal(err)
		}
		_, ws := allWindows(t, src, spec.InputSize())
		src.Close()
		var got []string
		for i, w := range ws {
			got = append(got, filepath.Base(w.File))
			if w.Index != i {
				t.Errorf("window %d has index %d", i, w.Index)
			}
		}
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("match %q: windows from %v, want %v", tc.match, got, tc.want)
		}
		// Windows restart at 0 s in each file.
		if ws[2].Start != 0 && tc.match == "" {
			t.Errorf("window 2 starts at %v", ws[2].Start)
		}
	}
	if _, err := Open(dir, spec, Options{Match: "*.json"}); err == nil || !strings.Contains(err.Error(), `no files matching "*.json"`) {
		t.Errorf("empty match: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	bad := writeFile(t, dir, "bad.csv", []byte("timestamp,a\n1,1\n2,1\n3,oops\n"))
	back := writeFile(t, dir, "back.csv", []byte("timestamp,a\n1,1\n30,1\n20,1\n"))
	nocol := writeFile(t, dir, "nocol.csv", []byte("timestamp,b\n1,1\n"))
	empty := writeFile(t, dir, "empty.csv", nil)
	wav := writeFile(t, dir, "x.wav", []byte("RIFF"))
	txt := writeFile(t, dir, "x.txt", []byte("x"))
	badLabels := writeFile(t, dir, "y.wav", encodeWAV(wavSpec{format: 1, bits: 16, channels: 1, rate: 8000}, mono(make([]float64, 10))))
	writeFile(t, dir, "y.labels.csv", []byte("start_s,end_s,label\n1,0.5,3\n"))
	clips := filepath.Join(dir, "clips")
	writeFile(t, clips, "nolabel.wav", encodeWAV(wavSpec{format: 1, bits: 16, channels: 1, rate: 8000}, mono(make([]float64, 10))))
	har, kws := rawSpec(2, 1, "A"), DefaultKWSSpec()
	tests := []struct {
		name string
		path string
		spec *Spec
		opts Options
		want string
	}{
		{"non-numeric", bad, har, Options{}, bad + `:4: column 2: got "oops"`},
		{"backwards", back, har, Options{}, back + ":4: timestamp 20 goes backwards"},
		{"missing column", nocol, har, Options{}, nocol + `:1: missing column "a"`},
		{"empty", empty, har, Options{}, empty + ":1: empty file"},
		{"wrong extension", txt, har, Options{}, "expected an IMU .csv file"},
		{"wav for har", wav, har, Options{}, "expected an IMU .csv file"},
		{"csv for kws", bad, kws, Options{}, "expected a .wav file"},
		{"truncated wav", wav, kws, Options{}, wav + ": byte offset 0: truncated RIFF header"},
		{"bad sidecar", badLabels, kws, Options{}, "y.labels.csv:2: end_s 0.5 is not after start_s 1"},
		{"clip name", clips, kws, Options{}, "does not start with its label"},
		{"missing", filepath.Join(dir, "nope.csv"), har, Options{}, "no such file"},
		{"bad hop", bad, har, Options{Hop: -1}, "hop -1"},
		{"bad gap", clips, kws, Options{Gap: -1}, "gap -1"},
		{"bad snr", clips, kws, Options{Noise: true, SNR: math.NaN()}, "snr NaN"},
		{"bad pattern", clips, kws, Options{Match: "["}, `match "["`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src, err := Open(tc.path, tc.spec, tc.opts)
			if err == nil {
				_, err = src.Next(make([]float32, tc.spec.InputSize()))
				for err == nil {
					_, err = src.Next(make([]float32, tc.spec.InputSize()))
				}
				if _, again := src.Next(make([]float32, tc.spec.InputSize())); again != err {
					t.Errorf("error not sticky: %v, then %v", err, again)
				}
				src.Close()
			}
			if err == nil || err == io.EOF || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestNextAllocs(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 1))
	rows, ts, labels := synthIMU(rng, 30000)
	csvPath := writeFile(t, dir, "long.csv", imuCSV(rows, ts, labels))
	noise := make([]float64, 8000*60)
	for i := range noise {
		noise[i] = 0.1 * rng.NormFloat64()
	}
	wav8k := writeFile(t, dir, "long8k.wav", encodeWAV(wavSpec{format: 1, bits: 16, channels: 1, rate: 8000}, mono(noise)))
	writeFile(t, dir, "long8k.labels.csv", []byte("start_s,end_s,label\n1,2,3\n30,31,4\n"))
	stereo := make([][]float64, len(noise))
	for i, v := range noise {
		stereo[i] = []float64{v, -v}
	}
	wav16k := writeFile(t, dir, "long16k.wav", encodeWAV(wavSpec{format: 1, bits: 24, channels: 2, rate: 16000}, stereo))
	tests := []struct {
		name string
		path string
		spec *Spec
	}{
		{"imu-orient", csvPath, DefaultHARSpec()},
		{"wav 8k logmel", wav8k, DefaultKWSSpec()},
		{"wav resampled", wav16k, DefaultKWSSpec()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src, err := Open(tc.path, tc.spec, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			dst := make([]float32, tc.spec.InputSize())
			for range 3 { // warm up
				if _, err := src.Next(dst); err != nil {
					t.Fatal(err)
				}
			}
			a := testing.AllocsPerRun(20, func() {
				if _, err := src.Next(dst); err != nil {
					t.Fatal(err)
				}
			})
			if a != 0 {
				t.Fatalf("Next allocates %v times per window", a)
			}
		})
	}
}

func TestWAVStreamLabels(t *testing.T) {
	dir := t.TempDir()
	x := make([]float64, 8000*4) // 4 s
	p := writeFile(t, dir, "trace.wav", encodeWAV(wavSpec{format: 1, bits: 16, channels: 1, rate: 8000}, mono(x)))
	unl := writeFile(t, dir, "unlabelled.wav", encodeWAV(wavSpec{format: 1, bits: 16, channels: 1, rate: 8000}, mono(x)))
	writeFile(t, dir, "trace.labels.csv", []byte("start_s,end_s,label\n0.9,1.2,7\n2.0,2.5,3\n"))
	spec := DefaultKWSSpec()
	tests := []struct {
		path   string
		labels []string
	}{
		// centres 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5
		{p, []string{"_silence_", "7", "_silence_", "3", "_silence_", "_silence_", "_silence_"}},
		{unl, []string{"", "", "", "", "", "", ""}},
	}
	for _, tc := range tests {
		src, err := Open(tc.path, spec, Options{})
		if err != nil {
			t.Fatal(err)
		}
		_, ws := allWindows(t, src, spec.InputSize())
		src.Close()
		var got []string
		for _, w := range ws {
			got = append(got, w.Label)
		}
		if strings.Join(got, ",") != strings.Join(tc.labels, ",") {
			t.Errorf("%s: labels %q, want %q", tc.path, got, tc.labels)
		}
	}
}

// clipDir writes clips of a tone whose length and label are given.
func clipDir(t *testing.T, clips map[string]int) string {
	dir := t.TempDir()
	for name, n := range clips {
		x := make([]float64, n)
		for i := range x {
			x[i] = 0.5 * math.Sin(2*math.Pi*440*float64(i)/8000)
		}
		writeFile(t, dir, name, encodeWAV(wavSpec{format: 1, bits: 16, channels: 1, rate: 8000}, mono(x)))
	}
	return dir
}

func TestClipStream(t *testing.T) {
	dir := clipDir(t, map[string]int{"3_alice_0.wav": 4000, "5_bob_1.wav": 8000})
	spec := DefaultKWSSpec()
	spec.Hop = 2000 // 0.25 s
	// Stream: gap [0,1), 3 [1,1.5), gap [1.5,2.5), 5 [2.5,3.5), gap [3.5,4.5).
	src, err := Open(dir, spec, Options{Gap: 1})
	if err != nil {
		t.Fatal(err)
	}
	xs, ws := allWindows(t, src, spec.InputSize())
	src.Close()
	if len(ws) != 15 { // windows start at 0, 0.25, ..., 3.5
		t.Fatalf("%d windows, want 15", len(ws))
	}
	for i, w := range ws {
		c := (w.Start + w.End) / 2
		want, file := "_silence_", ""
		switch {
		case c >= 1 && c < 1.5:
			want = "3"
		case c >= 2.5 && c < 3.5:
			want = "5"
		}
		switch {
		case c <= 1.5+0.5: // equally near both: the earlier clip
			file = "3_alice_0.wav"
		default:
			file = "5_bob_1.wav"
		}
		if w.Label != want || filepath.Base(w.File) != file {
			t.Errorf("window %d centred at %v s: label %q file %s, want %q %s", i, c, w.Label, w.File, want, file)
		}
	}
	// The first window is all silence: every value is the log floor.
	if xs[0][0] != float32(math.Log(1e-6)) {
		t.Errorf("silent window value %v", xs[0][0])
	}
	// With noise the same seed gives the same stream, another seed another.
	run := func(seed uint64) []float32 {
		src, err := Open(dir, spec, Options{Gap: 1, Noise: true, SNR: 10, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		xs, _ := allWindows(t, src, spec.InputSize())
		return xs[0]
	}
	a, b, c := run(1), run(1), run(2)
	if a[0] != b[0] || a[0] == c[0] || a[0] == float32(math.Log(1e-6)) {
		t.Errorf("noise: seed 1 %v and %v, seed 2 %v", a[0], b[0], c[0])
	}
}

func TestOnePerClip(t *testing.T) {
	// A short clip is centred with zero padding; a long one (3 s) with its
	// energy in the last second is cropped around that.
	dir := t.TempDir()
	short := make([]float64, 4000)
	for i := range short {
		short[i] = 0.5
	}
	long := make([]float64, 24000)
	for i := 16000; i < 24000; i++ {
		long[i] = 0.5 * math.Sin(float64(i))
	}
	writeFile(t, dir, "1_x_0.wav", encodeWAV(wavSpec{format: 1, bits: 16, channels: 1, rate: 8000}, mono(short)))
	writeFile(t, dir, "2_y_0.wav", encodeWAV(wavSpec{format: 1, bits: 16, channels: 1, rate: 8000}, mono(long)))
	// Same clip at 16 kHz stereo float: resampled on load.
	st := make([][]float64, 8000)
	for i := range st {
		st[i] = []float64{0.5, 0.5}
	}
	writeFile(t, dir, "9_z_0.wav", encodeWAV(wavSpec{format: 3, bits: 32, channels: 2, rate: 16000}, st))
	spec := DefaultKWSSpec()
	src, err := Open(dir, spec, Options{OnePerClip: true})
	if err != nil {
		t.Fatal(err)
	}
	_, ws := allWindows(t, src, spec.InputSize())
	src.Close()
	want := []Window{
		{Index: 0, Start: -0.25, End: 0.75, Label: "1", File: filepath.Join(dir, "1_x_0.wav")},
		{Index: 1, Start: 2, End: 3, Label: "2", File: filepath.Join(dir, "2_y_0.wav")},
		{Index: 2, Start: -0.25, End: 0.75, Label: "9", File: filepath.Join(dir, "9_z_0.wav")},
	}
	if len(ws) != len(want) {
		t.Fatalf("windows %+v", ws)
	}
	for i := range ws {
		if ws[i].Index != want[i].Index || !approx(ws[i].Start, want[i].Start, 1e-3) || !approx(ws[i].End, want[i].End, 1e-3) ||
			ws[i].Label != want[i].Label || ws[i].File != want[i].File {
			t.Errorf("window %d: %+v, want %+v", i, ws[i], want[i])
		}
	}
	// A single clip file works too.
	src, err = Open(filepath.Join(dir, "1_x_0.wav"), spec, Options{OnePerClip: true})
	if err != nil {
		t.Fatal(err)
	}
	_, ws = allWindows(t, src, spec.InputSize())
	if len(ws) != 1 || ws[0].Label != "1" {
		t.Errorf("single clip: %+v", ws)
	}
	// A clip over the length limit is refused.
	if src, err = Open(dir, spec, Options{OnePerClip: true, MaxClipSeconds: 2}); err == nil {
		_, err = src.Next(make([]float32, spec.InputSize()))
		_, err = src.Next(make([]float32, spec.InputSize()))
	}
	if err == nil || !strings.Contains(err.Error(), "2_y_0.wav: clip longer than 16000 samples") {
		t.Errorf("long clip: %v", err)
	}
}

func TestOpenFS(t *testing.T) {
	fsys := fstest.MapFS{
		"demo/har/s20_01_sp.csv":    {Data: labelledCSV(rep("A", 12)...)},
		"demo/kws/trace.wav":        {Data: encodeWAV(wavSpec{format: 1, bits: 16, channels: 1, rate: 8000}, mono(make([]float64, 16000)))},
		"demo/kws/trace.labels.csv": {Data: []byte("start_s,end_s,label\n0.2,0.8,4\n")},
	}
	src, err := OpenFS(fsys, "demo/har", rawSpec(4, 4, "A"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, ws := allWindows(t, src, 4)
	if len(ws) != 3 || ws[0].File != "demo/har/s20_01_sp.csv" {
		t.Errorf("har: %+v", ws)
	}
	spec := DefaultKWSSpec()
	src, err = OpenFS(fsys, "demo/kws/trace.wav", spec, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, ws = allWindows(t, src, spec.InputSize())
	if len(ws) != 3 || ws[0].Label != "4" || ws[1].Label != SilenceLabel {
		t.Errorf("kws: %+v", ws)
	}
}

// TestSharedHARReplay replays one subject's smartphone traces with the
// default spec.
func TestSharedHARReplay(t *testing.T) {
	dir := sharedData(t, "har-spsw/DATA/s01")
	spec := DefaultHARSpec()
	src, err := Open(dir, spec, Options{Match: "*_sp.csv"})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	xs, ws := allWindows(t, src, spec.InputSize())
	counts := map[string]int{}
	files := map[string]bool{}
	for i, w := range ws {
		counts[w.Label]++
		files[w.File] = true
		for _, v := range xs[i] {
			if math.IsNaN(float64(v)) || math.Abs(float64(v)) > 1000 {
				t.Fatalf("window %d: value %v", i, v)
			}
		}
	}
	if len(files) < 5 || len(ws) < 5*len(files) {
		t.Errorf("%d windows from %d files", len(ws), len(files))
	}
	if counts["WALKING"] == 0 || counts["SEATED"] == 0 {
		t.Errorf("label counts %v", counts)
	}
	t.Logf("s01: %d windows from %d files: %v", len(ws), len(files), counts)
}

func TestSharedFSDDOnePerClip(t *testing.T) {
	dir := sharedData(t, "fsdd/recordings")
	spec := DefaultKWSSpec()
	src, err := Open(dir, spec, Options{OnePerClip: true, Match: "*_theo_4*.wav"})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	_, ws := allWindows(t, src, spec.InputSize())
	if len(ws) != 110 { // 10 digits x 11 indices (4, 40..49)
		t.Errorf("%d windows", len(ws))
	}
	for _, w := range ws {
		if lab, _ := clipLabel(w.File); lab != w.Label || GroupOf(TaskKWS, w.File) != "theo" {
			t.Fatalf("window %+v", w)
		}
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatal(err)
	}
}
