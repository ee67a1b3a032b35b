package replay

import (
	"fmt"
	"math"
	"math/bits"
)

// fft is an in-place iterative radix-2 complex FFT of a fixed power-of-two
// size (forward transform, no scaling).
type fft struct {
	n      int
	rev    []int
	cs, sn []float64 // cos and -sin of 2*pi*k/n for k < n/2
}

func newFFT(n int) *fft {
	f := &fft{n: n, rev: make([]int, n), cs: make([]float64, n/2), sn: make([]float64, n/2)}
	lg := bits.TrailingZeros(uint(n))
	for i := range n {
		if lg > 0 {
			f.rev[i] = int(bits.Reverse(uint(i)) >> (bits.UintSize - lg))
		}
	}
	for k := range n / 2 {
		a := 2 * math.Pi * float64(k) / float64(n)
		f.cs[k], f.sn[k] = math.Cos(a), -math.Sin(a)
	}
	return f
}

func (f *fft) transform(re, im []float64) {
	n := f.n
	for i, j := range f.rev {
		if i < j {
			re[i], re[j] = re[j], re[i]
			im[i], im[j] = im[j], im[i]
		}
	}
	for size := 2; size <= n; size <<= 1 {
		half, step := size/2, n/size
		for start := 0; start < n; start += size {
			for k := range half {
				wr, wi := f.cs[k*step], f.sn[k*step]
				a, b := start+k, start+k+half
				tr := re[b]*wr - im[b]*wi
				ti := re[b]*wi + im[b]*wr
				re[b], im[b] = re[a]-tr, im[a]-ti
				re[a], im[a] = re[a]+tr, im[a]+ti
			}
		}
	}
}

// realFFT computes the first n/2+1 bins of the DFT of n real samples with
// one complex FFT of size n/2.
type realFFT struct {
	n      int
	half   *fft
	zr, zi []float64
	wr, wi []float64 // cos and -sin of 2*pi*k/n for k <= n/2
}

func newRealFFT(n int) *realFFT {
	m := n / 2
	f := &realFFT{n: n, half: newFFT(m), zr: make([]float64, m), zi: make([]float64, m),
		wr: make([]float64, m+1), wi: make([]float64, m+1)}
	for k := 0; k <= m; k++ {
		a := 2 * math.Pi * float64(k) / float64(n)
		f.wr[k], f.wi[k] = math.Cos(a), -math.Sin(a)
	}
	return f
}

// transform writes X[k], k = 0..n/2, of the real signal x (len n).
func (f *realFFT) transform(x, outRe, outIm []float64) {
	m := f.n / 2
	for k := range m {
		f.zr[k], f.zi[k] = x[2*k], x[2*k+1]
	}
	f.half.transform(f.zr, f.zi)
	for k := 0; k <= m; k++ {
		ar, ai := f.zr[k%m], f.zi[k%m]
		br, bi := f.zr[(m-k)%m], f.zi[(m-k)%m]
		// even part (Z[k] + conj Z[m-k]) / 2, odd part -i (Z[k] - conj Z[m-k]) / 2
		er, ei := (ar+br)/2, (ai-bi)/2
		or, oi := (ai+bi)/2, -(ar-br)/2
		outRe[k] = er + f.wr[k]*or - f.wi[k]*oi
		outIm[k] = ei + f.wr[k]*oi + f.wi[k]*or
	}
}

// hzToMel and melToHz are the HTK mel scale: mel = 2595 log10(1 + f/700).
func hzToMel(f float64) float64 { return 2595 * math.Log10(1+f/700) }
func melToHz(m float64) float64 { return 700 * (math.Pow(10, m/2595) - 1) }

// melFilter is one triangular filter: weights for FFT bins lo..lo+len(w)-1.
type melFilter struct {
	lo int
	w  []float64
}

// melFilterbank returns nMels HTK triangular filters over the nFFT/2+1 bins
// of a real FFT at the given rate: band edges equally spaced on the mel scale
// from fmin to fmax, weights rising linearly in Hz from 0 at the lower edge
// to 1 at the centre and back to 0 at the upper edge (peak 1, no area
// normalisation).
func melFilterbank(rate, nFFT, nMels int, fmin, fmax float64) []melFilter {
	edges := make([]float64, nMels+2)
	lo, hi := hzToMel(fmin), hzToMel(fmax)
	for i := range edges {
		edges[i] = melToHz(lo + (hi-lo)*float64(i)/float64(nMels+1))
	}
	edges[0], edges[nMels+1] = fmin, fmax // exact despite rounding
	nBins := nFFT/2 + 1
	binHz := float64(rate) / float64(nFFT)
	fb := make([]melFilter, nMels)
	for m := range nMels {
		l, c, r := edges[m], edges[m+1], edges[m+2]
		first := -1
		var w []float64
		for k := range nBins {
			f := float64(k) * binHz
			var v float64
			switch {
			case f > l && f <= c:
				v = (f - l) / (c - l)
			case f > c && f < r:
				v = (r - f) / (r - c)
			}
			if v > 0 {
				if first < 0 {
					first = k
				}
				for len(w) < k-first {
					w = append(w, 0)
				}
				w = append(w, v)
			}
		}
		if first < 0 {
			first = 0
		}
		fb[m] = melFilter{lo: first, w: w}
	}
	return fb
}

// dctMatrix returns the orthonormal DCT-II matrix, nOut rows of n columns:
// c[k] = s(k) * sum_m x[m] cos(pi k (m + 1/2) / n), s(0) = sqrt(1/n),
// s(k>0) = sqrt(2/n).
func dctMatrix(nOut, n int) []float64 {
	d := make([]float64, nOut*n)
	for k := range nOut {
		s := math.Sqrt(2 / float64(n))
		if k == 0 {
			s = math.Sqrt(1 / float64(n))
		}
		for m := range n {
			d[k*n+m] = s * math.Cos(math.Pi*float64(k)*(float64(m)+0.5)/float64(n))
		}
	}
	return d
}

func windowFn(name string, n int) []float64 {
	w := make([]float64, n)
	for i := range w {
		a := 2 * math.Pi * float64(i) / float64(n)
		switch name {
		case "hamming":
			w[i] = 0.54 - 0.46*math.Cos(a)
		case "rectangular":
			w[i] = 1
		default: // periodic Hann
			w[i] = 0.5 - 0.5*math.Cos(a)
		}
	}
	return w
}

// AudioFrontEnd turns a window of mono samples into the model's input
// tensor [1, 1, frames, features]: feature j of frame t is at
// dst[t*features+j].
type AudioFrontEnd struct {
	spec     *Spec
	frames   int
	nFeat    int
	win      []float64
	fft      *realFFT
	mel      []melFilter
	dct      []float64 // nil for logmel
	frame    []float64
	re, im   []float64
	logmel   []float64
	mean     []float64
	invStd   []float64
	logFloor float64
}

// NewAudioFrontEnd returns the front-end of a valid audio spec.
func NewAudioFrontEnd(spec *Spec) (*AudioFrontEnd, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if spec.Task != TaskKWS {
		return nil, fmt.Errorf("audio front-end: spec task is %q, expected %q", spec.Task, TaskKWS)
	}
	p := spec.Features
	f := &AudioFrontEnd{
		spec:     spec,
		frames:   spec.Frames(),
		nFeat:    spec.FeatureRows(),
		win:      windowFn(p.WindowFn, p.FrameLength),
		fft:      newRealFFT(p.NFFT),
		mel:      melFilterbank(spec.SampleRate, p.NFFT, p.NMels, p.FMin, p.FMax),
		frame:    make([]float64, p.NFFT),
		re:       make([]float64, p.NFFT/2+1),
		im:       make([]float64, p.NFFT/2+1),
		logmel:   make([]float64, p.NMels),
		logFloor: p.LogFloor,
	}
	if p.Type == FeatMFCC {
		f.dct = dctMatrix(p.NMFCC, p.NMels)
	}
	f.mean = make([]float64, f.nFeat)
	f.invStd = make([]float64, f.nFeat)
	for i := range f.nFeat {
		f.invStd[i] = 1
		if spec.Norm != nil {
			f.mean[i], f.invStd[i] = spec.Norm.Mean[i], 1/spec.Norm.Std[i]
		}
	}
	return f, nil
}

// Compute writes the normalised features of one window of spec.Window
// samples into dst (spec.InputSize() elements). It allocates nothing.
//
// Each frame of frame_length samples starting every frame_hop samples (no
// padding: frames = 1 + (window - frame_length) / frame_hop) is multiplied
// by the window function, zero-padded to n_fft, transformed; the power
// spectrum |X|^2 goes through the mel filterbank, then ln(max(e, log_floor)),
// then for mfcc the orthonormal DCT-II keeping n_mfcc coefficients, then
// the normalisation.
func (f *AudioFrontEnd) Compute(samples []float32, dst []float32) error {
	p := &f.spec.Features
	if len(samples) != f.spec.Window {
		return fmt.Errorf("audio front-end: got %d samples, expected %d", len(samples), f.spec.Window)
	}
	if len(dst) != f.frames*f.nFeat {
		return fmt.Errorf("audio front-end: destination has %d elements, expected %d (%d frames x %d features)", len(dst), f.frames*f.nFeat, f.frames, f.nFeat)
	}
	for t := range f.frames {
		s := samples[t*p.FrameHop:]
		for i, w := range f.win {
			f.frame[i] = float64(s[i]) * w
		}
		clear(f.frame[len(f.win):])
		f.fft.transform(f.frame, f.re, f.im)
		for k := range f.re {
			f.re[k] = f.re[k]*f.re[k] + f.im[k]*f.im[k]
		}
		for m, flt := range f.mel {
			var e float64
			for i, w := range flt.w {
				e += w * f.re[flt.lo+i]
			}
			f.logmel[m] = math.Log(max(e, f.logFloor))
		}
		out := dst[t*f.nFeat : (t+1)*f.nFeat]
		if f.dct == nil {
			for j, v := range f.logmel {
				out[j] = float32((v - f.mean[j]) * f.invStd[j])
			}
			continue
		}
		n := len(f.logmel)
		for j := range out {
			row := f.dct[j*n : (j+1)*n]
			var c float64
			for m, v := range f.logmel {
				c += row[m] * v
			}
			out[j] = float32((c - f.mean[j]) * f.invStd[j])
		}
	}
	return nil
}
