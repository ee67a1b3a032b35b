package engine

import (
	"math"

	"github.com/kagen-ai/kagen/engine/qgemm"
)

// Exact integer products on qgemm.
//
// ONNX's integer ops (MatMulInteger, ConvInteger, QLinearMatMul,
// QLinearConv) want the exact int32 sums
//
//	y = sum_k (a[k] - za) * (w[k] - zw)
//
// of full-range 8-bit operands (uint8 or int8, zero points anywhere in the
// type's range), so every factor lies in [-255, 255]. qgemm's kernels are
// exact for weight codes in [-127, 127] and activation codes in [0, 127]
// only (its AVX2 kernel sums pairs of u8 x s8 products in int16 with
// saturation; see its package documentation). The operands are therefore
// rewritten, exactly:
//
//   - Constant weights are packed once per output channel as w' = w - off
//     with off chosen per channel so that w' fits in [-127, 127]: the
//     channel's zero point when its values lie within 127 of it (the usual
//     case: symmetric int8 weights, or uint8 weights around their zero
//     point), else the bottom of its range plus 127. Only a channel whose
//     values span all 256 codes does not fit; it is split into two packed
//     channels, w' = min(w', 127) + rest with rest in {0, 1}, whose sums are
//     added.
//   - Activations are shifted to u = a + 128 for int8 (u = a for uint8), in
//     [0, 255], and split into their low seven bits and their top bit:
//     u = lo + 128*hi, lo in [0, 127], hi in {0, 1}. Two products, one when
//     no element of the call has its top bit set (hi all zero).
//
// With alpha = za + shift (shift 128 for int8 activations) and
// beta = zw - off per channel, the result is recombined in int32:
//
//	y = G - beta*sum_k u - alpha*sum_k w' + K*alpha*beta,  G = G_lo + 128*G_hi
//
// This is an identity over the integers, so it holds modulo 2^32 as well:
// every term wraps around as an int32 accumulator does, and y is bit-exact
// with the naive int32 sum for any K (the reference implementations compute
// the sums in int64 and wrap once).

// intWeights are constant 8-bit weights packed for exact products: the
// right operand of a dense product (channels are columns of C) or the left
// operand of a convolution (channels are rows of C).
type intWeights struct {
	ch, k int
	conv  bool
	pa    *qgemm.PackedA
	pb    *qgemm.PackedB
	nch   int     // packed channels: ch, then one per split channel
	off   []int32 // per channel: the offset removed from its values
	sum   []int32 // per channel: sum_k (w - off), wrapped to int32
	ext   []int32 // per channel: the packed channel of its second part, or -1
}

// packIntWeights packs ch channels of k values each, value (c, kk) at
// vals[c*cs+kk*ks]. zp, if not nil, holds the constant zero point of each
// channel (one element: all channels).
func packIntWeights(vals []int64, ch, k, cs, ks int, zp []int64, conv bool) *intWeights {
	w := &intWeights{ch: ch, k: k, conv: conv, off: make([]int32, ch), sum: make([]int32, ch), ext: make([]int32, ch)}
	split := 0
	for c := 0; c < ch; c++ {
		w.ext[c] = -1
		lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
		for kk := 0; kk < k; kk++ {
			v := vals[c*cs+kk*ks]
			lo, hi = min(lo, v), max(hi, v)
		}
		var z int64
		haveZ := zp != nil
		if haveZ {
			z = zp[min(c, len(zp)-1)]
		}
		switch {
		case k == 0:
			w.off[c] = int32(z)
		case haveZ && hi-z <= 127 && lo-z >= -127:
			w.off[c] = int32(z)
		default:
			w.off[c] = int32(lo + 127)
			if hi-lo > 254 {
				w.ext[c] = int32(ch + split)
				split++
			}
		}
	}
	w.nch = ch + split
	codes := make([]int8, w.nch*k)
	// at returns the index of packed channel c, step kk in codes.
	at := func(c, kk int) int {
		if conv {
			return c*k + kk
		}
		return kk*w.nch + c
	}
	for c := 0; c < ch; c++ {
		var s int64
		for kk := 0; kk < k; kk++ {
			d := vals[c*cs+kk*ks] - int64(w.off[c]) // in [-127, 128]
			s += d
			first := min(d, 127)
			codes[at(c, kk)] = int8(first)
			if e := w.ext[c]; e >= 0 {
				codes[at(int(e), kk)] = int8(d - first)
			}
		}
		w.sum[c] = int32(s)
	}
	ones := make([]float32, w.nch)
	if conv {
		w.pa = qgemm.PackA(codes, ones, w.nch, k)
	} else {
		w.pb = qgemm.PackB(codes, ones, k, w.nch)
	}
	return w
}

// beta stores zw - off per channel into dst (zw: one element, or one per
// channel; nil means 0) and reports whether any is non-zero.
func (w *intWeights) beta(dst []int32, zw []int64) bool {
	any := false
	for c := range dst[:w.ch] {
		var z int64
		if zw != nil {
			z = zw[min(c, len(zw)-1)]
		}
		dst[c] = int32(z) - w.off[c]
		any = any || dst[c] != 0
	}
	return any
}

// intCodes splits the 8-bit values src (plus shift, so that they lie in
// [0, 255]) into their low seven bits (lo) and top bits (hi), and returns
// the sum of the shifted values and whether any top bit is set.
func intCodes(lo, hi []uint8, src []int64, shift int64) (sum int32, top bool) {
	lo, hi = lo[:len(src)], hi[:len(src)]
	var s int64
	var t uint8
	for i, v := range src {
		u := uint8(v + shift)
		s += int64(u)
		lo[i] = u & 127
		h := u >> 7
		hi[i] = h
		t |= h
	}
	return int32(s), t != 0
}

// intGemm runs the integer product of codes against w into raw (one call
// of qgemm; dense: codes M x K, raw M x nch; conv: codes K x N, raw nch x
// N), with the session's threads.
func intGemm(x *Exec, w *intWeights, m, n int, codes []uint8, raw []int32, scratch []byte) {
	args := qgemm.Args{K: w.k, XCodes: codes, CInt: raw, Scratch: scratch}
	if w.conv {
		args.M, args.N, args.PackedA = w.nch, n, w.pa
	} else {
		args.M, args.N, args.PackedB = m, w.nch, w.pb
	}
	if x.par != nil {
		args.Parallel, args.Tasks = qgemm.Parallel(x.par), x.threads
	}
	qgemm.GemmInt32(&args)
}

// intGemmScratch returns the qgemm scratch bytes of intGemm.
func intGemmScratch(x *Exec, w *intWeights, m, n int) int {
	args := qgemm.Args{K: w.k}
	if w.conv {
		args.M, args.N, args.PackedA = w.nch, n, w.pa
	} else {
		args.M, args.N, args.PackedB = m, w.nch, w.pb
	}
	if x.par != nil {
		args.Parallel, args.Tasks = qgemm.Parallel(x.par), x.threads
	}
	return qgemm.ScratchSize(&args)
}

// intSum returns the product sum G of one channel of a split pair of raw
// results: r1 and r2 (the top-bit product, nil when there is none) at the
// channel's index i and, if the channel was split, at e.
func intSum(r1, r2 []int32, i, e int) int32 {
	g := r1[i]
	if r2 != nil {
		g += r2[i] << 7
	}
	if e >= 0 {
		g += r1[e]
		if r2 != nil {
			g += r2[e] << 7
		}
	}
	return g
}
