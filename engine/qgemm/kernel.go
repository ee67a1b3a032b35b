package qgemm

import "unsafe"

// kernelID selects a micro-kernel implementation.
type kernelID uint8

const (
	kernelGo    kernelID = iota // portable Go
	kernelAVX2                  // amd64 AVX2 VPMADDUBSW/VPMADDWD
	kernelSDOT                  // arm64 NEON with the dot product extension
	kernelSMLAL                 // arm64 NEON without it (SMULL/SADALP)
	kernelVNNI                  // amd64 AVX-512 VNNI VPDPBUSD
)

// kernel is a micro-kernel: it computes tiles of up to mr rows and nr
// columns from A rows read in place and a packed B panel.
type kernel struct {
	name string
	id   kernelID
	mr   int
	// rowsB: dense weights with at most gemvMax columns are packed
	// transposed, for the dot-product kernels.
	rowsB bool
}

// gemvMax is the largest N of the transposed (dot-product) layout of dense
// weights.
const gemvMax = 12

// maxMR bounds mr over all kernels (the size of temporary tiles).
const maxMR = 12

// goKernel is the portable kernel, always available.
var goKernel = &kernel{name: "go-4x16", id: kernelGo, mr: 4}

// active is the kernel Gemm uses. It is decided once, at initialization,
// and never changed.
var active = selectKernel()

func selectKernel() *kernel {
	if ks := archKernels(); len(ks) > 0 {
		return ks[0]
	}
	return goKernel
}

// allKernels returns every kernel usable on this CPU, best first.
func allKernels() []*kernel {
	return append(archKernels(), goKernel)
}

// Epilogue flags, shared with the assembly kernels.
const (
	flagRaw     = 1 << iota // store the int32 accumulators, no epilogue
	flagRowBias             // add bias[i] to row i
	flagColBias             // add bias[j] to column j
	flagClamp               // clamp to [lo, hi]
	flagLoad                // start from the int32 partial sums in c
)

// epi holds the epilogue terms of a tile. wsum and wscale are indexed by
// channel (row for conv, column for dense) relative to the tile, bias by
// row or column as flags say.
type epi struct {
	wsum   []int32
	wscale []float32
	bias   []float32
	zp     int32
	xscale float32
	lo, hi float32
	flags  uint64
	// pf, if not nil, is where the kernels prefetch from, 64 bytes per
	// two k groups, advancing by pfstride bytes: the activations packed
	// next.
	pf       *byte
	pfstride int
}

// tile computes the m x n tile (m <= k.mr, n <= nr) of C at c (row stride
// ldc) from kg groups of A (row i at a[i*lda:]) and the B panel b, then
// applies the epilogue. dense selects the family: A holds activation codes
// and B weights (channel = column), or A weights and B codes (channel =
// row). With flagLoad in e.flags the sums start from the int32 partial
// sums stored in c; with flagRaw they are stored back to c as int32
// instead of the epilogue (c then holds int32 bits).
func (k *kernel) tile(dense bool, m, n, kg int, a []byte, lda int, b []byte, c []float32, ldc int, e *epi) {
	if kg > 0 {
		_ = a[(m-1)*lda+4*kg-1] // the rows of A the kernel reads
		_ = b[kg*64-1]          // the panel
	}
	if k.id != kernelGo && n == nr {
		_ = c[(m-1)*ldc+nr-1]
		if e.flags&(flagRowBias|flagColBias) != 0 {
			_ = e.bias[nrOr(e.flags&flagColBias != 0, m)-1]
		}
		_ = e.wsum[nrOr(dense, m)-1]
		_ = e.wscale[nrOr(dense, m)-1]
		archTile(k.id, dense, m, kg, a, lda, b, c, ldc, e, e.flags)
		return
	}
	var t [maxMR * nr]int32
	if k.id == kernelGo {
		goTile(dense, m, kg, a, lda, b, &t)
	} else {
		archTile(k.id, dense, m, kg, a, lda, b, int32sAsFloats(t[:]), nr, e, flagRaw)
	}
	if e.flags&(flagLoad|flagRaw) != 0 {
		ci := floatsAsInt32s(c[:(m-1)*ldc+n])
		for i := 0; i < m; i++ {
			row := ci[i*ldc : i*ldc+n]
			tr := t[i*nr : i*nr+n]
			for j := range row {
				if e.flags&flagLoad != 0 {
					tr[j] += row[j]
				}
				if e.flags&flagRaw != 0 {
					row[j] = tr[j]
				}
			}
		}
		if e.flags&flagRaw != 0 {
			return
		}
	}
	finishTile(&t, m, n, dense, c, ldc, e)
}

// floatsAsInt32s reinterprets part of C as the int32 partial sums stored
// there between blocks of K.
func floatsAsInt32s(c []float32) []int32 {
	if len(c) == 0 {
		return nil
	}
	return unsafe.Slice((*int32)(unsafe.Pointer(&c[0])), len(c))
}

// tiles computes count full tiles of k.mr x 16, the first at rows
// [0, k.mr) of a and c, the others below it, with the epilogue terms of e
// relative to the first (per-row terms and a row bias advance with the
// rows).
func (k *kernel) tiles(dense bool, count, kg int, a []byte, lda int, b []byte, c []float32, ldc int, e *epi) {
	rows := count * k.mr
	if hasTiles(k) && kg > 0 {
		_ = a[(rows-1)*lda+4*kg-1]
		_ = b[kg*64-1]
		_ = c[(rows-1)*ldc+nr-1]
		if e.flags&flagRaw == 0 {
			_ = e.wsum[nrOr(dense, rows)-1]
			_ = e.wscale[nrOr(dense, rows)-1]
			if e.flags&(flagRowBias|flagColBias) != 0 {
				_ = e.bias[nrOr(e.flags&flagColBias != 0, rows)-1]
			}
		}
		callTiles(k, dense, count, kg, a, lda, b, c, ldc, e)
		return
	}
	f := *e
	for t := 0; t < count; t++ {
		i0 := t * k.mr
		if !dense {
			f.wsum, f.wscale = e.wsum[i0:], e.wscale[i0:]
		}
		if e.flags&flagRowBias != 0 {
			f.bias = e.bias[i0:]
		}
		k.tile(dense, k.mr, nr, kg, a[i0*lda:], lda, b, c[i0*ldc:], ldc, &f)
	}
}

// nrOr returns nr if cond, else m: the number of per-channel or bias
// entries a full tile reads.
func nrOr(cond bool, m int) int {
	if cond {
		return nr
	}
	return m
}

// int32sAsFloats reinterprets the tile buffer for the kernels, which store
// raw int32 accumulators through their float32 output pointer.
func int32sAsFloats(t []int32) []float32 {
	return unsafe.Slice((*float32)(unsafe.Pointer(&t[0])), len(t))
}

// finishTile applies the epilogue to the m x n top-left part of the int32
// tile t (row stride nr) and stores it to c. It is the reference for the
// assembly epilogues, which compute exactly the same operations in the
// same order, so all kernels agree bit for bit.
func finishTile(t *[maxMR * nr]int32, m, n int, dense bool, c []float32, ldc int, e *epi) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		for j := range row {
			ch := i
			if dense {
				ch = j
			}
			row[j] = requant(t[i*nr+j], ch, i, j, e)
		}
	}
}

// requant is the epilogue of one element with channel ch at (i, j) of the
// tile.
func requant(acc int32, ch, i, j int, e *epi) float32 {
	acc -= e.zp * e.wsum[ch]
	s := e.wscale[ch] * e.xscale
	// The conversions keep the compiler from fusing into an FMA.
	v := float32(float32(acc) * s)
	switch {
	case e.flags&flagRowBias != 0:
		v = float32(v + e.bias[i])
	case e.flags&flagColBias != 0:
		v = float32(v + e.bias[j])
	}
	if e.flags&flagClamp != 0 {
		if v < e.lo {
			v = e.lo
		}
		if v > e.hi {
			v = e.hi
		}
	}
	return v
}

// gemvRowsGo stores to acc[j], j < n, the dot product of the codes
// x[:32*k32] with the int8 weights w[j*ldw:j*ldw+32*k32].
func gemvRowsGo(n, k32 int, x, w []byte, ldw int, acc *[gemvMax]int32) {
	x = x[:32*k32]
	for j := 0; j < n; j++ {
		row := w[j*ldw : j*ldw+32*k32]
		var s int32
		for k, v := range x {
			s += int32(v) * int32(int8(row[k]))
		}
		acc[j] = s
	}
}

// goTile is the portable kernel: the m x 16 int32 tile of A * B into t.
func goTile(dense bool, m, kg int, a []byte, lda int, b []byte, t *[maxMR * nr]int32) {
	for i := 0; i < m; i++ {
		var s [nr]int32
		row := a[i*lda : i*lda+4*kg]
		for g := 0; g < kg; g++ {
			bg := (*[64]byte)(b[g*64:])
			ag := (*[4]byte)(row[4*g:])
			if dense {
				a0, a1, a2, a3 := int32(ag[0]), int32(ag[1]), int32(ag[2]), int32(ag[3])
				for j := range s {
					s[j] += a0*int32(int8(bg[4*j])) + a1*int32(int8(bg[4*j+1])) +
						a2*int32(int8(bg[4*j+2])) + a3*int32(int8(bg[4*j+3]))
				}
			} else {
				a0, a1, a2, a3 := int32(int8(ag[0])), int32(int8(ag[1])), int32(int8(ag[2])), int32(int8(ag[3]))
				for j := range s {
					s[j] += a0*int32(bg[4*j]) + a1*int32(bg[4*j+1]) +
						a2*int32(bg[4*j+2]) + a3*int32(bg[4*j+3])
				}
			}
		}
		copy(t[i*nr:], s[:])
	}
}
