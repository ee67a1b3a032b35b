package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/kagen-ai/kagen/engine/onnx"
)

// unaryFastCases are the element-wise ops with a sliceKernel on float32,
// with the tolerance of their fast path against the float64 reference:
// the vmath functions themselves within a few ulp, the composites within
// the conformance tolerance (their cancellations are absolute).
var unaryFastCases = []struct {
	op         string
	attrs      []*onnx.Attribute
	rtol, atol float64
}{
	{"Sigmoid", nil, 1e-6, 1e-30},
	{"Tanh", nil, 1e-6, 1e-30},
	{"Exp", nil, 1e-6, 1e-30},
	{"Log", nil, 1e-6, 1e-30},
	{"Erf", nil, 1e-6, 1e-6},
	{"Gelu", nil, 1e-4, 1e-5},
	{"Gelu", []*onnx.Attribute{elemAttrStr("approximate", "tanh")}, 1e-4, 1e-5},
	{"Softplus", nil, 1e-5, 1e-6},
	{"Mish", nil, 1e-4, 1e-5},
	{"Elu", nil, 1e-5, 1e-6},
	{"Elu", []*onnx.Attribute{attrFloat("alpha", 0.3)}, 1e-5, 1e-6},
	{"Selu", nil, 1e-5, 1e-6},
	{"Selu", []*onnx.Attribute{attrFloat("alpha", 2), attrFloat("gamma", 0.5)}, 1e-5, 1e-6},
	// The same float32 arithmetic, but Go fuses the reference's a*x+b
	// into one multiply-add on arm64.
	{"HardSigmoid", nil, 1e-7, 1e-7},
	{"HardSigmoid", []*onnx.Attribute{attrFloat("alpha", 0.1666667), attrFloat("beta", 0.4)}, 1e-7, 1e-7},
	{"HardSwish", nil, 1e-7, 1e-7},
}

// unaryFastInputs are n values over a wide range with NaN, infinities,
// signed zeros, denormals and huge magnitudes mixed in.
func unaryFastInputs(rng *rand.Rand, n int) []float32 {
	special := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0, float32(math.Copysign(0, -1)),
		1e-40, -1e-40, 1e30, -1e30, 88.8, -88.8, 100, -100, 1e-3, -1e-3}
	d := make([]float32, n)
	for i := range d {
		switch k := rng.IntN(10); {
		case k == 0:
			d[i] = special[rng.IntN(len(special))]
		case k < 4:
			d[i] = float32(rng.NormFloat64() * 30)
		default:
			d[i] = float32(rng.NormFloat64() * 3)
		}
	}
	return d
}

// TestUnaryFastMatchesReference runs each op's sliceKernel against the
// float64 reference over lengths around the vector width and the
// composites' block size, NaN and infinities included.
func TestUnaryFastMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	lengths := []int{0, 1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 100, 511, 512, 513, 1031}
	for _, c := range unaryFastCases {
		name := c.op
		if len(c.attrs) > 0 {
			name = fmt.Sprintf("%s_%s", c.op, c.attrs[0].Name)
		}
		t.Run(name, func(t *testing.T) {
			for _, n := range lengths {
				in := []*Tensor{NewFloat(unaryFastInputs(rng, n), n)}
				m, err := elemModel(t, 20, c.op, in, 1, c.attrs...)
				if err != nil {
					t.Fatal(err)
				}
				if _, ok := m.steps[0].kernel.(*sliceKernel); !ok {
					t.Fatalf("kernel %T, want a sliceKernel", m.steps[0].kernel)
				}
				got, err := m.NewSession().Run(in)
				if err != nil {
					t.Fatal(err)
				}
				want, err := m.NewSession().RunWith(in, referenceSelector{m})
				if err != nil {
					t.Fatal(err)
				}
				for i, w := range want[0].F {
					g := got[0].F[i]
					if g == w || g != g && w != w {
						continue
					}
					if math.IsInf(float64(g), 0) || math.IsInf(float64(w), 0) ||
						!(math.Abs(float64(g)-float64(w)) <= c.atol+c.rtol*math.Abs(float64(w))) {
						t.Fatalf("n=%d: %s(%g) = %g, reference %g", n, c.op, in[0].F[i], g, w)
					}
				}
			}
		})
	}
}

// TestUnaryFastNoAllocs checks that the composites' block buffers stay on
// the stack: a steady-state Run allocates nothing, with one thread or two.
func TestUnaryFastNoAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 20))
	for _, threads := range []int{1, 2} {
		for _, c := range unaryFastCases {
			in := []*Tensor{NewFloat(unaryFastInputs(rng, 1031), 1031)}
			m, err := elemModel(t, 20, c.op, in, 1, c.attrs...)
			if err != nil {
				t.Fatal(err)
			}
			m.opts.Threads = threads
			s := m.NewSession()
			s.Run(in)
			if a := testing.AllocsPerRun(10, func() { s.Run(in) }); a != 0 {
				t.Errorf("%s, %d threads: %v allocations per run", c.op, threads, a)
			}
			s.Close()
		}
	}
}

// TestSoftmaxColsMatchesReference checks the strided (log-)softmax
// kernel against the float64 reference over inner sizes below, at and
// above its column chunk, with infinities and a NaN.
func TestSoftmaxColsMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, shape := range [][]int{{2, 3, 4}, {1, 7, 5}, {2, 10, 256}, {1, 5, 300}, {3, 2, 513}, {2, 1, 9}} {
		for _, op := range []string{"Softmax", "LogSoftmax"} {
			data := randFloats(rng, numel(shape))
			for i := range data {
				data[i] *= 30
			}
			data[1] = float32(math.Inf(-1))
			data[len(data)-1] = 1e4
			data[len(data)/2] = float32(math.NaN())
			in := []*Tensor{NewFloat(data, shape...)}
			m, err := elemModel(t, 13, op, in, 1, attrInt("axis", 1))
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := m.steps[0].kernel.(softmaxColsKernel); !ok {
				t.Fatalf("kernel %T, want a softmaxColsKernel", m.steps[0].kernel)
			}
			elemCheckReference(t, m, in, 2e-6)
		}
	}
}
