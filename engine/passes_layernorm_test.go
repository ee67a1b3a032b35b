package engine

import (
	"math/rand/v2"
	"testing"
)

// lnChain describes a decomposed layer normalisation as PyTorch exports it
// at opset 13, with knobs for the near misses.
type lnChain struct {
	mulSquare   bool // Mul(d, d) instead of Pow(d, 2)
	gamma, beta bool
	gammaFirst  bool // Mul(gamma, y) and Add(beta, y)
	axis        int  // the ReduceMeans' axis (-1 fuses)
	exponent    float32
	leakD       bool // d is also a graph output
	leakMean    bool // the variance is also read by another node
}

func (c lnChain) build(rng *rand.Rand) *builder {
	const rows, d = 6, 10
	b := newBuilder(13)
	b.input("x", 2, rows/2, d)
	b.init("eps", []float32{1e-5}, 1).init("e", []float32{c.exponent}, 1)
	b.init("gamma", randFloats(rng, d), d).init("beta", randFloats(rng, d), d)
	b.node("ReduceMean", []string{"x"}, []string{"mean"}, attrInts("axes", c.axis))
	b.node("Sub", []string{"x", "mean"}, []string{"d"})
	if c.mulSquare {
		b.node("Mul", []string{"d", "d"}, []string{"sq"})
	} else {
		b.node("Pow", []string{"d", "e"}, []string{"sq"})
	}
	b.node("ReduceMean", []string{"sq"}, []string{"var"}, attrInts("axes", c.axis))
	b.node("Add", []string{"var", "eps"}, []string{"ve"})
	b.node("Sqrt", []string{"ve"}, []string{"std"})
	b.node("Div", []string{"d", "std"}, []string{"n"})
	y := "n"
	pair := func(op, v, w, out string) {
		if c.gammaFirst {
			b.node(op, []string{w, v}, []string{out})
		} else {
			b.node(op, []string{v, w}, []string{out})
		}
	}
	if c.gamma {
		pair("Mul", y, "gamma", "scaled")
		y = "scaled"
	}
	if c.beta {
		pair("Add", y, "beta", "shifted")
		y = "shifted"
	}
	b.node("Relu", []string{y}, []string{"out"})
	b.output("out")
	if c.leakD {
		b.output("d")
	}
	if c.leakMean {
		b.node("Neg", []string{"var"}, []string{"negvar"})
		b.output("negvar")
	}
	return b
}

// lnWithoutPass loads the model with the named pass removed from the
// pipeline (tests in this package do not run in parallel).
func lnWithoutPass(t *testing.T, b *builder, name string) *Model {
	t.Helper()
	saved := pipeline
	defer func() { pipeline = saved }()
	pipeline = nil
	for _, p := range saved {
		if p.name != name {
			pipeline = append(pipeline, p)
		}
	}
	return b.load(t, Options{})
}

func lnCountOps(m *Model, op string) int {
	c := 0
	for _, st := range m.steps {
		if st.n.op == op {
			c++
		}
	}
	return c
}

func TestFuseLayerNorm(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	cases := []struct {
		name  string
		chain lnChain
		fuse  bool
		steps int // after fusion
	}{
		{"pow_gamma_beta", lnChain{gamma: true, beta: true, axis: -1, exponent: 2}, true, 2},
		{"mul_gamma_beta", lnChain{mulSquare: true, gamma: true, beta: true, axis: -1, exponent: 2}, true, 2},
		{"gamma_first", lnChain{gamma: true, beta: true, gammaFirst: true, axis: -1, exponent: 2}, true, 2},
		{"positive_last_axis", lnChain{gamma: true, beta: true, axis: 2, exponent: 2}, true, 2},
		{"gamma_only", lnChain{gamma: true, axis: -1, exponent: 2}, true, 2},
		{"beta_only", lnChain{beta: true, axis: -1, exponent: 2}, true, 2},
		{"bare", lnChain{axis: -1, exponent: 2}, true, 2},
		{"other_axis", lnChain{gamma: true, beta: true, axis: 1, exponent: 2}, false, 0},
		{"cube", lnChain{gamma: true, beta: true, axis: -1, exponent: 3}, false, 0},
		{"d_is_output", lnChain{gamma: true, beta: true, axis: -1, exponent: 2, leakD: true}, false, 0},
		{"var_read_elsewhere", lnChain{gamma: true, beta: true, axis: -1, exponent: 2, leakMean: true}, false, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := c.chain.build(rng)
			fused := b.load(t, Options{})
			plain := lnWithoutPass(t, b, "fuse-layernorm")
			got := lnCountOps(fused, "LayerNormalization")
			if c.fuse && (got != 1 || len(fused.steps) != c.steps) {
				t.Fatalf("%d LayerNormalization in %d steps, want 1 in %d", got, len(fused.steps), c.steps)
			}
			if !c.fuse && (got != 0 || len(fused.steps) != len(plain.steps)) {
				t.Fatalf("near miss fused: %d LayerNormalization, %d steps vs %d", got, len(fused.steps), len(plain.steps))
			}
			for _, ps := range fused.Passes() {
				if ps.Name == "fuse-layernorm" && (ps.Changed == 1) != c.fuse {
					t.Fatalf("fuse-layernorm changed %d", ps.Changed)
				}
			}
			in := []*Tensor{NewFloat(randFloats(rng, 60), 2, 3, 10)}
			want, err := plain.NewSession().Run(in)
			if err != nil {
				t.Fatal(err)
			}
			res, err := fused.NewSession().Run(in)
			if err != nil {
				t.Fatal(err)
			}
			for i := range want {
				for k, w := range want[i].F {
					g := res[i].F[k]
					if g != w && !(g != g && w != w) && !(abs64(float64(g-w)) <= 2e-6*max(1, abs64(float64(w)))) {
						t.Fatalf("output %d element %d: got %g, want %g", i, k, g, w)
					}
				}
			}
		})
	}
}
