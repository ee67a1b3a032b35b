package gemm

import "fmt"

// PackedA16 is a left operand (an MxK matrix) rounded to half precision
// (IEEE binary16, to nearest even) and packed once into the micro-panel
// layout of the kernel Sgemm uses: PackedA's layout with 2-byte elements,
// half the memory. It is immutable: any number of goroutines may pass it to
// Sgemm concurrently.
type PackedA16 struct {
	m, k int
	kern *kernel
	data []uint16
}

// PackedB16 is a right operand (a KxN matrix) rounded to half precision and
// packed once, like PackedA16: PackedB's layout with 2-byte elements. It is
// immutable: any number of goroutines may pass it to Sgemm concurrently.
type PackedB16 struct {
	k, n int
	kern *kernel
	data []uint16
}

// Rows returns M, the number of rows of the packed matrix.
func (p *PackedA16) Rows() int { return p.m }

// Cols returns K, the number of columns of the packed matrix.
func (p *PackedA16) Cols() int { return p.k }

// Rows returns K, the number of rows of the packed matrix.
func (p *PackedB16) Rows() int { return p.k }

// Cols returns N, the number of columns of the packed matrix.
func (p *PackedB16) Cols() int { return p.n }

// PackedA16Size returns the number of uint16 elements PackA16 needs in dst
// to pack an MxK matrix.
func PackedA16Size(m, k int) int { return packedA16Size(active, m, k) }

// PackedB16Size returns the number of uint16 elements PackB16 needs in dst
// to pack a KxN matrix.
func PackedB16Size(k, n int) int { return packedB16Size(active, k, n) }

func packedA16Size(kern *kernel, m, k int) int { return roundUp(m, kern.mr)*k + 32 }

func packedB16Size(kern *kernel, k, n int) int { return roundUp(n, kern.nr)*k + 32 }

// PackA16 rounds op(A), an MxK matrix, to half precision and packs it for
// use as Args.PackedA16; the arguments are those of PackA. The packed data
// is stored in dst, which must hold PackedA16Size(m, k) elements; if dst is
// nil it is allocated. The result refers to dst, which must not be changed
// afterwards. PackA16 allocates a small staging buffer.
func PackA16(dst []uint16, m, k int, a []float32, lda int, transA bool) *PackedA16 {
	return packAHalf(active, dst, m, k, a, lda, transA)
}

// PackB16 rounds op(B), a KxN matrix, to half precision and packs it for
// use as Args.PackedB16; the arguments are those of PackB. The packed data
// is stored in dst, which must hold PackedB16Size(k, n) elements; if dst is
// nil it is allocated. The result refers to dst, which must not be changed
// afterwards. PackB16 allocates a small staging buffer.
func PackB16(dst []uint16, k, n int, b []float32, ldb int, transB bool) *PackedB16 {
	return packBHalf(active, dst, k, n, b, ldb, transB)
}

func packAHalf(kern *kernel, dst []uint16, m, k int, a []float32, lda int, transA bool) *PackedA16 {
	if m < 0 || k < 0 {
		panic(fmt.Sprintf("gemm: PackA16 of a %dx%d matrix", m, k))
	}
	size := packedA16Size(kern, m, k)
	if dst == nil {
		dst = make([]uint16, size)
	}
	if len(dst) < size {
		panic(fmt.Sprintf("gemm: PackA16 needs %d elements, dst has %d", size, len(dst)))
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
	mp := roundUp(m, kern.mr)
	data := alignHalves(dst)[:mp*k]
	stage := make([]float32, kern.mr*min(kern.kc, k))
	for pc := 0; pc < k; pc += kern.kc {
		kc := min(kern.kc, k-pc)
		for ir := 0; ir < m; ir += kern.mr {
			// One micro-panel at a time: packed in float32, then rounded.
			s := stage[:kc*kern.mr]
			packABlock(kern, s, &p, ir, min(kern.mr, m-ir), pc, kc)
			toHalf(data[pc*mp+ir*kc:], s)
		}
	}
	return &PackedA16{m: m, k: k, kern: kern, data: data}
}

func packBHalf(kern *kernel, dst []uint16, k, n int, b []float32, ldb int, transB bool) *PackedB16 {
	if k < 0 || n < 0 {
		panic(fmt.Sprintf("gemm: PackB16 of a %dx%d matrix", k, n))
	}
	size := packedB16Size(kern, k, n)
	if dst == nil {
		dst = make([]uint16, size)
	}
	if len(dst) < size {
		panic(fmt.Sprintf("gemm: PackB16 needs %d elements, dst has %d", size, len(dst)))
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
	np := roundUp(n, kern.nr)
	data := alignHalves(dst)[:np*k]
	stage := make([]float32, kern.nr*min(kern.kc, k))
	for pc := 0; pc < k; pc += kern.kc {
		kc := min(kern.kc, k-pc)
		packBBlock16(kern, data[pc*np:], &p, 0, n, pc, kc, stage)
	}
	return &PackedB16{k: k, n: n, kern: kern, data: data}
}

// packBBlock16 packs columns [j0, j0+nc) and k steps [pc, pc+kc) of op(B),
// from p.BSource if set, else from p.B, into dst as half-precision
// micro-panels of kern.nr columns, zero-padding the last one. stage holds
// at least kc*kern.nr floats: panels that are not rounded straight from a
// row-major B are packed there in float32 first, then rounded, so that
// every source (BSource included) goes through one L1-sized buffer.
func packBBlock16(kern *kernel, dst []uint16, p *Args, j0, nc, pc, kc int, stage []float32) {
	nr := kern.nr
	s := stage[:kc*nr]
	if p.BSource != nil {
		for jr := 0; jr < nc; jr += nr {
			p.BSource.PackB(s, pc, kc, j0+jr, min(nr, nc-jr), nr)
			toHalf(dst[jr*kc:jr*kc+kc*nr], s)
		}
		return
	}
	full := 0
	if !p.TransB {
		// Whole panels of a row-major B: round chunks of rows across all
		// panels, reading the rows of B sequentially.
		full = nc / nr * nr
		for k0 := 0; k0 < kc && full > 0; k0 += packChunk {
			ch := min(packChunk, kc-k0)
			for jr := 0; jr < full; jr += nr {
				src := p.B[(pc+k0)*p.LDB+j0+jr:]
				d := dst[jr*kc+k0*nr : jr*kc+(k0+ch)*nr]
				if !packRowsHalf(kern, d, src, p.LDB, ch) {
					for k := 0; k < ch; k++ {
						toHalf(d[k*nr:k*nr+nr], src[k*p.LDB:k*p.LDB+nr])
					}
				}
			}
		}
	}
	for jr := full; jr < nc; jr += nr {
		packBPanel(kern, s, p, j0+jr, min(nr, nc-jr), pc, kc)
		toHalf(dst[jr*kc:jr*kc+kc*nr], s)
	}
}
