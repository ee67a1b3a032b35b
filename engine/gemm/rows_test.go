package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestRowsMatchesReference checks products whose B is given by row offsets
// (Args.BRows) against a float64 reference over shapes that cross the
// tile, panel and K-block sizes, every epilogue, accumulation and threads.
func TestRowsMatchesReference(t *testing.T) {
	if !RowsKernel() {
		t.Skip("the active kernel has no row tables")
	}
	rng := rand.New(rand.NewPCG(9, 9))
	shapes := []struct{ m, n, k int }{
		{1, 1, 1}, {12, 16, 9}, {13, 17, 27}, {5, 40, 300}, {64, 100, 576}, {24, 33, 513}, {7, 255, 18},
	}
	for _, s := range shapes {
		for _, mode := range []BiasMode{NoBias, BiasPerRow, BiasPerCol} {
			for _, acc := range []bool{false, true} {
				for _, tasks := range []int{1, 3} {
					name := fmt.Sprintf("%dx%dx%d/bias%d/acc=%v/tasks=%d", s.m, s.n, s.k, mode, acc, tasks)
					t.Run(name, func(t *testing.T) {
						bLen := s.k*7 + s.n + 64
						b := make([]float32, bLen)
						for i := range b {
							b[i] = rng.Float32()*2 - 1
						}
						rows := make([]int32, s.k)
						for i := range rows {
							rows[i] = int32(rng.IntN(bLen - s.n - 15))
						}
						a := make([]float32, s.m*s.k)
						for i := range a {
							a[i] = rng.Float32()*2 - 1
						}
						c := make([]float32, s.m*s.n)
						for i := range c {
							c[i] = rng.Float32()
						}
						c0 := append([]float32(nil), c...)
						bias := make([]float32, max(s.m, s.n))
						for i := range bias {
							bias[i] = rng.Float32()
						}
						args := Args{M: s.m, N: s.n, K: s.k, PackedA: PackA(nil, s.m, s.k, a, s.k, false), B: b, BRows: rows, C: c,
							Accumulate: acc, Bias: bias, BiasMode: mode, Clamp: true, Lo: -3, Hi: 2.5}
						if tasks > 1 {
							args.Parallel = func(n int, run func(int)) {
								for i := n - 1; i >= 0; i-- {
									run(i)
								}
							}
							args.Tasks = tasks
						}
						args.Scratch = make([]float32, ScratchSize(&args))
						Sgemm(&args)
						for i := 0; i < s.m; i++ {
							for j := 0; j < s.n; j++ {
								var sum, mag float64
								for kk := 0; kk < s.k; kk++ {
									p := float64(a[i*s.k+kk]) * float64(b[int(rows[kk])+j])
									sum += p
									mag += math.Abs(p)
								}
								if acc {
									sum += float64(c0[i*s.n+j])
								}
								switch mode {
								case BiasPerRow:
									sum += float64(bias[i])
								case BiasPerCol:
									sum += float64(bias[j])
								}
								sum = min(max(sum, -3), 2.5)
								if d := math.Abs(float64(c[i*s.n+j]) - sum); d > 1e-5*(mag+1) {
									t.Fatalf("C[%d,%d] = %g, want %g", i, j, c[i*s.n+j], sum)
								}
							}
						}
					})
				}
			}
		}
	}
}

// TestRowsRefusesShortB checks that a row table reaching past B panics
// with a message instead of reading out of bounds.
func TestRowsRefusesShortB(t *testing.T) {
	if !RowsKernel() {
		t.Skip("the active kernel has no row tables")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for a row past B")
		}
	}()
	a := make([]float32, 4)
	args := Args{M: 2, N: 2, K: 2, PackedA: PackA(nil, 2, 2, a, 2, false), B: make([]float32, 20), BRows: []int32{0, 5}, C: make([]float32, 4)}
	Sgemm(&args)
}
