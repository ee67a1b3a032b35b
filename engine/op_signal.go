package engine

import (
	"math"

	"github.com/kagen-ai/kagen/engine/gemm"
)

// dftParams describe a DFT node: the transform runs along one axis of an
// input viewed as [outer, nIn, inner, c] (c = 1 for real, 2 for complex
// input) into [outer, nOut, inner, 2].
type dftParams struct {
	outer, inner int
	nIn, n, nOut int
	complexIn    bool
	inverse      bool
	cos, sin     []float64 // cos and sin of 2*pi*j/n
}

// twiddles returns cos and sin of 2*pi*j/n for j in [0, n).
func twiddles(n int) (c, s []float64) {
	c, s = make([]float64, n), make([]float64, n)
	for j := range c {
		th := 2 * math.Pi * float64(j) / float64(n)
		c[j], s[j] = math.Cos(th), math.Sin(th)
	}
	return c, s
}

// maxDFTLength bounds a transform length (the twiddle tables and the
// quadratic reference grow with it).
const maxDFTLength = 1 << 20

var dftOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(1, 3); err != nil {
			return err
		}
		if err := n.needFloat(0); err != nil {
			return err
		}
		x := n.in[0]
		r := len(x.shape)
		if r < 2 || x.shape[r-1] != 1 && x.shape[r-1] != 2 {
			return n.errorf("input %v must end with a dimension of 1 (real) or 2 (complex)", x.shape)
		}
		var axis int64
		var err error
		if n.opset >= 20 {
			axis = -2
			if v, err := n.constInts(2, "axis"); err != nil {
				return err
			} else if v != nil {
				if len(v) != 1 {
					return n.errorf("axis has %d values, expected a scalar", len(v))
				}
				axis = v[0]
			}
		} else if axis, err = n.attrInt("axis", 1); err != nil {
			return err
		}
		if axis < 0 {
			axis += int64(r)
		}
		if axis < 0 || axis > int64(r-2) {
			return n.errorf("axis %d is out of range for an input of rank %d (the last dimension holds the complex parts)", axis, r)
		}
		a := int(axis)
		p := &dftParams{outer: numel(x.shape[:a]), inner: numel(x.shape[a+1 : r-1]), nIn: x.shape[a], complexIn: x.shape[r-1] == 2}
		p.n = p.nIn
		if v, err := n.constInts(1, "dft_length"); err != nil {
			return err
		} else if v != nil {
			if len(v) != 1 || v[0] < 1 || v[0] > maxDFTLength {
				return n.errorf("dft_length %v must be a scalar in [1, %d]", v, maxDFTLength)
			}
			p.n = int(v[0])
		}
		if p.n < 1 || p.n > maxDFTLength {
			return n.errorf("transform length %d is not in [1, %d]", p.n, maxDFTLength)
		}
		inv, err := n.attrInt("inverse", 0)
		if err != nil {
			return err
		}
		p.inverse = inv != 0
		one, err := n.attrInt("onesided", 0)
		if err != nil {
			return err
		}
		p.nOut = p.n
		if one != 0 {
			if p.complexIn {
				return n.errorf("onesided needs a real input")
			}
			if p.inverse {
				return n.unsupported("onesided inverse")
			}
			p.nOut = p.n/2 + 1
		}
		shape := append([]int(nil), x.shape...)
		shape[a], shape[r-1] = p.nOut, 2
		if err := n.checkElems("output", shape); err != nil {
			return err
		}
		p.cos, p.sin = twiddles(p.n)
		n.params = p
		n.out[0].dtype = x.dtype
		n.out[0].shape = shape
		return nil
	},
	eval: func(n *node, in, out []*Tensor) {
		p := n.params.(*dftParams)
		c := 1
		if p.complexIn {
			c = 2
		}
		x, y := in[0].F, out[0].F
		m := min(p.nIn, p.n) // zero padding adds nothing; truncation drops samples
		for o := 0; o < p.outer; o++ {
			for i := 0; i < p.inner; i++ {
				for k := 0; k < p.nOut; k++ {
					var re, im float64
					for t := 0; t < m; t++ {
						j := int(int64(k) * int64(t) % int64(p.n))
						a := float64(x[((o*p.nIn+t)*p.inner+i)*c])
						var b float64
						if p.complexIn {
							b = float64(x[((o*p.nIn+t)*p.inner+i)*c+1])
						}
						cs, sn := p.cos[j], p.sin[j]
						if p.inverse {
							sn = -sn
						}
						// (a + ib)(cos - i sin)
						re += a*cs + b*sn
						im += b*cs - a*sn
					}
					if p.inverse {
						re, im = re/float64(p.n), im/float64(p.n)
					}
					at := ((o*p.nOut+k)*p.inner + i) * 2
					y[at], y[at+1] = float32(re), float32(im)
				}
			}
		}
	},
	compile: compileDFT,
}

// dftMatrix returns the transform as a [m*c x 2*nOut] matrix: row t*c+part
// holds what sample t's real (part 0) or imaginary (part 1) part adds to
// the real and imaginary parts of each output, scaled by window[t] when a
// window is given.
func dftMatrix(m, c, n, nOut int, inverse bool, window []float32) []float32 {
	cs, sn := twiddles(n)
	b := make([]float32, m*c*2*nOut)
	scale := 1.0
	if inverse {
		scale = 1 / float64(n)
	}
	for t := 0; t < m; t++ {
		w := scale
		if window != nil {
			w *= float64(window[t])
		}
		for k := 0; k < nOut; k++ {
			j := int(int64(k) * int64(t) % int64(n))
			co, si := cs[j], sn[j]
			if inverse {
				si = -si
			}
			row := b[t*c*2*nOut:]
			row[2*k], row[2*k+1] = float32(w*co), float32(-w*si)
			if c == 2 {
				row = b[(t*c+1)*2*nOut:]
				row[2*k], row[2*k+1] = float32(w*si), float32(w*co)
			}
		}
	}
	return b
}

// maxDFTMatrix bounds the floats of a packed transform matrix; longer
// transforms run the reference.
const maxDFTMatrix = 1 << 22

// dftKernel runs a DFT along the innermost signal axis, or the frames of
// an STFT, as one GEMM against the transform matrix packed at load: the
// output's interleaved real and imaginary parts are the matrix's columns.
type dftKernel struct {
	rows, k, cols int // GEMM shape per call
	lda           int
	packed        *gemm.PackedB
	// STFT: frames are gathered (and windowed) into scratch first.
	stft      *stftParams
	frameSize int
	gemmSize  int
}

func compileDFT(n *node, c *compiler) (Kernel, error) {
	p := n.params.(*dftParams)
	ch := 1
	if p.complexIn {
		ch = 2
	}
	m := min(p.nIn, p.n)
	if m == 0 || p.outer == 0 || p.inner == 0 {
		return nil, nil
	}
	if p.inner != 1 || m*ch*2*p.nOut > maxDFTMatrix {
		if f := newFFTPlan(p.n, p.inverse); f != nil {
			return &fftKernel{plan: f, dft: p}, nil
		}
		return nil, nil
	}
	k := &dftKernel{rows: p.outer, k: m * ch, cols: 2 * p.nOut, lda: p.nIn * ch}
	k.packed = gemm.PackB(make([]float32, gemm.PackedBSize(k.k, k.cols)), k.k, k.cols, dftMatrix(m, ch, p.n, p.nOut, p.inverse, nil), k.cols, false)
	k.gemmSize = c.gemmScratch(gemm.Args{M: k.rows, N: k.cols, K: k.k, PackedB: k.packed})
	return k, nil
}

// ScratchSize implements scratchUser.
func (k *dftKernel) ScratchSize() int { return k.frameSize + k.gemmSize }

// Run implements Kernel.
func (k *dftKernel) Run(x *Exec, in, out []*Tensor) {
	if k.stft != nil {
		k.runSTFT(x, in, out)
		return
	}
	args := gemm.Args{M: k.rows, N: k.cols, K: k.k, A: in[0].F, LDA: k.lda, PackedB: k.packed, C: out[0].F, Scratch: x.scratch}
	x.gemmArgs(&args)
	gemm.Sgemm(&args)
}

// runSTFT gathers each batch's frames, windowed, and transforms them in one
// GEMM.
func (k *dftKernel) runSTFT(x *Exec, in, out []*Tensor) {
	p := k.stft
	frames := x.scratch[:k.frameSize]
	var window []float32
	if p.hasWindow {
		window = in[2].F
	}
	sig := in[0].F
	for b := 0; b < p.batch; b++ {
		for f := 0; f < p.frames; f++ {
			src := sig[(b*p.length+f*p.step)*p.c : (b*p.length+f*p.step+p.n)*p.c]
			dst := frames[f*p.n*p.c : (f+1)*p.n*p.c]
			if window == nil {
				copy(dst, src)
				continue
			}
			for t := 0; t < p.n; t++ {
				for ch := 0; ch < p.c; ch++ {
					dst[t*p.c+ch] = src[t*p.c+ch] * window[t]
				}
			}
		}
		args := gemm.Args{M: p.frames, N: k.cols, K: k.k, A: frames, PackedB: k.packed,
			C: out[0].F[b*p.frames*k.cols : (b+1)*p.frames*k.cols], Scratch: x.scratch[k.frameSize:]}
		x.gemmArgs(&args)
		gemm.Sgemm(&args)
	}
}

// stftParams describe an STFT node.
type stftParams struct {
	batch, length, c int
	step, n          int
	frames, bins     int
	hasWindow        bool
	cos, sin         []float64
}

var stftOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(2, 4); err != nil {
			return err
		}
		if err := n.needFloat(0); err != nil {
			return err
		}
		x := n.in[0]
		if len(x.shape) != 3 || x.shape[2] != 1 && x.shape[2] != 2 {
			return n.errorf("signal %v must be [batch, length, 1 or 2]", x.shape)
		}
		p := &stftParams{batch: x.shape[0], length: x.shape[1], c: x.shape[2]}
		step, err := n.constInts(1, "frame_step")
		if err != nil {
			return err
		}
		if len(step) != 1 || step[0] < 1 || step[0] > math.MaxInt32 {
			return n.errorf("frame_step %v must be a positive scalar", step)
		}
		p.step = int(step[0])
		p.n = -1
		if w := n.input(2); w != nil {
			if !w.dtype.IsFloat() || len(w.shape) != 1 {
				return n.errorf("window %v (%v) must be a 1-D float tensor", w.shape, w.dtype)
			}
			p.n, p.hasWindow = w.shape[0], true
		}
		if v, err := n.constInts(3, "frame_length"); err != nil {
			return err
		} else if v != nil {
			if len(v) != 1 || v[0] < 1 || v[0] > maxDFTLength || p.hasWindow && int(v[0]) != p.n {
				return n.errorf("frame_length %v must be a positive scalar equal to the window length", v)
			}
			p.n = int(v[0])
		}
		if p.n < 1 || p.n > maxDFTLength {
			return n.errorf("needs a window or a frame_length in [1, %d]", maxDFTLength)
		}
		if p.length < p.n {
			return n.errorf("signal of %d samples is shorter than a frame of %d", p.length, p.n)
		}
		p.frames = (p.length-p.n)/p.step + 1
		one, err := n.attrInt("onesided", 1)
		if err != nil {
			return err
		}
		p.bins = p.n
		if one != 0 {
			if p.c == 2 {
				return n.errorf("onesided needs a real signal")
			}
			p.bins = p.n/2 + 1
		}
		shape := []int{p.batch, p.frames, p.bins, 2}
		if err := n.checkElems("output", shape); err != nil {
			return err
		}
		p.cos, p.sin = twiddles(p.n)
		n.params = p
		n.out[0].dtype = x.dtype
		n.out[0].shape = shape
		return nil
	},
	eval: func(n *node, in, out []*Tensor) {
		p := n.params.(*stftParams)
		x, y := in[0].F, out[0].F
		for b := 0; b < p.batch; b++ {
			for f := 0; f < p.frames; f++ {
				for k := 0; k < p.bins; k++ {
					var re, im float64
					for t := 0; t < p.n; t++ {
						at := (b*p.length + f*p.step + t) * p.c
						w := 1.0
						if p.hasWindow {
							w = float64(in[2].F[t])
						}
						a := float64(x[at]) * w
						var bi float64
						if p.c == 2 {
							bi = float64(x[at+1]) * w
						}
						j := int(int64(k) * int64(t) % int64(p.n))
						re += a*p.cos[j] + bi*p.sin[j]
						im += bi*p.cos[j] - a*p.sin[j]
					}
					at := ((b*p.frames+f)*p.bins + k) * 2
					y[at], y[at+1] = float32(re), float32(im)
				}
			}
		}
	},
	compile: func(n *node, c *compiler) (Kernel, error) {
		p := n.params.(*stftParams)
		if p.frames == 0 || p.batch == 0 {
			return nil, nil
		}
		if p.n*p.c*2*p.bins > maxDFTMatrix {
			if f := newFFTPlan(p.n, false); f != nil {
				return &fftKernel{plan: f, stft: p}, nil
			}
			return nil, nil
		}
		k := &dftKernel{k: p.n * p.c, cols: 2 * p.bins, stft: p, frameSize: p.frames * p.n * p.c}
		k.packed = gemm.PackB(make([]float32, gemm.PackedBSize(k.k, k.cols)), k.k, k.cols, dftMatrix(p.n, p.c, p.n, p.bins, false, nil), k.cols, false)
		k.gemmSize = c.gemmScratch(gemm.Args{M: p.frames, N: k.cols, K: k.k, PackedB: k.packed})
		return k, nil
	},
}

// fftPlan is a radix-2 FFT of a power-of-two length: the bit-reversal
// permutation and the twiddles, computed once at load.
type fftPlan struct {
	n        int
	rev      []int32
	cos, sin []float32 // cos and -sin (forward) or +sin (inverse) of 2*pi*j/n, j < n/2
	inverse  bool
}

// newFFTPlan returns the plan of a power-of-two n, or nil.
func newFFTPlan(n int, inverse bool) *fftPlan {
	if n < 2 || n&(n-1) != 0 {
		return nil
	}
	f := &fftPlan{n: n, rev: make([]int32, n), inverse: inverse}
	bits := 0
	for 1<<bits < n {
		bits++
	}
	for i := range f.rev {
		r := 0
		for b := 0; b < bits; b++ {
			if i&(1<<b) != 0 {
				r |= 1 << (bits - 1 - b)
			}
		}
		f.rev[i] = int32(r)
	}
	sign := -1.0
	if inverse {
		sign = 1
	}
	for j := 0; j < n/2; j++ {
		th := 2 * math.Pi * float64(j) / float64(n)
		f.cos = append(f.cos, float32(math.Cos(th)))
		f.sin = append(f.sin, float32(sign*math.Sin(th)))
	}
	return f
}

// transform runs the FFT in place on re and im (already in bit-reversed
// order) and scales by 1/n for the inverse.
func (f *fftPlan) transform(re, im []float32) {
	n := f.n
	re, im = re[:n], im[:n]
	for size := 2; size <= n; size <<= 1 {
		half, step := size/2, n/size
		for start := 0; start < n; start += size {
			for j := 0; j < half; j++ {
				c, s := f.cos[j*step], f.sin[j*step]
				a, b := start+j, start+j+half
				tr := re[b]*c - im[b]*s
				ti := re[b]*s + im[b]*c
				re[b], im[b] = re[a]-tr, im[a]-ti
				re[a], im[a] = re[a]+tr, im[a]+ti
			}
		}
	}
	if f.inverse {
		inv := 1 / float32(n)
		for i := range re {
			re[i] *= inv
			im[i] *= inv
		}
	}
}

// fftKernel runs a DFT or an STFT of a power-of-two length too long for a
// packed transform matrix: each line (or windowed frame) is gathered into
// Exec.Scratch in bit-reversed order, zero padded, and transformed.
type fftKernel struct {
	plan *fftPlan
	dft  *dftParams
	stft *stftParams
}

// ScratchSize implements scratchUser.
func (k *fftKernel) ScratchSize() int { return 2 * k.plan.n }

// Run implements Kernel.
func (k *fftKernel) Run(x *Exec, in, out []*Tensor) {
	n := k.plan.n
	re, im := x.scratch[:n], x.scratch[n:2*n]
	src, dst := in[0].F, out[0].F
	if p := k.stft; p != nil {
		var window []float32
		if p.hasWindow {
			window = in[2].F
		}
		for b := 0; b < p.batch; b++ {
			for f := 0; f < p.frames; f++ {
				base := (b*p.length + f*p.step) * p.c
				for t := 0; t < n; t++ {
					v, w := src[base+t*p.c], float32(1)
					if window != nil {
						w = window[t]
					}
					var vi float32
					if p.c == 2 {
						vi = src[base+t*p.c+1]
					}
					r := k.plan.rev[t]
					re[r], im[r] = v*w, vi*w
				}
				k.plan.transform(re, im)
				o := dst[(b*p.frames+f)*p.bins*2:]
				for j := 0; j < p.bins; j++ {
					o[2*j], o[2*j+1] = re[j], im[j]
				}
			}
		}
		return
	}
	p := k.dft
	c := 1
	if p.complexIn {
		c = 2
	}
	m := min(p.nIn, p.n)
	for o := 0; o < p.outer; o++ {
		for i := 0; i < p.inner; i++ {
			for t := 0; t < n; t++ {
				r := k.plan.rev[t]
				if t >= m {
					re[r], im[r] = 0, 0
					continue
				}
				at := ((o*p.nIn+t)*p.inner + i) * c
				re[r], im[r] = src[at], 0
				if c == 2 {
					im[r] = src[at+1]
				}
			}
			k.plan.transform(re, im)
			for j := 0; j < p.nOut; j++ {
				at := ((o*p.nOut+j)*p.inner + i) * 2
				dst[at], dst[at+1] = re[j], im[j]
			}
		}
	}
}

// windowParams describe HannWindow, HammingWindow and BlackmanWindow: the
// cosine sum a0 - a1*cos(2*pi*i/N) + a2*cos(4*pi*i/N), N the size
// (periodic) or the size less one (symmetric).
type windowParams struct {
	size       int
	denom      float64
	a0, a1, a2 float64
}

func windowDef(a0, a1, a2 float64) opDef {
	return opDef{
		infer: func(n *node) error {
			if err := n.needInputs(1, 1); err != nil {
				return err
			}
			v, err := n.constInts(0, "size")
			if err != nil {
				return err
			}
			if len(v) != 1 || v[0] < 0 || v[0] > maxSpatialElems {
				return n.errorf("size %v must be a non-negative scalar", v)
			}
			periodic, err := n.attrInt("periodic", 1)
			if err != nil {
				return err
			}
			dt, err := n.attrInt("output_datatype", int64(Float32))
			if err != nil {
				return err
			}
			if !DType(dt).Supported() {
				return n.unsupported("output_datatype %v", DType(dt))
			}
			p := &windowParams{size: int(v[0]), denom: float64(v[0]), a0: a0, a1: a1, a2: a2}
			if periodic == 0 {
				p.denom--
			}
			n.params = p
			n.out[0].dtype = DType(dt)
			n.out[0].shape = []int{p.size}
			return nil
		},
		eval: func(n *node, _, out []*Tensor) {
			p := n.params.(*windowParams)
			y := out[0]
			for i := 0; i < p.size; i++ {
				th := 2 * math.Pi * float64(i) / p.denom
				if p.denom == 0 {
					th = 0 // a symmetric window of one sample
				}
				v := p.a0 - p.a1*math.Cos(th) + p.a2*math.Cos(2*th)
				if y.DType.IsInt() {
					y.I[i] = wrapInt(y.DType, int64(v))
				} else {
					y.F[i] = float32(v)
				}
			}
		},
	}
}

var (
	hannWindowOp     = windowDef(0.5, 0.5, 0)
	hammingWindowOp  = windowDef(25.0/46, 21.0/46, 0)
	blackmanWindowOp = windowDef(0.42, 0.5, 0.08)
)

// melParams describe a MelWeightMatrix node: the triangle filters' edges
// as spectrogram bins.
type melParams struct {
	bins, mels int
	edges      []int
}

var melWeightMatrixOp = opDef{
	infer: func(n *node) error {
		if err := n.needInputs(5, 5); err != nil {
			return err
		}
		var ints [3]int64
		for i, name := range []string{"num_mel_bins", "dft_length", "sample_rate"} {
			v, err := n.constInts(i, name)
			if err != nil {
				return err
			}
			if len(v) != 1 || v[0] < 1 || v[0] > maxDFTLength {
				return n.errorf("%s %v must be a positive scalar up to %d", name, v, maxDFTLength)
			}
			ints[i] = v[0]
		}
		var hz [2]float64
		for i, name := range []string{"lower_edge_hertz", "upper_edge_hertz"} {
			v, err := n.constFloatList(3+i, name)
			if err != nil {
				return err
			}
			if len(v) != 1 || math.IsNaN(float64(v[0])) || math.IsInf(float64(v[0]), 0) || v[0] < 0 {
				return n.errorf("%s %v must be a finite non-negative scalar", name, v)
			}
			hz[i] = float64(v[0])
		}
		dt, err := n.attrInt("output_datatype", int64(Float32))
		if err != nil {
			return err
		}
		if !DType(dt).Supported() {
			return n.unsupported("output_datatype %v", DType(dt))
		}
		mels, dft, rate := int(ints[0]), int(ints[1]), float64(ints[2])
		p := &melParams{bins: dft/2 + 1, mels: mels}
		// As the ONNX reference: mels+2 points evenly spaced in mel (the
		// step divides by their count), back to hertz, then to bins.
		lo := 2595 * math.Log10(1+hz[0]/700)
		hi := 2595 * math.Log10(1+hz[1]/700)
		step := (hi - lo) / float64(mels+2)
		for i := 0; i < mels+2; i++ {
			f := 700 * (math.Pow(10, (float64(i)*step+lo)/2595) - 1)
			p.edges = append(p.edges, int(math.Floor(float64(dft+1)*f/rate)))
		}
		if err := n.checkElems("output", []int{p.bins, mels}); err != nil {
			return err
		}
		n.params = p
		n.out[0].dtype = DType(dt)
		n.out[0].shape = []int{p.bins, mels}
		return nil
	},
	eval: func(n *node, _, out []*Tensor) {
		p := n.params.(*melParams)
		y := out[0]
		set := func(j, i int, v float64) {
			if j < 0 || j >= p.bins {
				return // an edge beyond the spectrum
			}
			if y.DType.IsInt() {
				y.I[j*p.mels+i] = wrapInt(y.DType, int64(v))
			} else {
				y.F[j*p.mels+i] = float32(v)
			}
		}
		clear(y.F)
		clear(y.I)
		for i := 0; i < p.mels; i++ {
			l, c, h := p.edges[i], p.edges[i+1], p.edges[i+2]
			if c == l {
				set(c, i, 1)
			} else {
				for j := l; j <= c; j++ {
					set(j, i, float64(j-l)/float64(c-l))
				}
			}
			for j := c; j < h; j++ {
				set(j, i, float64(h-j)/float64(h-c))
			}
		}
	},
}

// signalOps are the signal-processing operators of audio front ends.
var signalOps = map[string]*opDef{
	"DFT": &dftOp, "STFT": &stftOp,
	"HannWindow": &hannWindowOp, "HammingWindow": &hammingWindowOp, "BlackmanWindow": &blackmanWindowOp,
	"MelWeightMatrix": &melWeightMatrixOp,
}
