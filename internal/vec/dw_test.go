package vec

import (
	"math"
	"testing"
)

// TestDeinterleave compares Deinterleave with its Go loop (and a direct
// definition) over row lengths across the 16-, 8-, pair and single paths,
// several rows, and strides wider than the rows, with and without room to
// read whole blocks past the last row; NaN and Inf move as bits.
func TestDeinterleave(t *testing.T) {
	for n := 1; n <= 41; n++ {
		for _, rows := range []int{1, 3} {
			for _, slack := range []int{0, 16} {
				testDeinterleave(t, n, rows, slack)
			}
		}
	}
}

func testDeinterleave(t *testing.T, n, rows, slack int) {
	srcRow, dstRow := n+3, (n+1)/2+2
	src := make([]float32, (rows-1)*srcRow+n+slack)
	for i := range src {
		src[i] = float32(i) + 0.5
	}
	src[0], src[(rows-1)*srcRow+n-1] = float32(math.NaN()), float32(math.Inf(-1))
	size := (rows-1)*dstRow + (n+1)/2
	e, o := make([]float32, size+1), make([]float32, size+1)
	ge, goo := make([]float32, size+1), make([]float32, size+1)
	for i := range e {
		e[i], o[i], ge[i], goo[i] = -7, -7, -7, -7
	}
	Deinterleave(e[:size], o[:size], dstRow, src, srcRow, rows, n)
	deinterleaveGo(ge, goo, dstRow, src, srcRow, rows, n)
	for i := range e {
		if math.Float32bits(e[i]) != math.Float32bits(ge[i]) || math.Float32bits(o[i]) != math.Float32bits(goo[i]) {
			t.Fatalf("n %d rows %d slack %d: index %d: even %v odd %v, want %v %v", n, rows, slack, i, e[i], o[i], ge[i], goo[i])
		}
	}
	for r := 0; r < rows; r++ {
		for x := 0; x < n; x++ {
			got := e[r*dstRow+x/2]
			if x%2 == 1 {
				got = o[r*dstRow+x/2]
			}
			if want := src[r*srcRow+x]; math.Float32bits(got) != math.Float32bits(want) {
				t.Fatalf("n %d rows %d slack %d: (%d, %d) = %v, want %v", n, rows, slack, r, x, got, want)
			}
		}
	}
	if e[size] != -7 || o[size] != -7 {
		t.Fatalf("n %d rows %d slack %d: wrote past the rows", n, rows, slack)
	}
}
