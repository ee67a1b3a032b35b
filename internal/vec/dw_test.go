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

// TestDepthwiseFlat compares DepthwiseFlat's assembly with a direct sum
// over plane counts, run lengths across the block and tail paths, row
// strides and both kernel sizes, clamped and not; nothing outside the
// runs is written, and NaN and Inf reach the outputs that read them.
func TestDepthwiseFlat(t *testing.T) {
	inf := float32(math.Inf(1))
	// The 256-bit routines, then what DepthwiseFlat chooses (the
	// 512-bit ones where the CPU has them).
	for _, z := range []bool{false, true} {
		for _, k := range []int{3, 5} {
			for _, n := range []int{8, 9, 15, 16, 17, 63, 64, 65, 71, 127, 128, 129, 200, 455} {
				for _, planes := range []int{1, 3} {
					for _, clamp := range []bool{false, true} {
						row := 9 + n%7
						stride := (k-1)*row + k + n + 5
						src := make([]float32, (planes-1)*stride+(k-1)*row+k-1+n)
						for i := range src {
							src[i] = float32((i*7919)%201-100) / 64
						}
						src[3] = float32(math.NaN())
						src[len(src)/2] = inf
						w := make([]float32, planes*k*k)
						for i := range w {
							w[i] = float32((i*31)%17-8) / 16
						}
						bias := []float32{0.25, -0.5, 1}[:planes]
						lo, hi := -inf, inf
						if clamp {
							lo, hi = -0.5, 0.75
						}
						got := make([]float32, (planes-1)*stride+n+3)
						for i := range got {
							got[i] = -9
						}
						if z {
							DepthwiseFlat(got[:len(got)-3], src, stride, planes, n, row, k, w, bias, lo, hi)
						} else {
							depthwiseFlat(got[:len(got)-3], src, stride, planes, n, row, k, w, bias, lo, hi, false)
						}
						for p := 0; p < planes; p++ {
							for i := 0; i < stride && p*stride+i < len(got); i++ {
								g := got[p*stride+i]
								if i >= n {
									if g != -9 {
										t.Fatalf("k %d n %d planes %d: wrote %v at %d past the run", k, n, planes, g, i)
									}
									continue
								}
								var want float64 = float64(bias[p])
								for ky := 0; ky < k; ky++ {
									for kx := 0; kx < k; kx++ {
										want += float64(w[p*k*k+ky*k+kx]) * float64(src[p*stride+ky*row+kx+i])
									}
								}
								want = float64(clamp1(float32(want), lo, hi))
								switch {
								case math.IsNaN(want):
									if !math.IsNaN(float64(g)) {
										t.Fatalf("k %d n %d planes %d: (%d, %d) = %v, want NaN", k, n, planes, p, i, g)
									}
								case math.IsInf(want, 0):
									if float64(g) != want {
										t.Fatalf("k %d n %d planes %d: (%d, %d) = %v, want %v", k, n, planes, p, i, g, want)
									}
								case math.Abs(float64(g)-want) > 1e-5*(1+math.Abs(want)):
									t.Fatalf("k %d n %d planes %d clamp %v: (%d, %d) = %v, want %v", k, n, planes, clamp, p, i, g, want)
								}
							}
						}
					}
				}
			}
		}
	}
}

// TestDepthwiseFlatWidthsAgree checks that the 512-bit routines give the
// 256-bit ones' bits: each lane's sum is the same chain of FMAs.
func TestDepthwiseFlatWidthsAgree(t *testing.T) {
	if !hasAVX512 {
		t.Skip("no 512-bit routines on this CPU")
	}
	for _, k := range []int{3, 5} {
		for _, n := range []int{16, 17, 31, 100, 127, 128, 129, 550} {
			row := 22
			stride := (k-1)*row + k + n + 3
			planes := 3
			src := make([]float32, (planes-1)*stride+(k-1)*row+k-1+n)
			for i := range src {
				src[i] = float32((i*7919)%201-100) / 63
			}
			w := make([]float32, planes*k*k)
			for i := range w {
				w[i] = float32((i*31)%17-8) / 15
			}
			bias := []float32{0.3, -0.7, 1.1}
			a := make([]float32, (planes-1)*stride+n)
			b := make([]float32, len(a))
			depthwiseFlat(a, src, stride, planes, n, row, k, w, bias, -2, 2, false)
			depthwiseFlat(b, src, stride, planes, n, row, k, w, bias, -2, 2, true)
			for i := range a {
				if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
					t.Fatalf("k %d n %d: element %d is %v at 256 bits, %v at 512", k, n, i, a[i], b[i])
				}
			}
		}
	}
}

// TestDepthwiseGrid5 compares DepthwiseGrid5 with a direct sum over grid
// shapes (rows below and above four and not a multiple of it, columns
// below, at and past a vector, ragged), plane counts and clamps, with
// room for its whole-vector reads and writes and without it (the
// DepthwiseFlat path); the grid's outputs are checked, and nothing
// is written past a run but the 8-ow floats it may write when ow < 8.
func TestDepthwiseGrid5(t *testing.T) {
	for _, oh := range []int{1, 3, 4, 5, 7, 8, 9, 14} {
		for _, ow := range []int{1, 5, 7, 8, 9, 14, 16, 28} {
			for _, planes := range []int{1, 3} {
				for _, slack := range []int{0, 16} {
					clamp := (oh+ow)%2 == 0
					row := ow + 2 + ow%3
					n := (oh-1)*row + ow
					stride := (oh+4)*row + 2
					src := make([]float32, (planes-1)*stride+(oh+3)*row+4+ow+slack)
					for i := range src {
						src[i] = float32((i*7919)%201-100) / 64
					}
					src[len(src)/3] = float32(math.NaN())
					w := make([]float32, planes*25)
					for i := range w {
						w[i] = float32((i*31)%17-8) / 16
					}
					bias := []float32{0.25, -0.5, 1}[:planes]
					lo, hi := float32(math.Inf(-1)), float32(math.Inf(1))
					if clamp {
						lo, hi = -0.5, 0.75
					}
					dst := make([]float32, (planes-1)*stride+n+slack)
					for i := range dst {
						dst[i] = -9
					}
					DepthwiseGrid5(dst, src, stride, planes, oh, ow, row, w, bias, lo, hi)
					for p := 0; p < planes; p++ {
						for i := 0; i < stride && p*stride+i < len(dst); i++ {
							g := dst[p*stride+i]
							if i >= n {
								if g != -9 && i >= n+max(0, 8-ow) {
									t.Fatalf("oh %d ow %d planes %d: wrote %v at %d past the run", oh, ow, planes, g, i)
								}
								continue
							}
							if i%row >= ow {
								continue // between the grid's rows: unspecified
							}
							want := float64(bias[p])
							for ky := 0; ky < 5; ky++ {
								for kx := 0; kx < 5; kx++ {
									want += float64(w[p*25+ky*5+kx]) * float64(src[p*stride+ky*row+kx+i])
								}
							}
							want = float64(clamp1(float32(want), lo, hi))
							if math.IsNaN(want) != math.IsNaN(float64(g)) || !math.IsNaN(want) && math.Abs(float64(g)-want) > 1e-5*(1+math.Abs(want)) {
								t.Fatalf("oh %d ow %d planes %d slack %d: (%d, %d) = %v, want %v", oh, ow, planes, slack, p, i, g, want)
							}
						}
					}
				}
			}
		}
	}
}

// TestDeinterleavePlanes compares DeinterleavePlanes with Deinterleave
// plane by plane, for plane strides that make the rows' skips negative
// (an odd row count) and positive, with and without a tail block.
func TestDeinterleavePlanes(t *testing.T) {
	for _, n := range []int{1, 2, 7, 14, 16, 28, 33} {
		for _, rows := range []int{1, 4, 7} {
			for _, planes := range []int{1, 2, 5} {
				srcRow, srcPlane := 2*n, (2*rows-1)*n // rows of every other input row
				dstRow := (n+1)/2 + 1
				dstPlane := rows*dstRow + 3
				src := make([]float32, (planes-1)*srcPlane+(rows-1)*srcRow+n)
				for i := range src {
					src[i] = float32(i) + 0.25
				}
				size := (planes-1)*dstPlane + (rows-1)*dstRow + (n+1)/2
				e, o := make([]float32, size), make([]float32, size)
				we, wo := make([]float32, size), make([]float32, size)
				DeinterleavePlanes(e, o, dstRow, dstPlane, src, srcRow, srcPlane, planes, rows, n)
				for k := 0; k < planes; k++ {
					deinterleaveGo(we[k*dstPlane:], wo[k*dstPlane:], dstRow, src[k*srcPlane:], srcRow, rows, n)
				}
				for i := range e {
					if e[i] != we[i] || o[i] != wo[i] {
						t.Fatalf("n %d rows %d planes %d: index %d: %v %v, want %v %v", n, rows, planes, i, e[i], o[i], we[i], wo[i])
					}
				}
			}
		}
	}
}
