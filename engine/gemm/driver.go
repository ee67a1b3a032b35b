package gemm

import (
	"sync"
	"sync/atomic"
)

// gemmRange computes the block C[i0:i1, j0:j1] of the product described by p
// (already normalized, K > 0) with kernel k. i0 is a multiple of k.mr and j0
// of k.nr. scratch holds at least scratchPerTask elements.
//
// The loops follow the usual blocked scheme: C is cut into column blocks of
// k.nc; K into blocks of k.kc; for each (column block, K block) the B block
// (kc x nc, kept in L2/L3) is packed once and reused by every row block of
// k.mc rows, whose packed A block (mc x kc) stays in L2 while each B
// micro-panel (kc x nr) stays in L1 across the row micro-panels.
func gemmRange(k *kernel, p *Args, i0, i1, j0, j1 int, scratch []float32) {
	if isHalf(p) {
		gemmRange16(k, p, i0, i1, j0, j1, scratch)
		if p.Epilogue != nil {
			p.Epilogue.Finish(p.C[i0*p.LDC+j0:], p.LDC, i1-i0, j1-j0)
		}
		return
	}
	if p.BRows != nil {
		gemmRows(k, p, i0, i1, j0, j1)
		return
	}
	if i1-i0 == 1 && p.PackedA == nil && p.PackedB == nil && p.BSource == nil && !p.TransB && hasGemv4(k) {
		gemvRange(p, i0, j0, j1)
		if p.Epilogue != nil {
			p.Epilogue.Finish(p.C[i0*p.LDC+j0:], p.LDC, 1, j1-j0)
		}
		return
	}
	scratch = alignFloats(scratch)
	var aScratch, bScratch, edge, edge2 []float32
	kcMax := min(k.kc, p.K)
	// A row-major A is read in place by kernels that can.
	rawA := p.PackedA == nil && !p.TransA && k.rawA
	lda := 0
	if rawA {
		lda = p.LDA
	}
	if p.PackedA == nil && !rawA {
		n := roundUp(roundUp(min(k.mc, p.M), k.mr)*kcMax, 16)
		aScratch, scratch = scratch[:n], scratch[n:]
	}
	if p.PackedB == nil {
		n := roundUp(kcMax*min(k.nc, roundUp(p.N, k.nr)), 16)
		bScratch, scratch = scratch[:n], scratch[n:]
		edge, edge2 = scratch[:kcMax*k.nr], scratch[kcMax*k.nr:2*kcMax*k.nr]
	}
	// With few row micro-panels each element of B is used a few times, from
	// L1: read B in place rather than packing it (edge panels are still
	// packed). So too when K is small (a 1x1 convolution over few
	// channels): a panel of B in place is then a few KB, which stays in L1
	// across the row micro-panels, and packing it cost as much as a tenth
	// of the product.
	direct := p.PackedB == nil && p.BSource == nil && !p.TransB && (i1-i0 <= 4*k.mr || p.K <= 128 || p.K <= k.kc && (p.K*p.N <= directFloats || p.LDB%directAlias != 0))

	final := epilogueFlags(p)
	mPad := roundUp(p.M, k.mr)
	nPad := roundUp(p.N, k.nr)
	ncMax := k.nc
	if p.BSource != nil && p.K <= k.kc {
		// A B gathered from a source (im2col) in one K block: blocks of
		// at most sourceBlockFloats, packed and consumed while in L2.
		ncMax = max(k.nr, min(k.nc, sourceBlockFloats/kcMax/k.nr*k.nr))
	}
	for jc := j0; jc < j1; jc += ncMax {
		nc := min(ncMax, j1-jc)
		for pc := 0; pc < p.K; pc += k.kc {
			kc := min(k.kc, p.K-pc)
			var flags uint64
			if pc > 0 || p.Accumulate {
				flags |= flagAccumulate
			}
			if pc+kc == p.K {
				flags |= final
			}

			var bBlock []float32
			switch {
			case p.PackedB != nil:
				bBlock = p.PackedB.data[pc*nPad+jc*kc:]
			case p.BSource != nil:
				p.BSource.PackB(bScratch, pc, kc, jc, nc, k.nr)
				bBlock = bScratch
			case direct:
				bBlock = p.B[pc*p.LDB+jc:]
			default:
				packBBlock(k, bScratch, p, jc, nc, pc, kc)
				bBlock = bScratch
			}

			for ic := i0; ic < i1; ic += k.mc {
				mc := min(k.mc, i1-ic)
				var aBlock []float32
				aStride := kc * k.mr // elements between row micro-panels
				switch {
				case p.PackedA != nil:
					aBlock = p.PackedA.data[pc*mPad+ic*kc:]
				case rawA:
					aBlock = p.A[ic*lda+pc:]
					aStride = lda * k.mr
				default:
					packABlock(k, aScratch, p, ic, mc, pc, kc)
					aBlock = aScratch
				}

				for jr := 0; jr < nc; jr += k.nr {
					n := min(k.nr, nc-jr)
					var bPanel []float32
					ldb := k.nr
					if k.wide != nil && nc-jr >= 2*k.nr {
						// Two whole panels: one tile 2*nr wide.
						var b2 []float32
						if direct {
							bPanel, b2, ldb = bBlock[jr:], bBlock[jr+k.nr:], p.LDB
						} else {
							bPanel, b2 = bBlock[jr*kc:], bBlock[(jr+k.nr)*kc:]
						}
						for ir := 0; ir < mc; ir += k.mr {
							bias := tileBias(p, flags, ic+ir, jc+jr)
							k.wide(min(k.mr, mc-ir), kc, aBlock[ir/k.mr*aStride:], lda, bPanel, b2, ldb,
								p.C[(ic+ir)*p.LDC+jc+jr:], p.LDC, flags, bias, p.Lo, p.Hi)
						}
						jr += k.nr
						continue
					}
					if k.wideEdge != nil && n == k.nr && nc-jr > k.nr {
						// The last nr+1 to 2*nr-1 columns: one wide tile,
						// its second panel part padding.
						ne := nc - jr
						var b2 []float32
						switch {
						case !direct:
							bPanel, b2 = bBlock[jr*kc:], bBlock[(jr+k.nr)*kc:]
						case len(bBlock) >= jr+k.nr+(kc-1)*p.LDB+k.nr:
							// In place: the second panel's columns past
							// ne are read (within B) and dropped.
							bPanel, b2, ldb = bBlock[jr:], bBlock[jr+k.nr:], p.LDB
						default:
							packBPanel(k, edge, p, jc+jr, k.nr, pc, kc)
							packBPanel(k, edge2, p, jc+jr+k.nr, ne-k.nr, pc, kc)
							bPanel, b2 = edge, edge2
						}
						for ir := 0; ir < mc; ir += k.mr {
							bias := tileBias(p, flags, ic+ir, jc+jr)
							k.wideEdge(min(k.mr, mc-ir), ne, kc, aBlock[ir/k.mr*aStride:], lda, bPanel, b2, ldb,
								p.C[(ic+ir)*p.LDC+jc+jr:], p.LDC, flags, bias, p.Lo, p.Hi)
						}
						jr += k.nr
						continue
					}
					switch {
					case !direct:
						bPanel = bBlock[jr*kc:]
					case n == k.nr:
						bPanel = bBlock[jr:]
						ldb = p.LDB
					default:
						packBPanel(k, edge, p, jc+jr, n, pc, kc)
						bPanel = edge
					}
					for ir := 0; ir < mc; ir += k.mr {
						m := min(k.mr, mc-ir)
						bias := tileBias(p, flags, ic+ir, jc+jr)
						k.tile(m, n, kc, aBlock[ir/k.mr*aStride:], lda, bPanel, ldb,
							p.C[(ic+ir)*p.LDC+jc+jr:], p.LDC, flags, bias, p.Lo, p.Hi)
					}
				}
				if pc+kc == p.K && p.Epilogue != nil {
					// The block's rows are final and in cache.
					p.Epilogue.Finish(p.C[ic*p.LDC+jc:], p.LDC, mc, nc)
				}
			}
		}
	}
}

// gemmRows is gemmRange for a B given by row offsets (Args.BRows): no
// packing at all. For each K block and row block of A (packed, kept in L2),
// each 16-column tile of B is read through the table once per row panel,
// from L1 after the first.
func gemmRows(k *kernel, p *Args, i0, i1, j0, j1 int) {
	final := epilogueFlags(p)
	mPad := roundUp(p.M, k.mr)
	for pc := 0; pc < p.K; pc += k.kc {
		kc := min(k.kc, p.K-pc)
		var flags uint64
		if pc > 0 || p.Accumulate {
			flags |= flagAccumulate
		}
		if pc+kc == p.K {
			flags |= final
		}
		rows := p.BRows[pc : pc+kc]
		for ic := i0; ic < i1; ic += k.mc {
			mc := min(k.mc, i1-ic)
			aBlock := p.PackedA.data[pc*mPad+ic*kc:]
			for jr := j0; jr < j1; jr += k.nr {
				n := min(k.nr, j1-jr)
				if k.wideRows != nil && j1-jr >= 2*k.nr {
					n = 2 * k.nr
					for ir := 0; ir < mc; ir += k.mr {
						bias := tileBias(p, flags, ic+ir, jr)
						k.wideRows(min(k.mr, mc-ir), kc, aBlock[ir/k.mr*kc*k.mr:], p.B[jr:], rows, p.C[(ic+ir)*p.LDC+jr:], p.LDC, flags, bias, p.Lo, p.Hi)
					}
					if pc+kc == p.K && p.Epilogue != nil {
						p.Epilogue.Finish(p.C[ic*p.LDC+jr:], p.LDC, mc, n)
					}
					jr += k.nr
					continue
				}
				for ir := 0; ir < mc; ir += k.mr {
					m := min(k.mr, mc-ir)
					bias := tileBias(p, flags, ic+ir, jr)
					k.tileRows(m, n, kc, aBlock[ir/k.mr*kc*k.mr:], p.B[jr:], rows, p.C[(ic+ir)*p.LDC+jr:], p.LDC, flags, bias, p.Lo, p.Hi)
				}
				if pc+kc == p.K && p.Epilogue != nil {
					// The tile's rows of C, finished while in cache.
					p.Epilogue.Finish(p.C[ic*p.LDC+jr:], p.LDC, mc, n)
				}
			}
		}
	}
}

// job is one parallel call. Jobs are pooled so that steady-state parallel
// calls do not allocate; run is bound once per job.
//
// The product is cut into more chunks than tasks (chunksPerTask each, of
// whole micro-panels); each task claims chunks from next until none is
// left, using its own part of the scratch. A task whose thread is
// descheduled then delays the call by at most the chunk it holds, and a
// task that starts late finds the chunks already taken.
type job struct {
	k       *kernel
	p       Args
	splitN  bool
	tasks   int
	panels  int
	chunks  int
	per     int
	scratch []float32
	next    atomic.Int64
	run     func(task int)
}

// chunksPerTask is how many chunks a parallel call is cut into per task
// (fewer when the product has fewer micro-panels).
const chunksPerTask = 4

var jobPool = sync.Pool{New: func() any {
	j := new(job)
	j.run = j.do
	return j
}}

// runParallel splits the product into chunks of whole micro-panels along N
// (or along M when that has more panels) and runs them as tasks claiming
// chunks with p.Parallel.
func runParallel(k *kernel, p *Args, tasks, per int, scratch []float32) {
	j := jobPool.Get().(*job)
	j.k, j.p, j.tasks, j.per, j.scratch = k, *p, tasks, per, scratch
	mp := ceilDiv(p.M, k.mr)
	np := ceilDiv(p.N, k.nr)
	j.splitN = np >= mp
	j.panels = mp
	if j.splitN {
		j.panels = np
	}
	// A chunk of rows packs all of B for itself (unless B is prepacked):
	// chunks of fewer rows than a row block (k.mc) would pack B more times
	// than the product is worth. ResNet-18's later convolutions (M 256-512,
	// N 49-196, im2col B) split rows.
	minPanels := 1
	if !j.splitN && p.PackedB == nil {
		minPanels = ceilDiv(k.mc, k.mr)
	}
	j.chunks = min(j.panels, max(tasks, min(tasks*chunksPerTask, j.panels/minPanels)))
	j.next.Store(0)
	p.Parallel(tasks, j.run)
	run := j.run
	j.k, j.p, j.scratch = nil, Args{}, nil
	j.run = run
	jobPool.Put(j)
}

// do runs task t of the job: chunks until none is left.
func (j *job) do(t int) {
	scratch := j.scratch[t*j.per : (t+1)*j.per]
	for {
		c := int(j.next.Add(1) - 1)
		if c >= j.chunks {
			return
		}
		lo := j.panels * c / j.chunks
		hi := j.panels * (c + 1) / j.chunks
		if lo == hi {
			continue
		}
		if j.splitN {
			gemmRange(j.k, &j.p, 0, j.p.M, lo*j.k.nr, min(hi*j.k.nr, j.p.N), scratch)
		} else {
			gemmRange(j.k, &j.p, lo*j.k.mr, min(hi*j.k.mr, j.p.M), 0, j.p.N, scratch)
		}
	}
}

// tileBias is the bias a tile at row, col of C adds: p.Bias from the
// tile's first row (row bias) or column (column bias), or none.
func tileBias(p *Args, flags uint64, row, col int) []float32 {
	switch {
	case flags&flagRowBias != 0:
		return p.Bias[row:]
	case flags&flagColBias != 0:
		return p.Bias[col:]
	}
	return nil
}

// directFloats and directAlias: with K within one block, B is read in
// place, not packed, when all of it fits in L1 (directFloats, 32 KB), or
// when its rows are not a multiple of directAlias floats (1 KB) apart: a
// panel's rows then fall in different L1 sets and stay there across the
// row panels, and the packing pass is saved. BenchmarkDirectB, CPU time,
// -count 3, load ~6, GFLOP/s packed -> in place: kws-ds's pointwise
// products 160x500x160 169-170 -> 175-191, 160x30x160 152-156 ->
// 176-178, 160x120x160 level; 128x196x256 178-186 -> 189-194,
// 32x784x192 206-211 -> 211-212, 24x3136x144 and 256x49x256 level;
// 64x1024x256 (rows 4 KB apart) 178-181 -> 173-177, so still packed.
var directFloats, directAlias = 8192, 256

// sourceBlockFloats bounds a B block packed from a BSource when K is one
// block (128 KB): kws.onnx's first convolution (K 160, N 2607) gathered
// a 1.7 MB block, past L2, then read it back panel by panel; in blocks
// of 192 columns its node took 310-314 us of CPU, not 332-337 (load ~6;
// blocks of 512 KB 316-330, 32 KB 332, 16 KB 348-358). With several K
// blocks (its second convolution, K 2560) smaller blocks were slower.
const sourceBlockFloats = 1 << 15

// gemvBlock is the number of columns of y kept in L1 by gemvRange.
const gemvBlock = 2048

// gemvRange computes C[i, j0:j1] for a single row i with a row-major B, by
// streaming the rows of B four at a time (see gemv4), which reads B
// sequentially instead of in column panels.
func gemvRange(p *Args, i, j0, j1 int) {
	y := p.C[i*p.LDC+j0 : i*p.LDC+j1]
	x := func(k int) float32 {
		if p.TransA {
			return p.A[k*p.LDA+i]
		}
		return p.A[i*p.LDA+k]
	}
	if !p.Accumulate {
		clear(y)
	}
	ldb := p.LDB
	n8 := len(y) &^ 7
	for jb := 0; jb < n8; jb += gemvBlock {
		w := min(gemvBlock, n8-jb)
		yb := y[jb : jb+w]
		k := 0
		for ; k+4 <= p.K; k += 4 {
			b := p.B[k*ldb+j0+jb : (k+3)*ldb+j0+jb+w]
			callGemv4(w, b, ldb, yb, x(k), x(k+1), x(k+2), x(k+3))
		}
		for ; k < p.K; k++ {
			xk := x(k)
			b := p.B[k*ldb+j0+jb : k*ldb+j0+jb+w]
			for j, v := range b {
				yb[j] += xk * v
			}
		}
	}
	for j := n8; j < len(y); j++ {
		var s float32
		for k := 0; k < p.K; k++ {
			s += x(k) * p.B[k*ldb+j0+j]
		}
		y[j] += s
	}
	if flags := epilogueFlags(p); flags != 0 {
		for j, v := range y {
			y[j] = finish(v, i, j0+j, flags, p.Bias, p.Lo, p.Hi)
		}
	}
}
