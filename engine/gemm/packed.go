package gemm

import "fmt"

// PackedA is a left operand (an MxK matrix) packed once into the micro-panel
// layout of the kernel Sgemm uses, typically convolution weights
// [Cout x Cin*kh*kw]. It is immutable: any number of goroutines may pass it
// to Sgemm concurrently.
type PackedA struct {
	m, k int
	kern *kernel
	data []float32
}

// PackedB is a right operand (a KxN matrix) packed once into the micro-panel
// layout of the kernel Sgemm uses, typically dense layer weights
// [inputs x outputs]. It is immutable: any number of goroutines may pass it
// to Sgemm concurrently.
type PackedB struct {
	k, n int
	kern *kernel
	data []float32
}

// Rows returns M, the number of rows of the packed matrix.
func (p *PackedA) Rows() int { return p.m }

// Cols returns K, the number of columns of the packed matrix.
func (p *PackedA) Cols() int { return p.k }

// Rows returns K, the number of rows of the packed matrix.
func (p *PackedB) Rows() int { return p.k }

// Cols returns N, the number of columns of the packed matrix.
func (p *PackedB) Cols() int { return p.n }

// PackedASize returns the number of float32 elements PackA needs in dst to
// pack an MxK matrix.
func PackedASize(m, k int) int { return packedASize(active, m, k) }

// PackedBSize returns the number of float32 elements PackB needs in dst to
// pack a KxN matrix.
func PackedBSize(k, n int) int { return packedBSize(active, k, n) }

func packedASize(kern *kernel, m, k int) int { return roundUp(m, kern.mr)*k + 16 }

func packedBSize(kern *kernel, k, n int) int { return roundUp(n, kern.nr)*k + 16 }

// PackA packs op(A), an MxK matrix, for use as Args.PackedA. Without transA,
// element (i,k) is a[i*lda+k]; with transA, a is stored KxM and element (i,k)
// is a[k*lda+i]. lda 0 means the stored width. The packed data is stored in
// dst, which must hold PackedASize(m, k) elements; if dst is nil it is
// allocated. The result refers to dst, which must not be changed afterwards.
func PackA(dst []float32, m, k int, a []float32, lda int, transA bool) *PackedA {
	return packA(active, dst, m, k, a, lda, transA)
}

// PackB packs op(B), a KxN matrix, for use as Args.PackedB. Without transB,
// element (k,j) is b[k*ldb+j]; with transB, b is stored NxK and element (k,j)
// is b[j*ldb+k]. ldb 0 means the stored width. The packed data is stored in
// dst, which must hold PackedBSize(k, n) elements; if dst is nil it is
// allocated. The result refers to dst, which must not be changed afterwards.
func PackB(dst []float32, k, n int, b []float32, ldb int, transB bool) *PackedB {
	return packB(active, dst, k, n, b, ldb, transB)
}

// The packed layouts follow the kernel's cache blocking: K is cut into
// blocks of kern.kc steps (the last one shorter); within block pc (of kc
// steps), A is stored as ceil(M/mr) micro-panels of kc*mr elements (element
// (i,k) of the panel at [k*mr+i], rows past M zero) and B as ceil(N/nr)
// micro-panels of kc*nr elements ([k*nr+j], columns past N zero). Block pc
// of A starts at pc*roundUp(M,mr), and its panel holding row i at i*kc;
// likewise for B with N and nr.

func packA(kern *kernel, dst []float32, m, k int, a []float32, lda int, transA bool) *PackedA {
	if m < 0 || k < 0 {
		panic(fmt.Sprintf("gemm: PackA of a %dx%d matrix", m, k))
	}
	size := packedASize(kern, m, k)
	if dst == nil {
		dst = make([]float32, size)
	}
	if len(dst) < size {
		panic(fmt.Sprintf("gemm: PackA needs %d elements, dst has %d", size, len(dst)))
	}
	p := Args{M: m, K: k, A: a, LDA: lda, TransA: transA}
	if transA {
		if p.LDA == 0 {
			p.LDA = m
		}
		checkMatrix("A", k, m, p.LDA, len(a))
	} else {
		if p.LDA == 0 {
			p.LDA = k
		}
		checkMatrix("A", m, k, p.LDA, len(a))
	}
	data := alignFloats(dst)[:roundUp(m, kern.mr)*k]
	mp := roundUp(m, kern.mr)
	for pc := 0; pc < k; pc += kern.kc {
		kc := min(kern.kc, k-pc)
		packABlock(kern, data[pc*mp:], &p, 0, m, pc, kc)
	}
	return &PackedA{m: m, k: k, kern: kern, data: data}
}

func packB(kern *kernel, dst []float32, k, n int, b []float32, ldb int, transB bool) *PackedB {
	if k < 0 || n < 0 {
		panic(fmt.Sprintf("gemm: PackB of a %dx%d matrix", k, n))
	}
	size := packedBSize(kern, k, n)
	if dst == nil {
		dst = make([]float32, size)
	}
	if len(dst) < size {
		panic(fmt.Sprintf("gemm: PackB needs %d elements, dst has %d", size, len(dst)))
	}
	p := Args{K: k, N: n, B: b, LDB: ldb, TransB: transB}
	if transB {
		if p.LDB == 0 {
			p.LDB = k
		}
		checkMatrix("B", n, k, p.LDB, len(b))
	} else {
		if p.LDB == 0 {
			p.LDB = n
		}
		checkMatrix("B", k, n, p.LDB, len(b))
	}
	data := alignFloats(dst)[:roundUp(n, kern.nr)*k]
	np := roundUp(n, kern.nr)
	for pc := 0; pc < k; pc += kern.kc {
		kc := min(kern.kc, k-pc)
		packBBlock(kern, data[pc*np:], &p, 0, n, pc, kc)
	}
	return &PackedB{k: k, n: n, kern: kern, data: data}
}

// packABlock packs rows [i0, i0+mc) and k steps [pc, pc+kc) of op(A) into dst
// as micro-panels of kern.mr rows, zero-padding the last one.
func packABlock(kern *kernel, dst []float32, p *Args, i0, mc, pc, kc int) {
	mr := kern.mr
	lda := p.LDA
	for ir := 0; ir < mc; ir += mr {
		m := min(mr, mc-ir)
		d := dst[ir*kc : ir*kc+kc*mr]
		if p.TransA {
			// op(A)(i,k) = A[k*lda+i]: mr contiguous elements per k.
			base := pc*lda + i0 + ir
			for kk := 0; kk < kc; kk++ {
				src := p.A[base+kk*lda : base+kk*lda+m]
				dd := d[kk*mr : kk*mr+mr]
				copy(dd, src)
				clear(dd[m:])
			}
			continue
		}
		// op(A)(i,k) = A[i*lda+k]: a contiguous row per i.
		if m == mr && mr == 6 {
			packA6(d, p.A, (i0+ir)*lda+pc, lda, kc)
			continue
		}
		for i := 0; i < mr; i++ {
			if i >= m {
				for kk := 0; kk < kc; kk++ {
					d[kk*mr+i] = 0
				}
				continue
			}
			src := p.A[(i0+ir+i)*lda+pc : (i0+ir+i)*lda+pc+kc]
			for kk, v := range src {
				d[kk*mr+i] = v
			}
		}
	}
}

// packA6 interleaves six rows of kc elements, starting at a[off] with stride
// lda, into d[k*6+i].
func packA6(d, a []float32, off, lda, kc int) {
	r0 := a[off : off+kc]
	r1 := a[off+lda : off+lda+kc]
	r2 := a[off+2*lda : off+2*lda+kc]
	r3 := a[off+3*lda : off+3*lda+kc]
	r4 := a[off+4*lda : off+4*lda+kc]
	r5 := a[off+5*lda : off+5*lda+kc]
	d = d[:6*kc]
	for k := range r0 {
		e := (*[6]float32)(d[6*k:])
		e[0], e[1], e[2], e[3], e[4], e[5] = r0[k], r1[k], r2[k], r3[k], r4[k], r5[k]
	}
}

// packBBlock packs columns [j0, j0+nc) and k steps [pc, pc+kc) of op(B) into
// dst as micro-panels of kern.nr columns, zero-padding the last one.
func packBBlock(kern *kernel, dst []float32, p *Args, j0, nc, pc, kc int) {
	nr := kern.nr
	if !p.TransB {
		// Whole panels: copy chunks of rows across all panels, so that the
		// rows of B are read sequentially.
		full := nc / nr * nr
		for k0 := 0; k0 < kc && full > 0; k0 += packChunk {
			ch := min(packChunk, kc-k0)
			for jr := 0; jr < full; jr += nr {
				src := p.B[(pc+k0)*p.LDB+j0+jr:]
				if !packRows(kern, dst[jr*kc+k0*nr:], src, p.LDB, ch) {
					packRowsGo(dst[jr*kc+k0*nr:], src, p.LDB, ch, nr)
				}
			}
		}
		if full < nc {
			packBPanel(kern, dst[full*kc:full*kc+kc*nr], p, j0+full, nc-full, pc, kc)
		}
		return
	}
	for jr := 0; jr < nc; jr += nr {
		packBPanel(kern, dst[jr*kc:jr*kc+kc*nr], p, j0+jr, min(nr, nc-jr), pc, kc)
	}
}

// packChunk is the number of rows of B packed across all panels at a time.
const packChunk = 8

// packRowsGo copies kc rows of nr floats, row k at src[k*ld:], to dst[k*nr:].
func packRowsGo(dst, src []float32, ld, kc, nr int) {
	for k := 0; k < kc; k++ {
		s := src[k*ld : k*ld+nr]
		d := dst[k*nr : k*nr+nr]
		for j, v := range s {
			d[j] = v
		}
	}
}

// packBPanel packs columns [j, j+n) (n <= kern.nr) and k steps [pc, pc+kc)
// of op(B) into one micro-panel d[k*nr+jj], zero-padding columns n..nr-1.
func packBPanel(kern *kernel, d []float32, p *Args, j, n, pc, kc int) {
	nr := kern.nr
	ldb := p.LDB
	if p.TransB {
		// op(B)(k,j) = B[j*ldb+k]: a contiguous run of k per column.
		for jj := 0; jj < nr; jj++ {
			if jj >= n {
				for kk := 0; kk < kc; kk++ {
					d[kk*nr+jj] = 0
				}
				continue
			}
			src := p.B[(j+jj)*ldb+pc : (j+jj)*ldb+pc+kc]
			for kk, v := range src {
				d[kk*nr+jj] = v
			}
		}
		return
	}
	// op(B)(k,j) = B[k*ldb+j]: n contiguous elements per k.
	base := pc*ldb + j
	if n == nr && packRows(kern, d, p.B[base:], ldb, kc) {
		return
	}
	for kk := 0; kk < kc; kk++ {
		dd := d[kk*nr : kk*nr+nr]
		copy(dd, p.B[base+kk*ldb:base+kk*ldb+n])
		clear(dd[n:])
	}
}
