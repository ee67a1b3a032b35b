package qgemm

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
)

// specCode is the documented quantization, written independently of the
// package's quantizers (float64 rounding of the float32 product).
func specCode(x float32, q Quant) uint8 {
	zp := min(max(q.Zero, 0), MaxCode)
	inv := 1 / q.Scale
	t := float64(x * inv)
	if math.IsNaN(t) {
		return uint8(zp)
	}
	t = math.Min(math.Max(t, float64(-zp)), float64(MaxCode-zp))
	return uint8(int32(math.RoundToEven(t)) + zp)
}

// checkQuantizers quantizes xs with q through every path (the row
// quantizer, the Go one, the panel packers of every kernel) and compares
// with specCode.
func checkQuantizers(t *testing.T, xs []float32, q Quant) {
	t.Helper()
	want := make([]uint8, len(xs))
	for i, x := range xs {
		want[i] = specCode(x, q)
		if want[i] > MaxCode {
			t.Fatalf("spec code %d > %d", want[i], MaxCode)
		}
	}
	got := make([]uint8, len(xs)+1)
	got[len(xs)] = 0xee
	QuantizeActivations(got, xs, q)
	inv, lo, hi, zp := q.params()
	for i := range xs {
		if got[i] != want[i] {
			t.Fatalf("QuantizeActivations(%v [bits %#x], %+v) = %d, want %d", xs[i], math.Float32bits(xs[i]), q, got[i], want[i])
		}
		if g := quantOne(xs[i], inv, lo, hi, zp); g != want[i] {
			t.Fatalf("quantOne(%v, %+v) = %d, want %d", xs[i], q, g, want[i])
		}
	}
	if got[len(xs)] != 0xee {
		t.Fatalf("QuantizeActivations wrote past len(src)")
	}
	// The panel packers, on xs seen as a K x N matrix (a last partial
	// panel and, with K%4 != 0, a last partial group).
	const n = 19
	k := len(xs) / n
	if k == 0 {
		return
	}
	kg := ceilDiv(k, group)
	for _, kern := range allKernels() {
		dst := make([]byte, 2*kg*64+1)
		dst[2*kg*64] = 0xee
		packBlock(kern, dst, xs, n, k, 0, n, inv, lo, hi, zp)
		for r := 0; r < k; r++ {
			for j := 0; j < n; j++ {
				g := dst[(j/nr)*kg*64+(r/group)*64+(j%nr)*4+r%group]
				if w := want[r*n+j]; g != w {
					t.Fatalf("%s: packBlock code of (%d,%d) = %v is %d, want %d", kern.name, r, j, xs[r*n+j], g, w)
				}
			}
		}
		if dst[2*kg*64] != 0xee {
			t.Fatalf("%s: packBlock wrote past the panels", kern.name)
		}
	}
}

// specialFloats are values every quantizer must handle.
var specialFloats = []float32{
	0, float32(math.Copysign(0, -1)), 1, -1, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 126.5, -126.5, 127.5,
	float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)),
	math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, 1e20, -1e20, 3e9, -3e9, 0x1p22, 0x1p23 + 1,
	math.Float32frombits(0x7fc00001), math.Float32frombits(0xffc00000), math.Float32frombits(0x7f800001),
}

func TestQuantizeActivations(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	quants := []Quant{{Scale: 1}, {Scale: 1, Zero: 64}, {Scale: 0.01, Zero: 17}, {Scale: 1.0 / 127},
		{Scale: 3, Zero: 127}, {Scale: 1, Zero: -5}, {Scale: 1, Zero: 300},
		{Scale: 0}, {Scale: float32(math.Inf(1))}, {Scale: float32(math.NaN())}, {Scale: -2, Zero: 10}, {Scale: 1e-40}}
	for _, q := range quants {
		for _, n := range []int{0, 1, 7, 8, 31, 32, 33, 64, 100, 19 * 9, 19*8 + 5, 1000} {
			xs := make([]float32, n)
			for i := range xs {
				switch rng.IntN(4) {
				case 0:
					xs[i] = specialFloats[rng.IntN(len(specialFloats))]
				case 1:
					xs[i] = float32(rng.IntN(600)-300) / 2 * q.Scale // ties
				default:
					xs[i] = float32(rng.NormFloat64()) * 60 * q.Scale
				}
			}
			checkQuantizers(t, xs, q)
		}
	}
}

// FuzzQuantize checks every quantizer against the spec on arbitrary bits,
// scales and zero points: no panic, codes in [0, 127], all paths equal.
func FuzzQuantize(f *testing.F) {
	f.Add([]byte{0, 0, 0x80, 0x7f, 0, 0, 0xc0, 0x7f, 0, 0, 0x80, 0xff}, float32(0.5), int32(3))
	f.Add(make([]byte, 4*19*5), float32(1), int32(64))
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8}, float32(0), int32(0))
	f.Fuzz(func(t *testing.T, data []byte, scale float32, zero int32) {
		xs := make([]float32, len(data)/4)
		for i := range xs {
			xs[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
		}
		checkQuantizers(t, xs, Quant{Scale: scale, Zero: zero})
	})
}

func TestAbsMaxMinMax(t *testing.T) {
	rng := rand.New(rand.NewPCG(33, 34))
	for it := 0; it < 300; it++ {
		n := rng.IntN(100)
		xs := make([]float32, n+rng.IntN(8))
		off := len(xs) - n
		xs = xs[off:] // vary the alignment
		var am, lo, hi float32
		for i := range xs {
			v := float32(rng.NormFloat64()) * 10
			if rng.IntN(5) == 0 {
				v = specialFloats[rng.IntN(len(specialFloats))]
			}
			xs[i] = v
			if !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) {
				am = max(am, float32(math.Abs(float64(v))))
				lo, hi = min(lo, v), max(hi, v)
			}
		}
		if g := AbsMax(xs); g != am {
			t.Fatalf("AbsMax(%v) = %v, want %v", xs, g, am)
		}
		if gl, gh := MinMax(xs); gl != lo || gh != hi {
			t.Fatalf("MinMax(%v) = %v, %v, want %v, %v", xs, gl, gh, lo, hi)
		}
	}
}

func TestQuantFor(t *testing.T) {
	cases := []struct{ lo, hi float32 }{
		{0, 0}, {0, 1}, {-1, 0}, {-1, 1}, {-0.1, 5}, {-5, 0.1}, {2, 3}, {-3, -2},
		{float32(math.NaN()), 1}, {-1, float32(math.Inf(1))}, {-1e-30, 1e30}, {-1e30, 1e30},
	}
	for _, c := range cases {
		q := QuantFor(c.lo, c.hi)
		if !(q.Scale > 0) || math.IsInf(float64(q.Scale), 0) || q.Zero < 0 || q.Zero > MaxCode {
			t.Errorf("QuantFor(%v, %v) = %+v: invalid", c.lo, c.hi, q)
			continue
		}
		// 0 is exact; finite ends of the range are represented within half
		// a step (no saturation).
		if specCode(0, q) != uint8(q.Zero) {
			t.Errorf("QuantFor(%v, %v) = %+v: 0 is not the zero point", c.lo, c.hi, q)
		}
		for _, v := range []float32{c.lo, c.hi} {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				continue
			}
			l, h := min(c.lo, 0), max(c.hi, 0)
			if v < l || v > h {
				continue
			}
			back := q.Scale * float32(int32(specCode(v, q))-q.Zero)
			if d := math.Abs(float64(back - v)); d > 0.5001*float64(q.Scale) {
				t.Errorf("QuantFor(%v, %v) = %+v: %v comes back as %v", c.lo, c.hi, q, v, back)
			}
		}
	}
	if q := QuantFor(0, 127); q.Zero != 0 || q.Scale != 1 {
		t.Errorf("QuantFor(0, 127) = %+v, want scale 1, zero 0", q)
	}
	if q := QuantForAbsMax(63); q.Scale != 1 || q.Zero != 64 {
		t.Errorf("QuantForAbsMax(63) = %+v, want scale 1, zero 64", q)
	}
}

func TestQuantizeWeights(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	w := []float32{
		1, -2, 0.5, nan,
		0, 0, 0, 0,
		inf, 1, -1, -inf,
	}
	q, s := QuantizeWeightsPerRow(w, 3, 4)
	wantQ := []int8{64, -127, 32, 0, 0, 0, 0, 0, 127, 127, -127, -127}
	wantS := []float32{2.0 / 127, 0, 1.0 / 127}
	for i := range wantQ {
		if q[i] != wantQ[i] {
			t.Errorf("per row: q[%d] = %d, want %d", i, q[i], wantQ[i])
		}
	}
	for i := range wantS {
		if s[i] != wantS[i] {
			t.Errorf("per row: scale[%d] = %v, want %v", i, s[i], wantS[i])
		}
	}
	// Per column is per row of the transpose.
	wt := make([]float32, 12)
	for i := 0; i < 3; i++ {
		for j := 0; j < 4; j++ {
			wt[j*3+i] = w[i*4+j]
		}
	}
	qc, sc := QuantizeWeightsPerCol(wt, 4, 3)
	for i := 0; i < 3; i++ {
		if sc[i] != s[i] {
			t.Errorf("per column: scale[%d] = %v, want %v", i, sc[i], s[i])
		}
		for j := 0; j < 4; j++ {
			if qc[j*3+i] != q[i*4+j] {
				t.Errorf("per column: q[%d][%d] = %d, want %d", j, i, qc[j*3+i], q[i*4+j])
			}
		}
	}
	// Random rows round-trip within half a step.
	rng := rand.New(rand.NewPCG(35, 36))
	w = randFloats(rng, 50*70)
	q, s = QuantizeWeightsPerRow(w, 50, 70)
	for i := 0; i < 50; i++ {
		for k := 0; k < 70; k++ {
			if d := math.Abs(float64(w[i*70+k] - s[i]*float32(q[i*70+k]))); d > 0.5001*float64(s[i]) {
				t.Fatalf("w[%d][%d] = %v quantized to %d x %v", i, k, w[i*70+k], q[i*70+k], s[i])
			}
		}
	}
}

// TestSignedZero checks the epilogue on -0: an underflowing scale makes
// negative sums -0, which the Relu clamp keeps (as Go's comparisons do) on
// every kernel.
func TestSignedZero(t *testing.T) {
	for _, kern := range allKernels() {
		for _, dense := range []bool{false, true} {
			m, n, k := 9, 20, 12
			wq := make([]int8, m*k)
			for i := range wq {
				wq[i] = int8(i%7) - 3
			}
			ws := make([]float32, max(m, n))
			for i := range ws {
				ws[i] = 1e-30
			}
			xr, xc := k, n
			if dense {
				xr, xc = m, k
			}
			x := make([]float32, xr*xc)
			for i := range x {
				x[i] = float32(i%5) - 2
			}
			c := make([]float32, m*n)
			for i := range x {
				x[i] *= 1e-30
			}
			args := Args{M: m, N: n, K: k, X: x, XQuant: Quant{Scale: 1e-30, Zero: 64}, C: c, Clamp: true, Hi: 1}
			if dense {
				wq2 := make([]int8, k*n)
				for i := range wq2 {
					wq2[i] = int8(i%7) - 3
				}
				args.PackedB = PackB(wq2, ws[:n], k, n)
			} else {
				args.PackedA = PackA(wq, ws[:m], m, k)
			}
			args.Scratch = make([]byte, scratchSize(kern, &args))
			gemm(kern, &args)
			negZero := 0
			for i, v := range c {
				if v != 0 {
					t.Fatalf("%s dense=%v: C[%d] = %v, want ±0", kern.name, dense, i, v)
				}
				if math.Signbit(float64(v)) {
					negZero++
				}
			}
			if negZero == 0 {
				t.Fatalf("%s dense=%v: no -0 results: the test does not test", kern.name, dense)
			}
		}
	}
}
