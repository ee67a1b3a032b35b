package gemm

// kernelID selects a micro-kernel implementation.
type kernelID uint8

const (
	kernelGo     kernelID = iota // portable Go, 4x4
	kernelAVX2                   // amd64 AVX2+FMA assembly, 6x16
	kernelNEON                   // arm64 NEON assembly, 8x8
	kernelAVX512                 // amd64 AVX-512 assembly, 12x16
)

// kernel is a micro-kernel with its tile shape and cache blocking. The
// packed operand layouts depend on mr, nr and kc.
type kernel struct {
	name string
	id   kernelID
	mr   int  // rows of a tile (A micro-panel height)
	nr   int  // columns of a tile (B micro-panel width)
	mc   int  // rows of a packed A block (multiple of mr)
	kc   int  // k steps of a packed block
	nc   int  // columns of a packed B block (multiple of nr)
	rawA bool // can read a row-major A in place (lda > 0 in tile)

	rows     bool // tileRows reads B through a row table (Args.BRows)
	halfB    bool // tileH reads half-precision B panels (F16C, NEON FCVTL)
	halfMath bool // tileHH computes in half precision (arm64 FP16)

	// wide, when set, computes an m x 2*nr tile (m <= mr) from two B
	// micro-panels of nr columns, the first's row kk at b[kk*ldb:] and
	// the second's at b2[kk*ldb:], with tile's A forms and epilogue (a
	// column bias has 2*nr values). wideRows is tileRows for 2*nr
	// columns. Both are nil for kernels without such tiles.
	wide     func(m, kc int, a []float32, lda int, b, b2 []float32, ldb int, c []float32, ldc int, flags uint64, bias []float32, lo, hi float32)
	wideRows func(m, kc int, a, b []float32, rows []int32, c []float32, ldc int, flags uint64, bias []float32, lo, hi float32)
	// wideEdge is wide for the last nr < n < 2*nr columns of a product:
	// it computes the whole 2*nr-column tile and stores its m x n part
	// (b2's columns past n-nr may hold anything: they are dropped). Two
	// narrow tiles, the second mostly padding, took half as long again
	// (kws-ds's pointwise products of 30, 120 and 500 columns).
	wideEdge func(m, n, kc int, a []float32, lda int, b, b2 []float32, ldb int, c []float32, ldc int, flags uint64, bias []float32, lo, hi float32)
}

// goKernel is the portable kernel, always available.
var goKernel = &kernel{name: "go-4x4", id: kernelGo, mr: 4, nr: 4, mc: 128, kc: 256, nc: 2048}

// active is the kernel Sgemm uses for unpacked operands and PackA/PackB
// pack for. It is decided once, at initialization, and never changed.
var active = selectKernel()

// selectKernel returns the best kernel this CPU supports.
func selectKernel() *kernel {
	if ks := archKernels(); len(ks) > 0 {
		return ks[0]
	}
	return goKernel
}

// allKernels returns every kernel usable on this CPU, best first.
func allKernels() []*kernel {
	var ks []*kernel
	for _, k := range archKernels() {
		ks = append(ks, k)
		if k.wide != nil {
			ks = append(ks, withoutWide(k))
		}
	}
	return append(ks, goKernel)
}

// withoutWide returns a copy of k (same layouts) without its 2*nr-column
// tiles, for tests and benchmarks of its nr-column tiles alone.
func withoutWide(k *kernel) *kernel {
	c := *k
	c.name += "/narrow"
	c.wide, c.wideRows, c.wideEdge = nil, nil, nil
	return &c
}

// tile computes an m x n tile of C (m <= k.mr, n <= k.nr) from kc k steps of
// A and the B micro-panel b (row kk at b[kk*ldb:]). With lda == 0, a is a
// packed micro-panel; with lda > 0 (only if k.rawA), element (i, kk) is
// a[i*lda+kk]. Then it
// applies flags' epilogue with bias relative to the tile (row i0 or
// column j0) and stores it at c (row stride ldc). When n < k.nr, b is a
// packed, zero-padded panel (ldb == k.nr).
func (k *kernel) tile(m, n, kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, flags uint64, bias []float32, lo, hi float32) {
	if k.id == kernelGo {
		goTile(m, n, kc, a, b, ldb, c, ldc, flags, bias, lo, hi)
		return
	}
	archTile(k.id, m, n, kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
}

// tileRows is tile with B rows at b[rows[kk]:] (only for kernels with
// rows); a is a packed micro-panel. Every row is read 16 floats wide.
func (k *kernel) tileRows(m, n, kc int, a, b []float32, rows []int32, c []float32, ldc int, flags uint64, bias []float32, lo, hi float32) {
	archTileRows(k.id, m, n, kc, a, b, rows, c, ldc, flags, bias, lo, hi)
}

// tileH is tile with a half-precision B micro-panel b (ldb counts halves);
// only for kernels with halfB. Arithmetic is float32.
func (k *kernel) tileH(m, n, kc int, a []float32, lda int, b []uint16, ldb int, c []float32, ldc int, flags uint64, bias []float32, lo, hi float32) {
	archTileH(k.id, m, n, kc, a, lda, b, ldb, c, ldc, flags, bias, lo, hi)
}

// tileHH is tile with half-precision packed micro-panels of A and B
// (ldb == k.nr) and half-precision arithmetic; only for kernels with
// halfMath. Products and the sums of up to halfChunk consecutive k steps
// are rounded to half precision, then added in float32.
func (k *kernel) tileHH(m, n, kc int, a, b []uint16, c []float32, ldc int, flags uint64, bias []float32, lo, hi float32) {
	archTileHH(k.id, m, n, kc, a, b, c, ldc, flags, bias, lo, hi)
}

// withoutHalf returns a copy of k (same layouts) that uses neither
// half-precision loads nor half-precision arithmetic, for tests of the Go
// fallback.
func withoutHalf(k *kernel) *kernel {
	c := *k
	c.name += "/go-half"
	c.halfB, c.halfMath = false, false
	return &c
}

// withoutHalfMath returns a copy of k without half-precision arithmetic.
func withoutHalfMath(k *kernel) *kernel {
	c := *k
	c.name += "/no-fp16-math"
	c.halfMath = false
	return &c
}

// mergeTile stores the m x n top-left part of the computed tile t (row
// stride tld) into c, applying flags' accumulation and epilogue. It is the
// partial-tile path of the assembly kernels and the store of the Go kernel.
func mergeTile(t []float32, tld, m, n int, c []float32, ldc int, flags uint64, bias []float32, lo, hi float32) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		tr := t[i*tld : i*tld+n]
		if flags&^flagAccumulate == 0 {
			if flags&flagAccumulate != 0 {
				for j, v := range tr {
					row[j] += v
				}
			} else {
				copy(row, tr)
			}
			continue
		}
		for j, v := range tr {
			if flags&flagAccumulate != 0 {
				v += row[j]
			}
			row[j] = finish(v, i, j, flags, bias, lo, hi)
		}
	}
}

// goTile is the portable kernel: 4x4 register blocking in plain Go.
func goTile(m, n, kc int, a, b []float32, ldb int, c []float32, ldc int, flags uint64, bias []float32, lo, hi float32) {
	var c00, c01, c02, c03 float32
	var c10, c11, c12, c13 float32
	var c20, c21, c22, c23 float32
	var c30, c31, c32, c33 float32
	a = a[:kc*4]
	for kk := 0; kk < kc; kk++ {
		av := (*[4]float32)(a[kk*4:])
		bv := (*[4]float32)(b[kk*ldb:])
		a0, a1, a2, a3 := av[0], av[1], av[2], av[3]
		b0, b1, b2, b3 := bv[0], bv[1], bv[2], bv[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	t := [16]float32{
		c00, c01, c02, c03,
		c10, c11, c12, c13,
		c20, c21, c22, c23,
		c30, c31, c32, c33,
	}
	mergeTile(t[:], 4, m, n, c, ldc, flags, bias, lo, hi)
}
