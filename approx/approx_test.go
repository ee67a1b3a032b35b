package approx

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/kagen-ai/kagen/engine"
)

func randFloats(rng *rand.Rand, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = rng.Float32()*2 - 1
	}
	return out
}

// convSpec returns a random-weight convolution of the given geometry.
func convSpec(rng *rand.Rand, oneD bool, c, h, w, m, kh, kw, s, pad, dil, group int, bias, relu bool) *engine.ConvSpec {
	cs := &engine.ConvSpec{OneD: oneD, Batch: 1, C: c, H: h, W: w, M: m, KH: kh, KW: kw, SH: s, SW: s, DH: dil, DW: dil,
		PadT: pad, PadL: pad, PadB: pad, PadR: pad, Group: group}
	if oneD {
		cs.H, cs.KH, cs.SH, cs.DH, cs.PadT, cs.PadB = 1, 1, 1, 1, 0, 0
	}
	cs.OH = (cs.H+cs.PadT+cs.PadB-((cs.KH-1)*cs.DH+1))/cs.SH + 1
	cs.OW = (cs.W+cs.PadL+cs.PadR-((cs.KW-1)*cs.DW+1))/cs.SW + 1
	cs.Weights = randFloats(rng, m*(c/group)*cs.KH*cs.KW)
	if bias {
		cs.Bias = randFloats(rng, m)
	}
	if relu {
		cs.Act = engine.Activation{On: true, Lo: 0, Hi: float32(math.Inf(1))}
	}
	return cs
}

func run(k engine.Kernel, x []float32, outLen int, shape ...int) []float32 {
	out := engine.NewFloat(make([]float32, outLen), shape...)
	k.Run(&engine.Exec{}, []*engine.Tensor{engine.NewFloat(x, shape...)}, []*engine.Tensor{out})
	return out.F
}

func maxRelDiff(got, want []float32) float64 {
	scale := 1e-3
	for _, w := range want {
		scale = math.Max(scale, math.Abs(float64(w)))
	}
	d := 0.0
	for i := range want {
		d = math.Max(d, math.Abs(float64(got[i])-float64(want[i])))
	}
	return d / scale
}

func convKnobs(cs *engine.ConvSpec) []Knob {
	ks := []Knob{}
	for s := 2; s <= 4; s++ {
		for o := 0; o < s; o++ {
			rows := cs.OH
			if cs.OneD {
				rows = cs.OW
			}
			if rows >= s {
				ks = append(ks, Knob{Shape: PerfRow, Stride: s, Offset: o})
			}
			if !cs.OneD && cs.OW >= s {
				ks = append(ks, Knob{Shape: PerfCol, Stride: s, Offset: o})
			}
			if cs.C/cs.Group*cs.KH*cs.KW >= s {
				ks = append(ks, Knob{Shape: Samp, Stride: s, Offset: o})
			}
		}
	}
	return ks
}

// TestConvKnobsMatchReference compares the fast approximate convolutions
// with the naive definition over shapes, strides, offsets, paddings and
// groups.
func TestConvKnobsMatchReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	specs := []*engine.ConvSpec{
		convSpec(rng, false, 3, 9, 8, 5, 3, 3, 1, 1, 1, 1, true, true),
		convSpec(rng, false, 4, 11, 7, 6, 3, 2, 2, 1, 1, 2, true, false),
		convSpec(rng, false, 1, 30, 12, 8, 5, 4, 1, 0, 1, 1, false, true),
		convSpec(rng, false, 6, 10, 10, 6, 3, 3, 1, 2, 2, 6, true, true), // depthwise, dilated
		convSpec(rng, false, 8, 6, 9, 4, 1, 1, 1, 0, 1, 1, true, false),  // 1x1
		convSpec(rng, false, 2, 12, 37, 5, 3, 4, 1, 1, 1, 1, true, true), // rows of 36: rebuilt plane by plane
		convSpec(rng, true, 6, 1, 64, 16, 1, 5, 1, 2, 1, 1, true, true),
		convSpec(rng, true, 16, 1, 33, 32, 1, 3, 2, 1, 1, 1, true, false),
		convSpec(rng, true, 8, 1, 20, 8, 1, 3, 1, 1, 1, 8, false, true),       // 1-D depthwise
		convSpec(rng, false, 160, 6, 5, 160, 3, 3, 1, 1, 1, 160, false, true), // depthwise 6x5: two groups of planes
	}
	for si, cs := range specs {
		x := randFloats(rng, cs.Batch*cs.C*cs.H*cs.W)
		for _, k := range append(convKnobs(cs), Exact) {
			t.Run(fmt.Sprintf("spec%d/%s", si, k), func(t *testing.T) {
				want := ReferenceConv(cs, k, x)
				got := run(newConvKernel(cs, k), x, len(want), 1, cs.C, cs.H, cs.W)
				if d := maxRelDiff(got, want); d > 1e-5 {
					t.Fatalf("max relative difference %g", d)
				}
			})
		}
	}
}

func TestDenseKnobsMatchReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	for _, c := range []struct {
		m, n, k int
		transA  bool
	}{{1, 11, 37376, false}, {1, 5, 128, false}, {3, 7, 29, true}, {4, 16, 100, false}} {
		ds := &engine.DenseSpec{M: c.m, N: c.n, K: c.k, TransA: c.transA, Weights: randFloats(rng, c.k*c.n), Bias: randFloats(rng, c.n)}
		x := randFloats(rng, c.m*c.k)
		for _, keep := range []int{50, 60, 75} {
			k := Knob{Shape: Red, Keep: keep}
			want := ReferenceDense(ds, k, x)
			out := engine.NewFloat(make([]float32, c.m*c.n), c.m, c.n)
			newDenseKernel(ds, k).Run(&engine.Exec{}, []*engine.Tensor{engine.NewFloat(x, len(x))}, []*engine.Tensor{out})
			if d := maxRelDiff(out.F, want); d > 1e-5 {
				t.Fatalf("%dx%dx%d %s: max relative difference %g", c.m, c.n, c.k, k, d)
			}
		}
	}
}

// TestErrorShrinksWithStride checks that the approximation error against
// exact is bounded and decreases as the stride grows (fewer outputs or taps
// skipped), on a smooth input where neighbours predict each other.
func TestErrorShrinksWithStride(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	cs := convSpec(rng, false, 8, 24, 24, 16, 3, 3, 1, 1, 1, 1, true, false)
	x := make([]float32, cs.C*cs.H*cs.W)
	for c := 0; c < cs.C; c++ {
		for i := 0; i < cs.H; i++ {
			for j := 0; j < cs.W; j++ {
				x[(c*cs.H+i)*cs.W+j] = float32(math.Sin(float64(i)/4+float64(c)) * math.Cos(float64(j)/5))
			}
		}
	}
	exact := ReferenceConv(cs, Exact, x)
	for _, shape := range []Shape{PerfRow, PerfCol, Samp} {
		prev := math.Inf(1)
		for s := 2; s <= 4; s++ {
			var e float64
			for o := 0; o < s; o++ {
				e += meanAbsDiff(ReferenceConv(cs, Knob{Shape: shape, Stride: s, Offset: o}, x), exact) / float64(s)
			}
			// Perforation rebuilds smooth outputs well. Sampling random
			// weights drops independent terms: the error's spread is about
			// sqrt(1/(S-1)) of the output's, so that (with 10%) is its bound.
			bound := 0.5 * meanAbs(exact)
			if shape == Samp {
				bound = 1.1 * math.Sqrt(1/float64(s-1)) * meanAbs(exact)
			}
			if e >= prev || e > bound {
				t.Errorf("shape %d stride %d: mean error %g (previous stride %g, mean |exact| %g)", shape, s, e, prev, meanAbs(exact))
			}
			prev = e
		}
	}
}

func meanAbsDiff(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += math.Abs(float64(a[i]) - float64(b[i]))
	}
	return s / float64(len(a))
}

func meanAbs(a []float32) float64 {
	var s float64
	for _, v := range a {
		s += math.Abs(float64(v))
	}
	return s / float64(len(a))
}

func TestKnobText(t *testing.T) {
	for _, s := range []string{"fp32", "fp16", "int8", "perf-row:2:0", "perf-col:3:2", "samp:4:1", "red:0.5", "red:0.6", "red:0.75", "perf-row:2:1+int8", "samp:3:0+fp16", "red:0.75+int8"} {
		k, err := ParseKnob(s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if k.String() != s {
			t.Errorf("ParseKnob(%q).String() = %q", s, k.String())
		}
	}
	for _, s := range []string{"perf-row:5:0", "perf-row:2:2", "samp:2", "red:0.3", "int8+fp16", "perf-row:2:0+samp:2:0", "warp:9", ""} {
		if _, err := ParseKnob(s); err == nil && s != "" {
			t.Errorf("ParseKnob(%q) succeeded", s)
		}
	}
}

// TestLowPrecisionKnobs compares fp16 and int8 convolutions and dense
// layers (alone and composed with perforation, sampling and reduction)
// with the fp32 definition of the same structural knob. Tolerances, as a
// fraction of the largest output: fp16 2e-3 (inputs and weights rounded to
// 11 bits), int8 6e-2 (7-bit activations, 8-bit weights; the integer sums
// themselves are bit-exact, tested in package qgemm).
func TestLowPrecisionKnobs(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	specs := []*engine.ConvSpec{
		convSpec(rng, false, 3, 9, 8, 5, 3, 3, 1, 1, 1, 1, true, true),
		convSpec(rng, false, 8, 12, 10, 16, 3, 3, 1, 1, 1, 2, true, false),
		convSpec(rng, false, 2, 12, 37, 5, 3, 4, 1, 1, 1, 1, true, true), // rows of 36: rebuilt plane by plane
		convSpec(rng, true, 6, 1, 64, 16, 1, 5, 1, 2, 1, 1, true, true),
		convSpec(rng, false, 6, 10, 10, 6, 3, 3, 1, 1, 1, 6, true, true), // depthwise
	}
	tol := map[Precision]float64{FP16: 2e-3, INT8: 6e-2}
	for si, cs := range specs {
		x := randFloats(rng, cs.C*cs.H*cs.W)
		for _, shape := range []Knob{{}, {Shape: PerfRow, Stride: 2, Offset: 0}, {Shape: Samp, Stride: 3, Offset: 1}} {
			for _, p := range []Precision{FP16, INT8} {
				k := shape
				k.Prec = p
				t.Run(fmt.Sprintf("spec%d/%s", si, k), func(t *testing.T) {
					want := ReferenceConv(cs, shape, x)
					got := run(newConvKernel(cs, k), x, len(want), 1, cs.C, cs.H, cs.W)
					if d := maxRelDiff(got, want); d > tol[p] {
						t.Fatalf("max relative difference %g > %g", d, tol[p])
					}
				})
			}
		}
	}
	ds := &engine.DenseSpec{M: 1, N: 11, K: 3000, Weights: randFloats(rng, 3000*11), Bias: randFloats(rng, 11)}
	x := randFloats(rng, 3000)
	for _, keep := range []int{0, 50, 75} {
		for _, p := range []Precision{FP16, INT8} {
			k := Knob{Prec: p}
			if keep > 0 {
				k.Shape, k.Keep = Red, keep
			}
			want := ReferenceDense(ds, Knob{Shape: k.Shape, Keep: keep}, x)
			out := engine.NewFloat(make([]float32, 11), 1, 11)
			newDenseKernel(ds, k).Run(&engine.Exec{}, []*engine.Tensor{engine.NewFloat(x, 1, 3000)}, []*engine.Tensor{out})
			if d := maxRelDiff(out.F, want); d > tol[p] {
				t.Errorf("dense %s: max relative difference %g > %g", k, d, tol[p])
			}
		}
	}
}
