package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/kagen-ai/kagen/engine/onnx"
)

// elemSameFloats requires bit-for-bit equal results (NaN matching NaN).
func elemSameFloats(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d elements, want %d", what, len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] && !(got[i] != got[i] && want[i] != want[i]) {
			t.Fatalf("%s: element %d is %g, want %g", what, i, got[i], want[i])
		}
	}
}

// elemSpecialFloats fills data with random values and a few NaN, Inf and 0.
func elemSpecialFloats(rng *rand.Rand, n int) []float32 {
	d := randFloats(rng, n)
	for i := range d {
		switch rng.IntN(20) {
		case 0:
			d[i] = float32(math.NaN())
		case 1:
			d[i] = float32(math.Inf(1 - 2*rng.IntN(2)))
		case 2:
			d[i] = 0
		}
	}
	return d
}

func TestArithKernelMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	cases := []struct {
		a, b []int
		fast bool // an arithKernel is expected
	}{
		{[]int{5, 7}, []int{5, 7}, true},
		{[]int{3, 4, 5}, []int{}, true},
		{[]int{}, []int{3, 4, 5}, true},
		{[]int{3, 4, 5}, []int{1}, true},
		{[]int{1, 1}, []int{6, 9}, true},
		{[]int{2, 6, 33}, []int{33}, true},       // a per-row bias after a MatMul
		{[]int{33}, []int{2, 6, 33}, true},       // swapped
		{[]int{2, 6, 33}, []int{1, 1, 33}, true}, // with leading ones
		{[]int{2, 5, 3, 4}, []int{5, 1, 1}, true},
		{[]int{5, 1, 1}, []int{2, 5, 3, 4}, true},
		{[]int{2, 5, 3, 4}, []int{1, 5, 1, 1}, true},
		{[]int{2, 5, 3, 4}, []int{5, 3, 1}, true},
		{[]int{2, 5, 3, 4}, []int{2, 1, 1, 1}, true},
		{[]int{0, 7}, []int{7}, true},
		{[]int{4, 1}, []int{1, 5}, false},          // both broadcast
		{[]int{2, 5, 3, 4}, []int{5, 1, 4}, false}, // two separate blocks
		{[]int{3, 1}, []int{3, 4}, true},
		{[]int{4, 99, 99}, []int{4, 1, 99}, true}, // an attention mask: broadcast along the middle
		{[]int{4, 1, 99}, []int{4, 99, 99}, true},
		{[]int{2, 3, 4, 5}, []int{2, 1, 1, 5}, true},
		{[]int{2, 3, 4, 5}, []int{3, 1, 5}, false}, // broadcast along axes 0 and 2
		{[]int{2, 3, 4, 5}, []int{2, 3, 1, 1}, true},
		{[]int{2, 3, 4, 5}, []int{2, 1, 4, 1}, false}, // three blocks
	}
	for _, c := range cases {
		for _, op := range []string{"Add", "Sub", "Mul", "Div"} {
			t.Run(fmt.Sprintf("%s_%v_%v", op, c.a, c.b), func(t *testing.T) {
				in := []*Tensor{NewFloat(elemSpecialFloats(rng, numel(c.a)), c.a...), NewFloat(elemSpecialFloats(rng, numel(c.b)), c.b...)}
				m, err := elemModel(t, 14, op, in, 1)
				if err != nil {
					t.Fatal(err)
				}
				_, fast := m.steps[0].kernel.(*arithKernel)
				if fast != c.fast {
					t.Fatalf("kernel %T, want an arithKernel: %v", m.steps[0].kernel, c.fast)
				}
				got, err := m.NewSession().Run(in)
				if err != nil {
					t.Fatal(err)
				}
				want, err := m.NewSession().RunWith(in, referenceSelector{m})
				if err != nil {
					t.Fatal(err)
				}
				elemSameFloats(t, op, got[0].F, want[0].F)
			})
		}
	}
	// Integer arithmetic keeps the reference.
	m, err := elemModel(t, 14, "Add", []*Tensor{elemInts(Int32, []int64{1}, 1), elemInts(Int32, []int64{2}, 1)}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, fast := m.steps[0].kernel.(*arithKernel); fast {
		t.Fatal("integer Add runs an arithKernel")
	}
}

func TestSoftmaxKernelMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	cases := []struct {
		shape []int
		axis  int
		opset int64
	}{
		{[]int{3, 7}, -1, 13}, {[]int{2, 3, 17}, 2, 13}, {[]int{4, 1}, -1, 13}, {[]int{1, 1000}, 1, 13},
		{[]int{2, 3, 4}, 1, 11}, {[]int{2, 3, 4}, -2, 11}, {[]int{2, 3, 4}, 0, 11}, {[]int{5, 9}, 1, 11},
		{[]int{2, 3, 4}, 1, 13}, {[]int{2, 3, 4}, 0, 13}, // strided: the reference
		{[]int{4, 99}, -1, 13}, {[]int{3, 8}, -1, 13}, {[]int{2, 65}, -1, 13}, {[]int{2, 16}, -1, 13}, // vector rows and tails
	}
	for _, c := range cases {
		for _, op := range []string{"Softmax", "LogSoftmax"} {
			t.Run(fmt.Sprintf("%s_%v_axis%d_opset%d", op, c.shape, c.axis, c.opset), func(t *testing.T) {
				data := randFloats(rng, numel(c.shape))
				for i := range data {
					data[i] *= 30 // a wide range, some exps underflow
				}
				if len(data) > 3 {
					data[1] = float32(math.Inf(-1))
					data[2] = 1e4
				}
				in := []*Tensor{NewFloat(data, c.shape...)}
				m, err := elemModel(t, c.opset, op, in, 1, attrInt("axis", c.axis))
				if err != nil {
					t.Fatal(err)
				}
				elemCheckReference(t, m, in, 2e-6)
			})
		}
	}
}

// elemNaiveSoftmax computes the softmax of x over groups of size g taken every
// stride elements from start (written independently of the engine's).
func elemNaiveSoftmax(x []float64, start, g, stride int, out []float64) {
	m := math.Inf(-1)
	for k := 0; k < g; k++ {
		m = math.Max(m, x[start+k*stride])
	}
	s := 0.0
	for k := 0; k < g; k++ {
		s += math.Exp(x[start+k*stride] - m)
	}
	for k := 0; k < g; k++ {
		out[start+k*stride] = math.Exp(x[start+k*stride]-m) / s
	}
}

func TestSoftmaxOpsetSemantics(t *testing.T) {
	x := make([]float32, 24)
	xd := make([]float64, 24)
	for i := range x {
		x[i] = float32(i%7) * 0.37
		xd[i] = float64(x[i])
	}
	want := make([]float64, 24)
	// Opset 11, axis 1 of [2,3,4]: coerced to [2,12], one softmax per row.
	elemNaiveSoftmax(xd, 0, 12, 1, want)
	elemNaiveSoftmax(xd, 12, 12, 1, want)
	out := elemRun(t, 11, "Softmax", []*Tensor{NewFloat(x, 2, 3, 4)}, 1, attrInt("axis", 1))
	elemWantFloats(t, "Softmax-11 axis 1", out[0], elemF32s(want))
	// Opset 11 default axis is 1 too; axis -2 of rank 3 is also 1.
	out = elemRun(t, 11, "Softmax", []*Tensor{NewFloat(x, 2, 3, 4)}, 1, attrInt("axis", -2))
	elemWantFloats(t, "Softmax-11 axis -2", out[0], elemF32s(want))
	out = elemRun(t, 11, "Softmax", []*Tensor{NewFloat(x, 2, 3, 4)}, 1)
	elemWantFloats(t, "Softmax-11 default", out[0], elemF32s(want))
	// Opset 13, axis 1: a softmax over each column of 3.
	for b := 0; b < 2; b++ {
		for i := 0; i < 4; i++ {
			elemNaiveSoftmax(xd, b*12+i, 3, 4, want)
		}
	}
	out = elemRun(t, 13, "Softmax", []*Tensor{NewFloat(x, 2, 3, 4)}, 1, attrInt("axis", 1))
	elemWantFloats(t, "Softmax-13 axis 1", out[0], elemF32s(want))
	// Opset 13 default axis -1.
	for r := 0; r < 6; r++ {
		elemNaiveSoftmax(xd, r*4, 4, 1, want)
	}
	out = elemRun(t, 13, "Softmax", []*Tensor{NewFloat(x, 2, 3, 4)}, 1)
	elemWantFloats(t, "Softmax-13 default", out[0], elemF32s(want))
	if _, err := elemModel(t, 13, "Softmax", []*Tensor{NewFloat(x, 2, 3, 4)}, 1, attrInt("axis", 3)); err == nil {
		t.Fatal("Softmax axis 3 of rank 3 was accepted")
	}

	// Hardmax: the first maximum wins.
	h := []float32{1, 3, 3, 0, 5, 2, 5, 1}
	out = elemRun(t, 13, "Hardmax", []*Tensor{NewFloat(h, 2, 2, 2)}, 1, attrInt("axis", 1))
	elemWantFloats(t, "Hardmax-13 axis 1", out[0], []float32{0, 1, 1, 0, 1, 1, 0, 0})
	out = elemRun(t, 11, "Hardmax", []*Tensor{NewFloat(h, 2, 2, 2)}, 1, attrInt("axis", 1))
	elemWantFloats(t, "Hardmax-11 axis 1", out[0], []float32{0, 1, 0, 0, 1, 0, 0, 0})
	out = elemRun(t, 13, "Hardmax", []*Tensor{NewFloat(h, 2, 2, 2)}, 1, attrInt("axis", -3))
	elemWantFloats(t, "Hardmax-13 axis -3", out[0], []float32{0, 1, 0, 0, 1, 0, 1, 1})
}

func elemF32s(x []float64) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = float32(v)
	}
	return out
}

func TestRowNormKernelMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	type lnCase struct {
		shape      []int
		axis       int
		scale      []int // nil: [shape[axis:]...]
		bias       bool
		stats      bool
		biasScalar bool
	}
	for _, c := range []lnCase{
		{[]int{3, 8}, -1, nil, true, false, false},
		{[]int{2, 3, 5}, 1, nil, true, true, false},
		{[]int{2, 3, 5}, -3, nil, false, true, false},
		{[]int{4, 7}, 1, []int{1}, true, false, true},
		{[]int{4, 7}, -1, []int{7}, false, false, false},
		{[]int{1, 1}, 1, nil, true, true, false},
		{[]int{2, 0, 3}, 2, nil, true, false, false},
		{[]int{3, 101}, 1, nil, true, false, false},
		{[]int{5, 64}, -1, nil, true, false, false}, // vector rows: a transformer's
		{[]int{2, 3, 16}, -1, nil, true, true, false},
	} {
		t.Run(fmt.Sprintf("LayerNorm_%v_axis%d", c.shape, c.axis), func(t *testing.T) {
			a := c.axis
			if a < 0 {
				a += len(c.shape)
			}
			ss := c.scale
			if ss == nil {
				ss = c.shape[a:]
			}
			data := randFloats(rng, numel(c.shape))
			for i := range data {
				data[i] = data[i]*3 + 100 // a mean far from zero
			}
			in := []*Tensor{NewFloat(data, c.shape...), NewFloat(randFloats(rng, numel(ss)), ss...)}
			if c.bias {
				bs := ss
				if c.biasScalar {
					bs = []int{1}
				}
				in = append(in, NewFloat(randFloats(rng, numel(bs)), bs...))
			}
			nOut := 1
			if c.stats {
				nOut = 3
			}
			m, err := elemModel(t, 17, "LayerNormalization", in, nOut, attrInt("axis", c.axis), attrFloat("epsilon", 1e-3))
			if err != nil {
				t.Fatal(err)
			}
			elemCheckReference(t, m, in, 1e-5)
		})
	}
	for _, c := range []struct {
		shape  []int
		groups int // 0: InstanceNormalization
		opset  int64
	}{
		{[]int{2, 3, 4, 5}, 0, 6}, {[]int{1, 5, 7}, 0, 6}, {[]int{3, 2}, 0, 6},
		{[]int{2, 6, 3, 3}, 3, 18}, {[]int{2, 6, 3, 3}, 3, 21}, {[]int{1, 4, 9}, 1, 18}, {[]int{1, 4, 9}, 4, 21},
	} {
		t.Run(fmt.Sprintf("ChannelNorm_%v_g%d_opset%d", c.shape, c.groups, c.opset), func(t *testing.T) {
			data := randFloats(rng, numel(c.shape))
			op, per := "InstanceNormalization", c.shape[1]
			attrs := []*onnx.Attribute{attrFloat("epsilon", 1e-4)}
			if c.groups > 0 {
				op = "GroupNormalization"
				attrs = append(attrs, attrInt("num_groups", c.groups))
				if c.opset < 21 {
					per = c.groups
				}
			}
			in := []*Tensor{NewFloat(data, c.shape...), NewFloat(randFloats(rng, per), per), NewFloat(randFloats(rng, per), per)}
			m, err := elemModel(t, c.opset, op, in, 1, attrs...)
			if err != nil {
				t.Fatal(err)
			}
			elemCheckReference(t, m, in, 1e-5)
		})
	}
}

// elemCheckReference is checkAgainstReference for outputs that may hold
// infinities and NaN: equal values (NaN matching NaN) pass, others must be
// within tol relative to the largest finite expected magnitude.
func elemCheckReference(t *testing.T, m *Model, inputs []*Tensor, tol float64) {
	t.Helper()
	fast, err := m.NewSession().Run(inputs)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := m.NewSession().RunWith(inputs, referenceSelector{m})
	if err != nil {
		t.Fatal(err)
	}
	for k := range ref {
		got, want := fast[k].F, ref[k].F
		if len(got) != len(want) {
			t.Fatalf("output %d: %d elements, want %d", k, len(got), len(want))
		}
		scale := 1e-3
		for _, w := range want {
			if !math.IsInf(float64(w), 0) && w == w {
				scale = max(scale, math.Abs(float64(w)))
			}
		}
		for i := range want {
			g, w := got[i], want[i]
			if g == w || g != g && w != w {
				continue
			}
			if d := math.Abs(float64(g) - float64(w)); !(d <= tol*scale) {
				t.Fatalf("output %d element %d: got %g, want %g (|d| %g > %g)", k, i, g, w, d, tol*scale)
			}
		}
	}
}
