package engine

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// matMulModel is MatMul of two graph inputs (or a constant B), optionally
// followed by a fused Relu.
func matMulModel(t testing.TB, as, bs []int, constB, relu bool, opts Options, rng *rand.Rand) (*Model, []*Tensor) {
	b := newBuilder(13).input("a", as...)
	feed := []*Tensor{NewFloat(randFloats(rng, numel(as)), as...)}
	if constB {
		b.init("b", randFloats(rng, numel(bs)), bs...)
	} else {
		b.input("b", bs...)
		feed = append(feed, NewFloat(randFloats(rng, numel(bs)), bs...))
	}
	if relu {
		b.node("MatMul", []string{"a", "b"}, []string{"mm"}).node("Relu", []string{"mm"}, []string{"y"})
	} else {
		b.node("MatMul", []string{"a", "b"}, []string{"y"})
	}
	return b.output("y").load(t, opts), feed
}

func TestMatMulActivationsFastMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	cases := []struct {
		a, b   []int
		constB bool
		relu   bool
		calls  int // GEMM calls per run
	}{
		{a: []int{2, 3, 5, 7}, b: []int{3, 7, 4}, calls: 6},       // batch broadcast on B's leading dim
		{a: []int{5, 7}, b: []int{2, 7, 4}, calls: 2},             // A shared by every batch of B
		{a: []int{2, 1, 5, 7}, b: []int{1, 3, 7, 9}, calls: 6},    // both broadcast
		{a: []int{4, 5, 7}, b: []int{7, 6}, calls: 1},             // computed B shared: folded
		{a: []int{2, 3, 5, 7}, b: []int{1, 7, 6}, calls: 1},       // B batch of ones: folded
		{a: []int{7}, b: []int{2, 7, 3}, calls: 2},                // rank-1 A
		{a: []int{3, 5, 7}, b: []int{7}, calls: 1},                // rank-1 B
		{a: []int{7}, b: []int{7}, calls: 1},                      // dot product
		{a: []int{2, 4, 1, 64}, b: []int{2, 4, 64, 33}, calls: 8}, // attention decode: rows of one
		{a: []int{2, 2, 19, 17}, b: []int{2, 2, 17, 23}, relu: true, calls: 4},
		{a: []int{3, 13, 40}, b: []int{3, 40, 13}, calls: 3},           // Q*K^T-like, odd sizes
		{a: []int{2, 6, 0}, b: []int{2, 0, 5}, calls: 2},               // K = 0: zeros
		{a: []int{2, 5, 7}, b: []int{2, 7, 4}, constB: true, calls: 2}, // constant B with a batch
	}
	for _, threads := range []int{1, 2} {
		for i, c := range cases {
			t.Run(fmt.Sprintf("t%d_%d_%v_%v", threads, i, c.a, c.b), func(t *testing.T) {
				m, feed := matMulModel(t, c.a, c.b, c.constB, c.relu, Options{Threads: threads}, rng)
				k, ok := m.steps[0].kernel.(*matMulKernel)
				if !ok {
					t.Fatalf("fast kernel not used: %T", m.steps[0].kernel)
				}
				if c.relu && !m.steps[0].n.act.on {
					t.Fatal("Relu was not fused")
				}
				if len(k.g.offA) != c.calls {
					t.Fatalf("%d GEMM calls, want %d", len(k.g.offA), c.calls)
				}
				checkAgainstReference(t, m, feed, 1e-5)
				s := m.NewSession()
				defer s.Close()
				if _, err := s.Run(feed); err != nil {
					t.Fatal(err)
				}
				if raceBuild && threads > 1 {
					return // sync.Pool allocates under -race
				}
				if a := testing.AllocsPerRun(10, func() { s.Run(feed) }); a != 0 {
					t.Fatalf("Run allocates %.1f times per call", a)
				}
			})
		}
	}
	// A constant B without batch dimensions keeps the packed dense kernel.
	m, _ := matMulModel(t, []int{3, 5, 7}, []int{7, 4}, true, false, Options{}, rng)
	if _, ok := m.steps[0].kernel.(*denseKernel); !ok {
		t.Fatalf("constant B: %T, want the dense kernel", m.steps[0].kernel)
	}
}

// BenchmarkMatMulActivations compares the kernel with the reference on an
// attention score product.
func BenchmarkMatMulActivations(b *testing.B) {
	m, feed := matMulModel(b, []int{1, 4, 64, 32}, []int{1, 4, 32, 64}, false, false, Options{}, rand.New(rand.NewPCG(1, 1)))
	s := m.NewSession()
	b.Run("fast", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			s.Run(feed)
		}
	})
	b.Run("reference", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			s.RunWith(feed, referenceSelector{m})
		}
	})
}
