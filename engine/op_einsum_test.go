package engine

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// einsumModel is an Einsum over graph inputs of the given shapes.
func einsumModel(t testing.TB, eq string, shapes [][]int, opts Options, rng *rand.Rand) (*Model, []*Tensor, error) {
	b := newBuilder(12)
	var names []string
	var feed []*Tensor
	for i, s := range shapes {
		name := fmt.Sprintf("x%d", i)
		b.input(name, s...)
		names = append(names, name)
		feed = append(feed, NewFloat(randFloats(rng, numel(s)), s...))
	}
	b.node("Einsum", names, []string{"y"}, attrString("equation", eq)).output("y")
	m, err := loadDecoded(b.m, "test", opts)
	return m, feed, err
}

func TestEinsumFastMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	cases := []struct {
		eq     string
		shapes [][]int
		copies string // which of X, Y, C are copied ("" none)
		calls  int
	}{
		{"bij,bjk->bik", [][]int{{5, 2, 3}, {5, 3, 4}}, "", 5},
		{"bhqd,bhkd->bhqk", [][]int{{2, 3, 7, 16}, {2, 3, 9, 16}}, "", 6}, // Q*K^T: B transposed
		{"bhqk,bhkd->bhqd", [][]int{{2, 3, 7, 9}, {2, 3, 9, 16}}, "", 6},  // *V
		{"ij,jk", [][]int{{5, 6}, {6, 7}}, "", 1},
		{"ij,jk->ik", [][]int{{13, 17}, {17, 19}}, "", 1},
		{"ji,jk->ik", [][]int{{6, 5}, {6, 7}}, "", 1},      // A transposed
		{"ij,kj->ik", [][]int{{5, 6}, {7, 6}}, "", 1},      // B transposed
		{"ij,jk->ki", [][]int{{5, 6}, {6, 7}}, "", 1},      // C transposed: operands swapped
		{"i,j->ij", [][]int{{5}, {7}}, "", 1},              // outer product
		{"i,i", [][]int{{9}, {9}}, "", 1},                  // inner product
		{"i,i->i", [][]int{{9}, {9}}, "", 0},               // element-wise: the reference
		{"bij,jk->bik", [][]int{{4, 3, 5}, {5, 6}}, "", 1}, // shared B: folded
		{"...ij,...jk->...ik", [][]int{{2, 1, 3, 4}, {5, 4, 6}}, "", 10},
		{"...ij,jk->...ik", [][]int{{2, 3, 3, 4}, {4, 6}}, "", 1},
		{"ibh,hnd->ibnd", [][]int{{7, 2, 8}, {8, 3, 4}}, "", 1}, // a projection into heads
		{"ijk,jkl->il", [][]int{{3, 4, 5}, {4, 5, 6}}, "", 1},   // two summed letters
		{"bmk,bkn->bnm", [][]int{{2, 3, 4}, {2, 4, 5}}, "", 2},  // batched, C transposed
		{"ab,ba->", [][]int{{3, 4}, {4, 3}}, "Y", 1},            // K in different orders
		{"ikj,jkl->il", [][]int{{3, 4, 5}, {5, 4, 6}}, "Y", 1},  // K in X's order [k j]
		{"bij,bjk->ibk", [][]int{{3, 4, 5}, {3, 5, 6}}, "", 3},  // batch in the middle of C: C rows strided
		{"ijb,jkb->bik", [][]int{{4, 5, 3}, {5, 6, 3}}, "XY", 3},
		{"bij,bjk->kbi", [][]int{{3, 4, 5}, {3, 5, 6}}, "", 3},
		{"bij,bjk->ikb", [][]int{{3, 4, 5}, {3, 5, 6}}, "C", 3},
		{"ij,ij->ij", [][]int{{1, 5}, {4, 5}}, "", 0},          // element-wise with broadcasting: the reference
		{"bij,bjk->bik", [][]int{{1, 3, 4}, {5, 4, 6}}, "", 5}, // broadcast batch dimension
		{"bij,bjk->bik", [][]int{{5, 4, 3}, {1, 3, 6}}, "", 1}, // broadcast batch dimension of B: folded
		{"ij,bjk->bik", [][]int{{4, 3}, {5, 3, 6}}, "", 5},     // A shared
		{"ik,kj->ij", [][]int{{4, 1}, {3, 6}}, "X", 1},         // broadcast summed letter: copied
	}
	for _, threads := range []int{1, 2} {
		for _, c := range cases {
			t.Run(fmt.Sprintf("t%d_%s_%v", threads, c.eq, c.shapes), func(t *testing.T) {
				m, feed, err := einsumModel(t, c.eq, c.shapes, Options{Threads: threads}, rng)
				if err != nil {
					t.Fatal(err)
				}
				k, ok := m.steps[0].kernel.(*einsumKernel)
				if c.calls == 0 {
					if ok {
						t.Fatal("element-wise form on the GEMM")
					}
					checkAgainstReference(t, m, feed, 1e-5)
					return
				}
				if !ok {
					t.Fatalf("fast kernel not used: %T", m.steps[0].kernel)
				}
				copies := ""
				for i, cp := range []*stridedCopy{k.copyX, k.copyY, k.copyC} {
					if cp != nil {
						copies += string("XYC"[i])
					}
				}
				if copies != c.copies || len(k.g.offA) != c.calls {
					t.Errorf("copies %q and %d calls, want %q and %d", copies, len(k.g.offA), c.copies, c.calls)
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
}

// TestEinsumReference checks the reference on forms without a fast path
// against loops written out for each equation.
func TestEinsumReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(43, 44))
	type tc struct {
		eq     string
		shapes [][]int
		out    []int
		want   func(x [][]float32) []float64
	}
	cases := []tc{
		{"ii->i", [][]int{{4, 4}}, []int{4}, func(x [][]float32) []float64 { // diagonal
			var w []float64
			for i := 0; i < 4; i++ {
				w = append(w, float64(x[0][i*4+i]))
			}
			return w
		}},
		{"ii", [][]int{{3, 3}}, []int{}, func(x [][]float32) []float64 { // implicit: trace
			return []float64{float64(x[0][0]) + float64(x[0][4]) + float64(x[0][8])}
		}},
		{"ba", [][]int{{2, 3}}, []int{3, 2}, func(x [][]float32) []float64 { // implicit output "ab": a transpose
			var w []float64
			for a := 0; a < 3; a++ {
				for b := 0; b < 2; b++ {
					w = append(w, float64(x[0][b*3+a]))
				}
			}
			return w
		}},
		{"aB", [][]int{{2, 3}}, []int{3, 2}, func(x [][]float32) []float64 { // implicit: "Ba" (ASCII order)
			var w []float64
			for B := 0; B < 3; B++ {
				for a := 0; a < 2; a++ {
					w = append(w, float64(x[0][a*3+B]))
				}
			}
			return w
		}},
		{"ij->", [][]int{{3, 4}}, []int{}, func(x [][]float32) []float64 {
			s := 0.0
			for _, v := range x[0] {
				s += float64(v)
			}
			return []float64{s}
		}},
		{"ij,jk,kl->il", [][]int{{2, 3}, {3, 4}, {4, 2}}, []int{2, 2}, func(x [][]float32) []float64 {
			var w []float64
			for i := 0; i < 2; i++ {
				for l := 0; l < 2; l++ {
					s := 0.0
					for j := 0; j < 3; j++ {
						for k := 0; k < 4; k++ {
							s += float64(x[0][i*3+j]) * float64(x[1][j*4+k]) * float64(x[2][k*2+l])
						}
					}
					w = append(w, s)
				}
			}
			return w
		}},
		{"...ii->...i", [][]int{{2, 3, 3}}, []int{2, 3}, func(x [][]float32) []float64 { // batch diagonal
			var w []float64
			for b := 0; b < 2; b++ {
				for i := 0; i < 3; i++ {
					w = append(w, float64(x[0][b*9+i*3+i]))
				}
			}
			return w
		}},
		{"...i,...i->...", [][]int{{2, 1, 4}, {3, 4}}, []int{2, 3}, func(x [][]float32) []float64 { // broadcast dot
			var w []float64
			for a := 0; a < 2; a++ {
				for b := 0; b < 3; b++ {
					s := 0.0
					for i := 0; i < 4; i++ {
						s += float64(x[0][a*4+i]) * float64(x[1][b*4+i])
					}
					w = append(w, s)
				}
			}
			return w
		}},
		{"ij,i->j", [][]int{{3, 4}, {3}}, []int{4}, func(x [][]float32) []float64 { // vector-matrix, implicit equivalent
			var w []float64
			for j := 0; j < 4; j++ {
				s := 0.0
				for i := 0; i < 3; i++ {
					s += float64(x[0][i*4+j]) * float64(x[1][i])
				}
				w = append(w, s)
			}
			return w
		}},
		{"ij,jk->i", [][]int{{2, 3}, {3, 4}}, []int{2}, func(x [][]float32) []float64 { // k summed in one operand
			var w []float64
			for i := 0; i < 2; i++ {
				s := 0.0
				for j := 0; j < 3; j++ {
					for k := 0; k < 4; k++ {
						s += float64(x[0][i*3+j]) * float64(x[1][j*4+k])
					}
				}
				w = append(w, s)
			}
			return w
		}},
		{",i->i", [][]int{{}, {3}}, []int{3}, func(x [][]float32) []float64 { // a scalar operand
			return []float64{float64(x[0][0] * x[1][0]), float64(x[0][0] * x[1][1]), float64(x[0][0] * x[1][2])}
		}},
	}
	for _, c := range cases {
		t.Run(c.eq, func(t *testing.T) {
			m, feed, err := einsumModel(t, c.eq, c.shapes, Options{}, rng)
			if err != nil {
				t.Fatal(err)
			}
			if !equalShapes(m.outputs[0].Shape, c.out) {
				t.Fatalf("output shape %v, want %v", m.outputs[0].Shape, c.out)
			}
			var xs [][]float32
			for _, f := range feed {
				xs = append(xs, f.F)
			}
			w := c.want(xs)
			want := make([]float32, len(w))
			for i, v := range w {
				want[i] = float32(v)
			}
			fast, ref := rnnRunBoth(t, m, feed)
			compareFloats(t, ref[0].F, want, 1e-6)
			compareFloats(t, fast[0].F, want, 1e-5)
		})
	}
	// Integer operands use the reference with int64 arithmetic.
	b := newBuilder(12).initInts("a", []int64{1, 2, 3, 4, 5, 6}, 2, 3).initInts("b", []int64{1, 0, 2, 1, 0, 3}, 3, 2)
	b.m.Graph.Initializers[0].DataType = int32(Int32)
	b.m.Graph.Initializers[1].DataType = int32(Int32)
	b.node("Einsum", []string{"a", "b"}, []string{"y"}, attrString("equation", "ij,jk->ik")).output("y")
	m := b.load(t, Options{}) // all constants: folded by the reference
	got, err := m.NewSession().Run(nil)
	if err != nil {
		t.Fatal(err)
	}
	// [[1 2 3] [4 5 6]] * [[1 0] [2 1] [0 3]] = [[5 11] [14 23]]
	if got[0].DType != Int32 || fmt.Sprint(got[0].I) != "[5 11 14 23]" {
		t.Fatalf("got %v %v", got[0].DType, got[0].I)
	}
}

func TestEinsumMACs(t *testing.T) {
	for _, c := range []struct {
		eq     string
		shapes [][]int
		want   int64
	}{
		{"bij,bjk->bik", [][]int{{5, 2, 3}, {5, 3, 4}}, 5 * 2 * 3 * 4},
		{"ij,jk,kl->il", [][]int{{2, 3}, {3, 4}, {4, 5}}, 2 * 2 * 3 * 4 * 5},
		{"ii->i", [][]int{{6, 6}}, 6},
	} {
		m, _, err := einsumModel(t, c.eq, c.shapes, Options{}, rand.New(rand.NewPCG(1, 1)))
		if err != nil {
			t.Fatal(err)
		}
		if got := m.MACs(); got != c.want {
			t.Errorf("%s: MACs %d, want %d", c.eq, got, c.want)
		}
	}
}

func TestEinsumErrors(t *testing.T) {
	cases := []struct {
		eq     string
		shapes [][]int
		want   string
	}{
		{"ij,jk", [][]int{{2, 3}}, "2 operand subscripts for 1 inputs"},
		{"ijk->i", [][]int{{2, 3}}, "operand 0 has rank 2 but subscripts \"ijk\" name 3 dimensions"},
		{"i1->i", [][]int{{2, 3}}, "'1' is not a letter"},
		{"ij->k", [][]int{{2, 3}}, "output letter 'k' is in no operand"},
		{"ij->ii", [][]int{{2, 3}}, "output letter 'i' is repeated"},
		{"ij,jk->ik", [][]int{{2, 3}, {4, 5}}, "dimension 4 does not match 3"},
		{"...ij->ij", [][]int{{5, 2, 3}}, "no ellipsis"},
		{"ij->i->j", [][]int{{2, 3}}, `more than one "->"`},
		{"ii->i", [][]int{{2, 3}}, "dimension 1 ('i'): dimension 3 does not match 2"},
		{"ii->i", [][]int{{1, 3}}, "repeats 'i' over dimensions of 1 and 3"},
		{"i..j->ij", [][]int{{2, 3}}, "a '.' outside an ellipsis"},
		{"...i...->i", [][]int{{2, 3}}, "more than one ellipsis"},
		{"", [][]int{{2, 3}}, "empty equation"},
		{"abc...->abc", [][]int{{2, 3}}, "fewer than the 3 letters"},
	}
	for _, c := range cases {
		t.Run(c.eq, func(t *testing.T) {
			_, _, err := einsumModel(t, c.eq, c.shapes, Options{}, rand.New(rand.NewPCG(1, 1)))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), `"y_node"`) || !strings.Contains(err.Error(), fmt.Sprintf("equation %q", c.eq)) {
				t.Fatalf("error %q does not say %q, name the node and the equation", err, c.want)
			}
		})
	}
	// Einsum arrived in opset 12.
	b0 := newBuilder(11).input("a", 2).node("Einsum", []string{"a"}, []string{"y"}, attrString("equation", "i")).output("y")
	if _, err := loadDecoded(b0.m, "test", Options{}); err == nil || !strings.Contains(err.Error(), "needs opset 12") {
		t.Fatalf("opset 11: %v", err)
	}
	// Mixed operand types.
	b := newBuilder(12).input("a", 2).initInts("b", []int64{1, 2}, 2).
		node("Einsum", []string{"a", "b"}, []string{"y"}, attrString("equation", "i,i")).output("y")
	if _, err := loadDecoded(b.m, "test", Options{}); err == nil || !strings.Contains(err.Error(), "input 1 has type INT64") {
		t.Fatalf("mixed types: %v", err)
	}
	// The copies' work memory is refused above the byte limit.
	_, _, err := einsumModel(t, "ab,ba->", [][]int{{512, 512}, {512, 512}}, Options{MaxBytes: 1 << 20}, rand.New(rand.NewPCG(1, 1)))
	if err == nil || !strings.Contains(err.Error(), "work memory") {
		t.Fatalf("size limit: %v", err)
	}
}

// BenchmarkEinsum compares the kernel with the reference on an attention
// score product written as an Einsum.
func BenchmarkEinsum(b *testing.B) {
	m, feed, err := einsumModel(b, "bhqd,bhkd->bhqk", [][]int{{1, 4, 64, 32}, {1, 4, 64, 32}}, Options{}, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		b.Fatal(err)
	}
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
