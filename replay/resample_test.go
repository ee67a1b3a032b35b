package replay

import (
	"io"
	"math"
	"strings"
	"testing"
)

func TestIMUResampler(t *testing.T) {
	tests := []struct {
		name   string
		data   string
		rate   int
		want   []float64 // column a of each output sample
		labels []string
	}{
		{
			name: "linear ramp, irregular input, 100 Hz out",
			// a = timestamp/10: every output must lie on the ramp.
			data:   "timestamp,a,label\n0,0,A\n7,0.7,A\n30,3,B\n31,3.1,B\n50,5,C\n",
			rate:   100,
			want:   []float64{0, 1, 2, 3, 4, 5},
			labels: []string{"A", "A", "B", "B", "B", "C"}, // 40 ms is nearer 31 (B) than 50 (C)
		},
		{
			name: "duplicate timestamps are averaged",
			data: "timestamp,a,label\n0,0,A\n10,1,A\n10,3,B\n20,0,B\n",
			rate: 200,
			// group at 10 ms is a=2 with label B.
			want:   []float64{0, 1, 2, 1, 0},
			labels: []string{"A", "A", "B", "B", "B"},
		},
		{
			name:   "single sample",
			data:   "timestamp,a,label\n100,4,A\n",
			rate:   50,
			want:   []float64{4},
			labels: []string{"A"},
		},
		{
			name:   "no extrapolation past the last sample",
			data:   "timestamp,a,label\n0,0,A\n25,1,A\n",
			rate:   100,
			want:   []float64{0, 0.4, 0.8},
			labels: []string{"A", "A", "A"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lt := newLabelTable()
			c, err := newCSVReader(strings.NewReader(tc.data), "r.csv", []string{"a"}, lt)
			if err != nil {
				t.Fatal(err)
			}
			r := newIMUResampler(c, tc.rate, MaxGapMS)
			var got []float64
			var labels []string
			out := make([]float64, 1)
			for {
				l, err := r.next(out)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, out[0])
				labels = append(labels, lt.name(l))
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if !approx(got[i], tc.want[i], 1e-12) || labels[i] != tc.labels[i] {
					t.Fatalf("sample %d: %v %q, want %v %q (all: %v %v)", i, got[i], labels[i], tc.want[i], tc.labels[i], got, labels)
				}
			}
		})
	}
}

// sliceReader is a monoReader over a slice, returning at most chunk
// samples per call.
type sliceReader struct {
	x     []float32
	chunk int
}

func (s *sliceReader) Read(dst []float32) (int, error) {
	if len(s.x) == 0 {
		return 0, io.EOF
	}
	n := copy(dst[:min(len(dst), s.chunk)], s.x)
	s.x = s.x[n:]
	return n, nil
}

func sine(n, rate int, freq, amp float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return x
}

func TestSincResampler(t *testing.T) {
	tests := []struct {
		name     string
		in, out  int
		freq     float64
		wantGain float64 // expected output amplitude / input amplitude
	}{
		{"16k to 8k passband", 16000, 8000, 440, 1},
		{"44.1k to 8k passband", 44100, 8000, 1000, 1},
		{"44.1k to 8k stopband", 44100, 8000, 6000, 0},
		{"8k to 16k", 8000, 16000, 1000, 1},
		{"11025 to 8k", 11025, 8000, 300, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := tc.in // one second
			r := newSincResampler(&sliceReader{x: sine(n, tc.in, tc.freq, 0.5), chunk: 333}, tc.in, tc.out)
			var y []float32
			buf := make([]float32, 500)
			for {
				k, err := r.Read(buf)
				y = append(y, buf[:k]...)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if want := (n-1)*tc.out/tc.in + 1; len(y) != want {
				t.Fatalf("got %d samples, want %d", len(y), want)
			}
			// Compare the middle against the ideal resampled sine.
			var maxErr, peak float64
			for i := len(y) / 4; i < 3*len(y)/4; i++ {
				ideal := tc.wantGain * 0.5 * math.Sin(2*math.Pi*tc.freq*float64(i)/float64(tc.out))
				maxErr = max(maxErr, math.Abs(float64(y[i])-ideal))
				peak = max(peak, math.Abs(float64(y[i])))
			}
			if maxErr > 0.005 {
				t.Fatalf("max error %v against the ideal output (peak %v)", maxErr, peak)
			}
		})
	}
}
