package qgemm

import (
	"fmt"
	"math"
)

// MaxCode is the largest activation code. Codes lie in [0, MaxCode]: seven
// bits, which is what keeps the AVX2 kernel exact (see the package
// documentation).
const MaxCode = 127

// Quant is the affine quantization of activations: a float32 x is stored as
// the code
//
//	q = Zero + roundEven(clamp(x * (1/Scale), -Zero, MaxCode-Zero))
//
// in [0, MaxCode], which stands for the value Scale*(q-Zero). 1/Scale is
// computed in float32, the product x*(1/Scale) is rounded to float32 and
// ties round to even. NaN becomes Zero (the value 0) and ±Inf saturates to
// MaxCode or 0. A Zero outside [0, MaxCode] is clamped into it.
//
// Non-negative tensors (outputs of Relu, Sigmoid, ...) use Zero = 0 and
// Scale = max/127, the same grid as a symmetric int8 quantization in
// [-127, 127] with that maximum; tensors of both signs use a zero point
// inside the range (QuantFor), one bit coarser than symmetric int8 when the
// range is symmetric.
type Quant struct {
	Scale float32
	Zero  int32
}

// QuantFor returns the quantization whose grid covers [lo, hi] (widened to
// include 0, which it represents exactly) with the finest step: the zero
// point is placed so that neither end saturates. Non-finite bounds are
// treated as 0; an empty range (lo = hi = 0) gives Scale 1, Zero 0.
func QuantFor(lo, hi float32) Quant {
	l, h := float64(lo), float64(hi)
	if math.IsNaN(l) || math.IsInf(l, 0) || l > 0 {
		l = 0
	}
	if math.IsNaN(h) || math.IsInf(h, 0) || h < 0 {
		h = 0
	}
	switch {
	case l == 0 && h == 0:
		return Quant{Scale: 1}
	case l == 0:
		return Quant{Scale: float32(h / MaxCode)}
	case h == 0:
		return Quant{Scale: float32(-l / MaxCode), Zero: MaxCode}
	}
	z := math.RoundToEven(-l / ((h - l) / MaxCode))
	z = min(max(z, 1), MaxCode-1)
	s := max(-l/z, h/(MaxCode-z))
	return Quant{Scale: float32(s), Zero: int32(z)}
}

// QuantForAbsMax returns QuantFor(-absMax, absMax): the quantization of a
// tensor of both signs with largest magnitude absMax.
func QuantForAbsMax(absMax float32) Quant { return QuantFor(-absMax, absMax) }

// params returns the constants of the quantizer: 1/Scale, the clamp bounds
// relative to the zero point and the zero point.
func (q Quant) params() (inv, lo, hi float32, zp int32) {
	zp = min(max(q.Zero, 0), MaxCode)
	return 1 / q.Scale, float32(-zp), float32(MaxCode - zp), zp
}

// AbsMax returns the largest |x| over the finite elements of src (NaN and
// ±Inf are ignored), or 0 if there are none: the dynamic scale of a tensor
// is QuantForAbsMax(AbsMax(x)).
func AbsMax(src []float32) float32 {
	n := len(src) &^ 7
	m := float32(0)
	if n > 0 {
		m = absMaxBulk(src[:n])
	}
	return max(m, absMaxGo(src[n:]))
}

// MinMax returns the smallest and the largest finite element of src (NaN
// and ±Inf are ignored), widened to include 0: lo <= 0 <= hi. The dynamic
// quantization of a tensor is QuantFor(MinMax(x)).
func MinMax(src []float32) (lo, hi float32) {
	n := len(src) &^ 7
	if n > 0 {
		lo, hi = minMaxBulk(src[:n])
	}
	l, h := minMaxGo(src[n:])
	return min(lo, l), max(hi, h)
}

// absMaxGo is the portable AbsMax.
func absMaxGo(src []float32) float32 {
	m := float32(0)
	for _, x := range src {
		if a := float32(math.Abs(float64(x))); a <= math.MaxFloat32 && a > m {
			m = a
		}
	}
	return m
}

// minMaxGo is the portable MinMax.
func minMaxGo(src []float32) (lo, hi float32) {
	for _, x := range src {
		if math.Abs(float64(x)) <= math.MaxFloat32 {
			lo, hi = min(lo, x), max(hi, x)
		}
	}
	return lo, hi
}

// QuantizeActivations stores the codes of src under q into dst[:len(src)]
// (see Quant). It never panics on any value of src or q; it panics only if
// dst is shorter than src.
func QuantizeActivations(dst []uint8, src []float32, q Quant) {
	if len(dst) < len(src) {
		panic(fmt.Sprintf("qgemm: QuantizeActivations into %d bytes from %d values", len(dst), len(src)))
	}
	inv, lo, hi, zp := q.params()
	quantizeRow(dst[:len(src)], src, inv, lo, hi, zp)
}

// quantizeRowGo is the portable quantizer: dst[i] is the code of src[i].
func quantizeRowGo(dst []uint8, src []float32, inv, lo, hi float32, zp int32) {
	dst = dst[:len(src)]
	for i, x := range src {
		dst[i] = quantOne(x, inv, lo, hi, zp)
	}
}

// magic is 1.5*2^23: for |t| < 2^22, (t + magic) - magic rounds t to an
// integer, ties to even.
const magic = 0x1.8p23

// quantOne returns the code of x; inv, lo, hi and zp come from
// Quant.params.
func quantOne(x, inv, lo, hi float32, zp int32) uint8 {
	t := float32(x * inv)
	if t != t {
		return uint8(zp)
	}
	t = min(max(t, lo), hi)
	r := float32(t+magic) - magic
	return uint8(int32(r) + zp)
}

// QuantizeWeightsPerRow quantizes the rows x cols row-major matrix w
// symmetrically, one scale per row (per output channel of a convolution's
// W[Cout x Cin*kh*kw]): scales[i] = max_k |w[i][k]| / 127 over the finite
// elements, q[i][k] = roundEven(w[i][k] / scales[i]) clamped to
// [-127, 127] (computed in float64). NaN becomes 0 and ±Inf ±127; a row
// without a finite non-zero element has scale 0 and codes 0.
func QuantizeWeightsPerRow(w []float32, rows, cols int) (q []int8, scales []float32) {
	checkDense("w", w, rows, cols)
	q = make([]int8, rows*cols)
	scales = make([]float32, rows)
	for i := 0; i < rows; i++ {
		scales[i] = quantizeWeights(q[i*cols:], 1, w[i*cols:], 1, cols)
	}
	return q, scales
}

// QuantizeWeightsPerCol quantizes the rows x cols row-major matrix w
// symmetrically, one scale per column (per output of a dense layer's
// W[inputs x outputs]), as QuantizeWeightsPerRow does per row.
func QuantizeWeightsPerCol(w []float32, rows, cols int) (q []int8, scales []float32) {
	checkDense("w", w, rows, cols)
	q = make([]int8, rows*cols)
	scales = make([]float32, cols)
	for j := 0; j < cols && rows > 0; j++ {
		scales[j] = quantizeWeights(q[j:], cols, w[j:], cols, rows)
	}
	return q, scales
}

// quantizeWeights quantizes the n elements src[0], src[stride], ... into
// dst at the same offsets and returns their scale.
func quantizeWeights(dst []int8, dstride int, src []float32, sstride, n int) float32 {
	var m float64
	for k := 0; k < n; k++ {
		if a := math.Abs(float64(src[k*sstride])); a <= math.MaxFloat32 {
			m = max(m, a)
		}
	}
	scale := float32(m / 127)
	for k := 0; k < n; k++ {
		x := float64(src[k*sstride])
		var v float64
		switch {
		case math.IsNaN(x) || scale == 0:
			v = 0
		default:
			v = min(max(math.RoundToEven(x/float64(scale)), -127), 127)
		}
		dst[k*dstride] = int8(v)
	}
	return scale
}

// checkDense panics unless s holds a rows x cols matrix.
func checkDense(name string, s []float32, rows, cols int) {
	if rows < 0 || cols < 0 || len(s) < rows*cols {
		panic(fmt.Sprintf("qgemm: %s has %d elements, needs %dx%d", name, len(s), rows, cols))
	}
}
