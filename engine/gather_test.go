package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestIm2colPackMatchesGather packs random convolutions' im2col matrices
// (strides, dilations, padding, tap and position subsets as the
// approximate kernels choose them) through the move plans, in assembly and
// in Go, and element by element, for both panel widths and K blocks at
// any offset, and compares the panels.
func TestIm2colPackMatchesGather(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	specs := []ConvSpec{
		packBenchConvs[0].cs,
		packBenchConvs[1].cs,
		// kws.onnx's second convolution: rows of 8 outputs, each 16-wide
		// panel two moves of eight (gatherPair), and its odd K.
		{Batch: 1, C: 3, H: 17, W: 10, KH: 10, KW: 3, SH: 1, SW: 1, DH: 1, DW: 1, Group: 1, M: 4, OH: 8, OW: 8},
		// Rows of 20 (the 16-wide panels straddle rows), padded.
		{Batch: 1, C: 2, H: 9, W: 20, KH: 3, KW: 3, SH: 1, SW: 1, DH: 1, DW: 1, Group: 1, M: 4, PadT: 1, PadL: 1, PadB: 1, PadR: 1, OH: 9, OW: 20},
	}
	for range 30 {
		c := ConvSpec{Batch: 1, C: 1 + rng.IntN(4), H: 3 + rng.IntN(20), W: 3 + rng.IntN(40), KH: 1 + rng.IntN(4), KW: 1 + rng.IntN(9),
			SH: 1 + rng.IntN(2), SW: 1 + rng.IntN(3)*rng.IntN(2), DH: 1 + rng.IntN(2), DW: 1 + rng.IntN(2)*rng.IntN(2), Group: 1,
			PadT: rng.IntN(3), PadB: rng.IntN(3), PadL: rng.IntN(4), PadR: rng.IntN(4)}
		c.SW = max(c.SW, 1)
		c.DW = max(c.DW, 1)
		if c.H+c.PadT+c.PadB < (c.KH-1)*c.DH+1 || c.W+c.PadL+c.PadR < (c.KW-1)*c.DW+1 {
			continue // the window does not fit
		}
		c.OH = (c.H+c.PadT+c.PadB-(c.KH-1)*c.DH-1)/c.SH + 1
		c.OW = (c.W+c.PadL+c.PadR-(c.KW-1)*c.DW-1)/c.SW + 1
		if c.OH < 1 || c.OW < 1 {
			continue
		}
		c.M = 1
		specs = append(specs, c)
	}
	for i, c := range specs {
		var taps []Tap
		var ys []int
		if i%3 == 2 { // a subset of taps and output rows, as approx does
			for ch := 0; ch < c.C; ch++ {
				for ky := 0; ky < c.KH; ky++ {
					for kx := 0; kx < c.KW; kx++ {
						if rng.IntN(3) > 0 {
							taps = append(taps, Tap{ch, ky, kx})
						}
					}
				}
			}
			for y := 0; y < c.OH; y += 2 {
				ys = append(ys, y)
			}
			if len(taps) == 0 {
				taps = []Tap{{0, 0, 0}}
			}
		}
		var xs []int
		if i%4 == 1 && c.OW > 2 { // every other column, as perforation at stride 2 keeps
			for x := 1; x < c.OW; x += 2 {
				xs = append(xs, x)
			}
		}
		g := NewIm2col(&c, taps, ys, xs)
		in := randFloats(rng, c.C*c.H*c.W)
		x := g.pad(in, make([]float32, g.PaddedSize()))
		t.Run(fmt.Sprintf("%d/%+v/layout", i, c), func(t *testing.T) {
			// Element (k, j) through the tables is the input under tap k
			// at output position j, or the zero border.
			if taps == nil {
				for ch := 0; ch < c.C; ch++ {
					for ky := 0; ky < c.KH; ky++ {
						for kx := 0; kx < c.KW; kx++ {
							taps = append(taps, Tap{ch, ky, kx})
						}
					}
				}
			}
			oys, oxs := ys, xs
			if oys == nil {
				oys = seq(c.OH)
			}
			if oxs == nil {
				oxs = seq(c.OW)
			}
			for k, tp := range taps {
				for yi, oy := range oys {
					for xi, ox := range oxs {
						iy, ix := oy*c.SH+tp.KY*c.DH-c.PadT, ox*c.SW+tp.KX*c.DW-c.PadL
						var want float32
						if iy >= 0 && iy < c.H && ix >= 0 && ix < c.W {
							want = in[(tp.C*c.H+iy)*c.W+ix]
						}
						if got := x[g.kbase[k]+g.pos[yi*len(oxs)+xi]]; got != want {
							t.Fatalf("tap %+v at (%d,%d): %v, want %v (phases %d)", tp, oy, ox, got, want, g.q)
						}
					}
				}
			}
		})
		t.Run(fmt.Sprintf("%d/%+v/codes", i, c), func(t *testing.T) {
			codes := make([]uint8, len(x))
			for j := range codes {
				codes[j] = uint8(rng.IntN(256))
			}
			k, n := g.Rows(), g.Cols()
			got := make([]uint8, k*n)
			g.MatrixCodes(codes, got)
			goPath := make([]uint8, k*n)
			for p := range g.plans.p16 {
				gatherBytesGo(goPath[16*p:], codes, g.kbase, n, &g.plans.p16[p])
			}
			for kk := 0; kk < k; kk++ {
				for j := 0; j < n; j++ {
					want := codes[g.kbase[kk]+g.pos[j]]
					if got[kk*n+j] != want || goPath[kk*n+j] != want {
						t.Fatalf("codes (%d,%d) = %d (Go %d), want %d", kk, j, got[kk*n+j], goPath[kk*n+j], want)
					}
				}
			}
		})
		for _, nr := range []int{16, 8} {
			t.Run(fmt.Sprintf("%d/%+v/nr%d", i, c, nr), func(t *testing.T) {
				k, n := g.Rows(), g.Cols()
				k0 := rng.IntN(k)
				kc := 1 + rng.IntN(k-k0)
				j0 := nr * rng.IntN((n+nr-1)/nr)
				cnt := n - j0
				size := kc * ((cnt + nr - 1) / nr) * nr
				want := make([]float32, size)
				(&im2colSource{x: x, pos: g.pos, kbase: g.kbase}).PackB(want, k0, kc, j0, cnt, nr)
				// Reference: element (k, j) of the matrix.
				for kk := 0; kk < kc; kk++ {
					for j := 0; j < cnt; j++ {
						v := x[g.kbase[k0+kk]+g.pos[j0+j]]
						if got := want[j/nr*kc*nr+kk*nr+j%nr]; got != v {
							t.Fatalf("gather (%d,%d) = %v, want %v", k0+kk, j0+j, got, v)
						}
					}
				}
				got := slices.Repeat([]float32{-1}, size)
				(&im2colSource{x: x, pos: g.pos, kbase: g.kbase, plans: g.plans, need: g.need}).PackB(got, k0, kc, j0, cnt, nr)
				if !slices.Equal(got, want) {
					t.Fatal("moves differ from the element gather")
				}
				plans := g.plans.p16
				if nr == 8 {
					plans = g.plans.p8
				}
				for p := j0 / nr; p*nr < n; p++ {
					if !plans[p].ok {
						continue
					}
					a := make([]float32, kc*nr)
					b := make([]float32, kc*nr)
					gatherGo(a, x, g.kbase[k0:k0+kc], nr, &plans[p])
					if !gatherArch(b, x, g.kbase[k0:k0+kc], nr, &plans[p]) {
						continue
					}
					if !slices.Equal(a, b) {
						t.Fatalf("panel %d: assembly and Go gathers differ", p)
					}
				}
			})
		}
	}
}

// TestMaxRowMatchesGo compares the assembly pooling row with the Go one
// (which follows the reference: NaN taps are skipped) over tap counts,
// strides and NaNs.
func TestMaxRowMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	for _, kw := range []int{1, 2, 3, 4, 7} {
		for _, sw := range []int{1, 2, 3, 5} {
			for _, n := range []int{0, 1, 2, 3, 8, 33} {
				src := randFloats(rng, max(0, (n-1)*sw+kw)+rng.IntN(3))
				for i := range src {
					if rng.IntN(7) == 0 {
						src[i] = float32(math.NaN())
					}
				}
				init := randFloats(rng, n)
				if n > 0 {
					init[0] = float32(math.Inf(-1))
				}
				want := slices.Clone(init)
				maxRowGo(want, src, kw, sw)
				got := slices.Clone(init)
				maxRow(got, src, kw, sw)
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("kw %d sw %d n %d: output %d = %v, want %v", kw, sw, n, i, got[i], want[i])
					}
				}
				for i, v := range want {
					if math.IsNaN(float64(v)) {
						t.Fatalf("kw %d sw %d n %d: output %d is NaN", kw, sw, n, i)
					}
				}
			}
		}
	}
}

// TestMaxWindowsMatchesGo compares the vector pooling of windows of three
// with the Go loop, NaNs and infinities included, over lengths with and
// without a tail.
func TestMaxWindowsMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	nan := float32(math.NaN())
	for _, n := range []int{0, 1, 7, 8, 9, 16, 45, 1000} {
		src := withSpecials(rng, randFloats(rng, 3*n), 12)
		for i := 0; i+2 < len(src) && i < 9; i += 3 { // whole windows of NaN
			src[i], src[i+1], src[i+2] = nan, nan, nan
		}
		got, want := make([]float32, n), make([]float32, n)
		maxWindows(got, src, 3)
		maxWindowsGo(want, src, 3)
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("n=%d: window %d %v: %v, want %v", n, i, src[3*i:3*i+3], got[i], want[i])
			}
		}
	}
}

// TestMaxPairsMatchesGo compares the vector 2x2 pooling row with the Go
// one over lengths that use every path (eight, four and single outputs),
// NaNs and infinities included, bit for bit.
func TestMaxPairsMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	nan := float32(math.NaN())
	for n := 0; n <= 21; n++ {
		r0, r1 := withSpecials(rng, randFloats(rng, 2*n+1), 10), withSpecials(rng, randFloats(rng, 2*n+3), 10)
		if n > 0 { // one window entirely NaN
			r0[0], r0[1], r1[0], r1[1] = nan, nan, nan, nan
		}
		got, want := make([]float32, n), make([]float32, n)
		maxPairs(got, r0, r1)
		maxPairsGo(want, r0, r1)
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("n=%d: output %d (%v %v / %v %v): %v, want %v", n, i, r0[2*i], r0[2*i+1], r1[2*i], r1[2*i+1], got[i], want[i])
			}
		}
	}
}

// TestMaxPool2x2MatchesGo compares the whole-plane 2x2 pooling with the
// Go one over widths that use every path (eights with and without a step
// moved back, two fours, rows too short for the assembly), odd input
// widths and heights (a column and a row left over), several planes,
// NaNs and infinities included, bit for bit.
func TestMaxPool2x2MatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(43, 44))
	for ow := 1; ow <= 21; ow++ {
		for _, oh := range []int{1, 3} {
			for _, planes := range []int{1, 3} {
				iw := 2*ow + rng.IntN(2)
				plane := (2*oh + rng.IntN(2)) * iw
				src := withSpecials(rng, randFloats(rng, planes*plane), 10)
				got, want := make([]float32, planes*oh*ow), make([]float32, planes*oh*ow)
				maxPool2x2(got, src, planes, oh, ow, iw, plane)
				maxPool2x2Go(want, src, planes, oh, ow, iw, plane)
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("ow %d oh %d planes %d iw %d: output %d: %v, want %v", ow, oh, planes, iw, i, got[i], want[i])
					}
				}
			}
		}
	}
}

// withSpecials replaces about three in oneIn elements of x with NaN, -Inf
// or +Inf, one each, and returns x.
func withSpecials(rng *rand.Rand, x []float32, oneIn int) []float32 {
	for i := range x {
		switch rng.IntN(oneIn) {
		case 0:
			x[i] = float32(math.NaN())
		case 1:
			x[i] = float32(math.Inf(-1))
		case 2:
			x[i] = float32(math.Inf(1))
		}
	}
	return x
}
