package vec

//go:generate go run ../../tools/asm/dw_amd64 -out dw_amd64.s -stubs dw_stubs_amd64.go -pkg vec

// Deinterleave splits rows of n floats into their even and odd elements:
// for r < rows, src[r*srcRow+2i] goes to even[r*dstRow+i] and
// src[r*srcRow+2i+1] to odd[r*dstRow+i] (a stride-2 depthwise
// convolution's input copied into column phases, where every tap is a
// unit-stride run). It panics if a row reaches past a slice.
func Deinterleave(even, odd []float32, dstRow int, src []float32, srcRow, rows, n int) {
	if rows <= 0 || n <= 0 {
		return
	}
	ne, no := (n+1)/2, n/2
	if dstRow < 0 || srcRow < 0 || (rows-1)*srcRow+n > len(src) || (rows-1)*dstRow+ne > len(even) || no > 0 && (rows-1)*dstRow+no > len(odd) {
		panic("vec: Deinterleave rows reach past a slice")
	}
	if hasAVX2 {
		// The assembly reads whole blocks of 16: a row whose last block
		// would reach past src goes to the Go loop (only the last rows of
		// a slice that ends with them).
		need := n &^ 15
		if n%16 != 0 {
			need += 16
		}
		fit := 0
		switch {
		case len(src) < need:
		case srcRow == 0:
			fit = rows
		default:
			fit = min(rows, (len(src)-need)/srcRow+1)
		}
		if fit > 0 {
			o := &even[0] // odd is not written when n is 1
			if no > 0 {
				o = &odd[0]
			}
			deinterleaveAVX(&even[0], o, dstRow, &src[0], srcRow, fit, n)
		}
		if fit == rows {
			return
		}
		even, src = even[fit*dstRow:], src[fit*srcRow:]
		if no > 0 {
			odd = odd[fit*dstRow:]
		}
		rows -= fit
	}
	deinterleaveGo(even, odd, dstRow, src, srcRow, rows, n)
}

func deinterleaveGo(even, odd []float32, dstRow int, src []float32, srcRow, rows, n int) {
	for r := 0; r < rows; r++ {
		s := src[r*srcRow : r*srcRow+n]
		e := even[r*dstRow : r*dstRow+(n+1)/2]
		for i := range e {
			e[i] = s[2*i]
		}
		if n > 1 {
			o := odd[r*dstRow : r*dstRow+n/2]
			for i := range o {
				o[i] = s[2*i+1]
			}
		}
	}
}
