package engine

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/kagen-ai/kagen/engine/onnx"
)

// dftCase is one DFT configuration.
type dftCase struct {
	shape    []int // input, the last dimension 1 or 2
	axis     int
	length   int // dft_length, 0 for none
	inverse  bool
	onesided bool
	opset    int64
	wantFast bool
}

func (c dftCase) model(t testing.TB) *Model {
	opset := c.opset
	if opset == 0 {
		opset = 17
	}
	b := newBuilder(opset).input("x", c.shape...)
	ins := []string{"x", "", ""}
	var attrs []*onnx.Attribute
	if c.length > 0 {
		b.initInts("len", []int64{int64(c.length)})
		ins[1] = "len"
	}
	if opset >= 20 {
		b.initInts("axis", []int64{int64(c.axis)})
		ins[2] = "axis"
	} else {
		attrs = append(attrs, attrInt("axis", c.axis))
	}
	if c.inverse {
		attrs = append(attrs, attrInt("inverse", 1))
	}
	if c.onesided {
		attrs = append(attrs, attrInt("onesided", 1))
	}
	for len(ins) > 1 && ins[len(ins)-1] == "" {
		ins = ins[:len(ins)-1]
	}
	return b.node("DFT", ins, []string{"y"}, attrs...).output("y").load(t, Options{})
}

// naiveDFT is an independent 1-D transform over complex128.
func naiveDFT(x []complex128, n int, inverse bool) []complex128 {
	y := make([]complex128, n)
	sign := -1.0
	if inverse {
		sign = 1
	}
	w := make([]complex128, n) // e^(sign*2*pi*i*j/n)
	for j := range w {
		th := sign * 2 * math.Pi * float64(j) / float64(n)
		w[j] = complex(math.Cos(th), math.Sin(th))
	}
	for k := range y {
		for t := 0; t < min(n, len(x)); t++ {
			y[k] += x[t] * w[k*t%n]
		}
		if inverse {
			y[k] /= complex(float64(n), 0)
		}
	}
	return y
}

func TestDFT(t *testing.T) {
	rng := rand.New(rand.NewPCG(61, 62))
	cases := []dftCase{
		{shape: []int{2, 16, 1}, axis: 1, wantFast: true},
		{shape: []int{3, 10, 2}, axis: 1, wantFast: true},
		{shape: []int{3, 10, 2}, axis: 1, inverse: true, wantFast: true},
		{shape: []int{2, 12, 1}, axis: 1, onesided: true, wantFast: true},
		{shape: []int{2, 12, 1}, axis: 1, length: 16, onesided: true, wantFast: true}, // zero padded
		{shape: []int{2, 12, 2}, axis: -2, length: 7, wantFast: true},                 // truncated
		{shape: []int{2, 5, 6, 1}, axis: 1},                                           // not the innermost axis: reference
		{shape: []int{2, 5, 6, 2}, axis: 2, length: 9, inverse: true, wantFast: true},
		{shape: []int{2, 5, 6, 2}, axis: 2, opset: 20, wantFast: true},
		{shape: []int{2, 5, 6, 1}, axis: -3, opset: 20, onesided: true},
		{shape: []int{1, 1, 1}, axis: 1, wantFast: true},
	}
	fftCases := []dftCase{ // radix-2 FFT: too long for a matrix, or strided
		{shape: []int{1, 3000, 1}, axis: 1, length: 4096},
		{shape: []int{1, 2048, 2}, axis: 1, inverse: true},
		{shape: []int{2, 1024, 1}, axis: 1, length: 4096, onesided: true},
		{shape: []int{2, 8, 3, 1}, axis: 1},
		{shape: []int{2, 16, 3, 2}, axis: 1, length: 4, inverse: true},
	}
	for i, c := range append(cases, fftCases...) {
		t.Run(fmt.Sprint(c), func(t *testing.T) {
			m := c.model(t)
			if _, fast := m.steps[0].kernel.(*dftKernel); fast != c.wantFast {
				t.Fatalf("GEMM kernel %v, want %v", fast, c.wantFast)
			}
			if _, fft := m.steps[0].kernel.(*fftKernel); fft != (i >= len(cases)) {
				t.Fatalf("FFT kernel %v", fft)
			}
			x := NewFloat(randFloats(rng, numel(c.shape)), c.shape...)
			got, err := m.NewSession().RunWith([]*Tensor{x}, referenceSelector{m})
			if err != nil {
				t.Fatal(err)
			}
			// The oracle: gather each line along the axis, transform it.
			r := len(c.shape)
			axis := (c.axis + r) % r
			outer, nIn, inner, ch := numel(c.shape[:axis]), c.shape[axis], numel(c.shape[axis+1:r-1]), c.shape[r-1]
			n := nIn
			if c.length > 0 {
				n = c.length
			}
			nOut := n
			if c.onesided {
				nOut = n/2 + 1
			}
			want := make([]float32, outer*nOut*inner*2)
			for o := 0; o < outer; o++ {
				for i := 0; i < inner; i++ {
					line := make([]complex128, nIn)
					for s := range line {
						at := ((o*nIn+s)*inner + i) * ch
						im := 0.0
						if ch == 2 {
							im = float64(x.F[at+1])
						}
						line[s] = complex(float64(x.F[at]), im)
					}
					y := naiveDFT(line, n, c.inverse)
					for k := 0; k < nOut; k++ {
						at := ((o*nOut+k)*inner + i) * 2
						want[at], want[at+1] = float32(real(y[k])), float32(imag(y[k]))
					}
				}
			}
			compareFloats(t, got[0].F, want, 1e-5)
			checkAgainstReference(t, m, []*Tensor{x}, 1e-5)
		})
	}
	// An impulse transforms to all ones; a cosine of frequency 1 to n/2 at
	// bins 1 and n-1; the inverse of a transform is the signal.
	m := dftCase{shape: []int{1, 8, 1}, axis: 1}.model(t)
	got := runModel(t, m, NewFloat([]float32{1, 0, 0, 0, 0, 0, 0, 0}, 1, 8, 1))[0]
	compareFloats(t, got.F, []float32{1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0}, 1e-6)
	cosine := make([]float32, 8)
	for i := range cosine {
		cosine[i] = float32(math.Cos(2 * math.Pi * float64(i) / 8))
	}
	got = runModel(t, m, NewFloat(cosine, 1, 8, 1))[0]
	compareFloats(t, got.F, []float32{0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0}, 1e-6)
	inv := dftCase{shape: []int{1, 8, 2}, axis: 1, inverse: true}.model(t)
	back := runModel(t, inv, got)[0]
	for i, v := range cosine {
		if math.Abs(float64(back.F[2*i]-v)) > 1e-6 || math.Abs(float64(back.F[2*i+1])) > 1e-6 {
			t.Fatalf("inverse of the transform is %v", back.F)
		}
	}
}

func stftModel(t testing.TB, shape []int, step, length int, window []float32, onesided int) *Model {
	b := newBuilder(17).input("x", shape...).initInts("step", []int64{int64(step)})
	ins := []string{"x", "step", "", ""}
	if window != nil {
		b.init("w", window, len(window))
		ins[2] = "w"
	}
	if length > 0 {
		b.initInts("len", []int64{int64(length)})
		ins[3] = "len"
	}
	for ins[len(ins)-1] == "" {
		ins = ins[:len(ins)-1]
	}
	var attrs []*onnx.Attribute
	if onesided >= 0 {
		attrs = append(attrs, attrInt("onesided", onesided))
	}
	return b.node("STFT", ins, []string{"y"}, attrs...).output("y").load(t, Options{})
}

func TestSTFT(t *testing.T) {
	rng := rand.New(rand.NewPCG(63, 64))
	hann := make([]float32, 16)
	for i := range hann {
		hann[i] = float32(0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/16))
	}
	type sc struct {
		shape    []int
		step     int
		length   int
		window   []float32
		onesided int
	}
	cases := []sc{
		{[]int{2, 64, 1}, 8, 16, nil, -1},
		{[]int{2, 64, 1}, 5, 0, hann, -1},
		{[]int{1, 70, 1}, 16, 16, hann, 0},
		{[]int{2, 50, 2}, 7, 12, nil, 0},
		{[]int{1, 16, 1}, 100, 16, nil, 1},       // one frame
		{[]int{1, 5000, 1}, 1500, 2048, nil, -1}, // FFT
		{[]int{1, 3000, 2}, 700, 1024, nil, 0},   // FFT
	}
	for _, c := range cases {
		m := stftModel(t, c.shape, c.step, c.length, c.window, c.onesided)
		_, fast := m.steps[0].kernel.(*dftKernel)
		_, fft := m.steps[0].kernel.(*fftKernel)
		if !fast && !fft {
			t.Fatal("STFT does not use a fast kernel")
		}
		x := NewFloat(randFloats(rng, numel(c.shape)), c.shape...)
		got, err := m.NewSession().RunWith([]*Tensor{x}, referenceSelector{m})
		if err != nil {
			t.Fatal(err)
		}
		// Oracle: each frame, windowed, through naiveDFT.
		n := c.length
		if c.window != nil {
			n = len(c.window)
		}
		bins := n
		if c.onesided != 0 && c.shape[2] == 1 {
			bins = n/2 + 1
		}
		frames := (c.shape[1]-n)/c.step + 1
		if !equalShapes(got[0].Shape, []int{c.shape[0], frames, bins, 2}) {
			t.Fatalf("shape %v", got[0].Shape)
		}
		var want []float32
		for b := 0; b < c.shape[0]; b++ {
			for f := 0; f < frames; f++ {
				line := make([]complex128, n)
				for s := range line {
					at := (b*c.shape[1] + f*c.step + s) * c.shape[2]
					w := 1.0
					if c.window != nil {
						w = float64(c.window[s])
					}
					im := 0.0
					if c.shape[2] == 2 {
						im = float64(x.F[at+1])
					}
					line[s] = complex(float64(x.F[at])*w, im*w)
				}
				for _, v := range naiveDFT(line, n, false)[:bins] {
					want = append(want, float32(real(v)), float32(imag(v)))
				}
			}
		}
		compareFloats(t, got[0].F, want, 1e-5)
		checkAgainstReference(t, m, []*Tensor{x}, 1e-5)
	}
	// A constant signal: only bin 0, the frame's length.
	m := stftModel(t, []int{1, 12, 1}, 4, 8, nil, -1)
	ones := make([]float32, 12)
	for i := range ones {
		ones[i] = 1
	}
	got := runModel(t, m, NewFloat(ones, 1, 12, 1))[0]
	want := make([]float32, 2*5*2)
	want[0], want[10] = 8, 8
	compareFloats(t, got.F, want, 1e-6)
}

func TestWindows(t *testing.T) {
	tests := []struct {
		op       string
		size     int64
		periodic int
		dtype    DType
		want     []float32
	}{
		{"HannWindow", 4, 1, Float32, []float32{0, 0.5, 1, 0.5}},
		{"HannWindow", 5, 0, Float32, []float32{0, 0.5, 1, 0.5, 0}},
		// Hamming: 25/46 - 21/46 cos.
		{"HammingWindow", 2, 1, Float32, []float32{4.0 / 46, 1}},
		{"HammingWindow", 3, 0, Float64, []float32{4.0 / 46, 1, 4.0 / 46}},
		// Blackman: 0.42 - 0.5 cos + 0.08 cos(2x): 0, 0.34, 1, 0.34.
		{"BlackmanWindow", 4, 1, Float32, []float32{0, 0.34, 1, 0.34}},
		{"BlackmanWindow", 0, 1, Float32, []float32{}},
		{"HannWindow", 1, 0, Float32, []float32{0}},
		// The true pi, not the 3.1415 of the onnx 1.12 test data: element
		// 8 of a periodic Hann window of 10 is sin(0.8 pi)^2.
		{"HannWindow", 10, 1, Float32, nil},
	}
	for _, tc := range tests {
		b := newBuilder(17).initInts("n", []int64{tc.size}).
			node(tc.op, []string{"n"}, []string{"y"}, attrInt("periodic", tc.periodic), attrInt("output_datatype", int(tc.dtype))).output("y")
		b.m.Graph.Inputs = nil
		// A model with no inputs: the window is folded at load.
		m, err := loadDecoded(b.m, "", Options{})
		if err != nil {
			t.Fatal(err)
		}
		got := runModel(t, m)[0]
		if got.DType != tc.dtype || len(got.Shape) != 1 || got.Shape[0] != int(tc.size) {
			t.Fatalf("%s: %v", tc.op, got)
		}
		if tc.want == nil {
			s := math.Sin(0.8 * math.Pi)
			compareFloats(t, got.F[8:9], []float32{float32(s * s)}, 1e-7)
			continue
		}
		compareFloats(t, got.F, tc.want, 1e-6)
	}
	// Integer output truncates.
	m := newBuilder(17).initInts("n", []int64{4}).node("HannWindow", []string{"n"}, []string{"y"}, attrInt("output_datatype", int(Int32))).output("y").load(t, Options{})
	if got := runModel(t, m)[0]; got.DType != Int32 || got.I[2] != 1 || got.I[1] != 0 {
		t.Fatalf("integer window %v", got.I)
	}
	// The size computed at run time must be bound.
	_, err := loadDecoded(newBuilder(17).inputOf("n", Int64).node("HannWindow", []string{"n"}, []string{"y"}).output("y").m, "", Options{})
	var ce *ConstantInputError
	if !errors.As(err, &ce) {
		t.Fatalf("got %v, want a ConstantInputError", err)
	}
}

// TestMelWeightMatrix pins the example of the ONNX operator documentation:
// 8 mel bins over a 16-point DFT at 8192 Hz, 0 to 4096 Hz.
func TestMelWeightMatrix(t *testing.T) {
	b := newBuilder(17).initInts("m", []int64{8}).initInts("d", []int64{16}).initInts("r", []int64{8192}).
		init("lo", []float32{0}).init("hi", []float32{4096}).
		node("MelWeightMatrix", []string{"m", "d", "r", "lo", "hi"}, []string{"y"}).output("y")
	m := b.load(t, Options{})
	got := runModel(t, m)[0]
	want := []float32{
		1, 1, 0, 0, 0, 0, 0, 0,
		0, 0, 1, 1, 0, 0, 0, 0,
		0, 0, 0, 0, 1, 0, 0, 0,
		0, 0, 0, 0, 0, 1, 0, 0,
		0, 0, 0, 0, 0, 0, 1, 0,
		0, 0, 0, 0, 0, 0, 0, 1,
		0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0,
	}
	if !equalShapes(got.Shape, []int{9, 8}) {
		t.Fatalf("shape %v", got.Shape)
	}
	compareFloats(t, got.F, want, 0)
	// Wider bins give triangles: 2 mel bins over a 64-point DFT at 64 Hz,
	// 0 to 32 Hz. The edges are floor(65*f/64) of four points evenly
	// spaced in mel; the filters rise to 1 at the centre edge and fall.
	b = newBuilder(17).initInts("m", []int64{2}).initInts("d", []int64{64}).initInts("r", []int64{64}).
		init("lo", []float32{0}).init("hi", []float32{32}).
		node("MelWeightMatrix", []string{"m", "d", "r", "lo", "hi"}, []string{"y"}).output("y")
	got = runModel(t, b.load(t, Options{}))[0]
	mel := func(f float64) float64 { return 2595 * math.Log10(1+f/700) }
	hz := func(m float64) float64 { return 700 * (math.Pow(10, m/2595) - 1) }
	var edges []int
	for i := 0; i < 4; i++ {
		edges = append(edges, int(math.Floor(65*hz(float64(i)*mel(32)/4)/64)))
	}
	for j := 0; j < 33; j++ {
		for i := 0; i < 2; i++ {
			l, c, h := edges[i], edges[i+1], edges[i+2]
			var w float64
			switch {
			case j >= l && j <= c && c > l:
				w = float64(j-l) / float64(c-l)
			}
			if j >= c && j < h {
				w = float64(h-j) / float64(h-c)
			}
			if math.Abs(float64(got.F[j*2+i])-w) > 1e-6 {
				t.Fatalf("edges %v: element (%d, %d) is %g, want %g", edges, j, i, got.F[j*2+i], w)
			}
		}
	}
}

func TestSignalErrorsAndAllocs(t *testing.T) {
	tests := []struct {
		name string
		b    *builder
		want string
	}{
		{"dft last dim", newBuilder(17).input("x", 2, 8, 3).node("DFT", []string{"x"}, []string{"y"}), "must end with"},
		{"dft axis", newBuilder(17).input("x", 2, 8, 1).node("DFT", []string{"x"}, []string{"y"}, attrInt("axis", 2)), "axis 2 is out of range"},
		{"dft onesided complex", newBuilder(17).input("x", 2, 8, 2).node("DFT", []string{"x"}, []string{"y"}, attrInt("onesided", 1)), "onesided needs a real input"},
		{"dft length", newBuilder(17).input("x", 2, 8, 1).initInts("l", []int64{0}).node("DFT", []string{"x", "l"}, []string{"y"}), "dft_length"},
		{"stft short", newBuilder(17).input("x", 1, 8, 1).initInts("s", []int64{2}).initInts("l", []int64{16}).node("STFT", []string{"x", "s", "", "l"}, []string{"y"}), "shorter than a frame"},
		{"stft step", newBuilder(17).input("x", 1, 8, 1).initInts("s", []int64{0}).initInts("l", []int64{4}).node("STFT", []string{"x", "s", "", "l"}, []string{"y"}), "frame_step"},
		{"stft window length", newBuilder(17).input("x", 1, 32, 1).initInts("s", []int64{2}).init("w", make([]float32, 8), 8).initInts("l", []int64{16}).node("STFT", []string{"x", "s", "w", "l"}, []string{"y"}), "frame_length"},
		{"stft no length", newBuilder(17).input("x", 1, 32, 1).initInts("s", []int64{2}).node("STFT", []string{"x", "s"}, []string{"y"}), "needs a window or a frame_length"},
		{"window size", newBuilder(17).initInts("n", []int64{-3}).node("HannWindow", []string{"n"}, []string{"y"}), "size"},
		{"window type", newBuilder(17).initInts("n", []int64{3}).node("HannWindow", []string{"n"}, []string{"y"}, attrInt("output_datatype", 8)), "unsupported HannWindow/output_datatype"},
		{"mel bins", newBuilder(17).initInts("m", []int64{0}).initInts("d", []int64{16}).initInts("r", []int64{8000}).init("lo", []float32{0}).init("hi", []float32{4000}).node("MelWeightMatrix", []string{"m", "d", "r", "lo", "hi"}, []string{"y"}), "num_mel_bins"},
		{"mel hertz", newBuilder(17).initInts("m", []int64{4}).initInts("d", []int64{16}).initInts("r", []int64{8000}).init("lo", []float32{float32(math.Inf(1))}).init("hi", []float32{4000}).node("MelWeightMatrix", []string{"m", "d", "r", "lo", "hi"}, []string{"y"}), "lower_edge_hertz"},
	}
	for _, tc := range tests {
		_, err := loadDecoded(tc.b.output("y").m, "", Options{})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `"y_node"`) {
			t.Errorf("%s: got %v, want an error naming the node and %q", tc.name, err, tc.want)
		}
	}
	rng := rand.New(rand.NewPCG(65, 66))
	hann := make([]float32, 32)
	for i := range hann {
		hann[i] = float32(0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/32))
	}
	for _, threads := range []int{1, 2} {
		m := newBuilder(17).input("x", 2, 400, 1).initInts("s", []int64{10}).init("w", hann, 32).
			node("STFT", []string{"x", "s", "w"}, []string{"spec"}).
			node("DFT", []string{"spec"}, []string{"y"}, attrInt("axis", 2), attrInt("inverse", 1)).output("y").load(t, Options{Threads: threads})
		s := m.NewSession()
		in := []*Tensor{NewFloat(randFloats(rng, 800), 2, 400, 1)}
		if _, err := s.Run(in); err != nil {
			t.Fatal(err)
		}
		if a := testing.AllocsPerRun(10, func() { s.Run(in) }); a != 0 && !(raceBuild && threads > 1) {
			t.Fatalf("threads %d: Run allocates %.0f times per call", threads, a)
		}
		checkAgainstReference(t, m, in, 1e-5)
	}
	// The FFT kernels.
	m := newBuilder(17).input("x", 1, 5000, 1).initInts("s", []int64{1000}).initInts("l", []int64{4096}).
		node("STFT", []string{"x", "s", "", "l"}, []string{"spec"}, attrInt("onesided", 0)).
		node("DFT", []string{"spec"}, []string{"y"}, attrInt("axis", 2), attrInt("inverse", 1)).output("y").load(t, Options{})
	_, fft0 := m.steps[0].kernel.(*fftKernel)
	if _, fft := m.steps[1].kernel.(*fftKernel); !fft || !fft0 {
		t.Fatal("no FFT kernel")
	}
	s := m.NewSession()
	in := []*Tensor{NewFloat(randFloats(rng, 5000), 1, 5000, 1)}
	if _, err := s.Run(in); err != nil {
		t.Fatal(err)
	}
	if a := testing.AllocsPerRun(5, func() { s.Run(in) }); a != 0 {
		t.Fatalf("FFT: Run allocates %.0f times per call", a)
	}
}
