package approx

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/kagen-ai/kagen/engine"
	"github.com/kagen-ai/kagen/engine/onnx"
)

// actSpec returns a spec of count products of M x K by K x N with leading
// dimensions padded by pad and operands pad elements apart (sharedB: every
// product reads the same B), and the lengths of the three buffers.
func actSpec(count, m, n, k, pad int, sharedB bool, act engine.Activation) (ms *engine.MatMulSpec, la, lb, lc int) {
	ms = &engine.MatMulSpec{M: m, N: n, K: k, LDA: k + pad, LDB: n + pad, LDC: n + pad, Act: act}
	for p := 0; p < count; p++ {
		ms.OffA = append(ms.OffA, pad+p*(m*ms.LDA+pad))
		ms.OffC = append(ms.OffC, pad+p*(m*ms.LDC+pad))
		if sharedB {
			ms.OffB = append(ms.OffB, pad)
		} else {
			ms.OffB = append(ms.OffB, pad+p*(k*ms.LDB+pad))
		}
	}
	last := count - 1
	return ms, ms.OffA[last] + m*ms.LDA, ms.OffB[last] + k*ms.LDB, ms.OffC[last] + m*ms.LDC
}

// TestActMatMulMatchesReference compares reduction sampling of a MatMul of
// two activations with the naive definition across shapes, batch counts,
// padded leading dimensions and offsets, a shared B, kept fractions and
// activations; it must leave the padding between products untouched and
// differ from the exact product (terms were skipped).
func TestActMatMulMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	relu := engine.Activation{On: true, Lo: 0, Hi: float32(math.Inf(1))}
	sig := engine.Activation{Fn: engine.ActSigmoid}
	cases := []struct {
		count, m, n, k, pad int
		sharedB             bool
		act                 engine.Activation
	}{
		{1, 1, 1, 4, 0, false, engine.Activation{}},
		{1, 7, 5, 9, 0, false, engine.Activation{}},
		{4, 49, 49, 16, 0, false, engine.Activation{}}, // attention Q·Kᵀ: 4 heads, 49 tokens, head dim 16
		{4, 49, 16, 49, 0, false, relu},                // its product with V
		{3, 6, 33, 21, 3, false, sig},
		{5, 2, 17, 10, 1, true, engine.Activation{}},
		{2, 64, 64, 64, 2, false, relu},
	}
	for _, c := range cases {
		ms, la, lb, lc := actSpec(c.count, c.m, c.n, c.k, c.pad, c.sharedB, c.act)
		a, b := randFloats(rng, la), randFloats(rng, lb)
		exact := ReferenceActMatMul(ms, Exact, a, b, lc)
		for _, keep := range []int{50, 60, 75} {
			k := Knob{Shape: Red, Keep: keep}
			t.Run(fmt.Sprintf("%dx%dx%dx%d pad%d shared%v %s", c.count, c.m, c.n, c.k, c.pad, c.sharedB, k), func(t *testing.T) {
				want := ReferenceActMatMul(ms, k, a, b, lc)
				got := make([]float32, lc)
				for i := range got {
					got[i] = 42 // padding must survive
				}
				kr := newActMatMulKernel(ms, k)
				kr.Run(&engine.Exec{}, []*engine.Tensor{engine.NewFloat(a, la), engine.NewFloat(b, lb)}, []*engine.Tensor{engine.NewFloat(got, lc)})
				inside := make([]bool, lc)
				for _, off := range ms.OffC {
					for i := 0; i < ms.M; i++ {
						for j := 0; j < ms.N; j++ {
							inside[off+i*ms.LDC+j] = true
						}
					}
				}
				for i := range got {
					if !inside[i] {
						if got[i] != 42 {
							t.Fatalf("wrote %v at %d, outside every product", got[i], i)
						}
						got[i] = want[i]
					}
				}
				if d := maxRelDiff(got, want); d > 1e-5 {
					t.Fatalf("max relative difference %.3g from the reference", d)
				}
				if c.k > 4 && maxRelDiff(want, exact) < 1e-6 {
					t.Fatalf("reduction sampling changed nothing")
				}
			})
		}
	}
}

// attentionModel builds y = softmax(q kᵀ) v over inputs q, kt and v of
// [heads, tokens, dim], [heads, dim, tokens] and [heads, tokens, dim]:
// two MatMuls of activations.
func attentionModel(t *testing.T, heads, tokens, dim int) *engine.Model {
	t.Helper()
	in := func(name string, d ...int64) *onnx.ValueInfo {
		vi := &onnx.ValueInfo{Name: name, ElemType: 1, HasShape: true, IsTensor: true}
		for _, x := range d {
			vi.Dims = append(vi.Dims, onnx.Dim{Value: x, Known: true})
		}
		return vi
	}
	h, n, d := int64(heads), int64(tokens), int64(dim)
	m := &onnx.Model{Opsets: map[string]int64{"": 17}, Graph: &onnx.Graph{
		Inputs: []*onnx.ValueInfo{in("q", h, n, d), in("kt", h, d, n), in("v", h, n, d)},
		Nodes: []*onnx.Node{
			{Name: "scores", OpType: "MatMul", Inputs: []string{"q", "kt"}, Outputs: []string{"s"}},
			{Name: "softmax", OpType: "Softmax", Inputs: []string{"s"}, Outputs: []string{"p"}},
			{Name: "context", OpType: "MatMul", Inputs: []string{"p", "v"}, Outputs: []string{"y"}},
		},
		Outputs: []*onnx.ValueInfo{{Name: "y", IsTensor: true}},
	}}
	mod, err := engine.LoadBytes(onnx.Encode(m), engine.Options{Name: "attention"})
	if err != nil {
		t.Fatal(err)
	}
	return mod
}

// TestActMatMulInModel plans reduction sampling on both MatMuls of an
// attention block: they are offered red (and nothing else), the
// approximate model differs from exact by what the reference predicts for
// the first product, and switching between exact and two configurations
// allocates nothing.
func TestActMatMulInModel(t *testing.T) {
	const heads, tokens, dim = 2, 12, 8
	m := attentionModel(t, heads, tokens, dim)
	a := New(m)
	rng := rand.New(rand.NewPCG(3, 4))
	q, kt, v := randFloats(rng, heads*tokens*dim), randFloats(rng, heads*dim*tokens), randFloats(rng, heads*tokens*dim)
	in := []*engine.Tensor{engine.NewFloat(q, heads, tokens, dim), engine.NewFloat(kt, heads, dim, tokens), engine.NewFloat(v, heads, tokens, dim)}
	var steps []int
	for _, n := range a.Nodes() {
		if n.Op != "MatMul" {
			continue
		}
		ms, ok := m.ActMatMul(n.Step)
		if !ok {
			t.Fatalf("%s: not planned as a MatMul of two activations", n.Name)
		}
		if got := a.Applicable(n.Step); len(got) != 4 || got[1] != (Knob{Shape: Red, Keep: 50}) {
			t.Fatalf("%s: offered %v, want exact and red:{0.5,0.6,0.75}", n.Name, got)
		}
		if _, err := a.Kernel(n.Step, Knob{Prec: FP16}); err == nil {
			t.Fatalf("%s: fp16 accepted on a MatMul of two activations", n.Name)
		}
		if n.Name == "scores" && (ms.M != tokens || ms.N != tokens || ms.K != dim || len(ms.OffA) != heads) {
			t.Fatalf("scores: spec %+v", ms)
		}
		steps = append(steps, n.Step)
	}
	if len(steps) != 2 {
		t.Fatalf("%d MatMuls of activations, want 2", len(steps))
	}
	s := m.NewSession()
	defer s.Close()
	exact, err := s.RunWith(in, nil)
	if err != nil {
		t.Fatal(err)
	}
	ex := append([]float32(nil), exact[0].F...)
	c1 := a.NewConfig().With(steps[0], Knob{Shape: Red, Keep: 50})
	c2 := c1.With(steps[1], Knob{Shape: Red, Keep: 75})
	s1, err := a.Prepare(c1)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := a.Prepare(c2)
	if err != nil {
		t.Fatal(err)
	}
	// Only the scores approximated: softmax of the reference's scores
	// times v.
	ms, _ := m.ActMatMul(steps[0])
	sc := ReferenceActMatMul(ms, Knob{Shape: Red, Keep: 50}, q, kt, heads*tokens*tokens)
	want := make([]float32, heads*tokens*dim)
	for h := 0; h < heads; h++ {
		for i := 0; i < tokens; i++ {
			row := sc[(h*tokens+i)*tokens : (h*tokens+i+1)*tokens]
			mx := row[0]
			for _, x := range row {
				mx = max(mx, x)
			}
			var z float64
			for _, x := range row {
				z += math.Exp(float64(x - mx))
			}
			for j := 0; j < dim; j++ {
				var acc float64
				for t2, x := range row {
					acc += math.Exp(float64(x-mx)) / z * float64(v[(h*tokens+t2)*dim+j])
				}
				want[(h*tokens+i)*dim+j] = float32(acc)
			}
		}
	}
	got, err := s.RunWith(in, s1)
	if err != nil {
		t.Fatal(err)
	}
	if d := maxRelDiff(got[0].F, want); d > 1e-4 {
		t.Fatalf("scores at red:0.5: %.3g from the reference", d)
	}
	if maxRelDiff(got[0].F, ex) < 1e-6 {
		t.Fatal("red:0.5 on the scores changed nothing")
	}
	s.RunWith(in, s2)
	i := 0
	allocs := testing.AllocsPerRun(20, func() {
		sel := []engine.Selector{nil, s1, s2}[i%3]
		i++
		if _, err := s.RunWith(in, sel); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("switching allocates %.1f times per inference", allocs)
	}
}
