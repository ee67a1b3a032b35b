package replay

import (
	"io"
	"math"
	"math/rand/v2"
	"testing"
)

// randomRotation returns a uniformly random 3x3 rotation matrix (from a
// random unit quaternion).
func randomRotation(rng *rand.Rand) [3][3]float64 {
	var q [4]float64
	var n float64
	for i := range q {
		q[i] = rng.NormFloat64()
		n += q[i] * q[i]
	}
	n = math.Sqrt(n)
	w, x, y, z := q[0]/n, q[1]/n, q[2]/n, q[3]/n
	return [3][3]float64{
		{1 - 2*(y*y+z*z), 2 * (x*y - z*w), 2 * (x*z + y*w)},
		{2 * (x*y + z*w), 1 - 2*(x*x+z*z), 2 * (y*z - x*w)},
		{2 * (x*z - y*w), 2 * (y*z + x*w), 1 - 2*(x*x+y*y)},
	}
}

func rotate(r [3][3]float64, v []float64) []float64 {
	return []float64{
		r[0][0]*v[0] + r[0][1]*v[1] + r[0][2]*v[2],
		r[1][0]*v[0] + r[1][1]*v[1] + r[1][2]*v[2],
		r[2][0]*v[0] + r[2][1]*v[1] + r[2][2]*v[2],
	}
}

// synthIMU makes a walking-like trace: gravity plus oscillations, with
// irregular timestamps around 100 Hz.
func synthIMU(rng *rand.Rand, n int) (rows [][]float64, ts []int64, labels []string) {
	t := int64(1657533977813)
	for i := range n {
		s := float64(i) / 100
		acc := []float64{0.3 + 2*math.Sin(2*math.Pi*1.8*s), -3.5 + math.Cos(2*math.Pi*0.9*s), 9.1 + 1.5*math.Sin(2*math.Pi*1.8*s+1)}
		gyro := []float64{0.5 * math.Sin(2*math.Pi*0.9*s), 0.2 * math.Cos(2*math.Pi*1.8*s), 0.1 + 0.3*math.Sin(2*math.Pi*0.5*s)}
		rows = append(rows, append(acc, gyro...))
		ts = append(ts, t)
		t += 8 + int64(rng.IntN(5))
		l := "SEATED"
		if i > n/3 {
			l = "WALKING"
		}
		labels = append(labels, l)
	}
	return rows, ts, labels
}

func allWindows(t *testing.T, src Source, size int) ([][]float32, []Window) {
	t.Helper()
	var xs [][]float32
	var ws []Window
	for {
		dst := make([]float32, size)
		w, err := src.Next(dst)
		if err == io.EOF {
			return xs, ws
		}
		if err != nil {
			t.Fatal(err)
		}
		xs = append(xs, dst)
		ws = append(ws, w)
	}
}

func TestOrientationInvariance(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	rows, ts, labels := synthIMU(rng, 1500)
	spec := DefaultHARSpec()
	dir := t.TempDir()
	orig := writeFile(t, dir, "orig.csv", imuCSV(rows, ts, labels))
	src, err := Open(orig, spec, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := allWindows(t, src, spec.InputSize())
	src.Close()
	if len(want) < 5 {
		t.Fatalf("only %d windows", len(want))
	}
	for trial := range 5 {
		r := randomRotation(rng)
		rot := make([][]float64, len(rows))
		for i, row := range rows {
			rot[i] = append(rotate(r, row[:3]), rotate(r, row[3:])...)
		}
		p := writeFile(t, dir, "rot.csv", imuCSV(rot, ts, labels))
		src, err := Open(p, spec, Options{})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := allWindows(t, src, spec.InputSize())
		src.Close()
		if len(got) != len(want) {
			t.Fatalf("trial %d: %d windows, want %d", trial, len(got), len(want))
		}
		for w := range got {
			for i := range got[w] {
				if math.Abs(float64(got[w][i]-want[w][i])) > 1e-4 {
					t.Fatalf("trial %d window %d element %d (channel %s): %v, unrotated %v",
						trial, w, i, spec.Channels[i/spec.Window], got[w][i], want[w][i])
				}
			}
		}
	}
	// The raw channels, in contrast, do change.
	raw := DefaultHARSpec()
	raw.Features, raw.Channels, raw.Shape = Features{Type: FeatIMURaw}, []string{"x_acc", "y_acc", "z_acc"}, nil
	if _, err := NewIMUFrontEnd(raw); err != nil {
		t.Fatal(err)
	}
}

func TestIMUFrontEndChannels(t *testing.T) {
	spec := DefaultHARSpec()
	spec.Window, spec.Hop = 4, 4
	spec.Shape = nil
	spec.Norm = &Norm{Mean: []float64{0, 0, 0, 0, 0, 1}, Std: []float64{1, 1, 1, 1, 2, 1}}
	fe, err := NewIMUFrontEnd(spec)
	if err != nil {
		t.Fatal(err)
	}
	// Gravity along z (mean acc = (0,0,10)); extra horizontal acc on x and
	// vertical on z; gyro (3,0,4) has |w| = 5, along g 4, across 3.
	raw := []float64{
		1, 0, 10, 3, 0, 4,
		-1, 0, 10, 3, 0, 4,
		0, 0, 12, 3, 0, 4,
		0, 0, 8, 3, 0, 4,
	}
	dst := make([]float32, 6*4)
	if err := fe.Compute(raw, dst); err != nil {
		t.Fatal(err)
	}
	want := [][]float64{
		{0, 0, 2, -2},                           // acc along g minus |g|
		{1, 1, 0, 0},                            // acc across g
		{math.Sqrt(101), math.Sqrt(101), 12, 8}, // |acc|
		{4, 4, 4, 4},                            // gyro along g
		{1.5, 1.5, 1.5, 1.5},                    // gyro across g, std 2
		{4, 4, 4, 4},                            // |gyro| - 1
	}
	for c := range want {
		for tt := range want[c] {
			if got := float64(dst[c*4+tt]); !approx(got, want[c][tt], 1e-5) {
				t.Errorf("channel %s sample %d = %v, want %v", spec.Channels[c], tt, got, want[c][tt])
			}
		}
	}
	if err := fe.Compute(raw[:5], dst); err == nil {
		t.Error("short raw window accepted")
	}
	if err := fe.Compute(raw, dst[:3]); err == nil {
		t.Error("short destination accepted")
	}
}
