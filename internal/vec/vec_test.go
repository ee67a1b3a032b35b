package vec

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestMatchesScalar compares the routines, at every length and offset
// around the vector width, with the scalar definitions, NaN, infinities
// and signed zeros included.
func TestMatchesScalar(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	special := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0, float32(math.Copysign(0, -1)), 1e30, -1e30}
	val := func() float32 {
		if rng.IntN(5) == 0 {
			return special[rng.IntN(len(special))]
		}
		return float32(rng.NormFloat64())
	}
	for _, r := range []struct{ lo, hi float32 }{{0, float32(math.Inf(1))}, {0, 6}, {-1, 1}, {float32(math.Inf(-1)), float32(math.Inf(1))}} {
		for n := 0; n < 40; n++ {
			for off := 0; off < 3; off++ {
				a, b := make([]float32, n+off), make([]float32, n+off)
				for i := range a {
					a[i], b[i] = val(), val()
				}
				got := make([]float32, n+off)
				Clamp(got[off:], a[off:], r.lo, r.hi)
				for i := off; i < n+off; i++ {
					if want := clamp1(a[i], r.lo, r.hi); math.Float32bits(got[i]) != math.Float32bits(want) {
						t.Fatalf("Clamp(%v) to [%v, %v] = %v, want %v", a[i], r.lo, r.hi, got[i], want)
					}
				}
				AvgClamp(got[off:], a[off:], b[off:], r.lo, r.hi)
				for i := off; i < n+off; i++ {
					if want := clamp1((a[i]+b[i])*0.5, r.lo, r.hi); math.Float32bits(got[i]) != math.Float32bits(want) {
						t.Fatalf("AvgClamp(%v, %v) to [%v, %v] = %v, want %v", a[i], b[i], r.lo, r.hi, got[i], want)
					}
				}
			}
		}
	}
	if got := clamp1(float32(math.Copysign(0, -1)), 0, 1); !math.Signbit(float64(got)) {
		t.Fatal("clamp1(-0) lost the sign")
	}
}

// TestSum compares Sum with a float64 reference at every length around
// the vector widths, within n roundings of the magnitude.
func TestSum(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for n := 0; n < 300; n += 1 + n/16 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		mag := 0.0
		var want float64
		for i := range x {
			want += float64(x[i])
			mag += math.Abs(float64(x[i]))
		}
		if s := Sum(x); math.Abs(float64(s)-want) > 1.2e-7*float64(n+1)*mag/float64(max(n, 1))*8+1e-6 {
			t.Fatalf("n %d: Sum = %v, want %v", n, s, want)
		}
	}
}

// TestTapSum compares TapSum with a float64 reference over tap counts and
// lengths around the vector width, and checks that an offset reaching
// past src is refused.
func TestTapSum(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, taps := range []int{0, 1, 3, 9, 25} {
		for n := 0; n < 70; n += 1 + n/8 {
			src := make([]float32, n+40)
			for i := range src {
				src[i] = float32(rng.NormFloat64())
			}
			offs, w := make([]int32, taps), make([]float32, taps)
			for i := range offs {
				offs[i], w[i] = int32(rng.IntN(41)), float32(rng.NormFloat64())
			}
			bias := float32(rng.NormFloat64())
			dst := make([]float32, n)
			TapSum(dst, src, offs, w, bias)
			for i := range dst {
				want, mag := float64(bias), math.Abs(float64(bias))
				for k, o := range offs {
					p := float64(w[k]) * float64(src[int(o)+i])
					want += p
					mag += math.Abs(p)
				}
				if math.Abs(float64(dst[i])-want) > 1e-6*mag+1e-7 {
					t.Fatalf("taps %d n %d: dst[%d] = %v, want %v", taps, n, i, dst[i], want)
				}
			}
		}
	}
	defer func() {
		if recover() == nil {
			t.Fatal("an offset past src was accepted")
		}
	}()
	TapSum(make([]float32, 8), make([]float32, 10), []int32{3}, []float32{1}, 0)
}

// TestRows compares TapSumRows and CopyRows with TapSum and copy row by
// row, over widths around the vector width and strides with gaps.
func TestRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{1, 7, 8, 9, 16, 20, 23, 33} {
		for _, rows := range []int{0, 1, 3, 6} {
			ss, ds := n+rng.IntN(5), n+rng.IntN(5)
			src := make([]float32, rows*ss+40)
			for i := range src {
				src[i] = float32(rng.NormFloat64())
			}
			offs := []int32{0, 1, 2, int32(ss), int32(ss + 2), 3}
			w := []float32{0.5, -1, 2, 0.25, 1.5, -0.75}
			got := make([]float32, rows*ds+3)
			want := make([]float32, len(got))
			TapSumRows(got, ds, src, ss, rows, n, offs, w, 0.125)
			for r := 0; r < rows; r++ {
				TapSum(want[r*ds:r*ds+n], src[r*ss:], offs, w, 0.125)
			}
			for i := range got {
				if math.Abs(float64(got[i]-want[i])) > 1e-5 {
					t.Fatalf("n %d rows %d: TapSumRows[%d] = %v, want %v", n, rows, i, got[i], want[i])
				}
			}
			clear(got)
			clear(want)
			CopyRows(got, ds, src, ss, rows, n)
			for r := 0; r < rows; r++ {
				copy(want[r*ds:r*ds+n], src[r*ss:r*ss+n])
			}
			if !slices.Equal(got, want) {
				t.Fatalf("n %d rows %d: CopyRows differs", n, rows)
			}
		}
	}
}

// TestCopyPlanes compares CopyPlanes with CopyRows plane by plane, for
// rows shorter than a vector (masked), whole vectors and ragged ones, with
// gaps between rows and planes that must stay untouched.
func TestCopyPlanes(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, n := range []int{1, 3, 5, 7, 8, 10, 20, 33} {
		for _, planes := range []int{0, 1, 2, 5} {
			for _, rows := range []int{0, 1, 6} {
				sr, dr := n+rng.IntN(4), n+rng.IntN(4)
				sp, dp := rows*sr+rng.IntN(5), rows*dr+rng.IntN(5)
				src := make([]float32, planes*sp+n)
				for i := range src {
					src[i] = float32(rng.NormFloat64())
				}
				got := make([]float32, planes*dp+n)
				want := make([]float32, len(got))
				for i := range got {
					got[i], want[i] = -7, -7
				}
				CopyPlanes(got, dr, dp, src, sr, sp, planes, rows, n)
				for k := 0; k < planes; k++ {
					for r := 0; r < rows; r++ {
						copy(want[k*dp+r*dr:k*dp+r*dr+n], src[k*sp+r*sr:])
					}
				}
				if !slices.Equal(got, want) {
					t.Fatalf("n %d planes %d rows %d: CopyPlanes differs:\n got %v\nwant %v", n, planes, rows, got, want)
				}
			}
		}
	}
	defer func() {
		if recover() == nil {
			t.Fatal("a row past dst was accepted")
		}
	}()
	CopyPlanes(make([]float32, 10), 5, 10, make([]float32, 20), 5, 10, 2, 1, 5)
}

// TestCopyPlanesSpill copies rows into zero-bordered planes and packs
// rows end to end, the two layouts CopyPlanesSpill is for, and checks the
// result equals a plain copy's: the zeros it writes past a row land on
// borders or on rows copied later, and nothing past the last row changes.
func TestCopyPlanesSpill(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	for _, n := range []int{1, 3, 5, 7, 8, 12} {
		for _, planes := range []int{1, 2, 9} {
			for _, rows := range []int{1, 2, 6} {
				for _, pad := range []int{0, 1, 2} {
					// Bordered: rows of n+2*pad, planes of rows+2*pad rows.
					// Packed (pad 0): rows of n, planes of rows*n.
					wp, hp := n+2*pad, rows+2*pad
					src := make([]float32, planes*rows*n)
					for i := range src {
						src[i] = float32(rng.NormFloat64()) + 10
					}
					got := make([]float32, planes*hp*wp+3)
					got[len(got)-3] = 99 // past the last plane: untouched
					want := slices.Clone(got)
					off := pad*wp + pad
					CopyPlanesSpill(got[off:len(got)-3], wp, hp*wp, src, n, rows*n, planes, rows, n)
					CopyPlanes(want[off:len(want)-3], wp, hp*wp, src, n, rows*n, planes, rows, n)
					if !slices.Equal(got, want) {
						t.Fatalf("n %d planes %d rows %d pad %d:\n got %v\nwant %v", n, planes, rows, pad, got, want)
					}
				}
			}
		}
	}
}

// TestSumPlanes compares SumPlanes with the sums in float64, over plane
// sizes below, at and above the vector width, and zero planes.
func TestSumPlanes(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	for _, n := range []int{1, 5, 8, 9, 16, 30, 31, 64, 500} {
		for _, planes := range []int{0, 1, 7} {
			src := make([]float32, planes*n+3)
			for i := range src {
				src[i] = float32(rng.NormFloat64())
			}
			dst := make([]float32, planes)
			SumPlanes(dst, src, n, 0.25)
			for k := range dst {
				var want float64
				for _, v := range src[k*n : (k+1)*n] {
					want += float64(v)
				}
				want *= 0.25
				if math.Abs(float64(dst[k])-want) > 1e-5*float64(n) {
					t.Fatalf("n %d plane %d: %v, want %v", n, k, dst[k], want)
				}
			}
		}
	}
}

// TestTapSumPlanes compares TapSumPlanes with TapSum and Clamp plane by
// plane: widths around the vector width, strides with gaps (left
// untouched), one to nine taps with each plane's own weights and bias, a
// NaN input (kept by the clamp), and no clamp (infinite bounds).
func TestTapSumPlanes(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	inf := float32(math.Inf(1))
	for _, n := range []int{1, 5, 8, 9, 16, 20, 31, 40, 548} {
		for _, planes := range []int{0, 1, 2, 7} {
			for _, taps := range []int{1, 4, 9} {
				for _, bounds := range [][2]float32{{0, 6}, {-inf, inf}} {
					stride := n + 2 + rng.IntN(9)
					offs := make([]int32, taps)
					for i := range offs {
						offs[i] = int32(rng.IntN(3*stride/2 + 1))
					}
					src := make([]float32, planes*stride+2*stride)
					for i := range src {
						src[i] = float32(rng.NormFloat64())
					}
					if len(src) > 10 {
						src[10] = float32(math.NaN())
					}
					w := make([]float32, planes*taps)
					bias := make([]float32, planes)
					for i := range w {
						w[i] = float32(rng.NormFloat64())
					}
					for i := range bias {
						bias[i] = float32(rng.NormFloat64())
					}
					got := make([]float32, planes*stride)
					want := make([]float32, len(got))
					for i := range got {
						got[i], want[i] = 42, 42
					}
					TapSumPlanes(got, src, stride, planes, n, offs, w, bias, bounds[0], bounds[1])
					for p := 0; p < planes; p++ {
						d := want[p*stride : p*stride+n]
						TapSum(d, src[p*stride:], offs, w[p*taps:(p+1)*taps], bias[p])
						Clamp(d, d, bounds[0], bounds[1])
					}
					for i := range got {
						g, w := got[i], want[i]
						if g != g && w != w {
							continue // both NaN
						}
						if math.Abs(float64(g-w)) > 1e-5 {
							t.Fatalf("n %d planes %d taps %d bounds %v: [%d] = %v, want %v", n, planes, taps, bounds, i, g, w)
						}
					}
				}
			}
		}
	}
	defer func() {
		if recover() == nil {
			t.Fatal("a plane past src was accepted")
		}
	}()
	TapSumPlanes(make([]float32, 16), make([]float32, 16), 8, 2, 8, []int32{1}, []float32{1, 1}, []float32{0, 0}, 0, 1)
}

// TestClampRows compares ClampRows and AvgClampRows with Clamp and
// AvgClamp row by row, in place too, NaN included.
func TestClampRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, n := range []int{1, 7, 8, 13, 20, 33} {
		for _, rows := range []int{0, 1, 4} {
			as, bs, ds := n+rng.IntN(4), n+rng.IntN(4), n+rng.IntN(4)
			a, b := make([]float32, rows*as+2), make([]float32, rows*bs+2)
			for i := range a {
				a[i] = float32(rng.NormFloat64())
			}
			for i := range b {
				b[i] = float32(rng.NormFloat64())
			}
			if len(a) > 3 {
				a[3] = float32(math.NaN())
			}
			got, want := make([]float32, rows*ds+2), make([]float32, rows*ds+2)
			ClampRows(got, ds, a, as, rows, n, 0, 1)
			for r := 0; r < rows; r++ {
				Clamp(want[r*ds:r*ds+n], a[r*as:r*as+n], 0, 1)
			}
			same := func(what string) {
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("n %d rows %d: %s[%d] = %v, want %v", n, rows, what, i, got[i], want[i])
					}
				}
			}
			same("ClampRows")
			AvgClampRows(got, ds, a, as, b, bs, rows, n, -0.5, 0.5)
			for r := 0; r < rows; r++ {
				AvgClamp(want[r*ds:r*ds+n], a[r*as:r*as+n], b[r*bs:r*bs+n], -0.5, 0.5)
			}
			same("AvgClampRows")
			in := slices.Clone(a)
			ClampRows(in, as, in, as, rows, n, 0, 1)
			for r := 0; r < rows; r++ {
				Clamp(a[r*as:r*as+n], a[r*as:r*as+n], 0, 1)
			}
			if !slices.EqualFunc(in, a, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) }) {
				t.Fatalf("n %d rows %d: in-place ClampRows differs", n, rows)
			}
		}
	}
}

// BenchmarkDepthwisePlanes times the three calls of a flat depthwise
// group on kws-ds's small maps: 146 channels of 6x5 (bordered 8x7, 3x3
// taps) copied in, tap-summed and copied out, in cache.
func BenchmarkDepthwisePlanes(b *testing.B) {
	const planes, plane, n = 146, 56, 40
	src := make([]float32, planes*30)
	pad := make([]float32, planes*plane)
	flat := make([]float32, planes*plane)
	dst := make([]float32, planes*30)
	w := make([]float32, planes*9)
	bias := make([]float32, planes)
	offs := []int32{0, 1, 2, 7, 8, 9, 14, 15, 16}
	b.Run("copy-in", func(b *testing.B) {
		for range b.N {
			CopyPlanesSpill(pad[8:], 7, plane, src, 5, 30, planes, 6, 5)
		}
	})
	b.Run("copy-in-masked", func(b *testing.B) {
		for range b.N {
			CopyPlanes(pad[8:], 7, plane, src, 5, 30, planes, 6, 5)
		}
	})
	b.Run("tap-sum", func(b *testing.B) {
		for range b.N {
			TapSumPlanes(flat, pad, plane, planes, n, offs, w, bias, 0, float32(math.Inf(1)))
		}
	})
	b.Run("copy-out", func(b *testing.B) {
		for range b.N {
			CopyPlanesSpill(dst, 5, 30, flat, 7, plane, planes, 6, 5)
		}
	})
}
