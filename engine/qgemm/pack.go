package qgemm

import (
	"fmt"
	"unsafe"
)

// Packed layouts, shared by every kernel:
//
// A (the left operand: convolution weights, or the per-call activation codes
// of a dense layer) is row major with rows of lda = roundUp(K, 16) bytes
// (32 for activations), the bytes past K zero.
//
// B (the right operand: the per-call activation codes of a convolution, or
// dense weights) is cut into panels of nr = 16 columns; a panel holds
// kg = ceil(K/4) groups of 64 bytes, byte 4j+t of group g being element
// (4g+t, j0+j). Steps past K and columns past N are zero.
//
// Dense weights with at most gemvMax columns are stored transposed instead
// on kernels with dot-product routines (AVX2): N rows of ldw =
// roundUp(K, 32) bytes, so that a GEMV reads no padding columns.

const (
	nr    = 16 // columns of a B panel and of a tile
	group = 4  // k steps per group
)

// PackedA is an int8 weight matrix W[M x K] with one scale per row, packed
// once as the left operand of C = W * X (a convolution: W[Cout x
// Cin*kh*kw], X the im2col of its input). It is immutable: any number of
// goroutines may use it at the same time.
type PackedA struct {
	m, k  int
	lda   int
	data  []byte    // M rows of lda bytes (int8)
	sum   []int32   // sum of each row's codes
	scale []float32 // per row
}

// PackedB is an int8 weight matrix W[K x N] with one scale per column,
// packed once as the right operand of C = X * W (a dense layer: W[inputs x
// outputs]). It is immutable: any number of goroutines may use it at the
// same time.
type PackedB struct {
	k, n  int
	kg    int
	rows  bool      // transposed: N rows of ldw bytes (few outputs)
	ldw   int       // with rows
	data  []byte    // ceil(N/16) panels of kg*64 bytes (int8), or N rows
	sum   []int32   // sum of each column's codes, padded to whole panels
	scale []float32 // per column, padded to whole panels
}

// Rows returns M.
func (p *PackedA) Rows() int { return p.m }

// Cols returns K.
func (p *PackedA) Cols() int { return p.k }

// Scales returns the per-row scales (shared: do not modify).
func (p *PackedA) Scales() []float32 { return p.scale[:p.m] }

// Rows returns K.
func (p *PackedB) Rows() int { return p.k }

// Cols returns N.
func (p *PackedB) Cols() int { return p.n }

// Scales returns the per-column scales (shared: do not modify).
func (p *PackedB) Scales() []float32 { return p.scale[:p.n] }

// PackA packs the int8 matrix q[M x K] (row major, as QuantizeWeightsPerRow
// returns it) with its per-row scales as the left operand of Gemm. The
// codes must lie in [-127, 127] (it panics on -128, which would break the
// kernels' exactness).
func PackA(q []int8, scales []float32, m, k int) *PackedA {
	if m < 0 || k < 0 || len(q) < m*k || len(scales) < m {
		panic(fmt.Sprintf("qgemm: PackA of %dx%d from %d codes and %d scales", m, k, len(q), len(scales)))
	}
	lda := roundUp(k, 16)
	p := &PackedA{m: m, k: k, lda: lda,
		data:  alignedBytes(m * lda),
		sum:   make([]int32, m),
		scale: append([]float32(nil), scales[:m]...),
	}
	for i := 0; i < m; i++ {
		var s int32
		for kk, v := range q[i*k : i*k+k] {
			checkCode(v)
			p.data[i*lda+kk] = byte(v)
			s += int32(v)
		}
		p.sum[i] = s
	}
	return p
}

// PackB packs the int8 matrix q[K x N] (row major, as QuantizeWeightsPerCol
// returns it) with its per-column scales as the right operand of Gemm. The
// codes must lie in [-127, 127] (it panics on -128).
func PackB(q []int8, scales []float32, k, n int) *PackedB {
	return packB(q, scales, k, n, active.rowsB && n <= gemvMax)
}

// packB packs q as PackB does, transposed (for the dot-product kernels) if
// rows.
func packB(q []int8, scales []float32, k, n int, rows bool) *PackedB {
	if k < 0 || n < 0 || len(q) < k*n || len(scales) < n {
		panic(fmt.Sprintf("qgemm: PackB of %dx%d from %d codes and %d scales", k, n, len(q), len(scales)))
	}
	kg := ceilDiv(k, group)
	np := ceilDiv(n, nr)
	if rows {
		ldw := roundUp(k, 32)
		p := &PackedB{k: k, n: n, kg: kg, rows: true, ldw: ldw,
			data:  alignedBytes(n * ldw),
			sum:   make([]int32, n),
			scale: append([]float32(nil), scales[:n]...),
		}
		for kk := 0; kk < k; kk++ {
			for j, v := range q[kk*n : kk*n+n] {
				checkCode(v)
				p.data[j*ldw+kk] = byte(v)
				p.sum[j] += int32(v)
			}
		}
		return p
	}
	p := &PackedB{k: k, n: n, kg: kg,
		data:  alignedBytes(np * kg * 64),
		sum:   make([]int32, np*nr),
		scale: make([]float32, np*nr),
	}
	copy(p.scale, scales[:n])
	for kk := 0; kk < k; kk++ {
		row := q[kk*n : kk*n+n]
		g, t := kk/group, kk%group
		for j, v := range row {
			checkCode(v)
			p.data[(j/nr)*kg*64+g*64+(j%nr)*4+t] = byte(v)
			p.sum[j] += int32(v)
		}
	}
	return p
}

// PackWeightsA quantizes w[M x K] per row (QuantizeWeightsPerRow) and packs
// it (PackA).
func PackWeightsA(w []float32, m, k int) *PackedA {
	q, s := QuantizeWeightsPerRow(w, m, k)
	return PackA(q, s, m, k)
}

// PackWeightsB quantizes w[K x N] per column (QuantizeWeightsPerCol) and
// packs it (PackB).
func PackWeightsB(w []float32, k, n int) *PackedB {
	q, s := QuantizeWeightsPerCol(w, k, n)
	return PackB(q, s, k, n)
}

func checkCode(v int8) {
	if v == -128 {
		panic("qgemm: weight code -128 (codes must lie in [-127, 127])")
	}
}

// Cache blocking of a convolution call. B (the packed X) is built one
// block at a time: a range of K groups across (ideally) all the columns of
// the task, so that the rows of X are read in full, as one linear scan;
// the block (at most blockBytes) stays in L2 while the row tiles run over
// its panels, each panel (at most maxBlockGroups*64 = 16 KiB) in L1. The
// int32 partial sums of a K block are kept in C itself until the last one.
const (
	minBlockGroups = 64
	maxBlockGroups = 256
	blockBytes     = 192 << 10
)

// convBlocking returns the number of K blocks, the groups per K block and
// the panels per column block of a convolution call with K x N activations
// split into tasks column ranges.
func convBlocking(k, n, tasks int) (kblocks, kcg, panels int) {
	kg := max(1, ceilDiv(k, group))
	np := max(1, ceilDiv(ceilDiv(n, nr), tasks))
	kcg = kg
	if kg > maxBlockGroups {
		// Long sums are split, into blocks as wide as the columns allow.
		kcg = min(max(blockBytes/(np*64), minBlockGroups), maxBlockGroups)
	}
	kblocks = ceilDiv(kg, kcg)
	kcg = ceilDiv(kg, kblocks)
	return kblocks, kcg, max(1, min(np, blockBytes/(kcg*64)))
}

// packBlockGo quantizes columns [j0, j0+ncols) of the K x N float matrix x
// (leading dimension ldx) into ceil(ncols/16) panels of kg*64 bytes at dst.
func packBlockGo(dst []byte, x []float32, ldx, k, j0, ncols int, inv, lo, hi float32, zp int32) {
	ps := ceilDiv(k, group) * 64
	for p := 0; p*nr < ncols; p++ {
		packPanelGo(dst[p*ps:(p+1)*ps], x, ldx, k, j0+p*nr, min(nr, ncols-p*nr), 0, inv, lo, hi, zp)
	}
}

// packPanelGo quantizes columns [j0, j0+n) (n <= 16) of the K x N float
// matrix x into the panel dst, from group g0 on: steps past K and columns
// past n are zero.
func packPanelGo(dst []byte, x []float32, ldx, k, j0, n, g0 int, inv, lo, hi float32, zp int32) {
	kg := ceilDiv(k, group)
	clear(dst[g0*64 : kg*64])
	for kk := g0 * group; kk < k; kk++ {
		row := x[kk*ldx+j0 : kk*ldx+j0+n]
		d := dst[(kk/group)*64+kk%group:]
		for j, v := range row {
			d[4*j] = quantOne(v, inv, lo, hi, zp)
		}
	}
}

// packBlockCodesGo is packBlockGo for a matrix of codes.
func packBlockCodesGo(dst []byte, x []uint8, ldx, k, j0, ncols int) {
	ps := ceilDiv(k, group) * 64
	for p := 0; p*nr < ncols; p++ {
		packPanelCodes(dst[p*ps:(p+1)*ps], x, ldx, k, j0+p*nr, min(nr, ncols-p*nr), 0)
	}
}

// packPanelCodes copies columns [j0, j0+n) of the K x N code matrix x
// (leading dimension ldx) into the panel dst from group g0 on,
// zero-padding.
func packPanelCodes(dst []byte, x []uint8, ldx, k, j0, n, g0 int) {
	kg := ceilDiv(k, group)
	kk := g0 * group
	if n < nr || k%group != 0 {
		clear(dst[g0*64 : kg*64])
	}
	if n == nr {
		// Whole groups: a 4x16 byte transpose each.
		for ; kk+group <= k; kk += group {
			r0 := (*[nr]byte)(x[kk*ldx+j0:])
			r1 := (*[nr]byte)(x[(kk+1)*ldx+j0:])
			r2 := (*[nr]byte)(x[(kk+2)*ldx+j0:])
			r3 := (*[nr]byte)(x[(kk+3)*ldx+j0:])
			d := (*[64]byte)(dst[(kk/group)*64:])
			for j := 0; j < nr; j++ {
				d[4*j], d[4*j+1], d[4*j+2], d[4*j+3] = r0[j], r1[j], r2[j], r3[j]
			}
		}
	}
	for ; kk < k; kk++ {
		row := x[kk*ldx+j0 : kk*ldx+j0+n]
		d := dst[(kk/group)*64+kk%group:]
		for j, v := range row {
			d[4*j] = v
		}
	}
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func roundUp(a, b int) int { return ceilDiv(a, b) * b }

// alignedBytes returns n zero bytes starting on a 64-byte boundary.
func alignedBytes(n int) []byte {
	return alignBytes(make([]byte, n+63))[:n]
}

// alignBytes returns s advanced to a 64-byte boundary (by at most 63
// bytes).
func alignBytes(s []byte) []byte {
	if len(s) == 0 {
		return s
	}
	off := (64 - int(uintptr(unsafe.Pointer(&s[0]))%64)) % 64
	if off > len(s) {
		return s[len(s):]
	}
	return s[off:]
}
