package replay

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kagen-ai/kagen/engine"
)

// gapCSV writes a one-column trace at 50 Hz (value = sample index) with a
// jump of gapMS after sample `at`.
func gapCSV(n, at int, gapMS int64, label string) []byte {
	var b strings.Builder
	b.WriteString("timestamp,a,label\n")
	ts := int64(1000)
	for i := 0; i < n; i++ {
		if i == at {
			ts += gapMS - 20
		}
		fmt.Fprintf(&b, "%d,%d,%s\n", ts, i, label)
		ts += 20
	}
	return []byte(b.String())
}

// TestGapSplit is the regression test of #19 item 15: a 59 s gap in a
// trace was interpolated into invented windows. A gap longer than
// Options.MaxGap (default: one window) splits the trace, no window spans
// it, and the split is counted.
func TestGapSplit(t *testing.T) {
	tests := []struct {
		name     string
		n, at    int
		gapMS    int64
		maxGap   float64
		windows  int
		gaps     int
		starts   []float64 // of the windows after the gap, s from the first timestamp
		firstVal float32   // first value of the first window after the gap
	}{
		// 40 samples in windows of 10 (hop 10): 20 before, 20 after a 59 s gap
		{"59 s gap, default", 40, 20, 59000, 0, 4, 1, []float64{59.38, 59.58}, 20},
		{"gap of one window is interpolated", 40, 20, 200, 0, 4, 0, []float64{0.4, 0.6}, 0},
		{"gap just over one window", 40, 20, 220, 0, 4, 1, []float64{0.6, 0.8}, 20},
		{"--max-gap 60 interpolates 59 s", 40, 20, 59000, 60, 298, 0, nil, 0}, // 59.76 s at 50 Hz
		{"a short piece after the gap gives no window", 25, 20, 5000, 0, 2, 1, nil, 0},
		{"two gaps", 40, 10, 3000, 1, 4, 1, nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, t.TempDir(), "g.csv", gapCSV(tc.n, tc.at, tc.gapMS, "A"))
			spec := rawSpec(10, 10, "A")
			src, err := Open(p, spec, Options{MaxGap: tc.maxGap})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			xs, ws := allWindows(t, src, spec.InputSize())
			if len(ws) != tc.windows {
				t.Fatalf("%d windows, want %d", len(ws), tc.windows)
			}
			if st := StatsOf(src); st.Gaps != tc.gaps || st.Windows != tc.windows {
				t.Errorf("stats %+v, want %d gaps, %d windows", st, tc.gaps, tc.windows)
			}
			if tc.starts != nil {
				for i, want := range tc.starts {
					w := ws[2+i]
					if !approx(w.Start, want, 1e-6) {
						t.Errorf("window %d starts at %v s, want %v", 2+i, w.Start, want)
					}
				}
				if tc.gaps > 0 && xs[2][0] != tc.firstVal {
					t.Errorf("window after the gap starts with %v, want %v", xs[2][0], tc.firstVal)
				}
			}
		})
	}
	if _, err := Open("x.csv", rawSpec(10, 10, "A"), Options{MaxGap: 61}); err == nil || !strings.Contains(err.Error(), "max-gap 61, expected 0 (one window) to 60 seconds") {
		t.Errorf("max gap 61: %v", err)
	}
}

// TestSkipBadLines is the regression test of #19 item 25: one malformed
// line (a sensor glitch's NaN) ended the whole stream. With
// SkipBadLines it is skipped and counted; without, it stops the trace.
func TestSkipBadLines(t *testing.T) {
	good := string(labelledCSV(rep("A", 30)...))
	lines := strings.SplitAfter(good, "\n")
	with := func(bad ...string) []byte { // bad lines after data line 5
		return []byte(strings.Join(lines[:6], "") + strings.Join(bad, "\n") + "\n" + strings.Join(lines[6:], ""))
	}
	tests := []struct {
		name    string
		data    []byte
		skip    bool
		windows int
		bad     int
		first   string
		err     string
	}{
		{"NaN skipped", with("1120,NaN,A"), true, 3, 1, "t.csv:7: column 2", ""},
		{"NaN stops without skipping", with("1120,NaN,A"), false, 0, 0, "", "t.csv:7: column 2: got \"NaN\", expected a finite number"},
		{"several kinds", with("1120,1", "1120,x,A", "1120,1,A,extra", "500,1,A", "1120,Inf,A", ",,"), true, 3, 6, "t.csv:7: 2 fields, expected 3", ""},
		{"long line skipped", with("1120," + strings.Repeat("9", MaxCSVLine+10) + ",A"), true, 3, 1, "t.csv:7: line longer than", ""},
		{"only bad lines", []byte("timestamp,a,label\n1,x,A\n2,y,A\n"), true, 0, 2, "t.csv:2: column 2", "no good data rows: all 2 were skipped as malformed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src, err := OpenFS(&streamFS{name: "t.csv", r: strings.NewReader(string(tc.data))}, "t.csv", rawSpec(10, 10, "A"), Options{SkipBadLines: tc.skip})
			if err != nil {
				t.Fatal(err)
			}
			dst := make([]float32, 10)
			n := 0
			for {
				_, err = src.Next(dst)
				if err != nil {
					break
				}
				n++
			}
			if tc.err == "" && err != io.EOF || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("error %v, want %q", err, tc.err)
			}
			st := StatsOf(src)
			if n != tc.windows || st.BadLines != tc.bad {
				t.Errorf("%d windows, %d bad lines; want %d, %d (%v)", n, st.BadLines, tc.windows, tc.bad, st.FirstBad)
			}
			if tc.bad > 0 && (len(st.FirstBad) == 0 || !strings.Contains(st.FirstBad[0].Error(), tc.first)) {
				t.Errorf("first bad lines %v, want %q first", st.FirstBad, tc.first)
			}
		})
	}
}

// TestCSVText is the regression test of #19 item 24's CSV findings:
// CR-only line ends were read as one line too long, and binary or UTF-16
// headers were echoed raw.
func TestCSVText(t *testing.T) {
	tests := []struct {
		name string
		data string
		rows int
		err  string
	}{
		{"CR only", "timestamp,a,b\r1,2,3\r2,4,5\r", 2, ""},
		{"CR LF", "timestamp,a,b\r\n1,2,3\r\n2,4,5\r\n", 2, ""},
		{"mixed", "timestamp,a,b\r1,2,3\n2,4,5\r\n\r3,4,5", 3, ""},
		{"CR only, error line number", "timestamp,a,b\r1,2,3\r2,x,5\r", 0, "t.csv:3: column 2"},
		{"UTF-16 LE", "\xff\xfet\x00i\x00m\x00", 0, `t.csv:1: not a text CSV: UTF-16 text (byte order mark "\xff\xfe"); save it as UTF-8`},
		{"binary", "\x7fELF\x02\x01\x01\x00\x00\x00\x1b[31m\n", 0, `t.csv:1: not a text CSV: the header holds binary data ("\x7fELF\x02\x01\x01\x00\x00\x00\x1b[31m")`},
		{"escape in a column name", "timestamp,a,\x1b[2Jb\n1,2,3\n", 0, `not a text CSV: the header holds binary data ("timestamp,a,\x1b[2Jb")`},
		{"missing column, names quoted", "timestamp,a,x y\n1,2,3\n", 0, `missing column "b"; header has: timestamp, a, "x y"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rows, _, _, err := readAllCSV("t.csv", tc.data, []string{"a", "b"})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				if strings.ContainsAny(err.Error(), "\x00\x1b\xff") {
					t.Errorf("error echoes raw bytes: %q", err)
				}
				return
			}
			if err != nil || len(rows) != tc.rows {
				t.Fatalf("%d rows, %v; want %d", len(rows), err, tc.rows)
			}
		})
	}
}

// TestNoWindowReasons is the regression test of #19 item 23's traces
// that give no window: the source says why in words (Stats.Short).
func TestNoWindowReasons(t *testing.T) {
	var secs strings.Builder
	secs.WriteString("timestamp,a,label\n")
	for i := 0; i < 50; i++ {
		fmt.Fprintf(&secs, "%.2f,%d,A\n", 1657630755+0.02*float64(i), i)
	}
	tests := []struct {
		name, data, want string
	}{
		{"too short", string(labelledCSV(rep("A", 5)...)), "t.csv: no window: 5 rows over 0.08 s give 5 samples at 50 Hz, fewer than one window (10 samples, 0.2 s)"},
		{"equal timestamps", "timestamp,a,label\n7,1,A\n7,2,A\n7,3,A\n7,3,A\n7,3,A\n7,3,A\n7,3,A\n7,3,A\n7,3,A\n7,3,A\n7,3,A\n", "every row has timestamp 7: expected Unix milliseconds that advance"},
		{"seconds", secs.String(), "look like seconds: expected Unix milliseconds"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, t.TempDir(), "t.csv", []byte(tc.data))
			src, err := Open(p, rawSpec(10, 10, "A"), Options{})
			if err != nil {
				t.Fatal(err)
			}
			allWindows(t, src, 10)
			st := StatsOf(src)
			if len(st.Short) != 1 || !strings.Contains(st.Short[0], tc.want) {
				t.Errorf("short %q, want %q", st.Short, tc.want)
			}
		})
	}
}

// TestEvaluateNoWindowsSays is the regression test of #19 item 23: a
// trace too short, with timestamps in seconds or all equal, an empty
// WAV, a missing label column or labels that are not classes gave "no
// labelled windows … (labels seen but not classes: map[])"; the error
// now says what is wrong in words.
func TestEvaluateNoWindowsSays(t *testing.T) {
	m, err := engine.LoadFile("testdata/tiny_har.onnx", engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	spec, err := SpecFromModel(m)
	if err != nil {
		t.Fatal(err)
	}
	trace := func(n int, tsOf func(i int) string, label string) []byte {
		var b strings.Builder
		b.WriteString("x_acc,y_acc,z_acc,x_gyro,y_gyro,z_gyro,timestamp")
		if label != "-" {
			b.WriteString(",label")
		}
		b.WriteString("\n")
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "1,2,3,4,5,6,%s", tsOf(i))
			if label != "-" {
				b.WriteString("," + label)
			}
			b.WriteString("\n")
		}
		return []byte(b.String())
	}
	ms := func(i int) string { return fmt.Sprint(1_700_000_000_000 + int64(i)*10) }
	secs := func(i int) string { return fmt.Sprintf("%.2f", 1_700_000_000+float64(i)*0.01) }
	same := func(int) string { return "1700000000000" }
	long := spec.Window * 3
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"too short", trace(5, ms, "WALKING"), "no windows: " + "PATH: no window: 5 rows over 0.04 s give 3 samples at 50 Hz, fewer than one window (64 samples, 1.28 s)"},
		{"timestamps in seconds", trace(long, secs, "WALKING"), "look like seconds: expected Unix milliseconds"},
		{"equal timestamps", trace(long, same, "WALKING"), "every row has timestamp 1700000000000"},
		{"no label column", trace(long, ms, "-"), `have no label: labelled traces need a "label" column (the model's classes:`},
		{"labels not classes", trace(long, ms, "JUMPING"), `is labelled with one of the model's classes (`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, t.TempDir(), "t.csv", tc.data)
			_, err := Evaluate(m, spec, []Trace{{Name: "t.csv", Path: p}}, EvalOptions{})
			if err == nil || !strings.Contains(err.Error(), strings.ReplaceAll(tc.want, "PATH", p)) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "map[") {
				t.Errorf("error shows a Go map: %v", err)
			}
		})
	}
}

// TestUniqueTraces is the regression test of #19 item 14: the same
// trace given twice, or through a symbolic link, was counted twice.
func TestUniqueTraces(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, dir, "d/a.csv", labelledCSV(rep("A", 20)...))
	b := writeFile(t, dir, "d/sub/b.csv", labelledCSV(rep("B", 20)...))
	c := writeFile(t, dir, "c.csv", labelledCSV(rep("A", 20)...))
	w := writeFile(t, dir, "w/sub/x_1.wav", []byte("RIFF"))
	link := filepath.Join(dir, "link.csv")
	dlink := filepath.Join(dir, "dlink")
	inLink := filepath.Join(dir, "d/a-link.csv") // a link beside its target
	for _, l := range [][2]string{{c, link}, {filepath.Join(dir, "d"), dlink}, {a, inLink}} {
		if err := os.Symlink(l[0], l[1]); err != nil {
			t.Skip(err)
		}
	}
	d := filepath.Join(dir, "d")
	tests := []struct {
		name  string
		paths []string
		keep  []string
		notes []string
	}{
		{"distinct", []string{c, d}, []string{c, d}, nil},
		{"twice", []string{c, c}, []string{c}, []string{c + " is the same file as " + c}},
		{"through a link", []string{c, link}, []string{c}, []string{link + " is the same file as " + c + " (given twice, or through a link): read once"}},
		{"folder through a link", []string{dlink, d}, []string{dlink}, []string{d + " is the same folder as " + dlink}},
		{"file in a folder", []string{a, d}, []string{d}, []string{a + " is also in the folder " + d}},
		{"csv deep in a folder", []string{d, b}, []string{d}, []string{b + " is also in the folder " + d}},
		{"wav deep in a folder is not in it", []string{filepath.Join(dir, "w"), w}, []string{filepath.Join(dir, "w"), w}, nil},
		{"missing kept", []string{"nope.csv", "nope.csv"}, []string{"nope.csv", "nope.csv"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, notes := UniqueTraces(tc.paths)
			var paths []string
			for _, tr := range got {
				paths = append(paths, tr.Path)
			}
			if strings.Join(paths, "|") != strings.Join(tc.keep, "|") || len(notes) != len(tc.notes) {
				t.Fatalf("kept %v, notes %q; want %v, %q", paths, notes, tc.keep, tc.notes)
			}
			for i, n := range tc.notes {
				if !strings.Contains(notes[i], n) {
					t.Errorf("note %q, want %q", notes[i], n)
				}
			}
		})
	}
	// the link beside its target in d is read once
	src, err := Open(d, rawSpec(10, 10, "A", "B"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ws := allWindows(t, src, 10); len(ws) != 4 {
		t.Errorf("folder with a link beside its target: %d windows, want 4 (2 files of 2)", len(ws))
	}
}

// TestErrorsNameRealFlags is the regression test of #19 item 21 in the
// replay package: errors pointed to flags that do not exist ("give
// --spec", "raise the clip length limit").
func TestErrorsNameRealFlags(t *testing.T) {
	m, err := engine.LoadFile("../bench/testdata/conv1d.onnx", engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, specErr := SpecFromModel(m)
	dir := t.TempDir()
	writeFile(t, dir, "7_a_1.wav", encodeWAV(wavSpec{format: 1, bits: 16, channels: 1, rate: 8000}, mono(make([]float64, 8000*3))))
	spec := DefaultKWSSpec()
	src, err := Open(dir, spec, Options{MaxClipSeconds: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, clipErr := src.Next(make([]float32, spec.InputSize()))
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"no spec", specErr, "the training scripts (tools/train) write it into the model"},
		{"clip too long", clipErr, "the limit for a clip of a clip folder: cut it into shorter clips, or give the .wav file itself"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", tc.err, tc.want)
			}
			for _, bad := range []string{"--spec", "raise the"} {
				if strings.Contains(tc.err.Error(), bad) {
					t.Errorf("error points to %q, which does not exist: %v", bad, tc.err)
				}
			}
		})
	}
}

// TestEmptyClip: an empty WAV (#19 item 23) gives no window and says
// so; in a clip folder read one window per clip it is refused by name
// rather than scored as a window of padding.
func TestEmptyClip(t *testing.T) {
	dir := t.TempDir()
	empty := encodeWAV(wavSpec{format: 1, bits: 16, channels: 1, rate: 8000}, nil)
	p := writeFile(t, dir, "one/e.wav", empty)
	writeFile(t, dir, "clips/7_a_1.wav", empty)
	spec := DefaultKWSSpec()
	tests := []struct {
		name string
		path string
		opts Options
		want string
	}{
		{"single WAV", p, Options{}, "e.wav: no window: 0 samples (0 s at 8000 Hz), fewer than one window"},
		{"clip folder", filepath.Join(dir, "clips"), Options{OnePerClip: true}, "7_a_1.wav: empty clip: no samples"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src, err := Open(tc.path, spec, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			_, err = src.Next(make([]float32, spec.InputSize()))
			if tc.opts.OnePerClip {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("error %v, want %q", err, tc.want)
				}
				return
			}
			if err != io.EOF {
				t.Fatalf("error %v, want EOF", err)
			}
			if st := StatsOf(src); len(st.Short) != 1 || !strings.Contains(st.Short[0], tc.want) {
				t.Errorf("short %q, want %q", st.Short, tc.want)
			}
		})
	}
}
