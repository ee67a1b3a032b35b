package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// matrixSource packs blocks of a row-major matrix, like a convolution's
// im2col source does from an image.
type matrixSource struct {
	b    []float32
	n    int
	k    int
	seen int
}

func (s *matrixSource) PackB(dst []float32, k0, kc, j0, n, nr int) {
	s.seen++
	for jr := 0; jr < n; jr += nr {
		panel := dst[jr*kc : (jr+nr)*kc]
		for k := 0; k < kc; k++ {
			for j := 0; j < nr; j++ {
				v := float32(0)
				if jr+j < n {
					v = s.b[(k0+k)*s.n+j0+jr+j]
				}
				panel[k*nr+j] = v
			}
		}
	}
}

func TestBSourceMatchesRawB(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, sh := range [][3]int{{1, 1, 1}, {7, 13, 5}, {64, 584, 2560}, {6, 2706, 160}, {33, 17, 700}, {64, 3000, 9}} {
		m, n, k := sh[0], sh[1], sh[2]
		t.Run(fmt.Sprint(sh), func(t *testing.T) {
			a, b := randMat(rng, m*k), randMat(rng, k*n)
			bias := randMat(rng, m)
			want := make([]float32, m*n)
			Sgemm(&Args{M: m, N: n, K: k, A: a, B: b, C: want, Bias: bias, BiasMode: BiasPerRow, Clamp: true, Lo: 0, Hi: 1e9})
			src := &matrixSource{b: b, n: n, k: k}
			got := make([]float32, m*n)
			pa := PackA(nil, m, k, a, k, false)
			args := Args{M: m, N: n, K: k, PackedA: pa, BSource: src, C: got, Bias: bias, BiasMode: BiasPerRow, Clamp: true, Lo: 0, Hi: 1e9}
			args.Scratch = make([]float32, ScratchSize(&args))
			Sgemm(&args)
			if src.seen == 0 {
				t.Fatal("BSource was not used")
			}
			for i := range want {
				d := want[i] - got[i]
				if d < 0 {
					d = -d
				}
				if d > 1e-4*float32(k) {
					t.Fatalf("element %d: %g vs %g", i, got[i], want[i])
				}
			}
			if allocs := testing.AllocsPerRun(5, func() { Sgemm(&args) }); allocs != 0 {
				t.Fatalf("Sgemm with a BSource allocates %v times", allocs)
			}
		})
	}
}

func randMat(rng *rand.Rand, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = rng.Float32()*2 - 1
	}
	return out
}
