package gemm

// isHalf reports whether a call involves half-precision operands; such
// calls are run by gemmRange16.
func isHalf(p *Args) bool { return p.Half || p.PackedA16 != nil || p.PackedB16 != nil }

// halfMathMinRows is the least M for which the half-precision-arithmetic
// kernel is used: it computes 8 rows at a time, so a product of a few rows
// (a batch-1 dense layer) is cheaper with float32 arithmetic on widened
// halves.
const halfMathMinRows = 4

// halfChunk is the number of consecutive k steps whose products the
// half-precision-arithmetic kernel sums in half precision before adding
// them to its float32 accumulators (kernel8x8hh).
const halfChunk = 32

// aForm is where a half-precision call reads its A blocks from.
type aForm uint8

const (
	aPacked32 aForm = iota // PackedA, in place
	aPacked16              // PackedA16, in place (half-precision arithmetic)
	aWiden                 // PackedA16, widened block by block into scratch
	aRaw                   // a row-major A, in place
	aRawHalf               // a row-major A, rows copied and rounded (Half)
	aPack                  // packed per call in float32, rounded to half if Half
	aPackHalf              // packed per call as halves (half-precision arithmetic)
)

// bForm is where a half-precision call reads its B blocks from.
type bForm uint8

const (
	bPacked32 bForm = iota // PackedB, in place
	bPacked16              // PackedB16, in place
	bPack                  // packed per call in float32 (or read in place)
	bPackHalf              // packed per call as halves (Half)
)

// halfPlan is how a call with half-precision operands is run.
type halfPlan struct {
	a      aForm
	b      bForm
	math16 bool // half-precision arithmetic (tileHH)
	widenB bool // half B panels are widened in Go before the float32 kernel
}

// planHalf decides how kernel k runs the call p (which isHalf). It depends
// only on the fields that ScratchSize may look at.
func planHalf(k *kernel, p *Args) halfPlan {
	var h halfPlan
	a16 := p.PackedA16 != nil || p.PackedA == nil && p.Half
	b16 := p.PackedB16 != nil || p.PackedB == nil && p.Half
	h.math16 = k.halfMath && a16 && b16 && p.M >= halfMathMinRows
	switch {
	case p.PackedA != nil:
		h.a = aPacked32
	case p.PackedA16 != nil && h.math16:
		h.a = aPacked16
	case p.PackedA16 != nil:
		h.a = aWiden
	case h.math16:
		h.a = aPackHalf
	case !p.TransA && k.rawA && !p.Half:
		h.a = aRaw
	case !p.TransA && k.rawA:
		h.a = aRawHalf
	default:
		h.a = aPack
	}
	switch {
	case p.PackedB != nil:
		h.b = bPacked32
	case p.PackedB16 != nil:
		h.b = bPacked16
	case p.Half:
		h.b = bPackHalf
	default:
		h.b = bPack
	}
	h.widenB = (h.b == bPacked16 || h.b == bPackHalf) && !h.math16 && !k.halfB
	return h
}

// scratchPerTask16 is scratchPerTask for a half-precision call: room to
// align, an L1 staging panel (kc*nr floats: BSource panels before rounding,
// edge panels, widened B panels), then the A and B blocks its plan packs
// per call.
func scratchPerTask16(k *kernel, p *Args) int {
	h := planHalf(k, p)
	kc := min(k.kc, p.K)
	aBlock := roundUp(min(k.mc, p.M), k.mr) * kc
	bBlock := kc * min(k.nc, roundUp(p.N, k.nr))
	n := 16 + roundUp(kc*k.nr, 16)
	switch h.a {
	case aWiden, aRawHalf, aPack:
		n += roundUp(aBlock, 16)
	case aPackHalf:
		n += roundUp(aBlock, 16) + roundUp((aBlock+1)/2, 16)
	}
	switch h.b {
	case bPack:
		n += roundUp(bBlock, 16)
	case bPackHalf:
		n += roundUp((bBlock+1)/2, 16)
	}
	return n
}

// gemmRange16 is gemmRange for calls with half-precision operands: the
// same blocking, with blocks of A and B taken from wherever planHalf says
// and the tile computed by tile, tileH (half-precision B) or tileHH (both
// half precision, half-precision arithmetic).
func gemmRange16(k *kernel, p *Args, i0, i1, j0, j1 int, scratch []float32) {
	h := planHalf(k, p)
	scratch = alignFloats(scratch)
	kcMax := min(k.kc, p.K)
	aSize := roundUp(min(k.mc, p.M), k.mr) * kcMax
	bSize := kcMax * min(k.nc, roundUp(p.N, k.nr))

	stage := scratch[:kcMax*k.nr]
	scratch = scratch[roundUp(kcMax*k.nr, 16):]
	var aBuf []float32
	var aBuf16 []uint16
	if h.a == aWiden || h.a == aRawHalf || h.a == aPack || h.a == aPackHalf {
		aBuf = scratch[:aSize]
		scratch = scratch[roundUp(aSize, 16):]
	}
	if h.a == aPackHalf {
		aBuf16 = halvesOf(scratch, aSize)
		scratch = scratch[roundUp((aSize+1)/2, 16):]
	}
	var bBuf []float32
	var bBuf16 []uint16
	switch h.b {
	case bPack:
		bBuf = scratch[:bSize]
	case bPackHalf:
		bBuf16 = halvesOf(scratch, bSize)
	}
	bHalf := h.b == bPacked16 || h.b == bPackHalf
	lda := 0
	if h.a == aRaw {
		lda = p.LDA
	}
	// As in gemmRange: with few row micro-panels a row-major B is read in
	// place rather than packed.
	direct := h.b == bPack && p.BSource == nil && !p.TransB && i1-i0 <= 4*k.mr

	final := epilogueFlags(p)
	mPad := roundUp(p.M, k.mr)
	nPad := roundUp(p.N, k.nr)
	for jc := j0; jc < j1; jc += k.nc {
		nc := min(k.nc, j1-jc)
		for pc := 0; pc < p.K; pc += k.kc {
			kc := min(k.kc, p.K-pc)
			var flags uint64
			if pc > 0 || p.Accumulate {
				flags |= flagAccumulate
			}
			if pc+kc == p.K {
				flags |= final
			}

			var b32 []float32
			var b16 []uint16
			switch h.b {
			case bPacked32:
				b32 = p.PackedB.data[pc*nPad+jc*kc:]
			case bPacked16:
				b16 = p.PackedB16.data[pc*nPad+jc*kc:]
			case bPackHalf:
				packBBlock16(k, bBuf16, p, jc, nc, pc, kc, stage)
				b16 = bBuf16
			default:
				switch {
				case p.BSource != nil:
					p.BSource.PackB(bBuf, pc, kc, jc, nc, k.nr)
					b32 = bBuf
				case direct:
					b32 = p.B[pc*p.LDB+jc:]
				default:
					packBBlock(k, bBuf, p, jc, nc, pc, kc)
					b32 = bBuf
				}
			}

			for ic := i0; ic < i1; ic += k.mc {
				mc := min(k.mc, i1-ic)
				mcPad := roundUp(mc, k.mr)
				var a32 []float32
				var a16 []uint16
				aStride := kc * k.mr // elements between row micro-panels
				switch h.a {
				case aPacked32:
					a32 = p.PackedA.data[pc*mPad+ic*kc:]
				case aPacked16:
					a16 = p.PackedA16.data[pc*mPad+ic*kc:]
				case aWiden:
					off := pc*mPad + ic*kc
					fromHalf(aBuf[:mcPad*kc], p.PackedA16.data[off:off+mcPad*kc])
					a32 = aBuf
				case aRaw:
					a32 = p.A[ic*lda+pc:]
					aStride = lda * k.mr
				case aRawHalf:
					// The rows of the block, rounded, read in place by
					// the kernel with leading dimension kc: cheaper than
					// packing for the few rows of a dense layer.
					for i := 0; i < mc; i++ {
						row := p.A[(ic+i)*p.LDA+pc:]
						roundToHalfInto(aBuf[i*kc:i*kc+kc], row[:kc])
					}
					a32 = aBuf
					lda = kc
					aStride = kc * k.mr
				case aPack:
					packABlock(k, aBuf, p, ic, mc, pc, kc)
					if p.Half {
						roundToHalf(aBuf[:mcPad*kc])
					}
					a32 = aBuf
				case aPackHalf:
					packABlock(k, aBuf, p, ic, mc, pc, kc)
					toHalf(aBuf16[:mcPad*kc], aBuf[:mcPad*kc])
					a16 = aBuf16
				}

				for jr := 0; jr < nc; jr += k.nr {
					n := min(k.nr, nc-jr)
					var bp32 []float32
					var bp16 []uint16
					ldb := k.nr
					switch {
					case bHalf && (h.widenB || !h.math16 && mc > 2*k.mr):
						// Widened once into L1 for all the row panels,
						// rather than by the kernel for each.
						fromHalf(stage[:kc*k.nr], b16[jr*kc:jr*kc+kc*k.nr])
						bp32 = stage
					case bHalf:
						bp16 = b16[jr*kc:]
					case !direct:
						bp32 = b32[jr*kc:]
					case n == k.nr:
						bp32 = b32[jr:]
						ldb = p.LDB
					default:
						packBPanel(k, stage, p, jc+jr, n, pc, kc)
						bp32 = stage
					}
					for ir := 0; ir < mc; ir += k.mr {
						m := min(k.mr, mc-ir)
						var bias []float32
						switch {
						case flags&flagRowBias != 0:
							bias = p.Bias[ic+ir:]
						case flags&flagColBias != 0:
							bias = p.Bias[jc+jr:]
						}
						c := p.C[(ic+ir)*p.LDC+jc+jr:]
						switch {
						case h.math16:
							k.tileHH(m, n, kc, a16[ir/k.mr*aStride:], bp16, c, p.LDC, flags, bias, p.Lo, p.Hi)
						case bp16 != nil:
							k.tileH(m, n, kc, a32[ir/k.mr*aStride:], lda, bp16, ldb, c, p.LDC, flags, bias, p.Lo, p.Hi)
						default:
							k.tile(m, n, kc, a32[ir/k.mr*aStride:], lda, bp32, ldb, c, p.LDC, flags, bias, p.Lo, p.Hi)
						}
					}
				}
			}
		}
	}
}

// HalfSupport tells what half-precision operands (PackedA16, PackedB16,
// Args.Half) do on this machine.
type HalfSupport struct {
	// Mode names the way halves are consumed (see the package
	// documentation):
	//   "f16c"       amd64: B widened with VCVTPH2PS in the micro-kernel
	//                (up to 12 rows) or once per panel, A once per block;
	//                float32 arithmetic
	//   "neon-fp16"  arm64 with FP16 arithmetic: FMLA .8H when both
	//                operands are halves and M >= 4, else as "neon-fcvtl"
	//   "neon-fcvtl" arm64: B widened with FCVTL in the micro-kernel (up
	//                to 16 rows) or once per panel, A once per block;
	//                float32 arithmetic
	//   "go"         widened to float32 in Go before the float32 kernel
	Mode string
	// Arithmetic reports that products and partial sums of up to
	// HalfChunk k steps are computed in half precision (unit roundoff
	// 2^-11) when both operands are halves and M >= 4; otherwise all
	// arithmetic is float32 on the rounded operands.
	Arithmetic bool
	// NativeLoads reports that the kernels read half-precision panels
	// directly, so that halves save memory traffic; without it they only
	// save memory and cost an extra conversion pass (slower than float32).
	NativeLoads bool
	// HalfChunk is the number of consecutive k steps summed in half
	// precision when Arithmetic is set.
	HalfChunk int
}

// HalfInfo reports what half-precision operands do with the active kernel.
func HalfInfo() HalfSupport { return halfSupport(active) }

func halfSupport(k *kernel) HalfSupport {
	s := HalfSupport{Mode: "go"}
	switch {
	case k.halfMath:
		s = HalfSupport{Mode: "neon-fp16", Arithmetic: true, NativeLoads: true, HalfChunk: halfChunk}
	case k.halfB && k.id == kernelNEON:
		s = HalfSupport{Mode: "neon-fcvtl", NativeLoads: true}
	case k.halfB:
		s = HalfSupport{Mode: "f16c", NativeLoads: true}
	}
	return s
}
