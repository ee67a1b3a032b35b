package replay

import (
	"math"
	"math/rand/v2"
	"testing"
)

func naiveDFT(x []float64) (re, im []float64) {
	n := len(x)
	re, im = make([]float64, n/2+1), make([]float64, n/2+1)
	for k := range re {
		for j, v := range x {
			a := -2 * math.Pi * float64(k*j) / float64(n)
			re[k] += v * math.Cos(a)
			im[k] += v * math.Sin(a)
		}
	}
	return re, im
}

func TestRealFFT(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{2, 4, 8, 16, 64, 256, 512} {
		x := make([]float64, n)
		for i := range x {
			x[i] = rng.NormFloat64()
		}
		wr, wi := naiveDFT(x)
		re, im := make([]float64, n/2+1), make([]float64, n/2+1)
		newRealFFT(n).transform(x, re, im)
		for k := range re {
			if !approx(re[k], wr[k], 1e-9*float64(n)) || !approx(im[k], wi[k], 1e-9*float64(n)) {
				t.Fatalf("n=%d bin %d: %v%+vi, want %v%+vi", n, k, re[k], im[k], wr[k], wi[k])
			}
		}
	}
}

func TestMelFilterbank(t *testing.T) {
	tests := []struct {
		rate, nFFT, nMels int
		fmin, fmax        float64
	}{
		{8000, 256, 40, 20, 4000},
		{16000, 512, 40, 0, 8000},
		{8000, 512, 64, 100, 3800},
	}
	for _, tc := range tests {
		fb := melFilterbank(tc.rate, tc.nFFT, tc.nMels, tc.fmin, tc.fmax)
		if len(fb) != tc.nMels {
			t.Fatalf("%d filters, want %d", len(fb), tc.nMels)
		}
		// Between the first and the last centre the triangles add up to 1;
		// below and above, only one (half) triangle covers a bin.
		lo, hi := hzToMel(tc.fmin), hzToMel(tc.fmax)
		c1 := melToHz(lo + (hi-lo)/float64(tc.nMels+1))
		cN := melToHz(lo + (hi-lo)*float64(tc.nMels)/float64(tc.nMels+1))
		binHz := float64(tc.rate) / float64(tc.nFFT)
		sums := make([]float64, tc.nFFT/2+1)
		for m, f := range fb {
			if len(f.w) == 0 {
				t.Fatalf("filter %d is empty", m)
			}
			peak := 0.0
			for i, w := range f.w {
				sums[f.lo+i] += w
				peak = max(peak, w)
				if w < 0 || w > 1 {
					t.Fatalf("filter %d weight %v out of [0,1]", m, w)
				}
			}
			if peak <= 0 {
				t.Fatalf("filter %d has no positive weight", m)
			}
		}
		for k, s := range sums {
			f := float64(k) * binHz
			switch {
			case f >= c1 && f <= cN:
				if !approx(s, 1, 1e-9) {
					t.Fatalf("%+v: bin %d (%.1f Hz) sums to %v, want 1", tc, k, f, s)
				}
			case f <= tc.fmin || f >= tc.fmax:
				if s != 0 {
					t.Fatalf("%+v: bin %d (%.1f Hz) outside [fmin, fmax] sums to %v", tc, k, f, s)
				}
			}
		}
	}
}

func TestMFCCMatchesDirectDCT(t *testing.T) {
	logmel := DefaultKWSSpec()
	mfcc := DefaultKWSSpec()
	mfcc.Features.Type, mfcc.Features.NMFCC, mfcc.Shape = FeatMFCC, 13, nil
	x := sine(8000, 8000, 700, 0.3)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range x {
		x[i] += float32(0.01 * rng.NormFloat64())
	}
	a, err := NewAudioFrontEnd(logmel)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewAudioFrontEnd(mfcc)
	if err != nil {
		t.Fatal(err)
	}
	lm := make([]float32, logmel.InputSize())
	mf := make([]float32, mfcc.InputSize())
	if err := a.Compute(x, lm); err != nil {
		t.Fatal(err)
	}
	if err := b.Compute(x, mf); err != nil {
		t.Fatal(err)
	}
	M := 40
	for tf := range logmel.Frames() {
		row := lm[tf*M : (tf+1)*M]
		for k := range 13 {
			var c float64
			for m, v := range row {
				c += float64(v) * math.Cos(math.Pi*float64(k)*(float64(m)+0.5)/float64(M))
			}
			if k == 0 {
				c *= math.Sqrt(1.0 / float64(M))
			} else {
				c *= math.Sqrt(2.0 / float64(M))
			}
			if got := float64(mf[tf*13+k]); !approx(got, c, 1e-3*(1+math.Abs(c))) {
				t.Fatalf("frame %d coefficient %d = %v, direct DCT %v", tf, k, got, c)
			}
		}
	}
}

func TestLogMelSine(t *testing.T) {
	spec := DefaultKWSSpec()
	fe, err := NewAudioFrontEnd(spec)
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]float32, spec.InputSize())
	for _, freq := range []float64{300, 1000, 2500} {
		if err := fe.Compute(sine(8000, 8000, freq, 0.5), dst); err != nil {
			t.Fatal(err)
		}
		// The loudest band of a middle frame must be the one centred nearest
		// the tone.
		row := dst[50*40 : 51*40]
		best := 0
		for m := range row {
			if row[m] > row[best] {
				best = m
			}
		}
		lo, hi := hzToMel(20), hzToMel(4000)
		centre := melToHz(lo + (hi-lo)*float64(best+1)/41)
		width := melToHz(lo+(hi-lo)*float64(best+2)/41) - melToHz(lo+(hi-lo)*float64(best)/41)
		if math.Abs(centre-freq) > width/2 {
			t.Errorf("tone %v Hz peaks in band %d centred at %.0f Hz", freq, best, centre)
		}
	}
	// Silence gives the log floor everywhere.
	if err := fe.Compute(make([]float32, 8000), dst); err != nil {
		t.Fatal(err)
	}
	if want := float32(math.Log(1e-6)); dst[0] != want || dst[len(dst)-1] != want {
		t.Errorf("silence: %v, want %v", dst[0], want)
	}
	if a := testing.AllocsPerRun(5, func() { fe.Compute(make([]float32, 0), nil) }); a > 3 {
		t.Logf("error path allocates %v", a)
	}
	x := sine(8000, 8000, 440, 0.5)
	if a := testing.AllocsPerRun(5, func() { fe.Compute(x, dst) }); a != 0 {
		t.Errorf("Compute allocates %v times", a)
	}
}

func TestAudioNorm(t *testing.T) {
	spec := DefaultKWSSpec()
	plain, _ := NewAudioFrontEnd(spec)
	n := &Norm{Mean: make([]float64, 40), Std: make([]float64, 40)}
	for i := range 40 {
		n.Mean[i], n.Std[i] = float64(i), 2
	}
	spec2 := DefaultKWSSpec()
	spec2.Norm = n
	normed, err := NewAudioFrontEnd(spec2)
	if err != nil {
		t.Fatal(err)
	}
	x := sine(8000, 8000, 440, 0.5)
	a, b := make([]float32, spec.InputSize()), make([]float32, spec.InputSize())
	plain.Compute(x, a)
	normed.Compute(x, b)
	for i := range a {
		if want := (float64(a[i]) - float64(i%40)) / 2; !approx(float64(b[i]), want, 1e-4) {
			t.Fatalf("element %d: %v, want %v", i, b[i], want)
		}
	}
}
