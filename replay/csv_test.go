package replay

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readAllCSV reads every row of a CSV trace with the given columns.
func readAllCSV(name, data string, cols []string) (rows [][]float64, ts []float64, labels []string, err error) {
	lt := newLabelTable()
	r, err := newCSVReader(strings.NewReader(data), name, cols, lt)
	if err != nil {
		return nil, nil, nil, err
	}
	for {
		t, v, l, err := r.next()
		if err == io.EOF {
			return rows, ts, labels, nil
		}
		if err != nil {
			return nil, nil, nil, err
		}
		rows = append(rows, append([]float64(nil), v...))
		ts = append(ts, t)
		labels = append(labels, lt.name(l))
	}
}

func TestCSVReader(t *testing.T) {
	cols := []string{"a", "b"}
	tests := []struct {
		name   string
		data   string
		rows   [][]float64
		ts     []float64
		labels []string
	}{
		{"basic", "timestamp,a,b,label\n1,2,3,X\n2,4,5,Y\n", [][]float64{{2, 3}, {4, 5}}, []float64{1, 2}, []string{"X", "Y"}},
		{"reordered and extra columns", "b,extra,a,timestamp\n3,zz,2,10\n", [][]float64{{2, 3}}, []float64{10}, []string{""}},
		{"crlf, bom, blank lines, spaces, quotes", "\ufefftimestamp, \"a\" ,b\r\n\r\n1, 2 ,\"3\"\r\n\n", [][]float64{{2, 3}}, []float64{1}, []string{""}},
		{"no final newline", "timestamp,a,b\n1,2,3", [][]float64{{2, 3}}, []float64{1}, []string{""}},
		{"equal timestamps", "timestamp,a,b\n1,2,3\n1,4,5\n", [][]float64{{2, 3}, {4, 5}}, []float64{1, 1}, []string{"", ""}},
		{"exponent", "timestamp,a,b\n1.657e12,-1e-3,3E2\n", [][]float64{{-1e-3, 300}}, []float64{1.657e12}, []string{""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rows, ts, labels, err := readAllCSV("t.csv", tc.data, cols)
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != len(tc.rows) {
				t.Fatalf("got %d rows, want %d", len(rows), len(tc.rows))
			}
			for i := range rows {
				if !equalFloats(rows[i], tc.rows[i]) || ts[i] != tc.ts[i] || labels[i] != tc.labels[i] {
					t.Errorf("row %d: %v %v %q, want %v %v %q", i, rows[i], ts[i], labels[i], tc.rows[i], tc.ts[i], tc.labels[i])
				}
			}
		})
	}
}

func equalFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestCSVErrors(t *testing.T) {
	cols := []string{"a", "b"}
	tests := []struct {
		name, data, want string
	}{
		{"empty file", "", "t.csv:1: empty file: expected a header line"},
		{"blank file", "\n\n", "t.csv:1: empty file"},
		{"header only", "timestamp,a,b\n", "t.csv:2: no data rows"},
		{"missing column", "timestamp,a,c\n1,2,3\n", `t.csv:1: missing column "b"; header has: timestamp, a, c`},
		{"misnamed timestamp", "time,a,b\n1,2,3\n", `t.csv:1: missing column "timestamp"`},
		{"duplicate column", "timestamp,a,b,a\n", `t.csv:1: header names column "a" twice`},
		{"empty column name", "timestamp,,a,b\n", "t.csv:1: header column 2 is empty"},
		{"ragged short", "timestamp,a,b\n1,2,3\n2,3\n", "t.csv:3: 2 fields, expected 3"},
		{"ragged long", "timestamp,a,b\n1,2,3,4\n", "t.csv:2: more than 3 fields, expected 3"},
		{"non-numeric", "timestamp,a,b\n1,2,x\n", `t.csv:2: column 3: got "x", expected a finite number`},
		{"nan", "timestamp,a,b\n1,NaN,1\n", `t.csv:2: column 2: got "NaN"`},
		{"bad timestamp", "timestamp,a,b\n1,2,3\n\nabc,2,3\n", `t.csv:4: timestamp: got "abc"`},
		{"backwards", "timestamp,a,b\n5,2,3\n4,2,3\n", "t.csv:3: timestamp 4 goes backwards (line 2 has 5)"},
		{"huge timestamp", "timestamp,a,b\n1e300,2,3\n", `t.csv:2: timestamp: got "1e300", expected a finite number of magnitude at most 1e+15`},
		{"huge value", "timestamp,a,b\n1,2,-1e13\n", `t.csv:2: column 3: got "-1e13"`},
		{"empty label", "timestamp,a,b,label\n1,2,3,\n", "t.csv:2: empty label"},
		{"long line", "timestamp,a,b\n" + strings.Repeat("1", MaxCSVLine+10) + "\n", "t.csv:2: line longer than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, _, err := readAllCSV("t.csv", tc.data, cols)
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Errorf("error %T is not an *InputError", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestCSVNextAllocs(t *testing.T) {
	var b strings.Builder
	b.WriteString("x_acc,y_acc,z_acc,x_gyro,y_gyro,z_gyro,timestamp,label\n")
	for i := range 2000 {
		b.WriteString("-4.160221099853516,-1.1829516887664795,-8.990732192993164,0.0028251686599105597,-0.013896775431931019,-0.03214583545923233,")
		b.WriteString(fmtNum(float64(1657533977813 + 10*i)))
		b.WriteString(",WALKING\n")
	}
	r, err := newCSVReader(strings.NewReader(b.String()), "a.csv", DefaultHARSpec().Features.AccColumns, newLabelTable())
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(1000, func() {
		if _, _, _, err := r.next(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("csvReader.next allocates %v times per row", allocs)
	}
}

// TestSharedHARFiles reads every shared smartphone and smartwatch trace.
func TestSharedHARFiles(t *testing.T) {
	dir := sharedData(t, "har-spsw/DATA")
	files, err := filepath.Glob(filepath.Join(dir, "s*", "s*_s[pw].csv"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no HAR files in %s (%v)", dir, err)
	}
	known := map[string]bool{"SEATED": true, "STANDING_UP": true, "WALKING": true, "TURNING": true, "SITTING_DOWN": true}
	cols := append(DefaultHARSpec().Features.AccColumns, DefaultHARSpec().Features.GyroColumns...)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rows, ts, labels, err := readAllCSV(f, string(data), cols)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if len(rows) < 100 {
			t.Errorf("%s: only %d rows", f, len(rows))
		}
		if d := (ts[len(ts)-1] - ts[0]) / 1000; d < 5 || d > 120 {
			t.Errorf("%s: lasts %v s", f, d)
		}
		for i, l := range labels {
			if !known[l] {
				t.Fatalf("%s: row %d: unknown label %q", f, i+1, l)
			}
		}
	}
}

func TestReadLabels(t *testing.T) {
	good := "start_s,end_s,label\n0.5,1.2,7\n\n2,2.75,\"3\"\n"
	iv, err := ReadLabels(strings.NewReader(good), "x.labels.csv")
	if err != nil {
		t.Fatal(err)
	}
	want := []Interval{{Start: 0.5, End: 1.2, Label: "7"}, {Start: 2, End: 2.75, Label: "3"}}
	if len(iv) != len(want) || iv[0] != want[0] || iv[1] != want[1] {
		t.Fatalf("got %v, want %v", iv, want)
	}
	tests := []struct{ name, data, want string }{
		{"empty", "", "x.labels.csv:1: empty file"},
		{"header", "start,end,label\n", `x.labels.csv:1: header "start,end,label"`},
		{"fields", "start_s,end_s,label\n1,2\n", "x.labels.csv:2: 2 fields, expected 3"},
		{"number", "start_s,end_s,label\n1,b,x\n", `x.labels.csv:2: end_s: got "b"`},
		{"negative", "start_s,end_s,label\n-1,2,x\n", `x.labels.csv:2: start_s: got "-1"`},
		{"order", "start_s,end_s,label\n1,1,x\n", "x.labels.csv:2: end_s 1 is not after start_s 1"},
		{"overlap", "start_s,end_s,label\n1,2,x\n1.5,3,y\n", "x.labels.csv:3: interval starting at 1.5 s overlaps"},
		{"empty label", "start_s,end_s,label\n1,2, \n", "x.labels.csv:2: empty label"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadLabels(strings.NewReader(tc.data), "x.labels.csv")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}
