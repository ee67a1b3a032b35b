package dataset

import (
	"slices"
	"testing"
)

func windows(files ...string) *Dataset {
	d := &Dataset{Shape: []int{1, 1}}
	for i, f := range files {
		d.X = append(d.X, []float32{float32(i)})
		d.Y = append(d.Y, i%3)
		d.Files = append(d.Files, f)
	}
	return d
}

func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		name        string
		files       []string
		tune, calib []float32 // the windows' X values on each side
	}{
		{"by file", []string{"a", "a", "b", "c", "b", "c"}, []float32{0, 1, 3, 5}, []float32{2, 4}},
		{"one file: alternate windows", []string{"a", "a", "a", "a", "a"}, []float32{0, 2, 4}, []float32{1, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := windows(tc.files...).Split()
			var got [2][]float32
			for i, s := range []*Dataset{a, b} {
				for j, x := range s.X {
					got[i] = append(got[i], x[0])
					if s.Y[j] != int(x[0])%3 || s.Files[j] != tc.files[int(x[0])] {
						t.Errorf("window %v lost its label or file", x[0])
					}
				}
			}
			if !slices.Equal(got[0], tc.tune) || !slices.Equal(got[1], tc.calib) {
				t.Errorf("split %v / %v, want %v / %v", got[0], got[1], tc.tune, tc.calib)
			}
		})
	}
}

func TestSubsetAndAccuracy(t *testing.T) {
	d := windows("a", "a", "a", "a", "a", "a", "a", "a")
	s := d.Subset(4)
	var xs []float32
	for _, x := range s.X {
		xs = append(xs, x[0])
	}
	if !slices.Equal(xs, []float32{0, 2, 4, 6}) {
		t.Errorf("Subset(4) took %v", xs)
	}
	if d.Subset(0) != d || d.Subset(100) != d {
		t.Error("Subset of 0 or more than all windows must return the dataset itself")
	}
	outs := []float32{0.1, 0.9, 0.5, 0.5, 1, 0} // argmax 1, 0 (first of equals), 0
	if got := Accuracy(outs, []int{1, 1, 0}, 2); got != 2.0/3 {
		t.Errorf("accuracy %v, want 2/3", got)
	}
	if Argmax([]float32{3, 7, 7}) != 1 {
		t.Error("Argmax must take the first of equal maxima")
	}
}
